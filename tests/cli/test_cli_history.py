"""History, point-in-time and lifecycle commands, driven as a user drives them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from cases import GPT4_TURBO, config
from modelregistry import ModelRegistry

if TYPE_CHECKING:
    from cases import Cli


def test_writes_record_actor_and_reason_and_history_shows_them(cli: Cli) -> None:
    result = cli(
        "models", "set-status", "llama3.2:3b", "deprecated",
        "--actor", "alice", "--reason", "superseded by 3.3",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "llama3.2:3b: status deprecated (version 2)"
    history = cli("models", "history", "llama3.2:3b")
    assert history.exit_code == 0
    assert "alice" in history.stdout
    assert "superseded by 3.3" in history.stdout
    assert "status: active -> deprecated" in history.stdout
    as_json = json.loads(cli("models", "history", "llama3.2:3b", "--json").stdout)
    assert [(r["version"], r["change"], r["actor"]) for r in as_json] == [
        (1, "created", "modelregistry-migration"),
        (2, "status_changed", "alice"),
    ]
    assert as_json[1]["config"]["status"] == "deprecated"


def test_diff_remove_restore_and_show_as_of(cli: Cli, database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
        between = datetime.now(UTC)
        registry.register_model(config(cost_per_1m_input_tokens=12.5))
    diff = cli("models", "diff", "gpt-4-turbo", "1", "2", "--json")
    assert json.loads(diff.stdout) == [
        {"field": "cost_per_1m_input_tokens", "old": 10.0, "new": 12.5}
    ]
    assert "cost_per_1m_input_tokens" in cli("models", "diff", "gpt-4-turbo", "1", "2").stdout
    removed = cli("models", "remove", "gpt-4-turbo", "--actor", "alice", "--reason", "retired")
    assert removed.stdout.strip() == "gpt-4-turbo: removed (version 3)"
    assert cli("models", "show", "gpt-4-turbo").exit_code == 1
    then = cli("models", "show", "gpt-4-turbo", "--at", between.isoformat(), "--json")
    assert then.exit_code == 0, then.stderr
    assert json.loads(then.stdout)["cost_per_1m_input_tokens"] == "10"
    assert json.loads(then.stdout)["version"] == 1
    restored = cli("models", "restore", "gpt-4-turbo", "1", "--actor", "bob", "--reason", "back")
    assert restored.stdout.strip() == "gpt-4-turbo: at version 4, the config of version 1"
    again = cli("models", "restore", "gpt-4-turbo", "1", "--actor", "bob", "--reason", "twice")
    assert again.stdout.strip() == "gpt-4-turbo: at version 4, the config of version 1"
    listed = cli("models", "list", "--at", between.isoformat(), "--provider", "openai")
    assert "gpt-4-turbo" in listed.stdout
    with ModelRegistry(database_url) as registry:
        notes = [(r.actor, r.reason) for r in registry.get_model_history("gpt-4-turbo")[2:]]
    assert notes == [("alice", "retired"), ("bob", "back")]


def test_expected_version_conflict_is_one_line_e4030(cli: Cli) -> None:
    result = cli("models", "set-status", "llama3.1:8b", "disabled", "--expected-version", "7")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E4030: model 'llama3.1:8b' is at version 1")
    assert result.stderr.count("\n") == 1
    ok = cli("models", "set-status", "llama3.1:8b", "disabled", "--expected-version", "1")
    assert ok.exit_code == 0


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"]
)
def test_bad_as_of_is_a_usage_error(cli: Cli, value: str) -> None:
    assert cli("models", "show", "llama3.1:8b", "--at", value).exit_code == 2


def test_lifecycle_lists_models_retiring_soon_with_successors(cli: Cli, database_url: str) -> None:
    today = datetime.now(UTC).date()
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            config(
                model_id="gpt-4-0613",
                status="deprecated",
                deprecation_date=today - timedelta(days=30),
                retirement_date=today + timedelta(days=10),
                successor_model_id="gpt-4o",
            )
        )
    table = cli("models", "lifecycle")
    assert table.exit_code == 0
    assert "gpt-4-0613" in table.stdout
    assert "gpt-4o" in table.stdout
    assert " 10 " in table.stdout
    assert json.loads(cli("models", "lifecycle", "--json").stdout)[0]["successor_model_id"] == (
        "gpt-4o"
    )
    assert cli("models", "lifecycle", "--within-days", "5").stdout.strip() == (
        "no model retires within 5 days"
    )


def test_history_of_an_unknown_model_is_e4001(cli: Cli) -> None:
    result = cli("models", "history", "gpt-5")
    assert (result.exit_code, result.stderr) == (1, "error: E4001: model not found: 'gpt-5'\n")


def test_lifecycle_with_a_huge_horizon_still_answers(cli: Cli) -> None:
    result = cli("models", "lifecycle", "--within-days", "10000000")
    assert result.exit_code == 0
    assert result.stdout.strip() == "no model retires within 10000000 days"
