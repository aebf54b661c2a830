"""The conversion rules of each upstream kind, one test per rule, on small documents in each
upstream's documented format (parsed as the sync parses them: floats as exact Decimals)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from modelregistry.domain.upstream import litellm, models_dev, openrouter
from modelregistry.domain.upstream.convert import Conversion, UnusableValueError

TODAY = date(2026, 6, 15)


def parsed(document: object) -> Any:
    """``document`` through JSON text, as the sync reads it (floats as Decimal)."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def litellm_entry(**fields: object) -> dict[str, object]:
    return {
        "litellm_provider": "openai",
        "mode": "chat",
        "max_input_tokens": 128000,
        "max_output_tokens": 16384,
        "input_cost_per_token": 2.5e-06,
        "output_cost_per_token": 1e-05,
        **fields,
    }


def convert_litellm(**entries: dict[str, object]) -> Conversion:
    return litellm.convert(parsed(entries), today=TODAY)


def one(conversion: Conversion) -> Any:
    assert len(conversion.models) == 1, conversion.invalid
    return conversion.models[0]


# -- litellm ---------------------------------------------------------------------------------


def test_litellm_keeps_chat_completion_and_responses_only_never_the_spec() -> None:
    result = convert_litellm(
        a=litellm_entry(mode="chat"),
        b=litellm_entry(mode="completion"),
        c=litellm_entry(mode="responses"),
        d=litellm_entry(mode="embedding"),
        e=litellm_entry(mode="image_generation"),
        sample_spec=litellm_entry(mode="chat"),
        f={k: v for k, v in litellm_entry().items() if k != "mode"},
    )
    assert [m.config.model_id for m in result.models] == ["a", "b", "c"]
    assert result.ignored == 4
    assert result.invalid == []


def test_litellm_id_is_the_key_unchanged_and_provider_is_litellm_provider() -> None:
    model = one(
        convert_litellm(
            **{"bedrock/us.Anthropic:claude@v2": litellm_entry(litellm_provider="bedrock")}
        )
    )
    assert model.config.model_id == "bedrock/us.Anthropic:claude@v2"
    assert model.config.provider == "bedrock"
    assert model.config.display_name == "bedrock/us.Anthropic:claude@v2"


def test_litellm_limits_fall_back_to_max_tokens() -> None:
    entry = litellm_entry(max_tokens=4096)
    del entry["max_input_tokens"]
    del entry["max_output_tokens"]
    model = one(convert_litellm(m=entry))
    assert (model.config.context_window, model.config.max_output_tokens) == (4096, 4096)
    model = one(convert_litellm(m=litellm_entry(max_tokens=1)))
    assert (model.config.context_window, model.config.max_output_tokens) == (128000, 16384)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"max_input_tokens": 0}, "max_input_tokens must be a positive whole number"),
        ({"max_input_tokens": -5}, "max_input_tokens must be a positive whole number"),
        ({"max_output_tokens": 1.5}, "max_output_tokens must be a positive whole number"),
        ({"max_output_tokens": "lots"}, "max_output_tokens must be a positive whole number"),
        ({"max_output_tokens": True}, "max_output_tokens must be a positive whole number"),
        ({"max_input_tokens": None}, "neither max_input_tokens nor max_tokens is given"),
    ],
)
def test_litellm_entry_without_usable_limits_is_invalid_and_listed(
    fields: dict[str, object], reason: str
) -> None:
    result = convert_litellm(bad=litellm_entry(**fields), good=litellm_entry())
    assert [m.config.model_id for m in result.models] == ["good"]
    assert [(i.model_id, i.reason) for i in result.invalid] == [("bad", reason)]


def test_litellm_whole_number_written_as_float_is_usable() -> None:
    model = one(convert_litellm(m=litellm_entry(max_input_tokens=8192.0)))
    assert model.config.context_window == 8192


def test_litellm_prices_are_exact_per_token_times_a_million_rounded_half_even() -> None:
    result = convert_litellm(
        a=litellm_entry(input_cost_per_token=2.5e-06, output_cost_per_token=1e-05),
        b=litellm_entry(input_cost_per_token=1.5e-16, output_cost_per_token=2.5e-16),
        c=litellm_entry(input_cost_per_token=3.33333333333333e-07),
    )
    a, b, c = result.models
    assert (a.config.cost_per_1m_input_tokens, a.config.cost_per_1m_output_tokens) == (2.5, 10.0)
    # 0.00000000015 -> 0.0000000002 (half-even rounds the 5 up to an even 2), 0.00000000025 ->
    # 0.0000000002 (down to the even 2).
    assert b.config.cost_per_1m_input_tokens == 0.0000000002
    assert b.config.cost_per_1m_output_tokens == 0.0000000002
    assert c.config.cost_per_1m_input_tokens == 0.3333333333  # 0.333333333333 cut to 10 places


def test_litellm_missing_prices_are_zero_and_cache_read_is_the_cached_input_price() -> None:
    entry = litellm_entry(cache_read_input_token_cost=1.25e-06)
    del entry["output_cost_per_token"]
    model = one(convert_litellm(m=entry))
    assert model.config.cost_per_1m_output_tokens == 0.0
    assert model.cached_input_per_1m == Decimal("1.25")
    assert one(convert_litellm(m=litellm_entry())).cached_input_per_1m is None


def test_litellm_tiered_pricing_takes_the_range_starting_at_zero() -> None:
    entry = litellm_entry(
        tiered_pricing=[
            {
                "input_cost_per_token": 2.5e-07,
                "output_cost_per_token": 2e-06,
                "range": [256000.0, 1000000.0],
            },
            {"input_cost_per_token": 5e-08, "output_cost_per_token": 4e-07, "range": [0, 256000.0]},
        ]
    )
    del entry["input_cost_per_token"]
    del entry["output_cost_per_token"]
    model = one(convert_litellm(m=entry))
    assert (model.config.cost_per_1m_input_tokens, model.config.cost_per_1m_output_tokens) == (
        0.05,
        0.4,
    )


def test_litellm_tiered_pricing_without_a_zero_range_is_invalid_never_free() -> None:
    entry = litellm_entry(
        tiered_pricing=[
            {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "range": [1000, 2000]}
        ]
    )
    del entry["input_cost_per_token"]
    del entry["output_cost_per_token"]
    result = convert_litellm(m=entry)
    assert result.models == []
    assert result.invalid[0].reason == "tiered_pricing has no range starting at 0"


def test_litellm_price_above_the_catalogs_bound_is_invalid() -> None:
    result = convert_litellm(m=litellm_entry(input_cost_per_token=0.02))  # 20,000 per 1M
    assert (
        result.invalid[0].reason == "input_cost_per_token must be >= 0 and <= 10000 per 1M tokens"
    )


def test_litellm_capabilities_renamed_copied_and_streaming_always() -> None:
    model = one(
        convert_litellm(
            m=litellm_entry(
                supports_vision=True,
                supports_function_calling=True,
                supports_response_schema=True,
                supports_reasoning=True,
                supports_prompt_caching=True,
                supports_web_search=False,
                supports_audio_input="yes",
            )
        )
    )
    assert model.config.capabilities.names() == {
        "streaming", "vision", "tool_use", "json_mode", "reasoning", "prompt_caching"
    }  # fmt: skip
    flags = model.config.capabilities.model_dump()
    assert "supports_function_calling" not in flags
    assert "supports_response_schema" not in flags


def test_litellm_rate_limits_from_rpm_and_tpm_else_zero() -> None:
    model = one(convert_litellm(m=litellm_entry(rpm=300, tpm=100000)))
    assert (model.config.rate_limit_rpm, model.config.rate_limit_tpm) == (300, 100000)
    model = one(convert_litellm(m=litellm_entry()))
    assert (model.config.rate_limit_rpm, model.config.rate_limit_tpm) == (0, 0)


def test_litellm_deprecation_date_kept_and_deprecated_only_when_before_the_sync_day() -> None:
    result = convert_litellm(
        past=litellm_entry(deprecation_date="2026-06-14"),
        today=litellm_entry(deprecation_date="2026-06-15"),
        later=litellm_entry(deprecation_date="2027-01-01"),
    )
    past, today, later = result.models
    assert past.config.deprecation_date == date(2026, 6, 14)
    assert past.config.status == "deprecated"
    assert today.config.status == "active"
    assert later.config.status == "active"
    assert later.config.deprecation_date == date(2027, 1, 1)


def test_litellm_unreadable_deprecation_date_is_invalid() -> None:
    result = convert_litellm(m=litellm_entry(deprecation_date="soon"))
    assert result.invalid[0].reason == "deprecation_date must be a date YYYY-MM-DD"


def test_litellm_successor_kept_when_a_valid_id_even_unknown_else_dropped_and_listed() -> None:
    result = convert_litellm(
        a=litellm_entry(successor_model="not-in-this-map"),
        b=litellm_entry(successor_model="two words"),
    )
    a, b = result.models
    assert a.config.successor_model_id == "not-in-this-map"
    assert b.config.successor_model_id is None
    assert [d.model_id for d in result.dropped] == ["b"]
    assert "successor_model dropped" in result.dropped[0].reason


def test_litellm_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(UnusableValueError):
        litellm.convert([], today=TODAY)


# -- models.dev ------------------------------------------------------------------------------


def mdev_model(**fields: object) -> dict[str, object]:
    return {
        "id": "gpt-4o",
        "name": "GPT-4o",
        "attachment": True,
        "reasoning": False,
        "tool_call": True,
        "temperature": True,
        "open_weights": False,
        "cost": {"input": 2.5, "output": 10, "cache_read": 1.25},
        "limit": {"context": 128000, "output": 16384},
        "modalities": {"input": ["text", "image"], "output": ["text"]},
        **fields,
    }


def convert_mdev(models: dict[str, dict[str, object]], provider: str = "openai") -> Conversion:
    document = {provider: {"id": provider, "name": "OpenAI", "env": [], "models": models}}
    return models_dev.convert(parsed(document), today=TODAY)


def test_models_dev_id_provider_and_cleaned_display_name() -> None:
    model = one(convert_mdev({"gpt-4o": mdev_model(name="  GPT-4o\x07 (latest)\n")}))
    assert model.config.model_id == "openai/gpt-4o"
    assert model.config.provider == "openai"
    assert model.config.display_name == "GPT-4o (latest)"


def test_models_dev_limits_and_zero_or_missing_is_invalid() -> None:
    result = convert_mdev(
        {
            "ok": mdev_model(),
            "zero": mdev_model(limit={"context": 128000, "output": 0}),
            "missing": mdev_model(limit={"output": 100}),
        }
    )
    assert [m.config.model_id for m in result.models] == ["openai/ok"]
    assert (result.models[0].config.context_window, result.models[0].config.max_output_tokens) == (
        128000,
        16384,
    )
    assert {(i.model_id, i.reason) for i in result.invalid} == {
        ("openai/zero", "limit.output is 0 or missing"),
        ("openai/missing", "limit.context is 0 or missing"),
    }


def test_models_dev_prices_per_1m_rounded_float_noise_away_missing_zero() -> None:
    result = convert_mdev(
        {
            "noisy": mdev_model(
                cost={"input": 0.049999999999999996, "output": 0.30000000000000004}
            ),
            "free": mdev_model(cost={}),
        }
    )
    noisy, free = result.models
    assert (noisy.config.cost_per_1m_input_tokens, noisy.config.cost_per_1m_output_tokens) == (
        0.05,
        0.3,
    )
    assert noisy.cached_input_per_1m is None
    assert (free.config.cost_per_1m_input_tokens, free.config.cost_per_1m_output_tokens) == (
        0.0,
        0.0,
    )
    assert one(convert_mdev({"m": mdev_model()})).cached_input_per_1m == Decimal("1.25")


def test_models_dev_capabilities_from_booleans_and_modalities_only_where_true() -> None:
    model = one(
        convert_mdev(
            {
                "m": mdev_model(
                    reasoning=True,
                    structured_output=True,
                    open_weights=True,
                    interleaved={"field": "reasoning_content"},
                    modalities={
                        "input": ["text", "image", "pdf", "audio", "video"],
                        "output": ["text", "image", "audio", "video"],
                    },
                )
            }
        )
    )
    assert model.config.capabilities.names() == {
        "streaming", "vision", "tool_use", "json_mode", "reasoning", "attachment",
        "temperature", "open_weights", "interleaved", "pdf_input", "audio_input",
        "video_input", "image_output", "audio_output", "video_output",
    }  # fmt: skip
    plain = one(
        convert_mdev(
            {
                "m": mdev_model(
                    attachment=False,
                    tool_call=False,
                    temperature=False,
                    interleaved=True,
                    modalities={"input": ["text"], "output": ["text"]},
                )
            }
        )
    )
    assert plain.config.capabilities.names() == {"streaming", "interleaved"}
    assert "supports_attachment" not in plain.config.capabilities.model_dump()


@pytest.mark.parametrize(
    ("status", "expected"),
    [("deprecated", "deprecated"), ("alpha", "active"), ("beta", "active"), (None, "active")],
)
def test_models_dev_status(status: str | None, expected: str) -> None:
    fields = {} if status is None else {"status": status}
    assert one(convert_mdev({"m": mdev_model(**fields)})).config.status == expected


def test_models_dev_document_without_models_is_refused() -> None:
    with pytest.raises(UnusableValueError, match="has no models object"):
        models_dev.convert({"openai": {"name": "OpenAI"}}, today=TODAY)


# -- openrouter ------------------------------------------------------------------------------


def or_model(**fields: object) -> dict[str, object]:
    return {
        "id": "openai/gpt-4o",
        "name": "OpenAI: GPT-4o",
        "context_length": 128000,
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
        "pricing": {
            "prompt": "0.0000025",
            "completion": "0.00001",
            "input_cache_read": "0.00000125",
        },
        "top_provider": {
            "context_length": 128000,
            "max_completion_tokens": 16384,
            "is_moderated": True,
        },
        "supported_parameters": ["tools", "tool_choice", "response_format", "max_tokens"],
        **fields,
    }


def convert_or(*models: dict[str, object]) -> Conversion:
    return openrouter.convert(parsed({"data": list(models)}), today=TODAY)


def test_openrouter_id_provider_limits_and_prices() -> None:
    model = one(convert_or(or_model()))
    config = model.config
    assert (config.model_id, config.provider, config.display_name) == (
        "openai/gpt-4o",
        "openai",
        "OpenAI: GPT-4o",
    )
    assert (config.context_window, config.max_output_tokens) == (128000, 16384)
    assert (config.cost_per_1m_input_tokens, config.cost_per_1m_output_tokens) == (2.5, 10.0)
    assert model.cached_input_per_1m == Decimal("1.25")


def test_openrouter_capabilities_from_modalities_and_supported_parameters() -> None:
    a, b, c = convert_or(
        or_model(id="a/1"),
        or_model(
            id="b/2",
            architecture={"input_modalities": ["text"]},
            supported_parameters=["structured_outputs", "reasoning"],
        ),
        or_model(id="c/3", supported_parameters=[]),
    ).models
    assert a.config.capabilities.names() == {"streaming", "vision", "tool_use", "json_mode"}
    assert b.config.capabilities.names() == {"streaming", "json_mode", "reasoning"}
    assert c.config.capabilities.names() == {"streaming", "vision"}


def test_openrouter_invalid_entries_are_listed_and_do_not_block_the_others() -> None:
    result = convert_or(
        or_model(id="ok/1"),
        or_model(id="nomax/1", top_provider={"max_completion_tokens": None}),
        or_model(id="noslash"),
        or_model(id="variable/1", pricing={"prompt": "-1", "completion": "-1"}),
        or_model(id="ok/1"),
    )
    assert [m.config.model_id for m in result.models] == ["ok/1"]
    assert [(i.model_id, i.reason) for i in result.invalid] == [
        ("nomax/1", "top_provider.max_completion_tokens must be a positive whole number"),
        ("noslash", "id has no provider part (<provider>/<model>)"),
        ("variable/1", "pricing.prompt must be >= 0 and <= 10000 per 1M tokens"),
        ("ok/1", "the id appears more than once"),
    ]


def test_openrouter_document_without_data_is_refused() -> None:
    with pytest.raises(UnusableValueError):
        openrouter.convert({"models": []}, today=TODAY)
