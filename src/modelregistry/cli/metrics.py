"""``modelregistry metrics serve``: ``/metrics`` and ``/healthz`` over HTTP, for Prometheus."""

from __future__ import annotations

import signal
import socket
import threading
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import typer

from modelregistry.cli.common import Options, deprecated, either, err, fail, metrics_app
from modelregistry.errors import ModelRegistryError

# The registry is imported inside the command: see cli.common.
DEFAULT_POLL_INTERVAL = 1.0
"""The registry's default (``modelregistry.registry.DEFAULT_POLL_INTERVAL``; a test holds
them equal), written here so that ``--help`` does not import the registry."""

if TYPE_CHECKING:
    from types import FrameType
    from wsgiref.types import WSGIApplication


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per request: a slow health check does not hold up a scrape."""

    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    """No line per request on stderr: Prometheus scrapes every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - the base's signature
        """Log nothing."""


@metrics_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int | None = typer.Option(
        None,
        "--port",
        min=0,
        max=65535,
        metavar="INTEGER",
        help="TCP port (0: any free port, printed; default: 9464).",
    ),
    old_port: int | None = typer.Option(
        None, "-p", min=0, max=65535, hidden=True, callback=deprecated("-p", "--port")
    ),
    host: str = typer.Option(
        "127.0.0.1",
        "--host",
        metavar="ADDRESS",
        help="Address to listen on; 0.0.0.0 (or ::) lets a Prometheus on another host scrape.",
    ),
    poll_interval: float = typer.Option(
        DEFAULT_POLL_INTERVAL,
        "--poll-interval",
        min=0.01,
        metavar="SECONDS",
        help="Seconds between the change feed's checks of the catalog.",
    ),
) -> None:
    """Serve the catalog's metrics at /metrics and a health check at /healthz.

    The catalog is cached and followed like in any process using it; /healthz answers 503
    while the database cannot be reached (the metrics go on, from the cache). SIGINT (Ctrl-C)
    or SIGTERM stops it cleanly.

    Example: modelregistry metrics serve --port 9464 --host 0.0.0.0
    """
    from modelregistry.registry import ModelRegistry  # noqa: PLC0415 - see above

    chosen = either(port, old_port, ("--port", "-p"))
    port = 9464 if chosen is None else chosen
    options: Options = ctx.obj
    try:
        registry = ModelRegistry(options.database_url, poll_interval=poll_interval)
    except ModelRegistryError as exc:
        fail(exc)
    with registry:
        try:
            server = _listen(host, port, registry.metrics.wsgi_app())
        except OSError as exc:
            err.print(f"error: cannot listen on {host} port {port}: {exc.strerror or exc}")
            raise typer.Exit(1) from exc
        with server:
            # Before saying it serves: a signal sent on reading that line must stop it.
            previous = _stop_on_signals(server)
            shown = f"[{host}]" if ":" in host else host
            typer.echo(
                f"serving http://{shown}:{server.server_port}/metrics and /healthz "
                f"for {registry.url} (Ctrl-C stops)"
            )
            try:
                server.serve_forever(poll_interval=0.2)
            finally:
                for number, handler in previous.items():
                    signal.signal(number, handler)
    typer.echo("stopped")


def _listen(host: str, port: int, app: WSGIApplication) -> _Server:
    server_class = _Server6 if ":" in host else _Server
    return make_server(host, port, app, server_class=server_class, handler_class=_QuietHandler)


def _stop_on_signals(server: _Server) -> dict[int, Any]:
    """Make SIGINT and SIGTERM stop ``serve_forever``; return the handlers they had."""

    def stop(_number: int, _frame: FrameType | None) -> None:
        # shutdown() waits for the serving loop, which runs on this very thread: not here.
        threading.Thread(target=server.shutdown, daemon=True).start()

    return {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
