"""The change feed's messages on NATS JetStream: the address, and each message as JSON.

A feed URL is ``nats://host:port[,host:port...][/STREAM]``: the servers, and the JetStream
stream that carries one catalog's changes (default ``modelregistry``; one stream per
catalog). Two kinds of message go to the subject ``<STREAM>.changes``:

- a *change*: one revision (its number, the model's id, version, kind and new config), the
  anchor of the revision before it (its number and ``domain.history.fingerprint``: model id,
  version and commit time; the chain a reader checks), the model's price timeline
  and the schema revision. Its JetStream message id (``Nats-Msg-Id``) is
  ``<revision>.<model_id>.<version>``: JetStream drops a duplicate within its window;
- an *alias map*: every alias after the alias change numbered ``cursor`` (id ``a<cursor>``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from modelregistry.domain.history import ChangeKind, ModelRevision, fingerprint
from modelregistry.domain.models import ModelConfig
from modelregistry.domain.pricing import Price
from modelregistry.domain.rates import Rate
from modelregistry.errors import FeedConfigurationError

if TYPE_CHECKING:
    from modelregistry.db.outbox import Outbox
    from modelregistry.db.repository import Anchor

DEFAULT_STREAM: Final = "modelregistry"
"""The JetStream stream used when the feed URL names none."""
_STREAM_NAME: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SCHEMES: Final = frozenset({"nats", "tls"})
_KINDS: Final = {kind.value: kind for kind in ChangeKind}
"""Each change kind by its name (a dict lookup: calling the enum runs Python per message)."""
_TIMELINES_HELD: Final = 4096
"""Models whose last price timeline a :class:`Decoder` remembers before it forgets them all."""


@dataclass(frozen=True, slots=True)
class FeedAddress:
    """Where a catalog's change feed is: NATS servers and a JetStream stream.

    Attributes:
        servers: NATS server URLs.
        stream: The stream's name.
    """

    servers: tuple[str, ...]
    stream: str

    @property
    def subject(self) -> str:
        """The subject every message of the catalog goes to."""
        return f"{self.stream}.changes"

    @classmethod
    def parse(cls, url: str) -> FeedAddress:
        """Read a feed URL.

        Raises:
            FeedConfigurationError: E4060, not a ``nats://`` URL with a host, or a stream name
                other than 1-64 letters, digits, ``_`` and ``-``.
        """
        parts = urlsplit(url.strip())
        if parts.scheme not in _SCHEMES or not parts.netloc:
            msg = f"the feed URL must look like nats://host:port[/stream], not {url!r}"
            raise FeedConfigurationError(msg, field="feed")
        stream = parts.path.strip("/") or DEFAULT_STREAM
        if not _STREAM_NAME.fullmatch(stream):
            msg = f"the feed URL's stream name {stream!r} must be 1-64 letters, digits, '_' or '-'"
            raise FeedConfigurationError(msg, field="feed")
        servers = tuple(f"{parts.scheme}://{host}" for host in parts.netloc.split(","))
        return cls(servers=servers, stream=stream)


@dataclass(frozen=True, slots=True)
class ChangeMessage:
    """One revision, as published.

    Attributes:
        revision: Its catalog revision.
        change: The revision itself.
        previous: The anchor of the revision before it (``(0, None)``: the first).
        prices: The model's price timeline.
        schema: The database's schema revision when it was read.
    """

    revision: int
    change: ModelRevision
    previous: Anchor
    prices: tuple[Price, ...]
    schema: str | None

    @property
    def anchor(self) -> Anchor:
        """The anchor a cache holding this revision has."""
        change = self.change
        return (self.revision, fingerprint(change.model_id, change.version, change.changed_at))

    @property
    def message_id(self) -> str:
        """The JetStream message id: a duplicate of it is dropped."""
        return f"{self.revision}.{self.change.model_id}.{self.change.version}"


@dataclass(frozen=True, slots=True)
class AliasMessage:
    """The whole alias map after the alias change numbered ``cursor``."""

    cursor: int
    aliases: dict[str, str]
    schema: str | None

    @property
    def message_id(self) -> str:
        """The JetStream message id: a duplicate of it is dropped."""
        return f"a{self.cursor}"


Message = ChangeMessage | AliasMessage


def messages_of(outbox: Outbox, *, aliases: bool) -> list[Message]:
    """The messages that publish ``outbox`` (``aliases``: with the alias map)."""
    found: list[Message] = [
        ChangeMessage(
            revision, change, previous, outbox.prices.get(change.model_id, ()), outbox.schema
        )
        for revision, change, previous in outbox.changes
    ]
    if aliases and outbox.alias_cursor:
        found.append(AliasMessage(outbox.alias_cursor, outbox.aliases, outbox.schema))
    return found


def encode(message: Message) -> bytes:
    """The message as JSON."""
    if isinstance(message, AliasMessage):
        body: dict[str, Any] = {
            "type": "aliases",
            "cursor": message.cursor,
            "aliases": message.aliases,
            "schema": message.schema,
        }
    else:
        change = message.change
        number, previous = message.previous
        body = {
            "type": "change",
            "revision": message.revision,
            "previous": [
                number,
                None if previous is None else [previous[0], previous[1], previous[2].isoformat()],
            ],
            "model_id": change.model_id,
            "version": change.version,
            "change": change.change.value,
            # Every field, defaults included: a message stays in the stream for readers of
            # other versions and languages, whose defaults may differ.
            "config": change.config.model_dump(mode="json", exclude={"version"}),
            "changed_at": change.changed_at.isoformat(),
            "actor": change.actor,
            "reason": change.reason,
            "prices": [_price_document(price) for price in message.prices],
            "schema": message.schema,
        }
    return json.dumps(body, separators=(",", ":")).encode()


def decode(data: bytes) -> Message:
    """A message from its JSON (validated as the database's rows are).

    Raises:
        ValueError: not a message of this feed.
    """
    return Decoder().decode(data)


class Decoder:
    """:func:`decode`, remembering each model's last price timeline.

    A model's prices rarely change: a message whose price documents equal the last ones of
    its model gets the same (immutable) timeline back, not decoded again, and a snapshot
    holding that timeline need not merge it (``Snapshot.apply`` checks identity).
    """

    def __init__(self) -> None:
        """Remember nothing yet."""
        self._prices: dict[str, tuple[list[Any], tuple[Price, ...]]] = {}

    def decode(self, data: bytes) -> Message:
        """A message from its JSON (validated as the database's rows are).

        Raises:
            ValueError: not a message of this feed.
        """
        body = json.loads(data)
        if body["type"] == "aliases":
            return AliasMessage(int(body["cursor"]), dict(body["aliases"]), body["schema"])
        number, previous = body["previous"]
        version = int(body["version"])
        model_id = body["model_id"]
        change = ModelRevision(
            model_id=model_id,
            version=version,
            config=ModelConfig.stored(body["config"], version),
            change=_KINDS.get(body["change"]) or ChangeKind(body["change"]),
            changed_at=datetime.fromisoformat(body["changed_at"]),
            actor=body["actor"],
            reason=body["reason"],
        )
        return ChangeMessage(
            revision=int(body["revision"]),
            change=change,
            previous=(
                int(number),
                None
                if previous is None
                else fingerprint(
                    previous[0], int(previous[1]), datetime.fromisoformat(previous[2])
                ),
            ),
            prices=self._timeline(model_id, body["prices"]),
            schema=body["schema"],
        )

    def _timeline(self, model_id: str, documents: list[Any]) -> tuple[Price, ...]:
        held = self._prices.get(model_id)
        if held is not None and held[0] == documents:
            return held[1]
        timeline = tuple(_price(document) for document in documents)
        if len(self._prices) >= _TIMELINES_HELD:
            self._prices.clear()
        self._prices[model_id] = (documents, timeline)
        return timeline


def _price_document(price: Price) -> dict[str, Any]:
    cached = price.cached_input_per_1m
    return {
        "model_id": price.model_id,
        "input_per_1m": str(price.input_per_1m),
        "output_per_1m": str(price.output_per_1m),
        "cached_input_per_1m": None if cached is None else str(cached),
        "effective_from": price.effective_from.isoformat(),
        "recorded_at": price.recorded_at.isoformat(),
        "actor": price.actor,
        "reason": price.reason,
        "currency": price.currency,
        "rates": [
            [rate.service_tier, rate.above_tokens, rate.component, str(rate.amount)]
            for rate in price.rates
        ],
    }


def _price(document: dict[str, Any]) -> Price:
    cached = document["cached_input_per_1m"]
    return Price(
        model_id=document["model_id"],
        input_per_1m=Decimal(document["input_per_1m"]),
        output_per_1m=Decimal(document["output_per_1m"]),
        cached_input_per_1m=None if cached is None else Decimal(cached),
        effective_from=datetime.fromisoformat(document["effective_from"]),
        recorded_at=datetime.fromisoformat(document["recorded_at"]),
        actor=document["actor"],
        reason=document["reason"],
        currency=document["currency"],
        # (A message from a writer before issue 17 has no rates: its prices had none.)
        rates=tuple(
            Rate(component, Decimal(amount), tier, above)
            for tier, above, component, amount in document.get("rates", ())
        ),
    )
