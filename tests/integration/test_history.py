"""Every change on record: versions, revisions, point-in-time reads, removal and restore."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from cases import GPT4_TURBO, config, snapshot
from modelregistry import (
    ConcurrentModificationError,
    InvalidArgumentError,
    InvalidModelConfigError,
    ModelConfig,
    ModelNotFoundError,
    ModelRegistry,
    ModelStatus,
    ModelVersionNotFoundError,
)
from modelregistry.db import migrate
from modelregistry.db.engine import make_engine
from modelregistry.domain.defaults import DEFAULT_MODELS
from modelregistry.domain.history import ChangeKind, FieldChange

if TYPE_CHECKING:
    from collections.abc import Callable


pytestmark = pytest.mark.both_apis


def kinds(registry: ModelRegistry, model_id: str) -> list[tuple[int, str]]:
    return [(r.version, r.change.value) for r in registry.get_model_history(model_id)]


def test_versions_grow_by_one_with_every_change_and_only_then(registry: ModelRegistry) -> None:
    assert registry.register_model(GPT4_TURBO).version == 1
    assert registry.register_model(GPT4_TURBO).version == 1  # identical: no-op
    assert registry.register_model(config(context_window=64000)).version == 2
    assert registry.update_model_status("gpt-4-turbo", "deprecated").version == 3
    assert registry.update_model_status("gpt-4-turbo", "DEPRECATED").version == 3  # no-op
    assert registry.remove_model("gpt-4-turbo").version == 4
    assert registry.register_model(GPT4_TURBO).version == 5  # continues the numbering
    assert registry.restore_model("gpt-4-turbo", 3).version == 6
    assert registry.get_model_or_raise("gpt-4-turbo").version == 6
    assert kinds(registry, "gpt-4-turbo") == [
        (1, "created"),
        (2, "updated"),
        (3, "status_changed"),
        (4, "removed"),
        (5, "created"),
        (6, "restored"),
    ]


def test_each_revision_holds_the_full_config_after_its_change(registry: ModelRegistry) -> None:
    first = registry.register_model(GPT4_TURBO, actor="alice", reason="launch")
    second = registry.update_model_status(
        "gpt-4-turbo", "maintenance", actor="bob", reason="provider incident"
    )
    history = registry.get_model_history("gpt-4-turbo")
    assert [r.config for r in history] == [first, second]
    assert [r.config.version for r in history] == [1, 2]
    assert history[1].config.status is ModelStatus.MAINTENANCE
    assert [(r.actor, r.reason) for r in history] == [
        ("alice", "launch"),
        ("bob", "provider incident"),
    ]
    assert registry.get_model_version("gpt-4-turbo", 1) == history[0]


def test_actor_defaults_to_the_environment_then_the_os_user(
    registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELREGISTRY_ACTOR", "deploy-bot")
    registry.register_model(GPT4_TURBO)
    monkeypatch.delenv("MODELREGISTRY_ACTOR")
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # getpass.getuser()'s, in order
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USER", "carol")
    registry.update_model_status("gpt-4-turbo", "disabled")
    assert [r.actor for r in registry.get_model_history("gpt-4-turbo")] == ["deploy-bot", "carol"]


@pytest.mark.parametrize(
    ("actor", "reason", "field"),
    [("", None, "actor"), ("a\nb", None, "actor"), ("ok", "", "reason"), ("ok", "x\x00", "reason")],
)
def test_bad_actor_or_reason_is_e4003_and_writes_nothing(
    registry: ModelRegistry, raw_engine: sa.Engine, actor: str, reason: str | None, field: str
) -> None:
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError) as raised:
        registry.register_model(GPT4_TURBO, actor=actor, reason=reason)
    assert [v.field for v in raised.value.violations] == [field]
    assert snapshot(raw_engine) == before


def test_change_times_are_utc_microseconds_in_commit_order(registry: ModelRegistry) -> None:
    registry.register_model(GPT4_TURBO)
    time.sleep(0.010)
    registry.register_model(config(context_window=1000))
    for window in range(1001, 1006):
        registry.register_model(config(context_window=window))
    stamps = [r.changed_at for r in registry.get_model_history("gpt-4-turbo")]
    assert all(stamp.tzinfo == UTC for stamp in stamps)
    assert stamps[1] - stamps[0] >= timedelta(milliseconds=10)
    assert all(a < b for a, b in pairwise(stamps))
    assert any(stamp.microsecond % 1000 for stamp in stamps)  # sub-millisecond digits kept


def test_unknown_versions_and_models(registry: ModelRegistry) -> None:
    registry.register_model(GPT4_TURBO)
    with pytest.raises(ModelVersionNotFoundError) as raised:
        registry.get_model_version("gpt-4-turbo", 7)
    assert raised.value.code == "E4004"
    assert "versions 1-1" in str(raised.value)
    with pytest.raises(ModelNotFoundError):
        registry.get_model_version("gpt-5", 1)
    with pytest.raises(ModelNotFoundError):
        registry.get_model_history("gpt-5")
    with pytest.raises(InvalidArgumentError, match="version"):
        registry.get_model_version("gpt-4-turbo", -1)


def test_point_in_time_reads_return_what_the_catalog_said(registry: ModelRegistry) -> None:
    before_creation = datetime.now(UTC)
    registry.register_model(GPT4_TURBO)
    registry.register_model(config(model_id="claude-3-opus", provider="anthropic"))
    after_creation = datetime.now(UTC)
    registry.update_model_status("gpt-4-turbo", "deprecated")
    registry.register_model(config(context_window=1_000_000, status="deprecated"))
    after_update = datetime.now(UTC)
    registry.remove_model("gpt-4-turbo")
    after_removal = datetime.now(UTC)

    assert registry.get_model("gpt-4-turbo", as_of=before_creation) is None
    then = registry.get_model_or_raise("gpt-4-turbo", as_of=after_creation)
    assert then == ModelConfig(**GPT4_TURBO)
    assert then.version == 1
    later = registry.get_model_or_raise("gpt-4-turbo", as_of=after_update)
    assert (later.status, later.context_window, later.version) == ("deprecated", 1_000_000, 3)
    assert registry.get_model("gpt-4-turbo", as_of=after_removal) is None
    assert registry.get_model("gpt-4-turbo") is None

    def listed(**filters: object) -> list[str]:
        return [m.model_id for m in registry.list_models(**filters)]  # type: ignore[arg-type]

    assert listed(as_of=after_creation, provider="openai") == ["gpt-4-turbo"]
    assert listed(as_of=after_update, status="deprecated") == ["gpt-4-turbo"]
    assert listed(as_of=after_update, capabilities=["vision"]) == [
        "claude-3-opus",
        "gpt-4-turbo",
        "llava-llama3:latest",
    ]
    assert "gpt-4-turbo" not in listed(as_of=after_removal)
    assert listed(as_of=before_creation) == [m.model_id for m in DEFAULT_MODELS]


def test_as_of_must_be_timezone_aware(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidArgumentError, match="as_of") as raised:
        registry.get_model("llama3.1:8b", as_of=datetime(2026, 1, 1))  # noqa: DTZ001
    assert raised.value.code == "E4007"
    with pytest.raises(InvalidArgumentError, match="as_of"):
        registry.list_models(as_of="2026-01-01")  # type: ignore[arg-type]


def test_diff_versions_names_changed_fields_with_old_and_new_values(
    registry: ModelRegistry,
) -> None:
    registry.register_model(GPT4_TURBO)
    registry.register_model(
        config(
            context_window=64000,
            capabilities={"supports_streaming": True, "supports_reasoning": True},
            quality_scores={
                "reasoning": 0.9,
                "coding": 0.95,
                "creative": 0.85,
                "summarization": 0.87,
            },
            retirement_date="2027-01-31",
        )
    )
    assert registry.diff_versions("gpt-4-turbo", 1, 2) == [
        FieldChange("capabilities.supports_json_mode", True, False),
        FieldChange("capabilities.supports_reasoning", False, True),
        FieldChange("capabilities.supports_tool_use", True, False),
        FieldChange("capabilities.supports_vision", True, False),
        FieldChange("context_window", 128000, 64000),
        FieldChange("quality_scores.coding", 0.88, 0.95),
        FieldChange("retirement_date", None, "2027-01-31"),
    ]
    assert registry.diff_versions("gpt-4-turbo", 2, 2) == []
    with pytest.raises(ModelVersionNotFoundError):
        registry.diff_versions("gpt-4-turbo", 1, 3)


def test_removed_models_disappear_from_every_query_but_keep_their_history(
    registry: ModelRegistry,
) -> None:
    registry.register_model(
        config(model_id="o1", provider="openai", capabilities={"supports_reasoning": True})
    )
    registry.remove_model("o1", actor="alice", reason="retired upstream")
    assert registry.get_model("o1") is None
    with pytest.raises(ModelNotFoundError):
        registry.get_model_or_raise("o1")
    assert "o1" not in [m.model_id for m in registry.list_models()]
    assert registry.get_models_by_capability("reasoning") == []
    assert registry.get_models_by_provider("openai") == []
    assert "openai" not in registry.get_providers()
    assert "reasoning" not in registry.get_capabilities()
    assert registry.get_stats()["total_models"] == 3
    history = registry.get_model_history("o1")
    assert [(r.version, r.change) for r in history] == [(1, "created"), (2, "removed")]
    assert (history[1].actor, history[1].reason) == ("alice", "retired upstream")
    assert history[1].config == history[0].config
    with pytest.raises(ModelNotFoundError):
        registry.remove_model("o1")


def test_restore_writes_an_old_config_as_a_new_version(registry: ModelRegistry) -> None:
    registry.register_model(GPT4_TURBO)
    registry.register_model(config(cost_per_1m_input_tokens=99.0))
    restored = registry.restore_model("gpt-4-turbo", 1, reason="undo the price change")
    assert restored == ModelConfig(**GPT4_TURBO)
    assert restored.version == 3
    revision = registry.get_model_version("gpt-4-turbo", 3)
    assert (revision.change, revision.reason) == (ChangeKind.RESTORED, "undo the price change")
    # Restoring what is already current changes nothing.
    assert registry.restore_model("gpt-4-turbo", 1).version == 3
    with pytest.raises(ModelVersionNotFoundError):
        registry.restore_model("gpt-4-turbo", 9)


def test_restore_brings_back_a_removed_model(registry: ModelRegistry) -> None:
    registry.register_model(GPT4_TURBO)
    registry.remove_model("gpt-4-turbo")
    assert registry.restore_model("gpt-4-turbo", 1).version == 3
    assert registry.get_model("gpt-4-turbo") == ModelConfig(**GPT4_TURBO)
    assert kinds(registry, "gpt-4-turbo")[-1] == (3, "restored")


def test_expected_version_refuses_a_stale_write_and_changes_nothing(
    open_registry: Callable[..., ModelRegistry], database_url: str, raw_engine: sa.Engine
) -> None:
    with open_registry(database_url) as alice, open_registry(database_url) as bob:
        seen = alice.register_model(GPT4_TURBO)
        bob.update_model_status("gpt-4-turbo", "deprecated", expected_version=seen.version)
        before = snapshot(raw_engine)
        for write in (
            lambda: alice.register_model(config(context_window=1), expected_version=1),
            lambda: alice.update_model_status("gpt-4-turbo", "active", expected_version=1),
            lambda: alice.remove_model("gpt-4-turbo", expected_version=1),
            lambda: alice.restore_model("gpt-4-turbo", 1, expected_version=1),
        ):
            with pytest.raises(ConcurrentModificationError) as raised:
                write()
            assert raised.value.code == "E4030"
            assert (raised.value.expected_version, raised.value.actual_version) == (1, 2)
            assert "version 2" in str(raised.value)
            assert "expected version 1" in str(raised.value)
        assert snapshot(raw_engine) == before
        assert alice.register_model(config(context_window=1), expected_version=2).version == 3


def test_expected_version_zero_means_create_only(registry: ModelRegistry) -> None:
    assert registry.register_model(GPT4_TURBO, expected_version=0).version == 1
    with pytest.raises(ConcurrentModificationError):
        registry.register_model(config(context_window=5), expected_version=0)


def test_lifecycle_fields_round_trip_and_retiring_models_are_listed(
    registry: ModelRegistry,
) -> None:
    today = datetime.now(UTC).date()
    registry.register_model(
        config(
            model_id="gpt-4-0314",
            status="deprecated",
            deprecation_date=(today - timedelta(days=100)).isoformat(),
            retirement_date=(today - timedelta(days=1)).isoformat(),
            successor_model_id="gpt-4-turbo",
        )
    )
    registry.register_model(
        config(
            model_id="gpt-4-0613",
            retirement_date=today + timedelta(days=20),
            successor_model_id="gpt-4o",
        )
    )
    registry.register_model(
        config(model_id="gpt-4-1106", retirement_date=today + timedelta(days=45))
    )
    stored = registry.get_model_or_raise("gpt-4-0314")
    assert stored.retirement_date == today - timedelta(days=1)
    assert isinstance(stored.deprecation_date, date)
    assert stored.successor_model_id == "gpt-4-turbo"

    def retiring(days: int) -> list[tuple[str, str | None]]:
        return [(m.model_id, m.successor_model_id) for m in registry.get_models_retiring(days)]

    assert retiring(30) == [("gpt-4-0314", "gpt-4-turbo"), ("gpt-4-0613", "gpt-4o")]
    assert retiring(0) == [("gpt-4-0314", "gpt-4-turbo")]
    assert [m for m, _ in retiring(60)] == ["gpt-4-0314", "gpt-4-0613", "gpt-4-1106"]
    with pytest.raises(InvalidArgumentError, match="within_days"):
        registry.get_models_retiring(-1)


def test_status_changes_record_their_reason(registry: ModelRegistry) -> None:
    registry.update_model_status("llama3.2:3b", "deprecated", reason="superseded by 3.3")
    last = registry.get_model_history("llama3.2:3b")[-1]
    assert (last.change, last.reason) == (ChangeKind.STATUS_CHANGED, "superseded by 3.3")


def test_existing_models_get_their_first_revision_from_the_migration(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0002")
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with open_registry(database_url) as registry:
        for default in DEFAULT_MODELS:
            (revision,) = registry.get_model_history(default.model_id)
            assert (revision.version, revision.change) == (1, ChangeKind.CREATED)
            assert revision.actor == "modelregistry-migration"
            assert revision.config == default
        assert registry.update_model_status("llama3.1:8b", "disabled").version == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE model_revisions SET reason = 'rewritten'",
        "DELETE FROM model_revisions",
    ],
)
def test_history_cannot_be_rewritten_even_in_sql(
    registry: ModelRegistry, raw_engine: sa.Engine, statement: str
) -> None:
    before = snapshot(raw_engine)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), raw_engine.begin() as c:
        c.execute(sa.text(statement))
    assert snapshot(raw_engine) == before
    assert registry.get_model_history("llama3.1:8b")[0].reason is not None


def test_as_of_exactly_at_a_change_sees_it_and_a_microsecond_before_does_not(
    registry: ModelRegistry,
) -> None:
    registry.register_model(GPT4_TURBO)
    registry.register_model(config(context_window=5))
    second = registry.get_model_version("gpt-4-turbo", 2).changed_at
    assert registry.get_model_or_raise("gpt-4-turbo", as_of=second).context_window == 5
    before = second - timedelta(microseconds=1)
    assert registry.get_model_or_raise("gpt-4-turbo", as_of=before).context_window == 128000
    assert [m.context_window for m in registry.list_models(provider="openai", as_of=before)] == [
        128000
    ]


def test_as_of_follows_a_recreated_model_across_providers(registry: ModelRegistry) -> None:
    registry.register_model(GPT4_TURBO)
    first = datetime.now(UTC)
    registry.remove_model("gpt-4-turbo")
    gone = datetime.now(UTC)
    registry.register_model(config(provider="azure", capabilities={"supports_reasoning": True}))
    back = datetime.now(UTC)

    def at(when: datetime, **filters: object) -> list[str]:
        found = registry.list_models(as_of=when, **filters)  # type: ignore[arg-type]
        return [m.model_id for m in found]

    assert at(first, provider="openai") == ["gpt-4-turbo"]
    assert at(gone, provider="openai") == at(gone, provider="azure") == []
    assert at(back, provider="azure", capabilities=["reasoning"]) == ["gpt-4-turbo"]
    assert at(back, provider="openai") == []
    assert registry.get_model_or_raise("gpt-4-turbo", as_of=back).version == 3


def test_expected_version_on_a_removed_model_is_its_removal_version(
    registry: ModelRegistry,
) -> None:
    registry.register_model(GPT4_TURBO)
    assert registry.remove_model("gpt-4-turbo").version == 2
    with pytest.raises(ConcurrentModificationError):
        registry.register_model(GPT4_TURBO, expected_version=0)
    assert registry.register_model(GPT4_TURBO, expected_version=2).version == 3


def test_retirement_exactly_at_the_horizon_is_included(registry: ModelRegistry) -> None:
    today = datetime.now(UTC).date()
    registry.register_model(config(retirement_date=today + timedelta(days=7)))
    assert [m.model_id for m in registry.get_models_retiring(7)] == ["gpt-4-turbo"]
    assert registry.get_models_retiring(6) == []
    assert registry.get_models_retiring(10_000_000)[0].model_id == "gpt-4-turbo"


def test_change_times_never_go_backwards_even_if_the_clock_does(
    registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    registry.register_model(GPT4_TURBO)
    first = registry.get_model_version("gpt-4-turbo", 1).changed_at
    if backend == "sqlite":  # the writing process's clock steps back an hour
        past = first - timedelta(hours=1)
        monkeypatch.setattr(
            "modelregistry.db.repository.datetime",
            type("SteppedBack", (datetime,), {"now": staticmethod(lambda _tz=None: past)}),
        )
    else:  # the server's clock can't be moved from here: a change in the same microsecond
        monkeypatch.setattr(
            "modelregistry.db.repository.sa.func.clock_timestamp",
            lambda: sa.literal(first, sa.DateTime(timezone=True)),
        )
    registry.register_model(config(context_window=5))
    second = registry.get_model_version("gpt-4-turbo", 2).changed_at
    assert second > first
    assert registry.get_model_or_raise("gpt-4-turbo", as_of=first).context_window == 128000


def test_as_of_outside_utc_years_is_e4007(registry: ModelRegistry) -> None:
    from datetime import timezone  # noqa: PLC0415

    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(InvalidArgumentError, match="as_of"):
        registry.get_model("llama3.1:8b", as_of=early)


def test_migration_backfill_records_custom_models_exactly(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0002")
        with engine.begin() as connection:  # a model an admin added before history existed
            connection.execute(sa.text("INSERT INTO providers (name) VALUES ('mistral')"))
            connection.execute(sa.text("INSERT INTO capabilities (name) VALUES ('reasoning')"))
            connection.execute(
                sa.text(
                    "INSERT INTO models (model_id, provider_id, display_name, context_window, "
                    "max_output_tokens, cost_per_1m_input_tokens, cost_per_1m_output_tokens, "
                    "rate_limit_rpm, rate_limit_tpm, latency_p50_ms, latency_p99_ms, status, "
                    "quality_reasoning, quality_coding, quality_creative, quality_summarization) "
                    "SELECT 'mistral-large', id, 'Mistral Large', 131072, 4096, '2.5', '0.1', "
                    "60, 5000, 700, 0, 'maintenance', 0.8, 0.85, 0.7, 0.75 "
                    "FROM providers WHERE name = 'mistral'"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO model_capabilities (model_pk, capability_id) "
                    "SELECT m.id, c.id FROM models m, capabilities c "
                    "WHERE m.model_id = 'mistral-large' AND c.name IN ('reasoning', 'streaming')"
                )
            )
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with open_registry(database_url) as registry:
        current = registry.get_model_or_raise("mistral-large")
        (revision,) = registry.get_model_history("mistral-large")
        assert revision.config == current
        assert revision.config.provider == "mistral"
        assert revision.config.capabilities.names() == {"reasoning", "streaming"}
        assert (current.cost_per_1m_input_tokens, current.cost_per_1m_output_tokens) == (2.5, 0.1)
        # Restoring version 1 loses nothing.
        registry.register_model(current.model_copy(update={"context_window": 1}))
        assert registry.restore_model("mistral-large", 1) == current
