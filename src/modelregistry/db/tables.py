"""The catalog's tables: SQLAlchemy Core tables, their columns by name (``ModelRow.model_id``).

Alembic revisions create these tables; ``tests/migrations`` checks that the migrated schema and
this module agree. Only :mod:`modelregistry.db.repository` and :mod:`modelregistry.db.mapping` use
them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.schema import SchemaItem
    from sqlalchemy.types import TypeEngine

from modelregistry.domain.pricing import decimal_text
from modelregistry.errors import InvalidModelConfigError

T = TypeVar("T")

NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant, microsecond precision on PostgreSQL and SQLite.

    PostgreSQL stores ``timestamptz``; SQLite stores ISO text in UTC (it has no time type).
    Values always come back aware, in UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Normalise to UTC; naive values are refused rather than guessed."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given; pass an aware datetime"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: datetime | None,
        dialect: sa.Dialect,  # noqa: ARG002 - TypeDecorator's signature
    ) -> datetime | None:
        """Return an aware datetime in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CalendarDate(TypeDecorator[date]):
    """A calendar date (``DATE``) of the model column ``column``.

    SQLite keeps dates as ISO text, so a row written behind the registry's back can hold
    text that is no date; reading it is E4003 naming the column (the stored value is
    refused), not the driver's bare ``ValueError``.
    """

    impl = sa.Date
    cache_ok = True

    def __init__(self, column: str) -> None:
        """Type the column ``column`` (named in the error of a stored value that is no date)."""
        super().__init__()
        self.column = column

    def result_processor(
        self, dialect: sa.Dialect, coltype: object
    ) -> Callable[[Any], date | None] | None:
        """The dialect's processor, with a stored value that is no date refused as E4003."""
        process = super().result_processor(dialect, coltype)
        if process is None:
            return None
        column = self.column

        def checked(value: Any) -> date | None:
            try:
                result: date | None = process(value)
            except ValueError as exc:
                rule = "is stored as a value that is not an ISO date (YYYY-MM-DD)"
                raise InvalidModelConfigError.single(column, rule, value) from exc
            return result

        return checked


class Money(TypeDecorator[Decimal]):
    """An exact price: ``NUMERIC(15, 10)`` on PostgreSQL, the exact decimal text on SQLite.

    SQLite has no decimal type (a NUMERIC column would keep a binary REAL), so the column is
    ``VARCHAR(32)``, TEXT affinity, holding the plain decimal (``'0.1'``, ``'15'``). SQL on
    SQLite compares and sorts it as a number after ``CAST(... AS REAL)``, which is exact for
    the at most 15 significant digits the domain allows.
    """

    impl = sa.Numeric(15, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        """Text on SQLite, NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(32))
        return dialect.type_descriptor(sa.Numeric(15, 10))

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> Any:
        """Pass Decimals through; SQLite gets the plain decimal text (no exponent)."""
        if value is None:
            return None
        return decimal_text(value) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: Any,
        dialect: sa.Dialect,  # noqa: ARG002 - TypeDecorator's signature
    ) -> Decimal | None:
        """Return a normalised Decimal."""
        if value is None:
            return None
        return Decimal(str(value)).normalize()


class JSONDocument(TypeDecorator[dict[str, Any]]):
    """A JSON document: ``JSONB`` on PostgreSQL, SQLite's JSON (text) elsewhere.

    The same as ``sa.JSON().with_variant(JSONB(), "postgresql")``, except that the PostgreSQL
    dialect (and its drivers' modules, about 25 ms) is imported only when it is used: opening
    a SQLite catalog never loads it.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        """JSONB on PostgreSQL, JSON elsewhere."""
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB  # noqa: PLC0415 - see above

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


def column(
    type_: TypeEngine[T] | type[TypeEngine[T]],
    *args: SchemaItem,
    nullable: bool = False,
    **options: Any,
) -> sa.ColumnClause[T]:
    """A column of a :class:`Base` subclass, named after its attribute; NOT NULL unless asked.

    Typed as the plain column expression it is used as (``ModelRow.model_id == ...``): the
    ``sa.Column`` type's descriptor signature (SQLAlchemy 2.1's ``TypedColumns``) would make a
    class attribute unusable for the type checker.
    """
    return sa.Column(type_, *args, nullable=nullable, **options)


def code_point_string(length: int) -> sa.types.TypeEngine[str]:
    """VARCHAR compared and ordered by code point: ``COLLATE "C"`` on PostgreSQL.

    SQLite's default collation (BINARY) already orders UTF-8 text by code point.
    """
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


class Base:
    """The tables' base: each subclass's ``sa.Column`` attributes become one Core ``sa.Table``.

    Plain SQLAlchemy Core on one :class:`~sqlalchemy.MetaData` (no ORM mapping: importing
    ``sqlalchemy.orm`` costs the library's cold start ~50 ms and nothing here needs it). A
    subclass names its table (``__tablename__``) and its constraints and indexes
    (``__table_args__``); its columns stay usable as class attributes (``ModelRow.model_id``,
    named after the attribute), ``__table__`` is the table, and the class itself may stand for
    the table in a statement (``sa.insert(ModelRow)``, ``.select_from(ModelRow)``).
    """

    metadata: ClassVar[sa.MetaData] = sa.MetaData(naming_convention=NAMING_CONVENTION)
    __tablename__: ClassVar[str]
    __table_args__: ClassVar[tuple[SchemaItem, ...]] = ()
    __table__: ClassVar[sa.Table]

    def __init_subclass__(cls) -> None:
        """Build the subclass's table from its columns, in the order they are written."""
        super().__init_subclass__()
        columns: list[sa.Column[Any]] = []
        for attribute, value in vars(cls).items():
            if isinstance(value, sa.Column):
                value.name = value.key = attribute
                columns.append(value)
        cls.__table__ = sa.Table(cls.__tablename__, cls.metadata, *columns, *cls.__table_args__)

    @classmethod
    def __clause_element__(cls) -> sa.Table:
        """The table, for SQLAlchemy's coercion of ``ModelRow`` in a statement."""
        return cls.__table__


class ProviderRow(Base):
    """A model provider (``ollama``, ``openai``, ...), stored once and referenced by models."""

    __tablename__ = "providers"

    id = column(sa.Integer, primary_key=True)
    name = column(code_point_string(64), unique=True)
    created_at = column(UTCDateTime, server_default=sa.func.current_timestamp())


class CapabilityRow(Base):
    """A capability name (``vision``: the flag ``supports_vision`` without its prefix)."""

    __tablename__ = "capabilities"

    id = column(sa.Integer, primary_key=True)
    name = column(code_point_string(64), unique=True)
    created_at = column(UTCDateTime, server_default=sa.func.current_timestamp())


class ModelRow(Base):
    """One model: a column per scalar field of ``ModelConfig``."""

    __tablename__ = "models"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('active', 'deprecated', 'disabled', 'maintenance')", name="status"
        ),
        sa.CheckConstraint("context_window > 0", name="context_window_positive"),
        sa.CheckConstraint("max_output_tokens > 0", name="max_output_tokens_positive"),
        sa.CheckConstraint(
            "cost_per_1m_input_tokens >= 0 AND cost_per_1m_output_tokens >= 0",
            name="costs_non_negative",
        ),
        sa.Index("ix_models_provider_id_model_id", "provider_id", "model_id"),
        sa.Index("ix_models_status_model_id", "status", "model_id"),
        sa.Index("ix_models_retirement_date", "retirement_date"),
    )

    id = column(sa.Integer, primary_key=True)
    model_id = column(code_point_string(256), unique=True)
    provider_id = column(sa.Integer, sa.ForeignKey("providers.id", ondelete="RESTRICT"))
    display_name = column(sa.String(256))
    context_window = column(sa.BigInteger)
    max_output_tokens = column(sa.BigInteger)
    cost_per_1m_input_tokens = column(Money)
    cost_per_1m_output_tokens = column(Money)
    rate_limit_rpm = column(sa.BigInteger)
    rate_limit_tpm = column(sa.BigInteger)
    latency_p50_ms = column(sa.BigInteger)
    latency_p99_ms = column(sa.BigInteger)
    status = column(sa.String(16))
    quality_reasoning = column(sa.Double)
    quality_coding = column(sa.Double)
    quality_creative = column(sa.Double)
    quality_summarization = column(sa.Double)
    deprecation_date = column(CalendarDate("deprecation_date"), nullable=True)
    retirement_date = column(CalendarDate("retirement_date"), nullable=True)
    successor_model_id = column(code_point_string(256), nullable=True)
    # Modalities as sorted comma-separated names ("image,text"; "" unknown): a fixed set of
    # five short names, matched with a delimited LIKE (see db/statements.py).
    input_modalities = column(sa.String(64), server_default="")
    output_modalities = column(sa.String(64), server_default="")
    mode = column(sa.String(32), nullable=True)
    release_date = column(sa.String(10), nullable=True)
    knowledge_cutoff = column(sa.String(10), nullable=True)
    open_weights = column(sa.Boolean, nullable=True)
    version = column(sa.BigInteger, server_default="1")
    created_at = column(UTCDateTime, server_default=sa.func.current_timestamp())
    updated_at = column(UTCDateTime, server_default=sa.func.current_timestamp())


class ModelCapabilityRow(Base):
    """Join table: one row per (model, capability) whose flag is True."""

    __tablename__ = "model_capabilities"
    __table_args__ = (
        sa.Index("ix_model_capabilities_capability_id_model_pk", "capability_id", "model_pk"),
    )

    model_pk = column(sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    capability_id = column(
        sa.Integer, sa.ForeignKey("capabilities.id", ondelete="RESTRICT"), primary_key=True
    )


class ModelTagRow(Base):
    """One tag of a model (``key`` = ``value``); a model has each key at most once."""

    __tablename__ = "model_tags"
    __table_args__ = (sa.Index("ix_model_tags_key_value_model_pk", "key", "value", "model_pk"),)

    model_pk = column(sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    key = column(code_point_string(64), primary_key=True)
    value = column(code_point_string(256))


class ModelRevisionRow(Base):
    """One immutable revision of a model: its full config after a change, and who and why.

    Never updated or deleted by the registry. ``id`` grows with every change of the catalog
    (writes are serialised), so it orders all changes; ``(model_id, version)`` is unique.
    """

    __tablename__ = "model_revisions"
    __table_args__ = (
        sa.UniqueConstraint("model_id", "version"),
        sa.Index("ix_model_revisions_changed_at", "changed_at"),
    )

    id = column(sa.Integer, primary_key=True)
    model_id = column(code_point_string(256))
    version = column(sa.BigInteger)
    change = column(sa.String(32))
    config = column(JSONDocument)
    changed_at = column(UTCDateTime)
    actor = column(sa.String(256))
    reason = column(sa.Text, nullable=True)


class ModelPriceRow(Base):
    """One price of a model, effective from an instant until the model's next price.

    Never updated or deleted. Of two prices of a model effective at the same instant, the one
    recorded later (higher ``id``) applies. Not tied to ``models``: a removed model's prices
    stay, like its history.
    """

    __tablename__ = "model_prices"
    __table_args__ = (
        sa.Index("ix_model_prices_model_id_effective_from_id", "model_id", "effective_from", "id"),
    )

    id = column(sa.Integer, primary_key=True)
    model_id = column(code_point_string(256))
    input_per_1m = column(Money)
    output_per_1m = column(Money)
    cached_input_per_1m = column(Money, nullable=True)
    currency = column(sa.String(3), server_default="USD")
    effective_from = column(UTCDateTime)
    recorded_at = column(UTCDateTime)
    actor = column(sa.String(256))
    reason = column(sa.Text, nullable=True)


class ModelPriceRateRow(Base):
    """A rate of a price beyond the standard base (``model_prices`` keeps that base).

    One per (price, service tier, context threshold, component); ``above_tokens`` 0 is the
    service tier's base. Never updated or deleted, like its price.
    """

    __tablename__ = "model_price_rates"

    price_id = column(sa.Integer, sa.ForeignKey("model_prices.id"), primary_key=True)
    service_tier = column(sa.String(16), primary_key=True)
    above_tokens = column(sa.BigInteger, primary_key=True)
    component = column(sa.String(32), primary_key=True)
    amount = column(Money)


class ModelPriceRestatementRow(Base):
    """A restatement of a model's whole price timeline (a version-2 catalog import).

    Never updated or deleted. The model's prices with ``id`` above ``after_price_id`` are the
    restated timeline: reads of the present, and of any instant from ``restated_at`` on,
    ignore its prices up to ``after_price_id``; reads of an earlier instant still see them.
    """

    __tablename__ = "model_price_restatements"
    __table_args__ = (
        sa.Index(
            "ix_model_price_restatements_model_id_after_price_id", "model_id", "after_price_id"
        ),
    )

    id = column(sa.Integer, primary_key=True)
    model_id = column(code_point_string(256))
    after_price_id = column(sa.BigInteger)
    restated_at = column(UTCDateTime)
    actor = column(sa.String(256))
    reason = column(sa.Text, nullable=True)


class ModelAliasRow(Base):
    """One setting (``model_id``) or removal (``model_id`` NULL) of an alias.

    Never updated or deleted: an alias's newest row is its current state.
    """

    __tablename__ = "model_aliases"
    __table_args__ = (sa.Index("ix_model_aliases_alias_id", "alias", "id"),)

    id = column(sa.Integer, primary_key=True)
    alias = column(code_point_string(256))
    model_id = column(code_point_string(256), nullable=True)
    changed_at = column(UTCDateTime)
    actor = column(sa.String(256))
    reason = column(sa.Text, nullable=True)


class SyncSourceRow(Base):
    """An upstream catalog synced from: the ETag and content last seen at its location."""

    __tablename__ = "sync_sources"
    __table_args__ = (sa.UniqueConstraint("kind", "location"),)

    id = column(sa.Integer, primary_key=True)
    kind = column(sa.String(32))
    location = column(sa.String(2048))
    etag = column(sa.String(1024), nullable=True)
    content_sha256 = column(sa.String(64))
    synced_at = column(UTCDateTime)
    valid_models = column(sa.BigInteger)


class ModelSyncBaseRow(Base):
    """A synced model's base (the upstream values last synced) and its provenance.

    Kept when an admin removes the model (its tombstone); ``removed_by_sync`` marks a model the
    sync removed because it disappeared upstream. Not tied to ``models``, like the history.
    """

    __tablename__ = "model_sync_bases"
    __table_args__ = (sa.Index("ix_model_sync_bases_kind", "kind"),)

    model_id = column(code_point_string(256), primary_key=True)
    kind = column(sa.String(32))
    location = column(sa.String(2048))
    content_sha256 = column(sa.String(64))
    etag = column(sa.String(1024), nullable=True)
    synced_at = column(UTCDateTime)
    fields = column(JSONDocument)
    removed_by_sync = column(sa.Boolean, server_default=sa.false())
