"""``modelregistry serve`` and ``modelregistry metrics serve``: open, listen, serve, stop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector

from modelregistry.db.engine import safe_url
from modelregistry.registry import ModelRegistry
from modelregistry.server.app import create_app
from modelregistry.server.catalog import Catalog
from modelregistry.server.run import Limits, listen, serve
from modelregistry.settings import resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

TOKEN_VARIABLE: Final = "MODELREGISTRY_API_TOKEN"  # noqa: S105 - a variable's name
FIRST_OPEN_SECONDS: Final = 10.0
"""How long to wait for the catalog before saying where the server listens."""


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """What the ``serve`` commands were asked for."""

    database_url: str | None
    host: str = "127.0.0.1"
    port: int = 8080
    poll_interval: float = 1.0
    token: str | None = None
    cors_origins: Sequence[str] = ()
    operations_only: bool = False
    history_size: int = 10_000
    limits: Limits = field(default_factory=Limits)


def token_from(path: str | None) -> str | None:
    """The bearer token: the file's first line, else ``$MODELREGISTRY_API_TOKEN``, else None.

    Raises:
        OSError: the file cannot be read.
        ValueError: the token is empty.
    """
    if path is not None:
        with open(path, encoding="utf-8") as source:  # noqa: PTH123 - one read
            token = source.readline().strip()
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        if not token:
            return None
    if not token:
        msg = f"the token file {path} is empty"
        raise ValueError(msg)
    return token


def run(
    options: ServerOptions, echo: Callable[[str], None], ready: Callable[[str, int, str], str]
) -> None:
    """Open the catalog, listen and serve until SIGINT or SIGTERM.

    ``ready(host, port, url)`` gives the line to print once listening (the URL masked).

    Raises:
        OSError: cannot listen on the host and port.
        ModelRegistryError: the catalog cannot be served (E4010: a schema to upgrade); one
            that cannot be reached (E4020) is retried while the server answers 503.
    """
    url = resolve_database_url(options.database_url)
    metrics = CollectorRegistry()
    ProcessCollector(registry=metrics)
    PlatformCollector(registry=metrics)

    def open_registry() -> ModelRegistry:
        return ModelRegistry(url, poll_interval=options.poll_interval, metrics=metrics)

    catalog = Catalog(open_registry, options.history_size)
    sock = listen(options.host, options.port)
    try:
        catalog.start()
        catalog.wait_open(FIRST_OPEN_SECONDS)
        if catalog.fatal is not None:
            raise catalog.fatal
        shown = catalog.registry.url if catalog.registry is not None else safe_url(url)
        port = sock.getsockname()[1]
        app = create_app(
            catalog,
            token=options.token,
            cors_origins=options.cors_origins,
            operations_only=options.operations_only,
        )
        serve(
            app,
            sock,
            options.limits,
            on_stop=catalog.changes.close,
            on_ready=lambda: echo(ready(options.host, port, shown)),
        )
    finally:
        catalog.close()
        sock.close()
