"""Publishing a writer's committed revisions to the JetStream change feed.

After each commit, :meth:`Publisher.publish` reads the revisions the write made (one snapshot:
:func:`~modelregistry.db.outbox.read_outbox`) and publishes them, each with its JetStream
message id, waiting for the stream's acknowledgement at most :data:`PUBLISH_TIMEOUT_SECONDS`.
Nothing is lost when this fails or the process dies first: the change is committed, and
``modelregistry relay`` publishes what the stream is missing.

In AsyncModelRegistry the publish runs inside the write's bridge call, on the event loop: its
waits (the acknowledgement, a first connection) are awaited there or made on a worker thread,
so the loop runs other tasks meanwhile (:func:`~modelregistry.db.bridge.wait_for_future`).
"""

from __future__ import annotations

import logging
import os
import signal
from typing import TYPE_CHECKING, Final

from modelregistry.cache.nats_link import NatsLink
from modelregistry.cache.wire import encode, messages_of
from modelregistry.db.bridge import blocking
from modelregistry.db.outbox import read_outbox

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from modelregistry.cache.wire import FeedAddress, Message
    from modelregistry.db.database import Database

logger = logging.getLogger(__name__)

_NONE: Final = 2**31 - 1
"""A revision after every one (an alias-only write publishes no revision)."""

PUBLISH_TIMEOUT_SECONDS: Final = 1.0
"""Longest wait for the stream to acknowledge a write's messages (then the relay's turn)."""
DIE_BEFORE_PUBLISH_VARIABLE: Final = "MODELREGISTRY_TEST_DIE_BEFORE_PUBLISH"
"""Test hook: when set to ``1``, a writer SIGKILLs itself after its commit, before publishing."""


async def publish_messages(js: JetStreamContext, address: FeedAddress, found: list[Message]) -> int:
    """Publish ``found`` in order; return how many the stream kept (not duplicates)."""
    kept = 0
    for message in found:
        ack = await js.publish(
            address.subject,
            encode(message),
            stream=address.stream,
            headers={"Nats-Msg-Id": message.message_id},
        )
        kept += not ack.duplicate
    return kept


class Publisher:
    """Publishes one process's writes to the feed at ``address``.

    Args:
        database: The catalog the writes go to.
        address: The NATS servers and the stream.
    """

    def __init__(self, database: Database, address: FeedAddress) -> None:
        """Begin connecting (a write made before NATS answers is left to the relay)."""
        self._database = database
        self._address = address
        self._link = NatsLink(address)

    def publish(self, revisions: tuple[int, int] | None, *, aliases: bool) -> None:
        """Publish the revisions in ``(after, upto]`` (None: none); the aliases if ``aliases``.

        Never raises: a failure is logged, and the relay publishes the change.
        """
        if os.environ.get(DIE_BEFORE_PUBLISH_VARIABLE) == "1":
            os.kill(os.getpid(), signal.SIGKILL)
        # A process's first write waits for its first connection; later, NATS away: no wait.
        # (In AsyncModelRegistry's bridge that wait is on a worker thread, off the loop.)
        connected = self._link.connected
        wait = 0.0 if self._link.ever_connected else PUBLISH_TIMEOUT_SECONDS
        if not connected.is_set() and not (wait and blocking(connected.wait, wait)):
            logger.debug("modelregistry feed: NATS is away; the relay publishes this change")
            return
        try:
            after, upto = (_NONE, _NONE) if revisions is None else revisions
            outbox = self._database.read(
                lambda repository: read_outbox(repository, after, upto, aliases=aliases),
                snapshot=True,
            )
            found = messages_of(outbox, aliases=aliases)
            self._link.run(
                publish_messages(self._link.js_context(), self._address, found),
                timeout=PUBLISH_TIMEOUT_SECONDS,
            )
        except Exception as exc:  # noqa: BLE001 - committed already: the relay catches up
            logger.warning("modelregistry feed: publishing failed (the relay will): %r", exc)

    @property
    def connected(self) -> bool:
        """Whether the connection to NATS is up (a write now is published at once)."""
        return self._link.connected.is_set()

    def after_fork(self) -> None:
        """In a forked child: a connection of its own."""
        self._link.abandon()
        self._link = NatsLink(self._address)

    def close(self) -> None:
        """Close the connection."""
        self._link.close()
