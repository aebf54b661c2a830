"""``modelregistry metrics serve``: /metrics, /healthz and /readyz over HTTP, for Prometheus.

The same server as ``modelregistry serve`` (uvicorn: no thread per connection, a deadline for
each request head, a connection limit), with only those routes.
"""

from __future__ import annotations

import typer

from modelregistry.cli.common import metrics_app
from modelregistry.cli.serve import DEFAULT_POLL_INTERVAL, run_server


@metrics_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = typer.Option(
        9464,
        "--port",
        min=0,
        max=65535,
        metavar="INTEGER",
        help="TCP port (0: any free port, printed).",
    ),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        metavar="HOST",
        help="Address to listen on; 0.0.0.0 (or ::) lets a Prometheus on another host scrape.",
    ),
    poll_interval: float = typer.Option(
        DEFAULT_POLL_INTERVAL,
        "--poll-interval",
        min=0.01,
        metavar="SECONDS",
        help="Seconds between the change feed's checks of the catalog.",
    ),
    max_connections: int = typer.Option(
        100,
        "--max-connections",
        min=1,
        metavar="INTEGER",
        help="Connections at once; past it, 503.",
    ),
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
