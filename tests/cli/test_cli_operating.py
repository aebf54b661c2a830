"""The admin's command line: help with examples, --json on reads, list formats, info,
shell completion, and every command driven as a user drives it, on both backends."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import typer.main
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from cases import GPT4_TURBO, config
from modelregistry import ModelRegistry, __version__
from modelregistry.cli import app
from modelregistry.cli.render import COLUMNS
from modelregistry.db import migrate

if TYPE_CHECKING:
    from collections.abc import Iterator

    from typer.testing import Result

    from cases import Cli

CONSOLE_SCRIPT = Path(sys.executable).parent / "modelregistry"
UNUSED_PASSWORD = "s3cr3t"  # noqa: S105 - the test server trusts: a password it never checks

READS = {
    "info",
    "export",
    "stats",
    "cost",
    "db current",
    "models list",
    "models find",
    "models show",
    "models history",
    "models diff",
    "models lifecycle",
    "prices show",
    "prices history",
    "aliases list",
}
"""Commands that only read the catalog."""

# Run by tests of their own: long-lived processes (test_cli_catalog_files, test_cli_metrics,
# tests/server; relay: tests/integration/test_jetstream_feed.py) and issue 16's commands
# (test_cli_sync.py, test_cli_model_edits.py, test_cli_catalog_schema.py).
RUN_ELSEWHERE = {
    "catalog schema",
    "watch",
    "metrics serve",
    "serve",
    "sync",
    "overrides list",
    "overrides reset",
    "models add",
    "models set",
    "relay",
}


def command_paths() -> set[str]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[str]:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                yield from walk(child, (*path, name))
        else:
            yield " ".join(path)

    return set(walk(typer.main.get_command(app), ()))


def test_every_command_explains_itself_with_an_example() -> None:
    runner = CliRunner()
    paths = command_paths()
    assert paths >= READS
    for path in sorted(paths):
        result = runner.invoke(app, [*path.split(), "--help"])
        assert result.exit_code == 0, path
        assert "Example: modelregistry " in result.stdout, path
        if path in READS:
            assert "--json" in result.stdout, path
    for group in ("db", "models", "prices", "aliases", "metrics"):
        assert runner.invoke(app, [group, "--help"]).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("models", "list", "--limit", "3"),
        ("models", "list", "--format", "xml"),
        ("models", "list", "--columns", "model_id,colour"),
        ("models", "list", "--json", "--format", "csv"),
        ("export", "--json", "--format", "yaml"),
        ("info", "extra"),
        ("metrics", "serve", "--port", "70000"),
        ("nonsense",),
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output


def test_models_list_csv_has_every_field_for_a_spreadsheet(cli: Cli, database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(config(cost_per_1m_input_tokens=0.1, retirement_date="2030-01-31"))
        models = registry.list_models()
    result = cli("models", "list", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [name for name in COLUMNS if name != "price"]
    assert [row["model_id"] for row in rows] == [model.model_id for model in models]
    turbo = next(row for row in rows if row["model_id"] == "gpt-4-turbo")
    assert turbo["capabilities"] == "json_mode,streaming,tool_use,vision"
    assert turbo["cost_per_1m_input_tokens"] == "0.1"
    assert turbo["cost_per_1m_output_tokens"] == "30"
    assert turbo["quality.coding"] == "0.88"
    assert turbo["retirement_date"] == "2030-01-31"
    assert turbo["successor_model_id"] == ""
    assert turbo["version"] == "1"


def test_columns_pick_the_fields_in_every_format(cli: Cli, database_url: str) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
    picked = ("--columns", "model_id,status", "--columns", "price")
    as_json = json.loads(cli("models", "list", "--provider", "openai", *picked, "--json").stdout)
    assert as_json == [{"model_id": "gpt-4-turbo", "status": "active", "price": ["10", "30"]}]
    as_csv = cli("models", "list", "-p", "openai", *picked, "-f", "csv").stdout
    assert as_csv == "model_id,status,price\ngpt-4-turbo,active,10/30\n"
    table = cli("models", "list", "-p", "openai", *picked).stdout.splitlines()
    assert table[0].split() == ["MODEL", "STATUS", "$/1M", "IN/OUT"]
    assert table[2].split() == ["gpt-4-turbo", "active", "10/30"]


def test_the_table_fits_80_columns_and_loses_nothing(cli: Cli, database_url: str) -> None:
    flags = {f"supports_{name}": True for name in ("audio", "batch", "citations", "reasoning")}
    long_id = "bedrock/us-east-1/anthropic.claude-3-op:0"  # 40 characters: kept whole
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            config(
                model_id=long_id,
                provider="amazon-bedrock-us-east-1",
                capabilities={**GPT4_TURBO["capabilities"], **flags},
                cost_per_1m_input_tokens=15.0000001,
            )
        )
    lines = cli("models", "list").stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(long_id in line for line in lines)
    words = {word for line in lines for word in line.replace(",", " ").split()}
    assert {"audio", "batch", "citations", "reasoning", "tool_use", "15.0000001/30"} <= words
    # More columns than 80 hold: one block of fields per model, nothing cut.
    every = ",".join(COLUMNS)
    records = cli("models", "list", "--columns", every).stdout.splitlines()
    assert all(len(line) <= 80 for line in records)
    assert sum(line.split()[:1] == ["model_id"] for line in records) == 4
    assert any(line.split() == ["quality.summarization", "0.87"] for line in records)


def test_info_shows_the_installation_with_the_password_masked(
    database_url: str, backend: str
) -> None:
    url = database_url
    if backend == "postgresql":  # the test server trusts, so a password is there but unused
        url = make_url(url).set(password=UNUSED_PASSWORD).render_as_string(hide_password=False)
    with ModelRegistry(url) as registry:
        registry.update_model_status("llama3.2:3b", "deprecated")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", url, "info", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == __version__
    assert data["database"] == make_url(url).render_as_string(hide_password=True)
    assert data["schema"] == {"current": "0009", "head": "0009", "up_to_date": True}
    assert data["models"] == {"total": 3, "active": 2}
    assert data["cache"]["state"] == "live"
    assert data["cache"]["models"] == 3
    mode = "polling" if backend == "sqlite" else "LISTEN/NOTIFY, and polling"
    assert data["change_feed"] == {"mode": mode, "poll_interval_seconds": 1.0}
    table = runner.invoke(app, ["--db", url, "info"])
    assert table.exit_code == 0
    for text in ("0009 (up to date)", "3 (2 active)", "live: revision", __version__):
        assert text in table.stdout
    assert "s3cr3t" not in result.output + table.output
    if backend == "postgresql":
        assert ":***@" in table.stdout


def test_info_reads_only_and_says_what_is_wrong(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{empty}", "info", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["schema"]["current"] is None
    assert not empty.exists()
    unreachable = "postgresql://admin:s3cr3t@127.0.0.1:1/x?connect_timeout=5"
    result = runner.invoke(app, ["--db", unreachable, "info"])
    assert result.exit_code == 1
    assert "admin:***@127.0.0.1:1" in result.stdout  # what it could tell, then the error
    assert result.stderr.startswith("error: E4020: ")
    assert "s3cr3t" not in result.output
    older = tmp_path / "older.db"
    with migrate.database(f"sqlite:///{older}") as engine:
        migrate.upgrade(engine, "0004")
    result = runner.invoke(app, ["--db", f"sqlite:///{older}", "info"])
    assert result.exit_code == 1
    assert "0004, newest 0009" in result.stdout
    assert result.stderr.startswith("error: E4010: ")


def test_shell_completion_installs_and_completes(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    installed = subprocess.run(
        [str(CONSOLE_SCRIPT), "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # Seen failing (exit 1) now and then in whole-file runs on a busy machine: say why.
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "completion installed" in installed.stdout
    script = tmp_path / ".bash_completions" / "modelregistry.sh"
    assert "_MODELREGISTRY_COMPLETE" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()

    def complete(*words: str) -> list[str]:
        answer = subprocess.run(
            [str(CONSOLE_SCRIPT)],
            env={
                **env,
                "_MODELREGISTRY_COMPLETE": "complete_bash",
                "COMP_WORDS": " ".join(("modelregistry", *words)),
                "COMP_CWORD": str(len(words)),
            },
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return answer.stdout.split()

    assert complete("mod") == ["models"]
    assert "serve" in complete("metrics", "")
    assert complete("models", "list", "--format", "") == ["table", "json", "csv"]


class User:
    """Runs commands as an admin would, and remembers which ones it ran."""

    def __init__(self, cli: Cli) -> None:
        self._cli = cli
        self.ran: set[str] = set()
        self._paths = command_paths()

    def __call__(self, *args: str, code: int = 0) -> Result:
        words = [arg for arg in args[:2] if not arg.startswith("-")]
        path = " ".join(words) if " ".join(words) in self._paths else words[0]
        self.ran.add(path)
        result = self._cli(*args)
        assert result.exit_code == code, (args, result.output)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


def test_an_admin_drives_every_command(cli: Cli, tmp_path: Path) -> None:
    user = User(cli)
    head = migrate.head_revision()
    user("db", "downgrade", "base", "--yes")
    assert user.json("db", "current")["current"] is None
    assert user("db", "upgrade").stdout.strip() == f"database at revision {head}"
    assert user.json("info")["models"] == {"total": 3, "active": 3}
    assert user.json("stats")["total_models"] == 3

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "models:\n"
        "  - {model_id: gpt-4o, provider: openai, context_window: 128000,\n"
        "     max_output_tokens: 16384, cost_per_1m_input_tokens: 2.5,\n"
        "     cost_per_1m_output_tokens: 10, capabilities: {supports_vision: true}}\n"
    )
    assert user.json("import", str(catalog), "--dry-run")["added"] == ["gpt-4o"]
    assert "added 1" in user("import", str(catalog), "--reason", "onboarding").stdout
    assert "gpt-4o" in user("export", "--provider", "openai").stdout
    exported = user.json("export", "--provider", "openai")["models"]
    assert [model["model_id"] for model in exported] == ["gpt-4o"]

    listed = user("models", "list").stdout
    assert "gpt-4o" in listed
    assert "2.5/10" in listed
    assert user("models", "list", "-f", "csv", "--columns", "model_id").stdout.split() == [
        "model_id",
        "gpt-4o",
        "llama3.1:8b",
        "llama3.2:3b",
        "llava-llama3:latest",
    ]
    found = user.json("models", "find", "-c", "vision", "--order-by", "cost", "-n", "1")
    assert [model["model_id"] for model in found] == ["llava-llama3:latest"]
    assert user.json("models", "show", "gpt-4o")["version"] == 1

    user("models", "set-status", "gpt-4o", "deprecated", "--reason", "superseded")
    history = user.json("models", "history", "gpt-4o")
    assert [(r["version"], r["change"]) for r in history] == [(1, "created"), (2, "status_changed")]
    diff = user.json("models", "diff", "gpt-4o", "1", "2")
    assert diff == [{"field": "status", "old": "active", "new": "deprecated"}]
    assert user.json("models", "lifecycle", "--within-days", "30") == []

    user("prices", "set", "gpt-4o", "--input-price", "2", "--output-price", "8", "--reason", "cut")
    assert user.json("prices", "show", "gpt-4o")["input_per_1m"] == "2"
    assert [p["input_per_1m"] for p in user.json("prices", "history", "gpt-4o")] == ["2.5", "2"]
    cost = user.json("cost", "gpt-4o", "--input-tokens", "1000000", "--output-tokens", "0")
    assert cost["cost"] == "2"

    user("aliases", "set", "gpt-4-omni", "gpt-4o")
    assert [a["alias"] for a in user.json("aliases", "list")] == ["gpt-4-omni"]
    assert user.json("models", "show", "gpt-4-omni")["model_id"] == "gpt-4o"
    user("aliases", "remove", "gpt-4-omni")

    user("models", "remove", "gpt-4o", "--reason", "retired")
    user("models", "show", "gpt-4o", code=1)
    user("models", "restore", "gpt-4o", "2")
    assert user.json("models", "show", "gpt-4o")["status"] == "deprecated"

    user("db", "downgrade", "0004", "--yes")
    assert user("info", code=1).stderr.startswith("error: E4010: ")
    user("db", "upgrade")
    assert user.json("info")["schema"]["up_to_date"] is True
    assert [r["current"] for r in user.json("db", "history")][-1] is True
    assert user("db", "stamp", head).stdout.strip() == f"database stamped at revision {head}"

    assert user.ran == command_paths() - RUN_ELSEWHERE
