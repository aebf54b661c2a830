"""The ``modelregistry`` command line, driven as a user drives it, on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from cases import GPT4_TURBO
from modelregistry import ModelRegistry
from modelregistry.cli import app
from modelregistry.db import migrate

if TYPE_CHECKING:
    from cases import Cli

CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"


@pytest.fixture
def seeded(database_url: str) -> str:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
    return database_url


def test_models_list_prints_a_table_of_the_catalog(cli: Cli) -> None:
    result = cli("models", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "MODEL" in line)
    for column in ("PROVIDER", "STATUS", "CONTEXT", "CAPABILITIES"):
        assert column in header
    for model_id in ("llama3.1:8b", "llama3.2:3b"):
        assert any(model_id in line for line in lines)
    assert "128,000" in result.stdout
    assert all(len(line) <= 80 for line in lines)


def test_models_list_json_is_every_model_in_full(cli: Cli, database_url: str) -> None:
    result = cli("models", "list", "--json")
    assert result.exit_code == 0
    with ModelRegistry(database_url) as registry:
        expected = [
            {
                **model.model_dump(mode="json"),
                "version": model.version,
                # Money is the exact decimal text, as a JSON string (README: the command line).
                "cost_per_1m_input_tokens": repr(model.cost_per_1m_input_tokens).removesuffix(".0"),
                "cost_per_1m_output_tokens": repr(model.cost_per_1m_output_tokens).removesuffix(
                    ".0"
                ),
            }
            for model in registry.list_models()
        ]
    assert json.loads(result.stdout) == expected


@pytest.mark.usefixtures("seeded")
def test_models_list_filters(cli: Cli) -> None:
    def listed(*args: str) -> list[str]:
        result = cli("models", "list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [model["model_id"] for model in json.loads(result.stdout)]

    assert listed("--provider", "OpenAI") == ["gpt-4-turbo"]
    assert listed("--capability", "vision") == ["gpt-4-turbo", "llava-llama3:latest"]
    assert listed("-c", "vision", "-c", "supports_tool_use") == ["gpt-4-turbo"]
    assert listed("--status", "ACTIVE", "--provider", "ollama") == [
        "llama3.1:8b",
        "llama3.2:3b",
        "llava-llama3:latest",
    ]
    assert listed("--status", "disabled") == []
    assert cli("models", "list", "--status", "disabled").stdout.strip() == "no models match"


def test_models_show_prints_every_field(cli: Cli, seeded: str) -> None:
    result = cli("models", "show", "gpt-4-turbo")
    assert result.exit_code == 0
    for text in ("GPT-4 Turbo", "128,000", "json_mode, streaming, tool_use, vision", "coding=0.88"):
        assert text in result.stdout
    as_json = cli("models", "show", "gpt-4-turbo", "--json")
    with ModelRegistry(seeded) as registry:
        model = registry.get_model_or_raise("gpt-4-turbo")
    money = {"cost_per_1m_input_tokens": "10", "cost_per_1m_output_tokens": "30"}
    expected = {**model.model_dump(mode="json"), "version": 1, **money, "provenance": None}
    assert json.loads(as_json.stdout) == expected


def test_models_set_status_changes_the_catalog(cli: Cli, database_url: str) -> None:
    result = cli("models", "set-status", "llama3.2:3b", "Deprecated")
    assert result.exit_code == 0
    assert result.stdout.strip() == "llama3.2:3b: status deprecated (version 2)"
    with ModelRegistry(database_url) as registry:
        assert registry.get_model_or_raise("llama3.2:3b").status.value == "deprecated"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("models", "show", "no-such-model"), "E4001"),
        (("models", "set-status", "no-such-model", "active"), "E4001"),
        (("models", "set-status", "llama3.1:8b", "retired"), "E4003"),
    ],
)
def test_errors_are_one_line_on_stderr_and_exit_1(
    cli: Cli, database_url: str, args: tuple[str, ...], code: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {code}: ")
    assert result.stderr.count("\n") == 1
    with ModelRegistry(database_url) as registry:
        assert registry.get_model_or_raise("llama3.1:8b").status.value == "active"


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("models", "frobnicate").exit_code == 2
    assert cli("models", "show").exit_code == 2


def test_stats_json_matches_the_registry(cli: Cli, seeded: str) -> None:
    result = cli("stats", "--json")
    assert result.exit_code == 0
    with ModelRegistry(seeded) as registry:
        expected = registry.get_stats()
    printed = json.loads(result.stdout)
    assert printed.pop("cache") == {"enabled": False}  # one-shot commands read the database
    expected.pop("cache")
    assert printed == expected
    table = cli("stats")
    assert "4 (4 active)" in table.stdout
    assert "ollama=3, openai=1" in table.stdout


def test_db_commands_move_the_schema(cli: Cli) -> None:
    assert cli("db", "downgrade", "base", "--yes").exit_code == 0
    empty = cli("db", "current", "--json")
    head = migrate.head_revision()
    assert json.loads(empty.stdout) == {"current": None, "head": head, "up_to_date": False}
    assert "none (empty database)" in cli("db", "current").stdout
    assert cli("db", "upgrade").stdout.strip() == f"database at revision {head}"
    current = cli("db", "current", "--json")
    assert json.loads(current.stdout) == {"current": head, "head": head, "up_to_date": True}
    refused = cli("db", "downgrade", "0001")
    assert (refused.exit_code, "--yes" in refused.stderr) == (2, True)
    assert json.loads(cli("db", "current", "--json").stdout)["current"] == head
    assert cli("db", "downgrade", "0001", "--yes").stdout.strip() == "database at revision 0001"
    refused = cli("models", "list")
    assert refused.exit_code == 1
    assert "E4010" in refused.stderr
    assert "modelregistry db upgrade" in refused.stderr
    assert "auto_migrate" not in refused.stderr  # a Python argument means nothing at a shell
    assert "run `modelregistry db upgrade`" in cli("db", "current").stdout
    assert cli("db", "upgrade").stdout.strip() == f"database at revision {head}"
    assert cli("models", "list").exit_code == 0
    assert cli("db", "downgrade", "base", "--yes").stdout.strip() == "database at revision base"
    assert json.loads(cli("db", "current", "--json").stdout)["current"] is None


def test_database_url_comes_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELREGISTRY_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["models", "set-status", "llama3.1:8b", "maintenance"])
    assert result.exit_code == 0
    with ModelRegistry(database_url) as registry:
        assert registry.get_model_or_raise("llama3.1:8b").status.value == "maintenance"


def test_unreachable_database_is_one_line_without_password() -> None:
    result = CliRunner().invoke(
        app, ["--db", "postgresql://admin:s3cr3t@127.0.0.1:1/x?connect_timeout=5", "stats"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E4020: database unavailable")
    assert "s3cr3t" not in result.stderr


def test_console_script_runs_on_the_embedded_default(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("MODELREGISTRY_DATABASE_URL", None)
    version = subprocess.run(
        [str(CONSOLE_SCRIPT), "--version"], env=env, capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("modelregistry ")
    listed = subprocess.run(
        [str(CONSOLE_SCRIPT), "models", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [m["model_id"] for m in json.loads(listed.stdout)] == [
        "llama3.1:8b",
        "llama3.2:3b",
        "llava-llama3:latest",
    ]
    assert (tmp_path / "data" / "modelregistry" / "catalog.db").exists()
    missing = subprocess.run(
        [str(CONSOLE_SCRIPT), "models", "show", "nope"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (missing.returncode, missing.stderr) == (1, "error: E4001: model not found: 'nope'\n")


def test_values_are_printed_verbatim_never_as_markup(cli: Cli, database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            {
                "model_id": "[red]z",
                "provider": "p",
                "display_name": "[/]",
                "context_window": 5,
                "max_output_tokens": 5,
            }
        )
        registry.register_model(
            {
                "model_id": "x:thumbs_up:y",
                "provider": "p",
                "context_window": 5,
                "max_output_tokens": 5,
            }
        )
    listed = cli("models", "list", "--provider", "p")
    assert listed.exit_code == 0
    assert "[red]z" in listed.stdout
    assert "x:thumbs_up:y" in listed.stdout
    shown = cli("models", "show", "[red]z")
    assert shown.exit_code == 0, shown.stderr
    assert "[/]" in shown.stdout
    missing = cli("models", "show", "nope:thumbs_up:")
    assert missing.stderr == "error: E4001: model not found: 'nope:thumbs_up:'\n"


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade", "nonsense"),
        ("db", "downgrade", "9999", "--yes"),
        ("db", "downgrade", "+1", "--yes"),
    ],
)
def test_impossible_migrations_are_one_line_e4012(cli: Cli, args: tuple[str, ...]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E4012: cannot ")
    assert result.stderr.count("\n") == 1
    assert json.loads(cli("db", "current", "--json").stdout)["up_to_date"] is True


@pytest.mark.parametrize("url", ["mysql://u@127.0.0.1/x", ""])
def test_unusable_urls_are_one_line_e4021(url: str) -> None:
    for args in (["stats"], ["db", "current"]):
        result = CliRunner().invoke(app, ["--db", url, *args])
        assert result.exit_code == 1
        assert result.stderr.startswith("error: E4021: ")
        assert result.stderr.count("\n") == 1


def test_models_find_selects_like_a_router(cli: Cli, seeded: str) -> None:
    del seeded
    result = cli(
        "models", "find", "-c", "vision", "-c", "tool_use", "--min-context", "100000",
        "--order-by", "cost", "--limit", "5", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [m["model_id"] for m in json.loads(result.stdout)] == ["gpt-4-turbo"]
    cheapest = cli("models", "find", "-c", "streaming", "--order-by", "cost", "-n", "1", "--json")
    assert [m["model_id"] for m in json.loads(cheapest.stdout)] == ["llama3.1:8b"]
    best = cli("models", "find", "--min-quality", "coding=0.8", "--json")
    assert [m["model_id"] for m in json.loads(best.stdout)] == ["gpt-4-turbo"]
    table = cli("models", "find", "-c", "streaming", "--order-by", "quality.reasoning", "-n", "1")
    assert "gpt-4-turbo" in table.stdout
    bad = cli("models", "find", "--order-by", "speed")
    assert bad.exit_code == 2
    assert "'--order-by'" in bad.stderr
    assert "quality.coding" in bad.stderr
    assert cli("models", "find", "--min-quality", "coding").exit_code == 2


def test_db_current_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "db", "current", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["current"] is None
    assert not path.exists()
