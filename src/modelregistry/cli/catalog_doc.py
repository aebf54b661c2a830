"""``modelregistry catalog schema``: the catalog file's JSON Schema."""

from __future__ import annotations

from modelregistry.cli.common import catalog_app, print_json


@catalog_app.command("schema")
def catalog_schema() -> None:
    """Print the JSON Schema of a catalog file (point an editor's YAML/JSON support at it).

    Example: modelregistry catalog schema > catalog.schema.json
    """
    from modelregistry.domain.catalog_schema import catalog_json_schema  # noqa: PLC0415 - see cli/common.py

    print_json(catalog_json_schema())
