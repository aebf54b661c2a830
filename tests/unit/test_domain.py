from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cases import GPT4_TURBO, INVALID, Invalid, config
from modelregistry import (
    InvalidModelConfigError,
    ModelCapabilities,
    ModelConfig,
    ModelStatus,
    QualityScores,
)
from modelregistry.cli.render import COLUMNS
from modelregistry.domain.models import QUALITY_DIMENSIONS, parse_status
from modelregistry.domain.query import ORDER_FIELDS
from modelregistry.domain.rules import capability_name


def test_seed_model_builds_with_seed_field_names_and_types() -> None:
    model = ModelConfig(
        model_id="claude-3-opus",
        provider="anthropic",
        display_name="Claude 3 Opus",
        capabilities=ModelCapabilities(
            supports_streaming=True,
            supports_vision=True,
            supports_tool_use=True,
            supports_json_mode=True,
        ),
        context_window=200000,
        max_output_tokens=4096,
        cost_per_1m_input_tokens=15.0,
        cost_per_1m_output_tokens=75.0,
        rate_limit_rpm=60,
        rate_limit_tpm=100000,
        latency_p50_ms=2000,
        latency_p99_ms=8000,
        status=ModelStatus.ACTIVE,
        quality_scores=QualityScores(
            reasoning=0.95, coding=0.92, creative=0.90, summarization=0.93
        ),
    )
    assert model.cost_per_1m_input_tokens == 15.0
    assert isinstance(model.cost_per_1m_input_tokens, float)
    assert model.status.value == "active"
    assert model.capabilities.names() == {"streaming", "vision", "tool_use", "json_mode"}


def test_only_the_four_required_fields_are_needed_and_defaults_are_documented() -> None:
    model = ModelConfig(
        model_id="tiny", provider="local", context_window=2048, max_output_tokens=512
    )
    assert model.display_name == "tiny"
    assert model.capabilities == ModelCapabilities()
    assert model.capabilities.names() == frozenset()
    assert (model.cost_per_1m_input_tokens, model.cost_per_1m_output_tokens) == (0.0, 0.0)
    assert (model.rate_limit_rpm, model.rate_limit_tpm) == (0, 0)
    assert (model.latency_p50_ms, model.latency_p99_ms) == (0, 0)
    assert model.status is ModelStatus.ACTIVE
    assert model.quality_scores == QualityScores(
        reasoning=0.0, coding=0.0, creative=0.0, summarization=0.0
    )


@pytest.mark.parametrize(
    "model_id",
    [
        "bedrock/us-east-1/anthropic.claude-3-opus:0",
        "openrouter/meta-llama/llama-3-70b-instruct:free",
        "vertex_ai/claude-3-opus@20240229",
        "ft:gpt-3.5-turbo:org:custom:abc123",
        "azure/*",
        "模型/χ-1",
        "m" * 256,
    ],
)
def test_real_world_model_ids_are_accepted(model_id: str) -> None:
    assert ModelConfig(**config(model_id=model_id)).model_id == model_id


def test_model_ids_are_case_sensitive() -> None:
    upper = ModelConfig(**config(model_id="GPT-4-Turbo"))
    lower = ModelConfig(**config(model_id="gpt-4-turbo"))
    assert upper.model_id == "GPT-4-Turbo"
    assert upper != lower


def test_provider_is_normalised_to_lowercase() -> None:
    assert ModelConfig(**config(provider="OpenAI")).provider == "openai"
    assert ModelConfig(**config(provider="Vertex_AI.eu-1")).provider == "vertex_ai.eu-1"


def test_max_output_may_exceed_context_window() -> None:
    model = ModelConfig(**config(context_window=4096, max_output_tokens=8192))
    assert model.max_output_tokens > model.context_window


def test_unknown_p99_latency_is_allowed_with_a_known_p50() -> None:
    model = ModelConfig(**config(latency_p50_ms=500, latency_p99_ms=0))
    assert (model.latency_p50_ms, model.latency_p99_ms) == (500, 0)


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_each_rule_rejects_with_e4003_naming_field_and_rule(case: Invalid) -> None:
    data, field, rule = case
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig(**data)
    error = raised.value
    assert error.code == "E4003"
    assert isinstance(error, ValueError)
    matching = [v for v in error.violations if v.field == field]
    assert matching, f"no violation names {field!r}: {error}"
    assert any(rule in v.rule for v in matching), f"{rule!r} not in {matching}"
    assert field in str(error)


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_each_rule_rejects_through_model_validate_too(case: Invalid) -> None:
    data, field, _rule = case
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig.model_validate(data)
    assert field in {v.field for v in raised.value.violations}


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig(
            **config(
                model_id="bad id",
                provider="Bad Provider",
                context_window=0,
                cost_per_1m_output_tokens=-1.0,
                quality_scores={"coding": 2.0},
            )
        )
    fields = {v.field for v in raised.value.violations}
    assert fields == {
        "model_id",
        "provider",
        "context_window",
        "cost_per_1m_output_tokens",
        "quality_scores.coding",
    }
    assert raised.value.to_dict()["code"] == "E4003"
    assert len(raised.value.to_dict()["violations"]) == 5


def test_json_input_is_validated_with_e4003() -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig.model_validate_json(json.dumps(config(context_window=-5)))
    assert [v.field for v in raised.value.violations] == ["context_window"]


def test_nested_parts_raise_e4003_on_their_own() -> None:
    with pytest.raises(InvalidModelConfigError, match="coding"):
        QualityScores(coding=1.5)
    with pytest.raises(InvalidModelConfigError, match="supports_vision"):
        ModelCapabilities(supports_vision="yes")


def test_models_are_immutable() -> None:
    model = ModelConfig(**GPT4_TURBO)
    with pytest.raises(ValueError, match="frozen"):
        model.context_window = 5  # type: ignore[misc]


def test_field_order_does_not_matter_after_a_json_round_trip() -> None:
    original = ModelConfig(**GPT4_TURBO)
    reordered = dict(reversed(list(original.model_dump(mode="json").items())))
    reordered["capabilities"] = dict(reversed(list(reordered["capabilities"].items())))
    assert ModelConfig.model_validate(reordered) == original
    assert ModelConfig.model_validate_json(original.model_dump_json()) == original


def test_extra_capability_flags_are_stored_and_default_to_false() -> None:
    caps = ModelCapabilities(
        supports_streaming=True,
        supports_reasoning=True,
        Supports_Prompt_Caching=True,
    )
    assert caps.supports_reasoning is True
    assert caps.supports_prompt_caching is True
    assert caps.supports_pdf_input is False
    assert caps.supports_vision is False
    assert caps.names() == {"streaming", "reasoning", "prompt_caching"}
    assert caps.has("REASONING")
    assert caps.has("supports_prompt_caching")
    assert not caps.has("pdf_input")
    with pytest.raises(AttributeError):
        _ = caps.not_a_flag


def test_a_false_extra_flag_equals_an_absent_one() -> None:
    explicit = ModelCapabilities(supports_reasoning=False)
    assert explicit == ModelCapabilities()
    assert explicit.model_dump() == ModelCapabilities().model_dump()


def test_capabilities_round_trip_through_names() -> None:
    caps = ModelCapabilities.from_names(["vision", "supports_tool_use", "REASONING"])
    assert caps.names() == {"vision", "tool_use", "reasoning"}
    assert ModelCapabilities.from_names(caps.names()) == caps


@pytest.mark.parametrize(
    ("given", "expected"),
    [("vision", "vision"), ("supports_vision", "vision"), ("Supports_Tool_Use", "tool_use")],
)
def test_capability_names_accept_either_form_in_any_case(given: str, expected: str) -> None:
    assert capability_name(given) == expected


@pytest.mark.parametrize("given", ["active", "ACTIVE", "Active", ModelStatus.ACTIVE])
def test_status_is_accepted_case_insensitively(given: str) -> None:
    assert parse_status(given) is ModelStatus.ACTIVE
    assert ModelConfig(**config(status=given)).status is ModelStatus.ACTIVE


def test_unknown_status_is_e4003_listing_the_valid_ones() -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        parse_status("retired")
    assert raised.value.violations[0].field == "status"
    assert "active, deprecated, disabled, maintenance" in str(raised.value)


def test_status_values_are_the_seeds() -> None:
    assert [s.value for s in ModelStatus] == ["active", "deprecated", "disabled", "maintenance"]
    assert str(ModelStatus.DEPRECATED) == "deprecated"


def test_costs_keep_the_decimal_the_user_wrote() -> None:
    model = ModelConfig(
        **config(cost_per_1m_input_tokens=Decimal("0.1"), cost_per_1m_output_tokens=0.0000000001)
    )
    assert model.cost_per_1m_input_tokens == 0.1
    assert model.cost_per_1m_output_tokens == 1e-10
    assert ModelConfig(**config(cost_per_1m_output_tokens=10_000)).cost_per_1m_output_tokens == (
        10_000.0
    )


def test_an_invalid_id_is_reported_once_not_again_as_the_display_name() -> None:
    with pytest.raises(InvalidModelConfigError) as raised:
        ModelConfig(**config(model_id="gpt\x004", display_name=None))
    assert [v.field for v in raised.value.violations] == ["model_id"]


def test_the_quality_dimensions_are_the_fields_of_quality_scores_everywhere() -> None:
    assert QUALITY_DIMENSIONS == ("reasoning", "coding", "creative", "summarization")
    assert set(QUALITY_DIMENSIONS) == set(QualityScores.model_fields)
    for dimension in QUALITY_DIMENSIONS:
        assert f"quality.{dimension}" in ORDER_FIELDS
        assert f"quality.{dimension}" in COLUMNS


def test_to_dict_is_the_json_form_with_the_version() -> None:
    model = ModelConfig(**config(cost_per_1m_input_tokens=0.1)).with_version(3)
    data = model.to_dict()
    assert data == {**model.model_dump(mode="json"), "version": 3}
    assert json.loads(json.dumps(data)) == data
    assert ModelConfig(**config()).to_dict()["version"] is None


def test_stored_validates_once_and_marks_the_version() -> None:
    data = config(cost_per_1m_input_tokens=0.1)
    stored = ModelConfig.stored(dict(data), 7)
    assert stored == ModelConfig(**data).with_version(7)
    assert stored.version == 7
    assert "version" not in stored.model_dump()


def test_stored_refuses_a_config_breaking_a_rule_or_carrying_a_version_with_e4003() -> None:
    with pytest.raises(InvalidModelConfigError) as caught:
        ModelConfig.stored(config(context_window=0), 2)
    assert [v.field for v in caught.value.violations] == ["context_window"]
    with pytest.raises(InvalidModelConfigError) as caught:
        ModelConfig.stored({**config(), "version": 9}, 2)
    assert [v.field for v in caught.value.violations] == ["version"]


def test_a_version_given_as_input_is_refused_even_with_a_look_alike_context() -> None:
    with pytest.raises(InvalidModelConfigError) as caught:
        ModelConfig.model_validate({**config(), "version": 3}, context={"stored": True})
    assert [v.field for v in caught.value.violations] == ["version"]


def test_json_schema_states_price_and_score_bounds_as_minimum_and_maximum() -> None:
    schema = ModelConfig.model_json_schema(mode="validation")
    cost = schema["properties"]["cost_per_1m_input_tokens"]
    score = schema["$defs"]["QualityScores"]["properties"]["coding"]
    assert (cost["minimum"], cost["maximum"]) == (0, 10_000)
    assert (score["minimum"], score["maximum"]) == (0, 1)
    assert not {"ge", "le"} & {*cost, *score}  # not JSON Schema keywords


def test_a_decimal_out_of_range_is_refused_showing_the_decimal_given() -> None:
    with pytest.raises(InvalidModelConfigError) as caught:
        ModelConfig(**config(cost_per_1m_input_tokens=Decimal("-0.5")))
    [violation] = caught.value.violations
    assert violation.rule == "must be greater than or equal to 0"
    assert isinstance(violation.value, Decimal)  # (pydantic-core would show the float)
    assert violation.value == Decimal("-0.5")


def test_stored_of_a_config_instance_marks_a_copy_and_leaves_the_instance_as_it_was() -> None:
    given = ModelConfig(**config())
    stored = ModelConfig.stored(given, 4)  # type: ignore[arg-type]  # (a dict is documented)
    assert (stored.version, given.version) == (4, None)
    assert stored == given
