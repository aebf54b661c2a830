"""``import_catalog(skip_invalid=True)`` and the field-level changes an import reports, on
both engines (and from the command line)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from modelregistry import InvalidCatalogFileError, ModelRegistry

if TYPE_CHECKING:
    from pathlib import Path

    from cases import Cli

GOOD = {"model_id": "acme/a", "provider": "acme", "context_window": 100, "max_output_tokens": 10}
BAD = {"model_id": "acme/b", "provider": "acme", "context_window": 0, "max_output_tokens": 10}


@pytest.mark.both_apis
def test_skip_invalid_applies_the_valid_entries_and_lists_the_others(
    registry: ModelRegistry,
) -> None:
    document = {"models": [GOOD, BAD, GOOD]}
    with pytest.raises(InvalidCatalogFileError):
        registry.import_catalog(document)
    assert registry.get_model("acme/a") is None
    result = registry.import_catalog(document, skip_invalid=True)
    assert result.added == ["acme/a"]
    assert [entry["model_id"] for entry in result.invalid] == [
        "models[1](acme/b)",
        "models[2](acme/a)",
    ]
    assert "context_window" in result.invalid[0]["reason"]
    assert "repeats the model_id of models[0]" in result.invalid[1]["reason"]
    assert registry.get_model("acme/b") is None


@pytest.mark.both_apis
def test_skip_invalid_still_refuses_a_document_that_is_not_a_catalog(
    registry: ModelRegistry,
) -> None:
    with pytest.raises(InvalidCatalogFileError, match="schema_version"):
        registry.import_catalog({"models": [GOOD], "schema_version": 9}, skip_invalid=True)


@pytest.mark.both_apis
def test_dry_run_reports_each_changed_field_with_old_and_new(registry: ModelRegistry) -> None:
    current = registry.get_model_or_raise("llama3.1:8b").model_dump(mode="json")
    changed = {
        **current,
        "context_window": 4096,
        "capabilities": {**current["capabilities"], "supports_vision": True},
    }
    result = registry.import_catalog({"models": [changed]}, dry_run=True)
    assert result.changed == ["llama3.1:8b"]
    assert result.changes == {
        "llama3.1:8b": {
            "capabilities.supports_vision": [False, True],
            "context_window": [current["context_window"], 4096],
        }
    }
    assert result.to_dict()["updated"] == [
        {"model_id": "llama3.1:8b", "fields": result.changes["llama3.1:8b"]}
    ]
    assert registry.get_model_or_raise("llama3.1:8b").context_window == current["context_window"]


def test_cli_import_skip_invalid_and_dry_run_changes(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [GOOD, BAD]}))
    refused = cli("import", str(path))
    assert refused.exit_code == 1
    applied = cli("import", str(path), "--skip-invalid")
    assert applied.exit_code == 0, applied.output
    assert "skipped: models[1](acme/b): context_window: must be greater than 0" in applied.stdout
    path.write_text(json.dumps({"models": [{**GOOD, "context_window": 200}]}))
    planned = cli("import", str(path), "--dry-run")
    assert "context_window: 100 -> 200" in planned.stdout
