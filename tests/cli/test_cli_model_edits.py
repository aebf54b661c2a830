"""``models add`` (a file or stdin, one model or many, all or nothing) and ``models set``
(field=value, lifecycle fields, a successor that does not exist gets a warning)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from modelregistry.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from cases import Cli

MODEL = {
    "model_id": "acme/m1",
    "provider": "acme",
    "context_window": 8192,
    "max_output_tokens": 1024,
}


def test_models_add_from_stdin_and_from_a_yaml_list(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app, ["--database-url", database_url, "models", "add", "-"], input=json.dumps(MODEL)
    )
    assert added.exit_code == 0, added.output
    assert "added 1" in added.stdout
    listed = tmp_path / "more.yaml"
    listed.write_text(
        "- {model_id: acme/m2, provider: acme, context_window: 100, max_output_tokens: 10}\n"
        "- {model_id: acme/m3, provider: acme, context_window: 100, max_output_tokens: 10}\n"
    )
    assert cli("models", "add", str(listed)).exit_code == 0
    assert json.loads(cli("models", "show", "acme/m3", "--json").stdout)["context_window"] == 100


def test_models_add_is_all_or_nothing(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([MODEL, {**MODEL, "model_id": "acme/m2", "context_window": 0}]))
    result = cli("models", "add", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: E4005")
    assert cli("models", "show", "acme/m1").exit_code == 1


def test_models_set_changes_fields_in_one_version(cli: Cli) -> None:
    result = cli(
        "models", "set", "llama3.2:3b",
        "context_window=65536", "deprecation_date=2027-01-01", "retirement_date=2027-06-01",
        "successor_model_id=llama3.1:8b", "supports_reasoning=true", "quality_scores.coding=0.9",
        "display_name=Llama 3.2 (3B)", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    model = json.loads(result.stdout)
    assert model["version"] == 2
    assert model["context_window"] == 65536
    assert (model["deprecation_date"], model["retirement_date"]) == ("2027-01-01", "2027-06-01")
    assert model["successor_model_id"] == "llama3.1:8b"
    assert model["capabilities"]["supports_reasoning"] is True
    assert model["quality_scores"]["coding"] == 0.9
    assert model["display_name"] == "Llama 3.2 (3B)"
    cleared = json.loads(
        cli("models", "set", "llama3.2:3b", "successor_model_id=null", "--json").stdout
    )
    assert cleared["successor_model_id"] is None


def test_models_set_warns_of_an_unknown_successor_and_refuses_a_broken_rule(cli: Cli) -> None:
    warned = cli("models", "set", "llama3.2:3b", "successor_model_id=not-yet-here")
    assert warned.exit_code == 0
    assert "warning: the successor 'not-yet-here' is not in the catalog" in warned.stderr
    broken = cli("models", "set", "llama3.2:3b", "context_window=-1", "colour=blue")
    assert broken.exit_code == 1
    assert broken.stderr.startswith("error: E4003")
    assert "context_window" in broken.stderr
    assert "colour" in broken.stderr
    assert cli("models", "set", "llama3.2:3b", "nonsense").exit_code == 2
