"""``modelregistry catalog schema``: the catalog file's JSON Schema describes what export writes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import yaml

from modelregistry.domain.models import ModelConfig

if TYPE_CHECKING:
    from cases import Cli


def test_catalog_schema_describes_every_exported_field(cli: Cli) -> None:
    result = cli("catalog", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"enum": [1, 2]}
    assert {"prices", "aliases", "sync_bases", "sync_sources"} <= set(schema["properties"])
    model = schema["$defs"]["ModelConfig"]
    assert set(model["properties"]) == set(ModelConfig.model_fields) - {"version"}
    assert set(model["required"]) == {"model_id", "provider", "context_window", "max_output_tokens"}
    assert model["additionalProperties"] is False
    exported = yaml.safe_load(cli("export").stdout)
    for entry in exported["models"]:
        assert set(entry) <= set(model["properties"])
    status = schema["$defs"]["ModelStatus"]["enum"]
    assert status == ["active", "deprecated", "disabled", "maintenance"]
