"""Repository: the catalog's queries and writes through one session; never commits.

It returns domain objects and knows nothing of transactions: :class:`~modelregistry.db.
database.Database` owns them. Every list is ordered in SQL: model ids by code point (the
columns use the ``C`` collation on PostgreSQL and SQLite's binary collation), names likewise.
Capability queries go through the ``model_capabilities`` join table and provider queries
through the provider index; nothing is filtered in Python.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

import sqlalchemy as sa

from modelregistry.db import restatements
from modelregistry.db.engine import among, insert_many, lock_for_writes
from modelregistry.db.mapping import (
    alias_from_row,
    config_document,
    config_document_text,
    model_from_row,
    model_values,
    price_from_row,
    price_values,
    rate_from_row,
    rate_values,
    revision_from_row,
    tag_rows,
)
from modelregistry.db.notify import announcement
from modelregistry.db.pipeline import lock_then_read
from modelregistry.db.statements import (
    ALIAS_CURSOR,
    LINKS_TABLE,
    MODEL_BY_ID,
    MODELS,
    MODELS_TABLE,
    PRICES_TABLE,
    RATES_TABLE,
    REVISIONS,
    REVISIONS_TABLE,
    TAGS_TABLE,
    find_statement,
    revisions_from,
    with_capability_ids,
)
from modelregistry.db.tables import (
    CapabilityRow,
    ModelAliasRow,
    ModelCapabilityRow,
    ModelPriceRateRow,
    ModelPriceRow,
    ModelRevisionRow,
    ModelRow,
    ModelTagRow,
    ProviderRow,
)
from modelregistry.domain import clock
from modelregistry.domain.history import Fingerprint, fingerprint, same_change
from modelregistry.domain.pricing import restated
from modelregistry.domain.rates import Rate, ordered

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping

    from sqlalchemy import Connection, RowMapping

    from modelregistry.domain.aliases import AliasState
    from modelregistry.domain.history import ChangeKind, ChangeNote, ModelRevision
    from modelregistry.domain.models import ModelConfig, ModelStatus
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.query import ModelQuery

T = TypeVar("T")

Anchor = tuple[int, Fingerprint | None]
"""A catalog revision and the fingerprint of its change (``domain.history.fingerprint``):
which database, and which timeline of it (a restored backup replays ids and versions)."""


_NEWEST_REVISION: Final = (
    sa.select(
        ModelRevisionRow.id,
        ModelRevisionRow.model_id,
        ModelRevisionRow.version,
        ModelRevisionRow.changed_at,
    )
    .order_by(ModelRevisionRow.id.desc())
    .limit(1)
)
"""The catalog's newest revision: its number, model, version and commit time."""


def model_row(connection: Connection, model_id: str, at: datetime) -> RowMapping | None:
    """The row of the model ``model_id`` (exact) with its prices in effect at ``at``, or None.

    A function of a connection, not a session, so that a single read needs no
    :class:`~sqlalchemy.orm.Session` (see :meth:`Database.get_model
    <modelregistry.db.database.Database.get_model>`).
    """
    parameters = {"model_id": model_id, "at": at}
    return connection.execute(MODEL_BY_ID, parameters).mappings().one_or_none()


def model_at(connection: Connection, model_id: str, at: datetime) -> ModelConfig | None:
    """The model ``model_id`` (exact) with its prices in effect at ``at``, or None."""
    row = model_row(connection, model_id, at)
    return None if row is None else model_from_row(row)


def _anchor_statements() -> tuple[sa.Select[Any], sa.Select[Any]]:
    last_change = sa.select(sa.func.max(ModelRevisionRow.changed_at)).scalar_subquery()
    newest = _NEWEST_REVISION.subquery()
    # The newest revision comes in the same row (none: an empty log).
    one = sa.select(sa.literal(1).label("one")).subquery()
    rows = one.outerjoin(newest, sa.true())
    columns = (
        last_change,
        newest.c.id,
        newest.c.model_id,
        newest.c.version,
        newest.c.changed_at,
    )
    anchor = sa.select(*columns).select_from(rows)
    return anchor, sa.select(sa.func.clock_timestamp(), *columns).select_from(rows)


_ANCHOR, _CLOCK_AND_ANCHOR = _anchor_statements()
"""After the write lock: the last change's time and the newest revision (none: an empty
log); on PostgreSQL, the database clock first, in the same round trip."""
_CHANGES_SINCE: Final = (
    sa.select(*REVISIONS.selected_columns, ALIAS_CURSOR.label("alias_cursor"))
    .where(revisions_from(sa.bindparam("revision")))
    .order_by(ModelRevisionRow.id)
)
"""The change feed's read: the anchor's revision and every one after (built once)."""


class Repository:
    """Reads and writes the catalog through one connection; the caller owns the transaction."""

    def __init__(self, session: Connection) -> None:
        """Wrap the unit's connection ``session``; nothing is executed yet."""
        self._session = session
        self._read_at: datetime | None = None
        # In a write (the catalog's write lock held): the stored version of each model read or
        # written here, so a single-model write need not ask for max(version) (a stored
        # model's row carries its newest version; only a removed model's is in its history).
        self._versions: dict[str, int] | None = None
        self.anchor_before: Anchor | None = None
        """In a write: the catalog's revision when the write lock was taken (see
        :meth:`catalog_anchor`); the writer's own cache applies its change on top of it."""
        self.known: Callable[[str], ModelConfig | None] | None = None
        """In a write, until its first change: every stored model by id, as :meth:`get`
        would read it now (the writer's cache at :attr:`anchor_before`, showing the prices
        of the write's time); :meth:`get` answers from it instead of reading the row."""

    def _connection(self) -> Connection:
        return self._session

    @property
    def session(self) -> Connection:
        """The connection the repository works through (its caller owns the transaction).

        A Core connection (no ``sqlalchemy.orm`` session): every statement is Core.
        """
        return self._session

    @property
    def read_at(self) -> datetime:
        """The instant whose prices models show: the write's time in a write, else now."""
        return clock.now() if self._read_at is None else self._read_at

    def fix_read_at(self) -> datetime:
        """Fix the instant whose prices this unit's reads show from now on; return it.

        A read of several statements that must show one instant's prices throughout (a
        cache's full load: the models, then the timelines it expires by) fixes it first. In a
        write the write's time is fixed already, and stays.
        """
        if self._read_at is None:
            self._read_at = clock.now()
        return self._read_at

    def _at(self) -> dict[str, datetime]:
        return {"at": self.read_at}

    # -- reads -----------------------------------------------------------------------------

    def get(self, model_id: str) -> ModelConfig | None:
        """Return the model ``model_id`` (exact, case-sensitive), or None."""
        known = self.known
        if known is not None:
            model = known(model_id)
            if model is not None and model.version is not None and self._versions is not None:
                self._versions[model_id] = model.version
            return model
        # Core execution on the session's connection: the ORM's statement handling is a third
        # of a cache=False get_model on SQLite, for a statement that loads no ORM objects.
        row = model_row(self._connection(), model_id, self.read_at)
        if row is None:
            return None
        if self._versions is not None:
            self._versions[model_id] = row["version"]
        return model_from_row(row)

    def list_models(
        self,
        *,
        provider: str | None = None,
        status: ModelStatus | None = None,
        capabilities: Collection[str] = (),
    ) -> list[ModelConfig]:
        """Return the models matching every given filter, ordered by model id.

        Args:
            provider: Provider name (already normalised), or None for every provider.
            status: Status, or None for every status.
            capabilities: Canonical capability names the model must all have.
        """
        query = MODELS
        if provider is not None:
            query = query.where(ProviderRow.name == provider)
        if status is not None:
            query = query.where(ModelRow.status == status.value)
        if capabilities:
            query = query.where(ModelRow.id.in_(with_capability_ids(set(capabilities))))
        rows = self._session.execute(query.order_by(ModelRow.model_id), self._at()).mappings()
        return [model_from_row(row) for row in rows]

    def find(self, query: ModelQuery) -> list[ModelConfig]:
        """Answer the selection query in SQL (the cache answers it from memory alike)."""
        if query.impossible:
            return []
        sqlite = self._session.dialect.name == "sqlite"
        statement = find_statement(query, sqlite=sqlite)
        rows = self._session.execute(statement, self._at()).mappings()
        return [model_from_row(row) for row in rows]

    def retiring(self, until: date) -> list[ModelConfig]:
        """Models whose retirement date is on or before ``until``, soonest first."""
        query = MODELS.where(ModelRow.retirement_date <= until).order_by(
            ModelRow.retirement_date, ModelRow.model_id
        )
        return [model_from_row(row) for row in self._session.execute(query, self._at()).mappings()]

    def providers_in_use(self) -> list[str]:
        """Names of providers that have at least one model, sorted."""
        used = sa.exists().where(ModelRow.provider_id == ProviderRow.id)
        query = sa.select(ProviderRow.name).where(used).order_by(ProviderRow.name)
        return list(self._session.scalars(query))

    def capabilities_in_use(self) -> list[str]:
        """Names of capabilities at least one model has, sorted."""
        used = sa.exists().where(ModelCapabilityRow.capability_id == CapabilityRow.id)
        query = sa.select(CapabilityRow.name).where(used).order_by(CapabilityRow.name)
        return list(self._session.scalars(query))

    def count_by_status(self) -> dict[str, int]:
        """Number of models per status value (statuses without models are absent)."""
        query = sa.select(ModelRow.status, sa.func.count()).group_by(ModelRow.status)
        return dict(self._session.execute(query).all())

    def count_by_provider(self) -> dict[str, int]:
        """Number of models per provider name, ordered by name."""
        query = (
            sa.select(ProviderRow.name, sa.func.count())
            .join(ModelRow, ModelRow.provider_id == ProviderRow.id)
            .group_by(ProviderRow.name)
            .order_by(ProviderRow.name)
        )
        return dict(self._session.execute(query).all())

    # -- writes ----------------------------------------------------------------------------

    def lock_for_write(self) -> datetime:
        """Serialise this write transaction with every other writer; return the write's time.

        PostgreSQL takes a transaction-scoped advisory lock and reads the database clock after
        it, so write times follow commit order. SQLite writers already hold the database's
        write lock (``BEGIN IMMEDIATE``), and the clock is this machine's, in UTC.
        """
        connection = self._connection()
        self._versions = {}
        # Statements built once (see _ANCHOR): no statement construction nor cache-key
        # generation per write.
        if connection.dialect.name == "sqlite":
            lock_for_writes(connection)
            now = clock.now()
            found = list(connection.execute(_ANCHOR).one())
        else:
            # BEGIN, the lock, then the clock and the rest: one round trip (db/pipeline.py).
            # Its values come as the driver gives them: the instants in the session's zone.
            now, *found = lock_then_read(connection, _CLOCK_AND_ANCHOR)
        previous, number, model_id, version, changed_at = found
        if previous is not None:
            previous = previous.astimezone(UTC)
        if changed_at is not None:
            changed_at = changed_at.astimezone(UTC)
        self.anchor_before = (
            (0, None)
            if number is None
            else (int(number), fingerprint(model_id, int(version), changed_at))
        )
        # Never before the previous change, even if the clock stepped back: point-in-time
        # reads rely on change times growing with the change sequence.
        if previous is not None and now <= previous:
            now = previous + timedelta(microseconds=1)
        self._read_at = now.astimezone(UTC)
        return self._read_at

    def save(self, config: ModelConfig, *, version: int, now: datetime) -> None:
        """Insert ``config`` at ``version``, or replace the stored model with the same id."""
        self.save_many([(config, version)], now=now)

    def save_many(
        self,
        items: list[tuple[ModelConfig, int]],
        *,
        now: datetime,
        existing: Collection[str] | None = None,
    ) -> None:
        """Insert or replace each ``(config, version)``, in a few statements for all of them.

        ``existing``: the ids of every model stored now, when the caller has read them in this
        transaction (an import has); the others are inserted without being looked up first.
        """
        self.known = None  # (the models change here: read them from now on)
        if not items:
            return
        if self._versions is not None:
            self._versions.update((config.model_id, version) for config, version in items)
        providers = self._name_ids(ProviderRow, {config.provider for config, _ in items})
        names = [sorted(config.capabilities.names()) for config, _ in items]
        capabilities = self._name_ids(CapabilityRow, {name for some in names for name in some})
        keys = self._model_keys(
            [
                config.model_id
                for config, _ in items
                if existing is None or config.model_id in existing
            ]
        )
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for config, version in items:
            values = model_values(config)
            values.update(provider_id=providers[config.provider], updated_at=now, version=version)
            if config.model_id in keys:
                updates.append({**values, "key": keys[config.model_id]})
            else:
                inserts.append({**values, "model_id": config.model_id, "created_at": now})
        if len(inserts) == 1:
            added = self._session.execute(
                sa.insert(ModelRow).returning(ModelRow.model_id, ModelRow.id), inserts[0]
            )
            keys.update(dict(added.all()))
        elif inserts:
            # Without RETURNING (then one query for the new keys): with it, SQLAlchemy sends
            # one VALUES list per 1,000 rows, and psycopg parses their tens of thousands of
            # placeholders in Python (0.5 s of a 3,000-model import).
            insert_many(self._connection(), MODELS_TABLE, inserts)
            keys.update(self._model_keys([row["model_id"] for row in inserts]))
        if updates:
            # By primary key (``key``, a bind name that is no column: SET leaves ``id`` alone).
            by_key = sa.update(ModelRow).where(ModelRow.id == sa.bindparam("key"))
            self._session.execute(by_key, updates)
            for chunk in _chunks([row["key"] for row in updates]):
                self._session.execute(
                    sa.delete(ModelCapabilityRow).where(ModelCapabilityRow.model_pk.in_(chunk))
                )
                self._session.execute(sa.delete(ModelTagRow).where(ModelTagRow.model_pk.in_(chunk)))
        links = [
            {"model_pk": keys[config.model_id], "capability_id": capabilities[name]}
            for (config, _), some in zip(items, names, strict=True)
            for name in some
        ]
        insert_many(self._connection(), LINKS_TABLE, links)
        tags = [row for config, _ in items for row in tag_rows(keys[config.model_id], config)]
        insert_many(self._connection(), TAGS_TABLE, tags)

    def update_model(  # noqa: PLR0913 - the change and its revision's parts, keyword-only
        self,
        previous: ModelConfig,
        config: ModelConfig,
        *,
        version: int,
        now: datetime,
        kind: ChangeKind,
        note: ChangeNote,
    ) -> int:
        """Replace the stored ``previous`` by ``config`` at ``version`` and record the revision.

        Writes only what changed: the provider, the capability links and the tags are touched
        only when they changed. On PostgreSQL the UPDATE of the changed columns, the revision's
        INSERT and the NOTIFY to other processes (:func:`~modelregistry.db.notify.announce`,
        sent at commit) are one statement. Returns the revision's number.
        """
        self.known = None  # (the models change here: read them from now on)
        old = model_values(previous)
        values = {key: value for key, value in model_values(config).items() if old[key] != value}
        if config.provider != previous.provider:
            values["provider_id"] = self._name_ids(ProviderRow, {config.provider})[config.provider]
        values.update(version=version, updated_at=now)
        if self._versions is not None:
            self._versions[config.model_id] = version
        if previous.tags != config.tags:
            self._replace_tags(config)
        had, has = previous.capabilities.names(), config.capabilities.names()
        if had != has:
            self._relink(config.model_id, had, has)
        # The statement for these columns is built once (see _update_statement): only the
        # parameters are new per write.
        parameters = {_SET + key: value for key, value in values.items()}
        parameters[_TARGET] = config.model_id
        connection = self._connection()
        sqlite = connection.dialect.name == "sqlite"
        statement = _update_statement(tuple(values), sqlite=sqlite)
        if sqlite:
            connection.execute(statement, parameters)
            return self.append_revisions([(config, version, kind)], now=now, note=note)[0]
        row = _revision_row(config, version, kind, now=now, note=note)
        parameters.update((_NEW + key, value) for key, value in row.items())
        return int(connection.execute(statement, parameters).one()[0])

    def _relink(self, model_id: str, had: frozenset[str], has: frozenset[str]) -> None:
        key = self._model_keys([model_id])[model_id]
        if had - has:
            dropped = self._name_ids(CapabilityRow, set(had - has))
            self._session.execute(
                sa.delete(ModelCapabilityRow).where(
                    ModelCapabilityRow.model_pk == key,
                    ModelCapabilityRow.capability_id.in_(dropped.values()),
                )
            )
        if has - had:
            added = self._name_ids(CapabilityRow, set(has - had))
            links = [{"model_pk": key, "capability_id": added[name]} for name in sorted(added)]
            insert_many(self._connection(), LINKS_TABLE, links)

    def _replace_tags(self, config: ModelConfig) -> None:
        key = self._model_keys([config.model_id])[config.model_id]
        self._session.execute(sa.delete(ModelTagRow).where(ModelTagRow.model_pk == key))
        insert_many(self._connection(), TAGS_TABLE, tag_rows(key, config))

    def delete(self, model_id: str) -> None:
        """Delete the model (its capability links go with it); its revisions stay."""
        self.known = None  # (the models change here: read them from now on)
        self._session.execute(sa.delete(ModelRow).where(ModelRow.model_id == model_id))
        if self._versions is not None:
            self._versions.pop(model_id, None)

    def append_revisions(
        self,
        entries: list[tuple[ModelConfig, int, ChangeKind]],
        *,
        now: datetime,
        note: ChangeNote,
    ) -> list[int]:
        """Record each ``(config, version, change)``; return their numbers, in order.

        The last number is the catalog's new revision.
        """
        self.known = None  # (the models change here: read them from now on)
        connection = self._connection()
        if len(entries) == 1:
            config, version, change = entries[0]
            row = _revision_row(config, version, change, now=now, note=note)
            return [int(connection.execute(_INSERT_REVISION, row).one()[0])]
        rows = [
            {
                **_revision_row(config, version, change, now=now, note=note, document=False),
                "config": config_document_text(config),
            }
            for config, version, change in entries
        ]
        insert_many(connection, REVISIONS_TABLE, rows, json_text=("config",))  # see save_many
        # Writers hold the catalog's write lock: the newest revisions are the ones just added,
        # numbered in the order of their rows (COPY and INSERT take the sequence row by row).
        newest = connection.execute(_NEWEST_NUMBERS, {"count": len(rows)}).scalars().all()
        return [int(number) for number in reversed(newest)]

    def refresh_statistics(self) -> None:
        """Update the planner's statistics of the catalog tables (PostgreSQL ``ANALYZE``).

        After a bulk import, until autovacuum gets to it, PostgreSQL would plan the change
        feed's query on stale row counts (a sequential scan instead of the primary key).
        A revision's document is left out: no query filters on it, and sampling it was half
        the statement's time.
        """
        if self._session.dialect.name != "sqlite":
            self._session.execute(_ANALYZE)

    # -- change log ------------------------------------------------------------------------

    def catalog_anchor(self) -> Anchor:
        """The catalog's revision and its change's fingerprint (None: no change)."""
        row = self._session.execute(_NEWEST_REVISION).one_or_none()
        if row is None:
            return (0, None)
        return (row.id, fingerprint(row.model_id, row.version, row.changed_at))

    def changes_since(
        self, anchor: Anchor, known: Mapping[tuple[str, int], ModelConfig] | None = None
    ) -> tuple[list[tuple[int, ModelRevision]], int] | None:
        """Every change after the anchor's revision, and the newest alias change's number.

        Changes come oldest first, each with its sequence number; the alias change's number
        is the cache's alias cursor. One statement, which is all a poll that finds nothing
        costs. ``known``: configs this process just wrote, by ``(model_id, version)``; their
        revisions reuse them instead of validating the stored documents again.

        None when the change numbered like the anchor is not the anchor's change (or is
        gone): this is not the database the anchor came from (restored, replaced, recreated),
        so only a full reload is right.
        """
        revision = anchor[0]
        rows = self._session.execute(_CHANGES_SINCE, {"revision": revision}).mappings().all()
        cursor = int(rows[0]["alias_cursor"] or 0) if rows else self.alias_cursor()
        if revision > 0:
            if not rows or rows[0]["id"] != revision:
                return None
            first = rows[0]
            found = fingerprint(first["model_id"], first["version"], first["changed_at"])
            if not same_change(anchor, (revision, found)):
                return None  # the same number, another change: a restored backup
            rows = rows[1:]
        known = known or {}
        changes = [
            (row["id"], revision_from_row(row, known.get((row["model_id"], row["version"]))))
            for row in rows
        ]
        return changes, cursor

    # -- prices ----------------------------------------------------------------------------

    def price_timelines(
        self, model_ids: list[str] | None = None, *, as_of: datetime | None = None
    ) -> dict[str, tuple[Price, ...]]:
        """The prices of each model (of ``model_ids``, or of all), in effect order.

        Only the prices that count at ``as_of`` (None: now): a restated timeline replaces the
        prices recorded before its restatement (:func:`~modelregistry.domain.pricing.restated`).
        """
        # One statement: each price with its rates beside it (a price without: one row, NULLs).
        rate = ModelPriceRateRow
        query = (
            sa.select(
                *ModelPriceRow.__table__.columns,
                rate.service_tier,
                rate.above_tokens,
                rate.component,
                rate.amount,
            )
            .outerjoin(rate, rate.price_id == ModelPriceRow.id)
            .order_by(ModelPriceRow.model_id, ModelPriceRow.effective_from, ModelPriceRow.id)
        )
        rows: dict[str, list[tuple[int, Price]]] = {}
        dialect = self._session.dialect
        chunks = (
            [query]
            if model_ids is None
            else [query.where(ids) for ids in among(dialect, ModelPriceRow.model_id, model_ids)]
        )
        for statement in chunks:
            grouped: dict[int, tuple[RowMapping, list[Rate]]] = {}
            for row in self._session.execute(statement).mappings():
                _, rates = grouped.setdefault(row["id"], (row, []))
                if row["component"] is not None:
                    rates.append(rate_from_row(row))
            for price_id, (row, rates) in grouped.items():  # (dicts keep the SQL order)
                price = price_from_row(row, ordered(rates))
                rows.setdefault(row["model_id"], []).append((price_id, price))
        marks = restatements.restatements(self._session, model_ids)
        timelines = {
            model_id: tuple(restated(prices, marks.get(model_id, ()), as_of))
            for model_id, prices in rows.items()
        }
        return {model_id: prices for model_id, prices in timelines.items() if prices}

    def timeline(self, model_id: str, *, as_of: datetime | None = None) -> tuple[Price, ...]:
        """The prices of ``model_id`` that count at ``as_of`` (empty: never priced)."""
        return self.price_timelines([model_id], as_of=as_of).get(model_id, ())

    def add_prices(self, prices: list[Price]) -> None:
        """Record ``prices`` (each applies from its ``effective_from``) and their rates."""
        self.known = None  # (the models change here: read them from now on)
        connection = self._connection()
        rates: list[dict[str, Any]] = []
        batch: list[dict[str, Any]] = []
        for price in prices:  # in order: ids keep the order of recording
            if not price.rates:
                batch.append(price_values(price))
                continue
            insert_many(connection, PRICES_TABLE, batch)
            batch = []
            price_id = connection.execute(  # its id first (few prices have rates)
                sa.insert(PRICES_TABLE).values(price_values(price)).returning(PRICES_TABLE.c.id)
            ).scalar_one()
            rates.extend(rate_values(price_id, rate) for rate in price.rates)
        insert_many(connection, PRICES_TABLE, batch)
        insert_many(connection, RATES_TABLE, rates)

    # -- aliases ---------------------------------------------------------------------------

    def alias_states(self) -> list[AliasState]:
        """The newest change of every alias that is set, by alias."""
        newest = (
            sa.select(sa.func.max(ModelAliasRow.id)).group_by(ModelAliasRow.alias).scalar_subquery()
        )
        query = (
            sa.select(*ModelAliasRow.__table__.columns)
            .where(ModelAliasRow.id.in_(newest), ModelAliasRow.model_id.is_not(None))
            .order_by(ModelAliasRow.alias)
        )
        return [alias_from_row(row) for row in self._session.execute(query).mappings()]

    def aliases(self) -> dict[str, str]:
        """Every alias that is set and the model id it names, by alias."""
        return {state.alias: state.model_id for state in self.alias_states()}

    def alias_target(self, alias: str) -> str | None:
        """The model id ``alias`` names now, or None."""
        query = (
            sa.select(ModelAliasRow.model_id)
            .where(ModelAliasRow.alias == alias)
            .order_by(ModelAliasRow.id.desc())
            .limit(1)
        )
        return self._session.scalar(query)

    def resolve(self, name: str) -> str:
        """The model id an alias names; any other name as it is."""
        return self.alias_target(name) or name

    def alias_cursor(self) -> int:
        """The number of the newest alias change (0: none ever)."""
        return self._session.scalar(sa.select(sa.func.max(ModelAliasRow.id))) or 0

    def add_alias_change(
        self, alias: str, model_id: str | None, *, now: datetime, note: ChangeNote
    ) -> None:
        """Record that ``alias`` names ``model_id`` from ``now`` (None: removed)."""
        self.known = None  # (the models change here: read them from now on)
        self._session.execute(
            sa.insert(ModelAliasRow).values(
                alias=alias,
                model_id=model_id,
                changed_at=now,
                actor=note.actor,
                reason=note.reason,
            )
        )

    # -- history ---------------------------------------------------------------------------

    def last_versions(self, model_ids: list[str]) -> dict[str, int]:
        """The newest version of each of ``model_ids`` that ever existed (others absent)."""
        versions: dict[str, int] = {}
        dialect = self._session.dialect
        for ids in among(dialect, ModelRevisionRow.model_id, model_ids):
            query = (
                sa.select(ModelRevisionRow.model_id, sa.func.max(ModelRevisionRow.version))
                .where(ids)
                .group_by(ModelRevisionRow.model_id)
            )
            versions.update(dict(self._session.execute(query).all()))
        return versions

    def last_version(self, model_id: str) -> int:
        """The newest version of ``model_id`` (a removal counts), or 0 if it never existed."""
        known = None if self._versions is None else self._versions.get(model_id)
        if known is not None:
            return known
        query = sa.select(sa.func.max(ModelRevisionRow.version)).where(
            ModelRevisionRow.model_id == model_id
        )
        return self._session.scalar(query) or 0

    def history(self, model_id: str) -> list[ModelRevision]:
        """Every revision of ``model_id``, oldest first."""
        query = REVISIONS.where(ModelRevisionRow.model_id == model_id).order_by(
            ModelRevisionRow.version
        )
        return [revision_from_row(row) for row in self._session.execute(query).mappings()]

    def revision(self, model_id: str, version: int) -> ModelRevision | None:
        """Revision ``version`` of ``model_id``, or None."""
        query = REVISIONS.where(
            ModelRevisionRow.model_id == model_id, ModelRevisionRow.version == version
        )
        row = self._session.execute(query).mappings().one_or_none()
        return None if row is None else revision_from_row(row)

    def revision_as_of(self, model_id: str, when: datetime) -> ModelRevision | None:
        """The newest revision of ``model_id`` committed at or before ``when``, or None."""
        query = (
            REVISIONS.where(
                ModelRevisionRow.model_id == model_id, ModelRevisionRow.changed_at <= when
            )
            .order_by(ModelRevisionRow.version.desc())
            .limit(1)
        )
        row = self._session.execute(query).mappings().one_or_none()
        return None if row is None else revision_from_row(row)

    def revisions_as_of(self, when: datetime) -> list[ModelRevision]:
        """The newest revision of every model as of ``when`` (removals included), by id."""
        latest = (
            sa.select(
                ModelRevisionRow.model_id,
                sa.func.max(ModelRevisionRow.version).label("version"),
            )
            .where(ModelRevisionRow.changed_at <= when)
            .group_by(ModelRevisionRow.model_id)
            .subquery()
        )
        query = REVISIONS.join(
            latest,
            sa.and_(
                latest.c.model_id == ModelRevisionRow.model_id,
                latest.c.version == ModelRevisionRow.version,
            ),
        ).order_by(ModelRevisionRow.model_id)
        return [revision_from_row(row) for row in self._session.execute(query).mappings()]

    def _model_keys(self, model_ids: list[str]) -> dict[str, int]:
        keys: dict[str, int] = {}
        dialect = self._session.dialect
        for ids in among(dialect, ModelRow.model_id, model_ids):
            query = sa.select(ModelRow.model_id, ModelRow.id).where(ids)
            keys.update(dict(self._session.execute(query).all()))
        return keys

    def _name_ids(
        self, table: type[ProviderRow | CapabilityRow], names: set[str]
    ) -> dict[str, int]:
        """The ids of provider or capability ``names``, inserting the new ones."""
        if not names:
            return {}
        query = sa.select(table.name, table.id).where(table.name.in_(names))
        found: dict[str, int] = dict(self._session.execute(query).all())
        missing = sorted(names - found.keys())
        if missing:
            added = self._session.execute(
                sa.insert(table).returning(table.name, table.id),
                [{"name": name} for name in missing],
            )
            found.update(dict(added.all()))
        return found


_SET: Final = "set_"
"""Prefix of the parameters of an UPDATE's new column values (a bound parameter may not
have a column's name)."""
_NEW: Final = "new_"
"""Prefix of the parameters of the revision inserted with an UPDATE (PostgreSQL)."""
_TARGET: Final = "target_model_id"
"""The parameter naming the model an UPDATE changes."""
_ANALYZE: Final = sa.text(
    "ANALYZE models, model_capabilities, model_revisions ("
    + ", ".join(column.name for column in REVISIONS_TABLE.columns if column.name != "config")
    + "), providers"
)
"""The planner statistics an import refreshes (see :meth:`Repository.refresh_statistics`)."""
_INSERT_REVISION: Final = REVISIONS_TABLE.insert().returning(REVISIONS_TABLE.c.id)
_NEWEST_NUMBERS: Final = (
    sa.select(REVISIONS_TABLE.c.id)
    .order_by(REVISIONS_TABLE.c.id.desc())
    .limit(sa.bindparam("count", type_=sa.Integer))
)
"""The numbers of the ``count`` newest revisions, newest first."""
"""One revision, by its column values; returns its number."""


@functools.lru_cache(maxsize=256)
def _update_statement(columns: tuple[str, ...], *, sqlite: bool) -> sa.Executable:
    """The UPDATE of ``columns`` of one model (PostgreSQL: with its revision and NOTIFY).

    Built once for each set of changed columns, with bound parameters (``set_<column>``,
    ``target_model_id``, ``new_<revision column>``): a write neither constructs a statement
    nor generates its cache key again.
    """
    models, revisions = MODELS_TABLE.c, REVISIONS_TABLE.c
    update = (
        MODELS_TABLE.update()
        .where(models.model_id == sa.bindparam(_TARGET, type_=models.model_id.type))
        .values({name: sa.bindparam(_SET + name, type_=models[name].type) for name in columns})
    )
    if sqlite:
        return update
    revision = REVISIONS_TABLE.insert().values(
        {name: sa.bindparam(_NEW + name, type_=revisions[name].type) for name in _REVISION_COLUMNS}
    )
    inserted = revision.returning(revisions.id).cte("new_revision")
    return sa.select(inserted.c.id, announcement()).add_cte(
        update.returning(models.id).cte("changed_model")
    )


_REVISION_COLUMNS: Final = tuple(
    column.name for column in REVISIONS_TABLE.columns if not column.primary_key
)
"""A revision's columns, but its number (the database assigns it)."""


def _revision_row(  # noqa: PLR0913 - the revision's parts, keyword-only
    config: ModelConfig,
    version: int,
    change: ChangeKind,
    *,
    now: datetime,
    note: ChangeNote,
    document: bool = True,
) -> dict[str, Any]:
    """A revision's column values; its ``config`` document only with ``document``."""
    row = {
        "model_id": config.model_id,
        "version": version,
        "change": change.value,
        "changed_at": now,
        "actor": note.actor,
        "reason": note.reason,
    }
    if document:
        row["config"] = config_document(config)
    return row


def _chunks(items: list[T], size: int = 500) -> Iterator[list[T]]:
    """Split long IN lists (SQLite limits the parameters of one statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
