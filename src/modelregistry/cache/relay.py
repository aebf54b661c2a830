"""The relay: publishes to the JetStream feed whatever committed revision it is missing.

A writer publishes its revisions right after its commit; if it dies in between (or NATS is
away at that moment), the revision is committed but not in the stream. ``modelregistry
relay`` tails the revision table (one small query every :data:`TICK_SECONDS`), watches the
stream, and publishes a revision still missing :data:`GRACE_SECONDS` after it appeared: a
hole is filled within about half a second. Several relays may run: a revision they both
publish has the same message id, and JetStream keeps one (a reader ignores a revision it
already holds in any case).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Final

from modelregistry.cache.nats_link import NatsLink
from modelregistry.cache.publisher import publish_messages
from modelregistry.cache.wire import AliasMessage, ChangeMessage, decode, messages_of
from modelregistry.db.outbox import newest_revisions, read_outbox

if TYPE_CHECKING:
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from modelregistry.cache.wire import FeedAddress, Message
    from modelregistry.db.database import Database

logger = logging.getLogger(__name__)

TICK_SECONDS: Final = 0.2
"""How often the relay reads the catalog's newest revision."""
GRACE_SECONDS: Final = 0.25
"""How long a new revision is left to its writer before the relay publishes it."""
BACKLOG: Final = 1000
"""Messages back from the end of the stream that a starting relay reads to learn what is there."""
_PUBLISH_TIMEOUT: Final = 5.0


class Relay:
    """Publishes the revisions of ``database`` that the stream at ``address`` is missing.

    Args:
        database: The catalog (PostgreSQL, the source of truth).
        address: The NATS servers and the stream.
    """

    def __init__(self, database: Database, address: FeedAddress) -> None:
        """Begin connecting and watching the stream; nothing is published yet."""
        self._database = database
        self._address = address
        self._lock = threading.Lock()
        self._seen: set[int] = set()
        self._seen_cursor = 0
        self._high: int | None = None  # every revision up to here is in the stream
        self._pending: list[tuple[float, int]] = []  # (first seen, newest revision then)
        self._alias_since: float | None = None
        self._subscription: object = None
        self._next_sequence: int | None = None
        self._replayed_to: int | None = None
        self._oldest: int | None = None
        self.published = 0
        """Messages this relay added to the stream."""
        self._link = NatsLink(address, on_connected=self._watch)

    @property
    def ready(self) -> threading.Event:
        """Set while connected to NATS and watching the stream."""
        return self._link.connected

    async def _watch(self, js: JetStreamContext) -> None:
        """Subscribe: the first time from :data:`BACKLOG` messages back, to learn what is there."""
        from nats.js.api import ConsumerConfig, DeliverPolicy  # noqa: PLC0415 - the nats extra

        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - the old server is gone with it
                logger.debug("modelregistry relay: dropping the old subscription: %s", exc)
        state = (await js.stream_info(self._address.stream)).state
        start = self._next_sequence
        if start is None or not state.first_seq <= start <= state.last_seq + 1:
            start = max(state.first_seq, state.last_seq - BACKLOG + 1, 1)
        if self._replayed_to is None:
            self._replayed_to = state.last_seq
        self._subscription = await js.subscribe(
            self._address.subject,
            stream=self._address.stream,
            cb=self._received,
            ordered_consumer=True,
            idle_heartbeat=2.0,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
            ),
        )

    async def _received(self, msg: Msg) -> None:
        self._next_sequence = msg.metadata.sequence.stream + 1
        try:
            message = decode(msg.data)
        except Exception:  # noqa: BLE001 - not ours: nothing to relay about it
            logger.debug("modelregistry relay: a message could not be read")
            return
        with self._lock:
            if isinstance(message, AliasMessage):
                self._seen_cursor = max(self._seen_cursor, message.cursor)
            else:
                self._seen.add(message.revision)
                # The oldest message's predecessor may be the hole of a writer that died.
                before = message.previous[0] - 1
                self._oldest = before if self._oldest is None else min(self._oldest, before)

    def started(self) -> bool:
        """Once connected and caught up with the stream: take the catalog's position (a tick).

        Returns whether it has (call again until it does).
        """
        if self._high is None and self._link.connected.is_set() and self._backlog_read():
            self.tick()
        return self._high is not None

    def _backlog_read(self) -> bool:
        """Whether the stream's messages from before the relay started have all arrived."""
        return self._replayed_to is not None and (self._next_sequence or 1) > self._replayed_to

    def tick(self) -> int:
        """Compare the catalog with the stream once; return how many messages were published.

        Raises:
            ModelRegistryError: the database could not be read.
            Exception: NATS refused a message (the next tick tries again).
        """
        if not self._link.connected.is_set() or not self._backlog_read():
            return 0
        newest, cursor = self._database.read(newest_revisions)
        now = time.monotonic()
        with self._lock:
            if self._high is None:
                # An empty stream: readers load their snapshot anyway, so no history is sent.
                self._high = newest if self._oldest is None else max(0, self._oldest)
                if self._oldest is None:
                    self._seen_cursor = max(self._seen_cursor, cursor)
            self._high = min(self._high, newest)  # another database's stream (a restore)
            if newest > self._high and (not self._pending or self._pending[-1][1] < newest):
                self._pending.append((now, newest))
            due = [revision for since, revision in self._pending if now - since >= GRACE_SECONDS]
            after, target = self._high, max(due, default=0)
            seen = set(self._seen)
            if cursor > self._seen_cursor and self._alias_since is None:
                self._alias_since = now
            aliases_due = self._alias_since is not None and now - self._alias_since >= GRACE_SECONDS
        found = self._missing(after, target, seen, aliases=aliases_due)
        kept = 0
        if found:
            kept = self._link.run(
                publish_messages(self._link.js_context(), self._address, found),
                timeout=_PUBLISH_TIMEOUT,
            )
        with self._lock:
            if target > after:
                self._high = target
                self._seen = {r for r in self._seen if r > target}
                self._pending = [p for p in self._pending if p[1] > target]
            if aliases_due:
                self._seen_cursor = max(self._seen_cursor, cursor)
                self._alias_since = None
        self.published += kept
        return kept

    def _missing(self, after: int, target: int, seen: set[int], *, aliases: bool) -> list[Message]:
        """The revisions in ``(after, target]`` not seen, and the alias map if ``aliases``."""
        found: list[Message] = []
        if target > after and any(r not in seen for r in range(after + 1, target + 1)):
            outbox = self._database.read(
                lambda repository: read_outbox(repository, after, target, aliases=False),
                snapshot=True,
            )
            found = [
                message
                for message in messages_of(outbox, aliases=False)
                if isinstance(message, ChangeMessage) and message.revision not in seen
            ]
        if aliases:
            outbox = self._database.read(
                lambda repository: read_outbox(repository, 2**31 - 1, aliases=True), snapshot=True
            )
            found += messages_of(outbox, aliases=True)
        return found

    def run(self, stop: threading.Event) -> None:
        """Tick every :data:`TICK_SECONDS` until ``stop`` is set (errors are logged, retried)."""
        while not stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the database or NATS is away: next tick
                logger.warning("modelregistry relay: %s", exc)

    def close(self) -> None:
        """Close the NATS connection."""
        self._link.close()
