"""``modelregistry serve``: the catalog over HTTP (OpenAI-compatible API, change stream, page)."""

from __future__ import annotations

import typer

from modelregistry.cli.common import (
    HostOption,
    Options,
    PollIntervalOption,
    app,
    err,
    fail,
    max_connections_option,
    port_option,
)
from modelregistry.errors import ModelRegistryError

# The registry is imported inside the commands: see cli.common.

HTTP_EXTRA = "modelregistry serve needs the http extra: pip install 'modelregistry[http]'"


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str = HostOption,
    port: int = port_option(8080),
    token_file: str | None = typer.Option(
        None,
        "--token-file",
        metavar="FILE",
        help="A file whose first line is the bearer token every route but /healthz requires "
        "(default: $MODELREGISTRY_API_TOKEN; neither: no token).",
    ),
    cors_origins: list[str] = typer.Option(
        [],
        "--cors-origin",
        metavar="ORIGIN",
        help="An origin browsers may read the API from (repeatable; none: CORS off).",
    ),
    poll_interval: float = PollIntervalOption,
    max_connections: int = max_connections_option(1000),
) -> None:
    """Serve the catalog over HTTP: an OpenAI-compatible /v1/models, /api/... and a page at /.

    /api/changes and /api/changes/stream follow the changes. Read-only, answered from the
    cache. SIGINT (Ctrl-C) or SIGTERM stops it.

    Example: modelregistry serve --port 8080
    """
    run_server(
        ctx,
        host,
        port,
        poll_interval,
        token_file=token_file,
        cors_origins=cors_origins,
        max_connections=max_connections,
        operations_only=False,
    )


def run_server(
    ctx: typer.Context,
    host: str,
    port: int,
    poll_interval: float,
    *,
    token_file: str | None,
    cors_origins: list[str],
    max_connections: int,
    operations_only: bool,
) -> None:
    """Run the server (the ``serve`` commands share this)."""
    try:
        from modelregistry.server import main  # noqa: PLC0415 - the http extra, only when serving
        from modelregistry.server.run import Limits  # noqa: PLC0415 - ditto
    except ImportError as exc:
        err.print(f"error: {HTTP_EXTRA} ({exc})")
        raise typer.Exit(1) from exc
    options: Options = ctx.obj
    try:
        token = main.token_from(token_file)
    except (OSError, ValueError) as exc:
        err.print(f"error: cannot read the token: {exc}")
        raise typer.Exit(1) from exc

    def ready(shown_host: str, shown_port: int, url: str) -> str:
        where = f"[{shown_host}]" if ":" in shown_host else shown_host
        paths = "/metrics and /healthz" if operations_only else "/"
        return f"serving http://{where}:{shown_port}{paths} for {url} (Ctrl-C stops)"

    server_options = main.ServerOptions(
        options.database_url,
        host=host,
        port=port,
        poll_interval=poll_interval,
        token=token,
        cors_origins=tuple(cors_origins),
        operations_only=operations_only,
        limits=Limits(max_connections=max_connections),
    )
    try:
        main.run(server_options, typer.echo, ready)
    except ModelRegistryError as exc:
        fail(exc)
    except OSError as exc:
        err.print(f"error: cannot listen on {host} port {port}: {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    typer.echo("stopped")
