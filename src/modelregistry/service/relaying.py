"""``modelregistry relay``: opening a catalog and its feed, and relaying until told to stop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.cache.nats_link import require_nats
from modelregistry.cache.relay import Relay
from modelregistry.cache.wire import FeedAddress
from modelregistry.db.database import Database
from modelregistry.errors import FeedConfigurationError
from modelregistry.settings import resolve_database_url, resolve_feed_url

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable


def run_relay(
    url: str | None,
    *,
    feed: str | None,
    stop: threading.Event,
    on_ready: Callable[[str], object] | None = None,
) -> int:
    """Relay the catalog at ``url`` to ``feed`` until ``stop`` is set; return messages added.

    ``on_ready`` is told the stream's name once the relay watches it.

    Raises:
        FeedConfigurationError: E4060, no feed given (``feed`` or ``MODELREGISTRY_FEED_URL``),
            or it is unusable.
        SchemaOutdatedError: E4010, the database is older than this modelregistry.
        DatabaseUnavailableError: E4020, the database cannot be reached.
    """
    feed_url = resolve_feed_url(feed)
    if feed_url is None:
        msg = "the relay needs a feed: --feed nats://host:port/stream, or MODELREGISTRY_FEED_URL"
        raise FeedConfigurationError(msg, field="feed")
    address = FeedAddress.parse(feed_url)
    require_nats()
    database = Database.open(resolve_database_url(url))
    relay = Relay(database, address)
    try:
        while not relay.started():
            if stop.wait(0.05):
                return relay.published
        if on_ready is not None:
            on_ready(address.stream)
        relay.run(stop)
    finally:
        relay.close()
        database.dispose()
    return relay.published
