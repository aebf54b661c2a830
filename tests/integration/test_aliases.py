"""Aliases: another name of a model, accepted everywhere a model id is."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from cases import GPT4_TURBO, config, snapshot
from modelregistry import (
    AliasNotFoundError,
    ChangeKind,
    InvalidArgumentError,
    InvalidModelConfigError,
    ModelNotFoundError,
    ModelRegistry,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import sqlalchemy as sa

pytestmark = pytest.mark.both_apis

DEADLINE = 60.0
OPUS = "claude-3-opus-20240229"


@pytest.fixture
def aliased(registry: ModelRegistry) -> ModelRegistry:
    """A registry where ``claude-3-opus`` names ``claude-3-opus-20240229``."""
    registry.register_model(
        config(model_id=OPUS, provider="anthropic", display_name="Claude 3 Opus")
    )
    registry.set_alias("claude-3-opus", OPUS, actor="admin", reason="latest opus")
    return registry


def test_an_alias_resolves_everywhere_a_model_id_is_accepted(aliased: ModelRegistry) -> None:
    alias = "claude-3-opus"
    assert aliased.get_model_or_raise(alias).model_id == OPUS
    assert aliased.get_model(alias) == aliased.get_model(OPUS)
    assert aliased.get_model(alias, as_of=datetime.now(UTC)) == aliased.get_model(OPUS)
    assert aliased.estimate_cost(alias, 10**6, 0) == Decimal(10)
    assert aliased.get_price(alias) == aliased.get_price(OPUS)
    assert aliased.get_price_history(alias) == aliased.get_price_history(OPUS)
    assert aliased.set_price(alias, 1, 2).model_id == OPUS
    assert aliased.update_model_status(alias, "deprecated").model_id == OPUS
    assert aliased.get_model_version(alias, 1).model_id == OPUS
    assert [r.change for r in aliased.get_model_history(alias)] == [
        ChangeKind.CREATED,
        ChangeKind.REPRICED,
        ChangeKind.STATUS_CHANGED,
    ]
    assert aliased.diff_versions(alias, 2, 3)[0].field == "status"
    assert aliased.restore_model(alias, 1).version == 4
    assert aliased.remove_model(alias, reason="retired").model_id == OPUS
    assert aliased.get_model(OPUS) is None
    assert aliased.get_model(alias) is None


def test_list_aliases_shows_who_set_each_when_and_why(aliased: ModelRegistry) -> None:
    (state,) = aliased.list_aliases()
    assert (state.alias, state.model_id, state.actor, state.reason) == (
        "claude-3-opus",
        OPUS,
        "admin",
        "latest opus",
    )
    assert state.changed_at <= datetime.now(UTC)


def test_repointing_an_alias_is_recorded_and_seen_at_once(aliased: ModelRegistry) -> None:
    aliased.register_model(config(model_id="claude-3-5-sonnet", provider="anthropic"))
    before = aliased.list_aliases()[0]
    state = aliased.set_alias("claude-3-opus", "claude-3-5-sonnet", actor="bob", reason="moved")
    assert (state.model_id, state.actor, state.reason) == ("claude-3-5-sonnet", "bob", "moved")
    assert state.changed_at > before.changed_at
    assert aliased.get_model_or_raise("claude-3-opus").model_id == "claude-3-5-sonnet"
    # Setting it again to the same model writes nothing.
    assert aliased.set_alias("claude-3-opus", "claude-3-5-sonnet", actor="carol") == state


def test_an_alias_may_point_through_another_alias(aliased: ModelRegistry) -> None:
    aliased.set_alias("opus", "claude-3-opus")
    assert aliased.list_aliases()[-1].model_id == OPUS  # stored as the model's own id


def test_removing_an_alias(aliased: ModelRegistry) -> None:
    assert aliased.remove_alias("claude-3-opus", reason="ambiguous") == OPUS
    assert aliased.get_model("claude-3-opus") is None
    assert aliased.list_aliases() == []
    with pytest.raises(ModelNotFoundError) as missing:  # an AliasNotFoundError is one too
        aliased.remove_alias("claude-3-opus")
    assert isinstance(missing.value, AliasNotFoundError)
    assert missing.value.code == "E4008"
    assert missing.value.to_dict()["alias"] == "claude-3-opus"
    with pytest.raises(ModelNotFoundError):
        aliased.update_model_status("claude-3-opus", "disabled")


def test_alias_changes_reach_another_process_cache(
    aliased: ModelRegistry, database_url: str, open_registry: Callable[..., ModelRegistry]
) -> None:
    with open_registry(database_url, poll_interval=0.05) as other:
        assert other.get_model_or_raise("claude-3-opus").model_id == OPUS
        aliased.register_model(config(model_id="claude-3-5-sonnet", provider="anthropic"))
        aliased.set_alias("claude-3-opus", "claude-3-5-sonnet")
        deadline = time.monotonic() + DEADLINE
        while other.get_model_or_raise("claude-3-opus").model_id != "claude-3-5-sonnet":
            assert time.monotonic() < deadline, "the repointed alias never arrived"
            time.sleep(0.02)
        aliased.remove_alias("claude-3-opus")
        while other.get_model("claude-3-opus") is not None:
            assert time.monotonic() < deadline, "the removal never arrived"
            time.sleep(0.02)


@pytest.mark.parametrize(
    ("alias", "target", "error", "code"),
    [
        ("gpt-4-turbo", OPUS, InvalidModelConfigError, "E4003"),  # a model's id
        ("llama3.1:8b", OPUS, InvalidModelConfigError, "E4003"),
        ("has space", OPUS, InvalidModelConfigError, "E4003"),
        ("", OPUS, InvalidModelConfigError, "E4003"),
        ("x" * 257, OPUS, InvalidModelConfigError, "E4003"),
        (42, OPUS, InvalidModelConfigError, "E4003"),  # a name to store, not even a string
        ("new-alias", 42, InvalidArgumentError, "E4007"),  # an id to look up
        ("new-alias", "no-such-model", ModelNotFoundError, "E4001"),
        ("new-alias", "has space", ModelNotFoundError, "E4001"),
    ],
)
def test_invalid_aliases_are_refused_and_write_nothing(  # noqa: PLR0913, PLR0917 - the case's parts
    aliased: ModelRegistry,
    raw_engine: sa.Engine,
    alias: str,
    target: str,
    error: type[Exception],
    code: str,
) -> None:
    aliased.register_model(GPT4_TURBO)
    before = snapshot(raw_engine)
    with pytest.raises(error) as raised:
        aliased.set_alias(alias, target)
    assert getattr(raised.value, "code", None) == code
    assert snapshot(raw_engine) == before


def test_a_removed_models_id_cannot_become_an_alias(aliased: ModelRegistry) -> None:
    aliased.register_model(GPT4_TURBO)
    aliased.remove_model("gpt-4-turbo")
    with pytest.raises(InvalidModelConfigError, match="past or present"):
        aliased.set_alias("gpt-4-turbo", OPUS)


def test_a_model_cannot_be_registered_under_an_alias(
    aliased: ModelRegistry, raw_engine: sa.Engine
) -> None:
    before = snapshot(raw_engine)
    with pytest.raises(InvalidModelConfigError, match="is an alias of") as raised:
        aliased.register_model(config(model_id="claude-3-opus"))
    assert raised.value.violations[0].field == "model_id"
    with pytest.raises(InvalidModelConfigError, match="is an alias of"):
        aliased.import_catalog({"models": [config(model_id="claude-3-opus")]})
    assert snapshot(raw_engine) == before
