"""``modelregistry stats``."""

from __future__ import annotations

import typer

from modelregistry.cli.common import (
    JsonOption,
    app,
    catalog,
    print_json,
)
from modelregistry.cli.tables import fields_table, print_table


@app.command("stats")
def stats(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show counts of the catalog by status, provider and capability.

    Example: modelregistry stats --json
    """
    with catalog(ctx) as registry:
        data = registry.get_stats()
        url = registry.url
    if as_json:
        print_json(data)
        return
    print_table(
        fields_table(
            {
                "database": url,
                "models": f"{data['total_models']} ({data['active_models']} active)",
                "by status": ", ".join(f"{k}={v}" for k, v in data["by_status"].items()),
                "providers": ", ".join(f"{k}={v}" for k, v in data["by_provider"].items()),
                "capabilities": ", ".join(data["capabilities"]) or "-",
            }
        )
    )
