"""``modelregistry relay``: publish to the JetStream feed what writers did not."""

from __future__ import annotations

import signal
import threading

import typer

from modelregistry.cli.common import app, err, fail

FEED_URL_VARIABLE = "MODELREGISTRY_FEED_URL"
"""``modelregistry.settings.FEED_URL_VARIABLE`` (not imported: ``--help`` stays light)."""


@app.command("relay")
def relay(
    ctx: typer.Context,
    feed: str | None = typer.Option(
        None,
        "--feed",
        envvar=FEED_URL_VARIABLE,
        show_envvar=True,
        metavar="URL",
        help="The NATS JetStream feed: nats://host:port/stream.",
    ),
) -> None:
    """Tail the revision table and publish what the feed is missing, until stopped.

    A writer that dies between its commit and its publish leaves a revision out of the
    stream; the relay publishes it within a second. Run one or more (they are idempotent).
    Stops on SIGTERM or Ctrl-C.

    Example: modelregistry relay --feed nats://127.0.0.1:4222/modelregistry
    """
    from modelregistry.errors import ModelRegistryError  # noqa: PLC0415 - see cli/common.py
    from modelregistry.registry import run_relay  # noqa: PLC0415 - see cli/common.py

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    try:
        run_relay(
            ctx.obj.database_url,
            feed=feed,
            stop=stop,
            on_ready=lambda stream: err.print(f"relaying to stream {stream}"),
        )
    except ModelRegistryError as exc:
        fail(exc)
