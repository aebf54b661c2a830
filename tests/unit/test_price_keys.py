"""Issue 17: the converters map the upstream price keys beyond the base into rates.

``litellm_price_entries.json`` holds real entries of LiteLLM's map (release 1.80.0, unchanged);
the keys that release does not use yet (``_above_12hr``, ``_priority`` after a context suffix,
``_ultrafast`` ...) are tested on entries shaped like the newer map's.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from modelregistry.domain.pricing import Price, money
from modelregistry.domain.rates import Usage, breakdown, check_rates
from modelregistry.domain.upstream import litellm, models_dev, openrouter

if TYPE_CHECKING:
    from modelregistry.domain.upstream.convert import Conversion, UpstreamModel

TODAY = date(2026, 12, 2)
ENTRIES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "litellm_price_entries.json").read_text(encoding="utf-8"),
    parse_float=Decimal,
)
DOWNLOADED: Final = "/tmp/ll/x/litellm/model_prices_and_context_window_backup.json"  # noqa: S108
"""Where ``pip download litellm==1.80.0 --no-deps -d /tmp/ll`` and an unzip put the map."""
FULL_MAP = Path(os.environ.get("LITELLM_MAP", DOWNLOADED))


def rates_of(model: UpstreamModel) -> list[tuple[str, int, str, str]]:
    return [(r.service_tier, r.above_tokens, r.component, str(r.amount)) for r in model.rates]


def one(conversion: Conversion) -> UpstreamModel:
    assert conversion.invalid == []
    [model] = conversion.models
    return model


def litellm_model(model_id: str, entry: dict[str, Any]) -> UpstreamModel:
    return one(litellm.convert({model_id: entry}, today=TODAY))


def test_litellm_cache_writes_context_tiers_and_lifetimes_of_a_real_entry() -> None:
    sonnet = litellm_model("claude-sonnet-4-5", ENTRIES["claude-sonnet-4-5"])
    assert sonnet.cached_input_per_1m == Decimal("0.3")
    assert rates_of(sonnet) == [
        ("standard", 0, "cache_write_5m", "3.75"),
        ("standard", 200_000, "input", "6"),
        ("standard", 200_000, "cached_input", "0.6"),
        ("standard", 200_000, "cache_write_5m", "7.5"),
        ("standard", 200_000, "output", "22.5"),
    ]
    haiku = litellm_model("claude-3-5-haiku-20241022", ENTRIES["claude-3-5-haiku-20241022"])
    # ``_above_1hr`` is the 1-hour cache lifetime, not a context tier.
    assert rates_of(haiku) == [
        ("standard", 0, "cache_write_5m", "1"),
        ("standard", 0, "cache_write_1h", "6"),
    ]


def test_litellm_service_tiers_flex_priority_batches_and_per_request() -> None:
    gpt5 = litellm_model("gpt-5", ENTRIES["gpt-5"])
    assert rates_of(gpt5) == [
        ("flex", 0, "input", "0.625"),
        ("flex", 0, "cached_input", "0.0625"),
        ("flex", 0, "output", "5"),
        ("priority", 0, "input", "2.5"),
        ("priority", 0, "cached_input", "0.25"),
        ("priority", 0, "output", "20"),
    ]
    o1 = litellm_model("azure/eu/o1-mini-2024-09-12", ENTRIES["azure/eu/o1-mini-2024-09-12"])
    assert rates_of(o1) == [("batch", 0, "input", "0.605"), ("batch", 0, "output", "2.42")]
    sonar = litellm_model("perplexity/sonar-small-online", ENTRIES["perplexity/sonar-small-online"])
    assert rates_of(sonar) == [("standard", 0, "request", "0.005")]  # USD per request


def test_litellm_tiered_pricing_ranges_and_cache_hit_of_real_entries() -> None:
    qwen = litellm_model(
        "dashscope/qwen-plus-2025-07-28", ENTRIES["dashscope/qwen-plus-2025-07-28"]
    )
    assert (qwen.config.cost_per_1m_input_tokens, qwen.config.cost_per_1m_output_tokens) == (
        0.4,
        1.2,
    )
    assert rates_of(qwen) == [
        ("standard", 0, "reasoning", "4"),
        ("standard", 256_000, "input", "1.2"),
        ("standard", 256_000, "output", "3.6"),
        ("standard", 256_000, "reasoning", "12"),
    ]
    deepseek = litellm_model("deepseek/deepseek-chat", ENTRIES["deepseek/deepseek-chat"])
    # ``input_cost_per_token_cache_hit`` is the cached-input price (here equal to cache read).
    assert deepseek.cached_input_per_1m == Decimal("0.07")
    assert rates_of(deepseek) == [("standard", 0, "cache_write_5m", "0")]


def test_litellm_context_and_tier_suffixes_combine_and_12h_is_a_lifetime() -> None:
    entry = {
        "litellm_provider": "openai",
        "mode": "responses",
        "max_input_tokens": 1_050_000,
        "max_output_tokens": 128_000,
        "input_cost_per_token": "0.0000025",
        "output_cost_per_token": "0.000015",
        "input_cost_per_token_above_272k_tokens": "0.000005",
        "input_cost_per_token_above_272k_tokens_priority": "0.00001",
        "input_cost_per_token_priority": "0.000005",
        "output_cost_per_token_priority": "0.00003",
        "cache_creation_input_token_cost_above_12hr": "0.000004",
        "input_cost_per_token_ultrafast": "0.00002",
        "input_cost_per_token_balanced": "0.000003",
        "input_cost_per_token_decisions": "0.000004",
        "input_cost_per_token_batch_requests": "0.000001",  # not a known suffix: not mapped
    }
    model = litellm_model("gpt-x", entry)
    assert rates_of(model) == [
        ("standard", 0, "cache_write_12h", "4"),
        ("standard", 272_000, "input", "5"),
        ("priority", 0, "input", "5"),
        ("priority", 0, "output", "30"),
        ("priority", 272_000, "input", "10"),
        ("ultrafast", 0, "input", "20"),
        ("balanced", 0, "input", "3"),
        ("decisions", 0, "input", "4"),
    ]
    # Priority above 272k: its own input, its base output (the cliff keeps a tier's base).
    price = _price(model)
    asked = Usage(300_000, 1000, service_tier="priority")
    assert breakdown(price, asked).total == Decimal(3) + Decimal("0.03")


def test_litellm_unusable_rate_is_dropped_and_the_entry_kept() -> None:
    entry = {**ENTRIES["claude-3-5-haiku-20241022"], "cache_creation_input_token_cost": "free"}
    conversion = litellm.convert({"haiku": entry}, today=TODAY)
    assert [m.config.model_id for m in conversion.models] == ["haiku"]
    assert rates_of(conversion.models[0]) == [("standard", 0, "cache_write_1h", "6")]
    assert [d.reason.split(":")[0] for d in conversion.dropped] == [
        "cache_creation_input_token_cost dropped"
    ]


def test_models_dev_cache_write_reasoning_and_tiers_by_their_own_size() -> None:
    document = {
        "openai": {
            "models": {
                "gpt-5.5": {
                    "name": "GPT-5.5",
                    "limit": {"context": 1_050_000, "output": 128_000},
                    "cost": {
                        "input": 5,
                        "output": 30,
                        "cache_read": "0.5",
                        "cache_write": "6.25",
                        "reasoning": 30,
                        "tiers": [
                            {
                                "tier": {"type": "context", "size": 272_000},
                                "input": 10,
                                "output": 45,
                                "cache_read": 1,
                            },
                            {"tier": {"type": "time", "size": 3}, "input": 1},
                        ],
                        # A copy of the 272k tier, named after another threshold: never read.
                        "context_over_200k": {"input": 10, "output": 45, "cache_read": 1},
                    },
                }
            }
        }
    }
    conversion = models_dev.convert(document, today=TODAY)
    model = one(conversion)
    assert rates_of(model) == [
        ("standard", 0, "cache_write_5m", "6.25"),
        ("standard", 0, "reasoning", "30"),
        ("standard", 272_000, "input", "10"),
        ("standard", 272_000, "cached_input", "1"),
        ("standard", 272_000, "output", "45"),
    ]
    assert [d.reason for d in conversion.dropped] == [
        "cost.tiers[1] dropped: not a context tier with a whole size"
    ]
    # 250,000 prompt tokens: above 200k but not above 272k, so the base rates.
    assert breakdown(_price(model), Usage(250_000, 0)).total == Decimal("1.25")


def test_openrouter_cache_write_reasoning_and_request() -> None:
    entry = {
        "id": "anthropic/claude-sonnet-4.5",
        "context_length": 1_000_000,
        "top_provider": {"max_completion_tokens": 64_000},
        "pricing": {
            "prompt": "0.000003",
            "completion": "0.000015",
            "input_cache_read": "0.0000003",
            "input_cache_write": "0.00000375",
            "internal_reasoning": "0",
            "request": "0",
        },
    }
    model = one(openrouter.convert({"data": [entry]}, today=TODAY))
    # "0" means not charged apart: no rate (reasoning -> output; no per-request fee).
    assert rates_of(model) == [("standard", 0, "cache_write_5m", "3.75")]


@pytest.mark.skipif(
    not FULL_MAP.is_file(),
    reason=f"LiteLLM's full map is not at {FULL_MAP} (set LITELLM_MAP; pip download litellm)",
)
def test_litellm_full_real_map_converts_without_a_crash_and_its_rates_check() -> None:
    document = json.loads(FULL_MAP.read_text(encoding="utf-8"), parse_float=Decimal)
    conversion = litellm.convert(document, today=TODAY)
    priced = [model for model in conversion.models if model.rates]
    assert len(conversion.models) > 1000
    assert len(priced) > 200
    thresholds = {rate.above_tokens for model in priced for rate in model.rates}
    assert {128_000, 200_000, 256_000} <= thresholds
    for model in priced:
        assert check_rates(model.rates) == model.rates  # valid, canonical, no duplicate


def _price(model: UpstreamModel) -> Price:
    config = model.config
    return Price(
        model_id=config.model_id,
        input_per_1m=money(config.cost_per_1m_input_tokens, "input"),
        output_per_1m=money(config.cost_per_1m_output_tokens, "output"),
        cached_input_per_1m=model.cached_input_per_1m,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="sync",
        rates=model.rates,
    )
