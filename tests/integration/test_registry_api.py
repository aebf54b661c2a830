"""The seed's 14 methods on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cases import GPT4_TURBO, INVALID, Invalid, config, snapshot
from modelregistry import (
    InvalidArgumentError,
    InvalidModelConfigError,
    ModelCapabilities,
    ModelConfig,
    ModelNotFoundError,
    ModelRegistry,
    ModelStatus,
)
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.db.tables import ModelRow
from modelregistry.domain.defaults import DEFAULT_MODELS

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.both_apis

DEFAULT_IDS = ["llama3.1:8b", "llama3.2:3b", "llava-llama3:latest"]


def ids(models: list[ModelConfig]) -> list[str]:
    assert type(models) is list
    return [model.model_id for model in models]


def register(registry: ModelRegistry, **changes: object) -> ModelConfig:
    return registry.register_model(config(**changes))


# -- a new catalog -------------------------------------------------------------------------


def test_new_catalog_holds_the_seed_defaults_exactly(registry: ModelRegistry) -> None:
    assert registry.list_models() == list(DEFAULT_MODELS)
    llama = registry.get_model_or_raise("llama3.1:8b")
    assert llama.display_name == "Llama 3.1 8B"
    assert llama.capabilities.names() == {"streaming", "json_mode"}
    assert (llama.context_window, llama.max_output_tokens) == (128000, 8192)
    assert (llama.rate_limit_rpm, llama.rate_limit_tpm) == (1000, 100000)
    assert (llama.latency_p50_ms, llama.latency_p99_ms) == (500, 2000)
    assert llama.quality_scores.reasoning == 0.75
    llava = registry.get_model_or_raise("llava-llama3:latest")
    assert llava.capabilities.names() == {"streaming", "vision"}
    assert (llava.context_window, llava.rate_limit_tpm) == (8192, 50000)


def test_is_initialized_once_opened(registry: ModelRegistry) -> None:
    assert registry.is_initialized() is True


def test_stats_of_a_new_catalog(registry: ModelRegistry) -> None:
    stats = registry.get_stats()
    assert stats.pop("cache")["models"] == 3
    assert stats == {
        "total_models": 3,
        "active_models": 3,
        "total_providers": 1,
        "total_capabilities": 3,
        "providers": ["ollama"],
        "capabilities": ["json_mode", "streaming", "vision"],
        "by_status": {"active": 3, "deprecated": 0, "disabled": 0, "maintenance": 0},
        "by_provider": {"ollama": 3},
    }


# -- register_model ------------------------------------------------------------------------


def test_register_then_get_returns_an_equal_model(registry: ModelRegistry) -> None:
    expected = ModelConfig(**GPT4_TURBO)
    stored = registry.register_model(expected)
    assert stored == expected
    assert registry.get_model("gpt-4-turbo") == expected


def test_register_accepts_a_mapping_in_any_field_order(registry: ModelRegistry) -> None:
    reordered = dict(reversed(list(GPT4_TURBO.items())))
    stored = registry.register_model(reordered)
    assert stored == ModelConfig(**GPT4_TURBO)


def test_register_replaces_every_field_and_capability(registry: ModelRegistry) -> None:
    register(registry)
    changed = register(
        registry,
        provider="azure",
        display_name="GPT-4 Turbo (Azure)",
        capabilities={"supports_streaming": True, "supports_reasoning": True},
        context_window=64000,
        cost_per_1m_input_tokens=9.5,
        status="deprecated",
        quality_scores={"coding": 0.5},
    )
    assert registry.get_model("gpt-4-turbo") == changed
    assert changed.capabilities.names() == {"streaming", "reasoning"}
    assert changed.provider == "azure"
    assert ids(registry.get_models_by_capability("vision")) == ["llava-llama3:latest"]
    assert ids(registry.get_models_by_provider("openai")) == []
    assert registry.get_providers() == ["azure", "ollama"]
    assert "tool_use" not in registry.get_capabilities()


def test_registering_an_identical_config_writes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    register(registry)
    before = snapshot(raw_engine)
    register(registry)
    assert snapshot(raw_engine) == before


def test_replacing_a_model_moves_updated_at_but_keeps_created_at(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    query = sa.text("SELECT created_at, updated_at FROM models WHERE model_id = 'gpt-4-turbo'")
    register(registry)
    with raw_engine.connect() as connection:
        created, updated = connection.execute(query).one()
    register(registry, context_window=1000)
    with raw_engine.connect() as connection:
        created_after, updated_after = connection.execute(query).one()
    assert created_after == created
    assert updated_after != updated


def test_extra_capabilities_are_stored_and_queried(registry: ModelRegistry) -> None:
    caps = {"supports_streaming": True, "supports_reasoning": True, "supports_pdf_input": True}
    stored = register(registry, model_id="o1", capabilities=caps)
    assert stored.capabilities.supports_reasoning is True
    assert stored.capabilities.supports_prompt_caching is False
    assert ids(registry.get_models_by_capability("reasoning")) == ["o1"]
    assert ids(registry.get_models_by_capability("SUPPORTS_PDF_INPUT")) == ["o1"]
    assert ids(registry.get_models_by_capabilities(["reasoning", "streaming"])) == ["o1"]
    assert "pdf_input" in registry.get_capabilities()


@pytest.mark.parametrize(
    "cost", [0.1, 0.3, 15.0, 0.0000000001, 9999.9999999999, 0.0375, 123.456, 10_000.0]
)
def test_costs_round_trip_exactly(registry: ModelRegistry, cost: float) -> None:
    stored = register(registry, cost_per_1m_input_tokens=cost, cost_per_1m_output_tokens=cost)
    assert stored.cost_per_1m_input_tokens == cost
    fetched = registry.get_model_or_raise("gpt-4-turbo")
    assert fetched.cost_per_1m_output_tokens == cost
    assert repr(fetched.cost_per_1m_output_tokens) == repr(cost)


def test_costs_are_stored_as_exact_numerics(
    registry: ModelRegistry, raw_engine: sa.Engine, backend: str
) -> None:
    register(registry, cost_per_1m_input_tokens=0.1, cost_per_1m_output_tokens=12.3456789012)
    with raw_engine.connect() as connection:
        stored_in, stored_out = connection.execute(
            sa.text(
                "SELECT cost_per_1m_input_tokens, cost_per_1m_output_tokens FROM models "
                "WHERE model_id = 'gpt-4-turbo'"
            )
        ).one()
    if backend == "postgresql":
        assert stored_in == Decimal("0.1")
        assert stored_out == Decimal("12.3456789012")
    else:  # SQLite has no decimal type: the exact decimal text
        assert (stored_in, stored_out) == ("0.1", "12.3456789012")
        with raw_engine.connect() as connection:
            kinds = connection.execute(
                sa.text(
                    "SELECT typeof(cost_per_1m_input_tokens), typeof(cost_per_1m_output_tokens) "
                    "FROM models WHERE model_id = 'gpt-4-turbo'"
                )
            ).one()
            assert tuple(kinds) == ("text", "text")
            # ... which compares as a number once cast (exact for <= 15 significant digits).
            dearer = connection.execute(
                sa.text(
                    "SELECT model_id FROM models "
                    "WHERE CAST(cost_per_1m_output_tokens AS REAL) > 9.5"
                )
            ).scalars()
            assert list(dearer) == ["gpt-4-turbo"]


@pytest.mark.parametrize(
    "model_id",
    [
        "bedrock/us-east-1/anthropic.claude-3-opus:0",
        "vertex_ai/claude-3-opus@20240229",
        "azure/*",
        "o'reilly\";DROP/**/TABLE/**/models;--",
        "模型/χ-1",
    ],
)
def test_real_world_and_hostile_ids_work(registry: ModelRegistry, model_id: str) -> None:
    register(registry, model_id=model_id)
    assert registry.get_model_or_raise(model_id).model_id == model_id
    assert model_id in ids(registry.list_models())
    assert registry.get_stats()["total_models"] == 4


def test_ids_are_case_sensitive(registry: ModelRegistry) -> None:
    register(registry, model_id="GPT-4", display_name="upper")
    register(registry, model_id="gpt-4", display_name="lower")
    assert registry.get_model_or_raise("GPT-4").display_name == "upper"
    assert registry.get_model_or_raise("gpt-4").display_name == "lower"
    assert registry.get_model("Gpt-4") is None


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_config_raises_e4003_and_writes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine, case: Invalid
) -> None:
    register(registry)  # an existing model of the same id must survive unchanged too
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError) as raised:
        registry.register_model(case.data)
    assert case.field in {v.field for v in raised.value.violations}
    assert snapshot(raw_engine) == before


def test_a_tampered_model_copy_is_validated_again(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    tampered = ModelConfig(**GPT4_TURBO).model_copy(update={"context_window": -1})
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError, match="context_window"):
        registry.register_model(tampered)
    assert snapshot(raw_engine) == before


def test_register_rejects_what_is_not_a_config(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidModelConfigError, match="mapping"):
        registry.register_model(["gpt-4"])  # type: ignore[arg-type]


# -- reads ---------------------------------------------------------------------------------


def test_get_model_missing_is_none(registry: ModelRegistry) -> None:
    assert registry.get_model("no-such-model") is None
    assert registry.get_model("has a space") is None


def test_get_model_or_raise_unknown_id_raises_e4001(registry: ModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError) as raised:
        registry.get_model_or_raise("no-such-model")
    assert raised.value.code == "E4001"
    assert raised.value.model_id == "no-such-model"
    assert isinstance(raised.value, LookupError)


def test_get_model_with_a_non_string_id_is_e4007(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidArgumentError, match="model_id") as raised:
        registry.get_model(42)  # type: ignore[arg-type]
    assert raised.value.code == "E4007"


@pytest.fixture
def catalog(registry: ModelRegistry) -> ModelRegistry:
    """The defaults plus models of three providers in every status."""
    register(registry, model_id="claude-3-opus", provider="anthropic")
    register(
        registry,
        model_id="claude-2",
        provider="Anthropic",
        status="deprecated",
        capabilities={"supports_vision": True},
    )
    register(registry, model_id="gpt-3.5-turbo", capabilities={}, status="disabled")
    register(registry, model_id="gpt-4-turbo")
    register(registry, model_id="mistral-large", provider="mistral", status="maintenance")
    return registry


def test_list_models_filters_by_provider_and_status(catalog: ModelRegistry) -> None:
    assert ids(catalog.list_models(provider="anthropic")) == ["claude-2", "claude-3-opus"]
    assert ids(catalog.list_models(provider="ANTHROPIC", status="Active")) == ["claude-3-opus"]
    assert ids(catalog.list_models(status=ModelStatus.DISABLED)) == ["gpt-3.5-turbo"]
    assert ids(catalog.list_models(provider="nobody")) == []
    assert len(catalog.list_models()) == 8


def test_list_models_combines_provider_status_and_capabilities(catalog: ModelRegistry) -> None:
    listed = catalog.list_models(provider="anthropic", capabilities=["vision"])
    assert ids(listed) == ["claude-2", "claude-3-opus"]
    listed = catalog.list_models("anthropic", "active", capabilities=["vision", "tool_use"])
    assert ids(listed) == ["claude-3-opus"]
    assert catalog.list_models(capabilities=["vision", "telepathy"]) == []


def test_list_models_with_an_unknown_status_is_e4007(catalog: ModelRegistry) -> None:
    with pytest.raises(InvalidArgumentError, match="status"):  # a filter, not a config
        catalog.list_models(status="retired")


def test_lists_are_ordered_by_code_point(registry: ModelRegistry) -> None:
    for model_id in ["b", "B", "a-2", "a.1", "a_1", "Z", "é", "~", "a"]:
        register(registry, model_id=model_id)
    listed = ids(registry.list_models(provider="openai"))
    assert listed == sorted(listed)
    assert listed == ["B", "Z", "a", "a-2", "a.1", "a_1", "b", "~", "é"]


def test_capability_queries_accept_either_form_and_any_status(catalog: ModelRegistry) -> None:
    expected = ["claude-2", "claude-3-opus", "gpt-4-turbo", "llava-llama3:latest", "mistral-large"]
    for name in ("vision", "supports_vision", "VISION", "Supports_Vision"):
        assert ids(catalog.get_models_by_capability(name)) == expected


def test_unknown_capability_returns_no_models(catalog: ModelRegistry) -> None:
    assert catalog.get_models_by_capability("telepathy") == []
    assert catalog.get_models_by_capabilities(["code", "tool_use"]) == []


def test_get_models_by_capabilities_needs_all_of_them(catalog: ModelRegistry) -> None:
    assert ids(catalog.get_models_by_capabilities(["streaming", "json_mode"])) == [
        "claude-3-opus",
        "gpt-4-turbo",
        "llama3.1:8b",
        "llama3.2:3b",
        "mistral-large",
    ]
    assert ids(catalog.get_models_by_capabilities(["vision", "vision", "supports_vision"])) == (
        ids(catalog.get_models_by_capability("vision"))
    )


def test_get_models_by_capabilities_empty_means_all_active(catalog: ModelRegistry) -> None:
    assert catalog.get_models_by_capabilities([]) == catalog.get_available_models()
    assert ids(catalog.get_models_by_capabilities([])) == [
        "claude-3-opus",
        "gpt-4-turbo",
        *DEFAULT_IDS,
    ]


def test_get_models_by_capabilities_refuses_a_bare_string(catalog: ModelRegistry) -> None:
    with pytest.raises(InvalidArgumentError, match="not a single value"):
        catalog.get_models_by_capabilities("vision")
    with pytest.raises(InvalidArgumentError, match="capabilities"):
        catalog.get_models_by_capabilities(None)  # type: ignore[arg-type]


def test_get_models_by_capability_refuses_what_is_not_a_name(catalog: ModelRegistry) -> None:
    for value in (None, 7, ["vision"]):
        with pytest.raises(InvalidArgumentError, match="capability") as caught:
            catalog.get_models_by_capability(value)  # type: ignore[arg-type]
        assert caught.value.code == "E4007"
        assert [v.field for v in caught.value.violations] == ["capability"]


def test_get_models_by_provider_is_case_insensitive(catalog: ModelRegistry) -> None:
    assert ids(catalog.get_models_by_provider("Ollama")) == DEFAULT_IDS
    assert ids(catalog.get_models_by_provider("openai")) == ["gpt-3.5-turbo", "gpt-4-turbo"]


def test_get_available_models_are_the_active_ones(catalog: ModelRegistry) -> None:
    available = catalog.get_available_models()
    assert ids(available) == ["claude-3-opus", "gpt-4-turbo", *DEFAULT_IDS]
    assert {model.status for model in available} == {ModelStatus.ACTIVE}


def test_providers_and_capabilities_in_use(catalog: ModelRegistry) -> None:
    assert catalog.get_providers() == ["anthropic", "mistral", "ollama", "openai"]
    assert catalog.get_capabilities() == ["json_mode", "streaming", "tool_use", "vision"]


def test_stats_count_by_status_and_provider(catalog: ModelRegistry) -> None:
    stats = catalog.get_stats()
    assert stats["total_models"] == 8
    assert stats["active_models"] == 5
    assert stats["by_status"] == {"active": 5, "deprecated": 1, "disabled": 1, "maintenance": 1}
    assert stats["by_provider"] == {"anthropic": 2, "mistral": 1, "ollama": 3, "openai": 2}
    assert stats["providers"] == ["anthropic", "mistral", "ollama", "openai"]
    assert stats["total_providers"] == 4
    assert stats["total_capabilities"] == 4


# -- update_model_status -------------------------------------------------------------------


@pytest.mark.parametrize("status", [ModelStatus.MAINTENANCE, "maintenance", "MAINTENANCE"])
def test_update_model_status_persists(registry: ModelRegistry, status: str) -> None:
    updated = registry.update_model_status("llama3.1:8b", status)
    assert updated.status is ModelStatus.MAINTENANCE
    assert registry.get_model_or_raise("llama3.1:8b").status is ModelStatus.MAINTENANCE
    assert "llama3.1:8b" not in ids(registry.get_available_models())
    assert registry.get_model_or_raise("llama3.1:8b").context_window == 128000


def test_update_model_status_unknown_model_is_e4001_and_writes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    before = snapshot(raw_engine)
    with pytest.raises(ModelNotFoundError):
        registry.update_model_status("old-model-v1", ModelStatus.DEPRECATED)
    assert snapshot(raw_engine) == before


def test_update_model_status_invalid_status_is_e4003_and_writes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError, match="status"):
        registry.update_model_status("llama3.1:8b", "retired")
    assert snapshot(raw_engine) == before


# -- load_default_models -------------------------------------------------------------------


def test_load_default_models_inserts_nothing_when_all_exist(registry: ModelRegistry) -> None:
    assert registry.load_default_models() == 0
    assert ids(registry.list_models()) == DEFAULT_IDS


def test_load_default_models_never_overwrites_an_admin_change(
    open_registry: Callable[..., ModelRegistry], database_url: str, registry: ModelRegistry
) -> None:
    registry.update_model_status("llama3.1:8b", "maintenance")
    registry.register_model(
        DEFAULT_MODELS[1].model_copy(update={"display_name": "Our Llama", "rate_limit_rpm": 5})
    )
    assert registry.load_default_models() == 0
    registry.close()
    with open_registry(database_url) as reopened:  # a restart
        assert reopened.load_default_models() == 0
        assert reopened.get_model_or_raise("llama3.1:8b").status is ModelStatus.MAINTENANCE
        assert reopened.get_model_or_raise("llama3.2:3b").display_name == "Our Llama"
        assert reopened.get_model_or_raise("llama3.2:3b").rate_limit_rpm == 5


def test_load_default_models_does_not_bring_back_a_removed_default(
    registry: ModelRegistry,
) -> None:
    registry.remove_model("llava-llama3:latest", reason="we do not serve vision locally")
    assert registry.load_default_models() == 0
    assert registry.get_model("llava-llama3:latest") is None


def test_load_default_models_inserts_a_default_the_catalog_never_had(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0002")
        with engine.begin() as connection:  # a catalog whose admin dropped one before history
            connection.execute(
                sa.text(
                    "DELETE FROM model_capabilities WHERE model_pk = "
                    "(SELECT id FROM models WHERE model_id = 'llava-llama3:latest')"
                )
            )
            connection.execute(sa.text("DELETE FROM models WHERE model_id = 'llava-llama3:latest'"))
    finally:
        engine.dispose()
    with open_registry(database_url, auto_migrate=True) as registry:
        assert registry.get_model("llava-llama3:latest") is None
        assert registry.load_default_models() == 1
        assert registry.get_model("llava-llama3:latest") == DEFAULT_MODELS[2]
        assert registry.load_default_models() == 0


# -- persistence and lifecycle -------------------------------------------------------------


def test_models_persist_across_registries(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with open_registry(database_url) as first:
        first.register_model(GPT4_TURBO)
    with open_registry(database_url) as second:
        assert second.get_model("gpt-4-turbo") == ModelConfig(**GPT4_TURBO)


def test_two_uncached_registries_see_each_others_writes_at_once(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    with (
        open_registry(database_url, cache=False) as writer,
        open_registry(database_url, cache=False) as reader,
    ):
        writer.register_model(GPT4_TURBO)
        assert reader.get_model("gpt-4-turbo") is not None
        reader.update_model_status("gpt-4-turbo", "disabled")
        assert writer.get_model_or_raise("gpt-4-turbo").status is ModelStatus.DISABLED


def test_timestamps_are_utc_with_microseconds(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    started = datetime.now(UTC)
    stamps = []
    for window in range(1000, 1005):
        register(registry, context_window=window)
        with raw_engine.connect() as connection:
            stamps.append(
                connection.execute(
                    sa.select(ModelRow.updated_at).where(ModelRow.model_id == "gpt-4-turbo")
                ).scalar_one()
            )
    assert all(stamp.tzinfo == UTC for stamp in stamps)
    assert all(abs((stamp - started).total_seconds()) < 60 for stamp in stamps)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    # Sub-millisecond digits survive storage (all five being whole milliseconds: p = 1e-15).
    assert any(stamp.microsecond % 1000 for stamp in stamps)


def test_capabilities_object_equality_survives_storage(registry: ModelRegistry) -> None:
    caps = ModelCapabilities(supports_vision=True, supports_reasoning=False)
    stored = register(registry, capabilities=caps.model_dump())
    assert stored.capabilities == caps
