"""The change feed through NATS JetStream: a reader applies the stream, not the database.

A registry opened with ``feed="nats://..."`` loads its snapshot once from the database, then
applies the revisions published to the catalog's stream (:mod:`modelregistry.cache.wire`),
each chained to the one before it. :class:`StreamSource` answers the cache's
``changes_since`` from the messages received; :class:`StreamFeed` follows the stream:

- it subscribes from the stream sequence after the last message it saw, so a reconnection
  (a NATS restart, a network cut) resumes where it left off; when the stream cannot say (the
  first subscription, the stream recreated), it reads the database once after subscribing;
- a gap (a revision whose predecessor never arrived) waits :data:`GAP_WAIT_SECONDS` for the
  relay to publish it, then reads the missing changes from the database;
- while NATS is away it polls the database every ``poll_interval`` seconds (bounded
  staleness), and goes back to the stream when NATS answers again;
- a chain that does not match (a restore: :func:`lineage_matches`) or another schema revision
  forces a full reload.

A message that simply continues the cache is applied on the NATS loop's thread as it arrives,
from memory (no hand-off to the applying thread); anything that may read the database (the
catch-up, a gap, a restore, polling, a refresh already under way) is the applying thread's.

Between changes it holds no database connection (the registry's pool lets them go).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from modelregistry.cache.contract import Delta
from modelregistry.cache.nats_link import NatsLink
from modelregistry.cache.wire import AliasMessage, ChangeMessage, Decoder, Message
from modelregistry.domain.history import same_change
from modelregistry.errors import ModelRegistryError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from modelregistry.cache.source import DatabaseSource
    from modelregistry.cache.wire import FeedAddress
    from modelregistry.db.repository import Anchor
    from modelregistry.domain.history import Fingerprint
    from modelregistry.domain.models import ModelConfig
    from modelregistry.metrics.telemetry import Trigger

logger = logging.getLogger(__name__)

GAP_WAIT_SECONDS: Final = 1.5
"""How long a gap waits for the relay (which publishes within a second) before the database."""
_RECENT: Final = 4096
"""Applied revisions remembered, to tell a duplicate from a restored database's revision."""
Transport = Literal["jetstream", "poll"]


def lineage_matches(anchor: Anchor, previous: Anchor) -> bool:
    """Whether a change that follows ``previous`` continues a cache at ``anchor``.

    The database the cache was loaded from wrote the change it holds as ``anchor``; a change
    chained to another one at that revision comes from another timeline (a restore: the
    fingerprint carries the change's commit time, which a restored backup does not replay).
    The same rule as the database's anchor check (``domain.history.same_change``).
    """
    return same_change(anchor, previous)


class StreamSource:
    """The cache's ``changes_since``, answered from received messages.

    Args:
        database: Reads what the messages cannot give (a gap, a poll, a process's own write).
        schema: The schema revision the snapshot was loaded at.
    """

    def __init__(self, database: DatabaseSource, schema: str | None) -> None:
        """Answer from messages offered later; nothing is held yet."""
        self._database = database
        self.schema = schema
        self._lock = threading.Lock()
        self._following: dict[int, ChangeMessage] = {}  # by the revision each follows
        self._aliases: AliasMessage | None = None
        self._recent: OrderedDict[int, Fingerprint | None] = OrderedDict()
        self._waiting_since: float | None = None
        self._local = threading.local()
        self.gap_reads = 0
        """How often a gap was filled from the database."""
        # The last applied change's commit and arrival (POSIX time): the lag is worked out
        # when asked (:attr:`last_lag`), not for every message.
        self._last_change: datetime | None = None
        self._last_arrived = 0.0

    def offer(self, message: Message) -> None:
        """Hold ``message`` until the cache asks for changes."""
        with self._lock:
            if isinstance(message, AliasMessage):
                if self._aliases is None or message.cursor > self._aliases.cursor:
                    self._aliases = message
                return
            self._following[message.previous[0]] = message

    def waiting(self) -> float | None:
        """Since when messages wait for a predecessor that has not arrived (None: none)."""
        return self._waiting_since

    def from_database(self) -> _FromDatabase:
        """A block in which this thread's ``changes_since`` reads the database."""
        return _FromDatabase(self._local)

    def changes_since(
        self,
        anchor: Anchor,
        alias_cursor: int,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
    ) -> Delta | None:
        """What changed after ``anchor``: from the messages received, else the database.

        None forces a full reload: a message not chained to the anchor (a restore), or
        another schema revision.
        """
        if known is not None or getattr(self._local, "database", False):
            return self._database.changes_since(anchor, alias_cursor, known)
        in_memory = getattr(self._local, "memory", False)
        with self._lock:
            chain, current, reload, schema = self._chain(anchor, alias_cursor)
            if in_memory and (reload or (not chain and self._following)):
                # (Or a gap: the applying thread waits for the relay, then reads.)
                return self._defer(alias_cursor)
            if reload:
                self._reload(schema)
                return None
            newer = self._aliases is not None and self._aliases.cursor > alias_cursor
            changes, prices = [], {}
            for message in chain:
                del self._following[message.previous[0]]
                changes.append((message.revision, message.change))
                prices[message.change.model_id] = message.prices
                self._remember(message)
            aliases, cursor = None, alias_cursor
            if self._aliases is not None and newer:
                aliases, cursor = self._aliases.aliases, self._aliases.cursor
            self._aliases = None
            self._following = {
                after: message
                for after, message in self._following.items()
                if message.revision > current[0]
            }
            waited = self._note_waiting() and not in_memory
        if waited and not changes:
            # The relay has not filled the gap in time: the database has the missing changes.
            self.gap_reads += 1
            return self._database.changes_since(anchor, alias_cursor, None)
        return Delta(changes=changes, prices=prices, aliases=aliases, alias_cursor=cursor)

    def _chain(
        self, anchor: Anchor, alias_cursor: int
    ) -> tuple[list[ChangeMessage], Anchor, bool, str | None]:
        """The messages continuing ``anchor``, the anchor after them, and whether to reload.

        A reload (with the schema revision to take) for a restore or another schema.
        """
        if self._restored(anchor):
            return [], anchor, True, None
        chain: list[ChangeMessage] = []
        current = anchor
        while (message := self._following.get(current[0])) is not None:
            if message.schema != self.schema or not lineage_matches(current, message.previous):
                return chain, current, True, message.schema
            chain.append(message)
            current = message.anchor
        aliases = self._aliases
        if aliases is not None and aliases.cursor > alias_cursor and aliases.schema != self.schema:
            return chain, current, True, aliases.schema
        return chain, current, False, None

    def in_memory(self) -> _InMemory:
        """A block in which this thread's ``changes_since`` never reads the database.

        What would need it (a gap, a restore, another schema) answers nothing instead, left
        as it was, and :meth:`deferred` says so: the applying thread then does it.
        """
        return _InMemory(self._local)

    def deferred(self) -> bool:
        """Whether this thread's last ``changes_since`` in memory left work to the database."""
        return bool(getattr(self._local, "deferred", False))

    def _defer(self, alias_cursor: int) -> Delta:
        self._local.deferred = True
        return Delta(changes=[], prices={}, aliases=None, alias_cursor=alias_cursor)

    def _restored(self, anchor: Anchor) -> bool:
        """Whether a message re-uses a revision we applied, for another change."""
        return any(
            message.revision <= anchor[0]
            and message.revision in self._recent
            and self._recent[message.revision] != message.anchor[1]
            for message in self._following.values()
        )

    def _reload(self, schema: str | None = None) -> None:
        """Forget every message: None, which forces the cache's full reload."""
        if schema is not None:
            self.schema = schema
        self._following.clear()
        self._aliases = None
        self._recent.clear()
        self._waiting_since = None

    def _remember(self, message: ChangeMessage) -> None:
        self._recent[message.revision] = message.anchor[1]
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        self._last_arrived = time.time()
        self._last_change = message.change.changed_at

    @property
    def last_lag(self) -> float:
        """Seconds from the last applied change's commit to its arrival here (0: none yet)."""
        change = self._last_change
        return 0.0 if change is None else max(0.0, self._last_arrived - change.timestamp())

    def _note_waiting(self) -> bool:
        """Track how long messages wait for a predecessor; whether it is too long."""
        if not self._following:
            self._waiting_since = None
            return False
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        return now - self._waiting_since >= GAP_WAIT_SECONDS


class _FromDatabase:
    def __init__(self, local: threading.local) -> None:
        self._local = local

    def __enter__(self) -> None:
        self._local.database = True

    def __exit__(self, *_: object) -> None:
        self._local.database = False


class _InMemory:
    def __init__(self, local: threading.local) -> None:
        self._local = local

    def __enter__(self) -> None:
        self._local.memory = True
        self._local.deferred = False

    def __exit__(self, *_: object) -> None:
        self._local.memory = False


_CATCH_UP: Final = object()
_OFFERED: Final = object()
"""Queued when a message was offered that the NATS loop did not apply itself."""


@dataclass(frozen=True, slots=True)
class _Subscribed:
    """Queued by a fresh subscription: catch up from the database, then report ``jetstream``.

    ``connection`` tells a subscription since replaced by a disconnection (still ``poll``).
    """

    connection: int


"""Queued when the stream could not say what happened before the subscription."""


class StreamFeed:
    """Follows the catalog's stream and keeps the cache current, from two daemon threads.

    Args:
        address: The NATS servers and the stream.
        source: Holds the messages for the cache.
        refresh: Brings the cache up to date, told what asked (``stream`` or ``poll``).
        on_failure: Told about each failed refresh.
        poll_interval: Seconds between polls of the database while the stream is away.
        refresh_if_free: The same refresh unless another one is under way (whether it ran);
            given, the NATS loop applies a message that continues the cache itself, from
            memory, instead of waking the applying thread for it.
    """

    def __init__(  # noqa: PLR0913 - the parts it is given, each named at the call
        self,
        address: FeedAddress,
        source: StreamSource,
        refresh: Callable[[Trigger], object],
        on_failure: Callable[[BaseException], None],
        poll_interval: float,
        *,
        refresh_if_free: Callable[[Trigger], bool] | None = None,
    ) -> None:
        """Start following (polling until NATS answers)."""
        self._address = address
        self._source = source
        self._refresh = refresh
        self._refresh_if_free = refresh_if_free
        self._stepping = threading.Lock()  # held by whichever thread refreshes for the feed
        self._on_failure = on_failure
        self._poll_interval = poll_interval
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._decoder = Decoder()
        self._stop = threading.Event()
        self._next_sequence: int | None = None
        # The last message received: its stream sequence (parsed from the reply subject) is
        # read only when subscribing again, not for every message.
        self._last: Msg | None = None
        self._subscription: Any = None
        self._connection = 0  # counts subscriptions and disconnections (on the NATS loop)
        self.transport: Transport = "poll"
        self.messages = 0
        """Messages received from the stream."""
        self.polls = 0
        """Refreshes read from the database (catching up, or polling while NATS is away)."""
        self.applied_on_loop = 0
        """Messages the NATS loop applied itself (the others woke the applying thread)."""
        self._thread = threading.Thread(target=self._apply, name="modelregistry-feed", daemon=True)
        self._thread.start()
        self._link = NatsLink(
            address, on_connected=self._subscribe, on_disconnected=self._disconnected
        )

    # -- on the NATS loop --------------------------------------------------------------

    async def _subscribe(self, js: JetStreamContext) -> None:
        from nats.js.api import ConsumerConfig, DeliverPolicy  # noqa: PLC0415 - the nats extra

        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception as exc:  # noqa: BLE001 - the old server is gone with it
                logger.debug("modelregistry feed: dropping the old subscription: %s", exc)
            self._subscription = None
        state = (await js.stream_info(self._address.stream)).state
        start = self._resume_at()
        resumed = start is not None and state.first_seq <= start <= state.last_seq + 1
        if not resumed:
            start = state.last_seq + 1
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
        self._next_sequence, self._last = start, None
        self._connection += 1
        if resumed:
            self.transport = "jetstream"
        else:
            # Reported once the database has been read: a reader that says ``jetstream``
            # holds everything committed before its subscription.
            self._queue.put(_Subscribed(self._connection))

    def _resume_at(self) -> int | None:
        """The stream sequence after the last message received (None: none yet)."""
        last, self._last = self._last, None
        if last is not None:
            try:
                self._next_sequence = last.metadata.sequence.stream + 1
            except Exception as exc:  # noqa: BLE001 - not a JetStream reply: resume as before
                logger.debug("modelregistry feed: no stream sequence in a message: %s", exc)
        return self._next_sequence

    async def _received(self, msg: Msg) -> None:
        self._last = msg
        self.messages += 1
        try:
            message = self._decoder.decode(msg.data)
        except Exception:  # a message of another kind, or damaged: the database is the truth
            logger.exception("modelregistry feed: a message could not be read")
            self._queue.put(_CATCH_UP)
            return
        self._source.offer(message)
        if not self._applied_here():
            self._queue.put(_OFFERED)

    def _applied_here(self) -> bool:
        """Apply what was offered on this (the NATS loop's) thread, if nothing else needs to.

        Only from memory, while the stream is the transport, no gap is being waited on and
        no other refresh is under way: a reader then spends no thread hand-off per message
        (issue 19: 100 readers on 2 cores). Anything else (a gap, a restore, a poll under
        way) is the applying thread's, which may read the database.
        """
        refresh = self._refresh_if_free
        if (
            refresh is None
            or self.transport != "jetstream"
            or self._source.waiting() is not None
            or not self._stepping.acquire(blocking=False)
        ):
            return False
        try:
            with self._source.in_memory():
                ran = refresh("stream")
            if not ran or self._source.deferred():
                return False
            self.applied_on_loop += 1
            # (A gap left waiting: the applying thread watches it and reads it if need be.)
            return self._source.waiting() is None
        except Exception:  # the applying thread tries again, and reports it
            logger.debug("modelregistry feed: applying on the NATS loop failed", exc_info=True)
            return False
        finally:
            self._stepping.release()

    def _disconnected(self) -> None:
        self._connection += 1
        self.transport = "poll"
        self._queue.put(None)  # wake the applying thread: it polls now

    # -- on the applying thread ---------------------------------------------------------

    def _apply(self) -> None:
        next_poll = time.monotonic() + self._poll_interval
        while not self._stop.is_set():
            timeout = max(0.0, next_poll - time.monotonic())
            if self._source.waiting() is not None:
                timeout = min(timeout, 0.1)
            batch = self._take(timeout)
            if self._stop.is_set():
                break
            subscribed = [item for item in batch if isinstance(item, _Subscribed)]
            catch_up = bool(subscribed) or any(item is _CATCH_UP for item in batch)
            polling = self.transport != "jetstream" and time.monotonic() >= next_poll
            if catch_up or polling:
                next_poll = time.monotonic() + self._poll_interval
                self._step("poll")
            elif batch or self._source.waiting() is not None:
                self._step("stream")
            if any(item.connection == self._connection for item in subscribed):
                self.transport = "jetstream"
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self._poll_interval

    def _step(self, trigger: Trigger) -> None:
        """One refresh: from the database for ``poll``, else from the messages received."""
        with self._stepping:
            self._step_now(trigger)

    def _step_now(self, trigger: Trigger) -> None:
        try:
            if trigger == "poll":
                self.polls += 1
                with self._source.from_database():
                    self._refresh(trigger)
            else:
                self._refresh(trigger)
        except ModelRegistryError as exc:
            self._on_failure(exc)
        except Exception as exc:  # never let the thread die: the cache would freeze
            logger.exception("modelregistry feed: refresh failed")
            self._on_failure(exc)

    def _take(self, timeout: float) -> list[object]:
        """Everything queued, waiting up to ``timeout`` for the first item."""
        try:
            batch = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    # -- lifecycle -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The transport, lag and counts (``get_stats()["cache"]``'s ``feed`` part)."""
        waiting = self._source.waiting()
        lag = self._source.last_lag if waiting is None else time.monotonic() - waiting
        return {
            "transport": self.transport,
            "stream": self._address.stream,
            "lag_seconds": round(lag, 6),
            "messages": self.messages,
            "polls": self.polls,
            "applied_on_loop": self.applied_on_loop,
            "gap_reads": self._source.gap_reads,
        }

    def abandon(self) -> None:
        """In a forked child: forget the parent's threads and connection, untouched."""
        self._link.abandon()
        self._stop.set()

    def close(self) -> None:
        """Stop both threads and close the connection (again: nothing)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._queue.put(None)
        self._link.close()
        self._thread.join(timeout=10)
