"""``modelregistry metrics serve``: /metrics, /healthz and /readyz over HTTP, for Prometheus.

The same server as ``modelregistry serve`` (uvicorn: no thread per connection, a deadline for
each request head, a connection limit), with only those routes.
"""

from __future__ import annotations

import typer

from modelregistry.cli.common import (
    HostOption,
    PollIntervalOption,
    max_connections_option,
    metrics_app,
    port_option,
)
from modelregistry.cli.serve import run_server


@metrics_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = port_option(9464),
    host: str = HostOption,
    poll_interval: float = PollIntervalOption,
    max_connections: int = max_connections_option(100),
) -> None:
    """Serve the catalog's metrics at /metrics and a health check at /healthz.

    The catalog is cached and followed like in any process using it; /healthz answers 503
    while the database cannot be reached (the metrics go on, from the cache). SIGINT (Ctrl-C)
    or SIGTERM stops it cleanly.

    Example: modelregistry metrics serve --port 9464 --host 0.0.0.0
    """
    run_server(
        ctx,
        host,
        port,
        poll_interval,
        token_file=None,
        cors_origins=[],
        max_connections=max_connections,
        operations_only=True,
    )
