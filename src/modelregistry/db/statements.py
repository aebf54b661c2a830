"""The catalog's SQL statements, built once at import: the model query and ``find_models``.

A model row carries every column a ModelConfig needs: capabilities aggregated into one text
column, and prices in effect at the ``at`` parameter (the read's instant) from
``model_prices``. :func:`find_statement` turns a checked :class:`ModelQuery` into SQL that
follows the same rules as the cache's answer (a property-based test holds the two to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from modelregistry.db.mapping import CAPABILITY_SEPARATOR, MODALITY_SEPARATOR, TAG_SEPARATOR
from modelregistry.db.tables import (
    CapabilityRow,
    ModelAliasRow,
    ModelCapabilityRow,
    ModelPriceRateRow,
    ModelPriceRestatementRow,
    ModelPriceRow,
    ModelRevisionRow,
    ModelRow,
    ModelTagRow,
    ProviderRow,
    UTCDateTime,
)
from modelregistry.domain.query import COST_SCALE, UNKNOWN_LATENCY

if TYPE_CHECKING:
    from collections.abc import Collection

    from modelregistry.domain.query import ModelQuery


def capability_names() -> sa.ScalarSelect[str]:
    """The model's true capability names, joined by :data:`CAPABILITY_SEPARATOR`."""
    return (
        sa.select(sa.func.aggregate_strings(CapabilityRow.name, CAPABILITY_SEPARATOR))
        .select_from(ModelCapabilityRow)
        .join(CapabilityRow, CapabilityRow.id == ModelCapabilityRow.capability_id)
        .where(ModelCapabilityRow.model_pk == ModelRow.id)
        .correlate(ModelRow)
        .scalar_subquery()
    )


def tag_pairs() -> sa.ScalarSelect[str]:
    """The model's tags as ``key=value``, joined by :data:`TAG_SEPARATOR` (NULL: none)."""
    return (
        sa.select(
            sa.func.aggregate_strings(
                ModelTagRow.key + sa.literal("=") + ModelTagRow.value, TAG_SEPARATOR
            )
        )
        .where(ModelTagRow.model_pk == ModelRow.id)
        .correlate(ModelRow)
        .scalar_subquery()
    )


def restated_after() -> sa.ColumnElement[int]:
    """The highest price id of the model replaced by its latest restatement (0: none)."""
    return sa.func.coalesce(
        sa.select(sa.func.max(ModelPriceRestatementRow.after_price_id))
        .where(ModelPriceRestatementRow.model_id == ModelPriceRow.model_id)
        .correlate(ModelPriceRow)
        .scalar_subquery(),
        0,
    )


def price_in_effect(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
    """The model's price column in effect at the ``at`` parameter (the newest started)."""
    return (
        sa.select(column)
        .where(
            ModelPriceRow.model_id == ModelRow.model_id,
            ModelPriceRow.effective_from <= sa.bindparam("at", type_=UTCDateTime()),
            ModelPriceRow.id > restated_after(),
        )
        .order_by(ModelPriceRow.effective_from.desc(), ModelPriceRow.id.desc())
        .limit(1)
        .correlate(ModelRow)
        .scalar_subquery()
    )


# The costs a model shows are the prices in effect at the read's instant (``at``); the costs
# of the config as last written stand in only for a model without any price.
PRICES: Final = {
    "cost_per_1m_input_tokens": sa.func.coalesce(
        price_in_effect(ModelPriceRow.input_per_1m), ModelRow.cost_per_1m_input_tokens
    ),
    "cost_per_1m_output_tokens": sa.func.coalesce(
        price_in_effect(ModelPriceRow.output_per_1m), ModelRow.cost_per_1m_output_tokens
    ),
}

MODELS: Final = sa.select(
    *(column for column in ModelRow.__table__.columns if column.name not in PRICES),
    *(price.label(name) for name, price in PRICES.items()),
    ProviderRow.name.label("provider"),
    capability_names().label("capabilities"),
    tag_pairs().label("tags"),
).join(ProviderRow, ProviderRow.id == ModelRow.provider_id)
"""Every column a ModelConfig needs, one row per model (capabilities aggregated, prices in
effect at the ``at`` parameter)."""


REVISIONS: Final = sa.select(*ModelRevisionRow.__table__.columns)
ALIAS_CURSOR: Final = sa.select(sa.func.max(ModelAliasRow.id)).scalar_subquery()


def revisions_from(low: Any) -> sa.ColumnElement[bool]:  # noqa: ANN401 - a value or an expression
    """The revisions numbered ``low`` and after: ``id >= low`` up to the newest revision.

    The upper bound changes no answer; it is there for PostgreSQL's planner. A prepared
    statement's generic plan guesses that ``id >= $1`` keeps a third of the log, and scans all
    of it (a change feed's read then costs a pass over every revision: 10 ms at 100,000); for
    a range bounded on both sides it guesses a small share and reads the primary key's index.
    """
    newest = sa.select(sa.func.max(ModelRevisionRow.id)).scalar_subquery()
    return sa.and_(ModelRevisionRow.id >= low, ModelRevisionRow.id <= newest)


# Built once: the statement and its cache key are reused by every lookup.
MODEL_BY_ID: Final = MODELS.where(ModelRow.model_id == sa.bindparam("model_id"))


def with_capability_ids(names: Collection[str]) -> sa.Select[int]:
    """Model keys having every capability in ``names``."""
    return (
        sa.select(ModelCapabilityRow.model_pk)
        .join(CapabilityRow, CapabilityRow.id == ModelCapabilityRow.capability_id)
        .where(CapabilityRow.name.in_(names))
        .group_by(ModelCapabilityRow.model_pk)
        .having(sa.func.count() == len(names))
    )


COLUMNS: Final = ModelRow.__table__.columns
MODELS_TABLE: Final = ModelRow.metadata.tables[ModelRow.__tablename__]
LINKS_TABLE: Final = ModelRow.metadata.tables[ModelCapabilityRow.__tablename__]
TAGS_TABLE: Final = ModelRow.metadata.tables[ModelTagRow.__tablename__]
REVISIONS_TABLE: Final = ModelRow.metadata.tables[ModelRevisionRow.__tablename__]
PRICES_TABLE: Final = ModelRow.metadata.tables[ModelPriceRow.__tablename__]
RATES_TABLE: Final = ModelRow.metadata.tables[ModelPriceRateRow.__tablename__]
RESTATEMENTS_TABLE: Final = ModelRow.metadata.tables[ModelPriceRestatementRow.__tablename__]


def _money(column: sa.ColumnElement[Any], *, sqlite: bool) -> sa.ColumnElement[Any]:
    # SQLite keeps prices as decimal text: compare them as numbers.
    return sa.cast(column, sa.Float) if sqlite else column


def _scaled_money(column: sa.ColumnElement[Any], *, sqlite: bool) -> sa.ColumnElement[Any]:
    """A price as an exact number for sorting and summing.

    NUMERIC on PostgreSQL; on SQLite the integer count of 1e-10 USD (exact in a double).
    """
    if not sqlite:
        return column
    return sa.func.round(sa.cast(column, sa.Float) * COST_SCALE)


def _conditions(query: ModelQuery, *, sqlite: bool) -> list[sa.ColumnElement[bool]]:
    conditions = _membership_conditions(query)
    if query.min_context_window is not None:
        conditions.append(ModelRow.context_window >= query.min_context_window)
    if query.min_max_output_tokens is not None:
        conditions.append(ModelRow.max_output_tokens >= query.min_max_output_tokens)
    if query.max_cost_per_1m_input is not None:
        cost = _money(PRICES["cost_per_1m_input_tokens"], sqlite=sqlite)
        conditions.append(cost <= query.max_cost_per_1m_input)
    if query.max_cost_per_1m_output is not None:
        cost = _money(PRICES["cost_per_1m_output_tokens"], sqlite=sqlite)
        conditions.append(cost <= query.max_cost_per_1m_output)
    conditions.extend(
        COLUMNS[f"quality_{dimension}"] >= low for dimension, low in query.min_quality
    )
    if query.max_latency_p50_ms is not None:
        conditions.append(ModelRow.latency_p50_ms > 0)  # 0: unknown, passes no bound
        conditions.append(ModelRow.latency_p50_ms <= query.max_latency_p50_ms)
    return conditions + _descriptor_conditions(query)


def _has_modality(column: sa.ColumnElement[str], name: str) -> sa.ColumnElement[bool]:
    """``name`` is one of the comma-separated names in ``column``.

    Modality names are lowercase letters only: never a LIKE wildcard, never the separator.
    """
    wrapped = sa.literal(MODALITY_SEPARATOR) + column + sa.literal(MODALITY_SEPARATOR)
    return wrapped.like(f"%{MODALITY_SEPARATOR}{name}{MODALITY_SEPARATOR}%")


def _descriptor_conditions(query: ModelQuery) -> list[sa.ColumnElement[bool]]:
    conditions = [
        _has_modality(ModelRow.input_modalities, name) for name in sorted(query.input_modalities)
    ]
    conditions.extend(
        _has_modality(ModelRow.output_modalities, name) for name in sorted(query.output_modalities)
    )
    if query.modes is not None:
        conditions.append(ModelRow.mode.in_(sorted(mode.value for mode in query.modes)))
    if query.open_weights is not None:
        conditions.append(ModelRow.open_weights == query.open_weights)
    conditions.extend(
        ModelRow.id.in_(
            sa.select(ModelTagRow.model_pk).where(
                ModelTagRow.key == key, ModelTagRow.value == value
            )
        )
        for key, value in query.tags
    )
    return conditions


def _membership_conditions(query: ModelQuery) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if query.capabilities:
        conditions.append(ModelRow.id.in_(with_capability_ids(query.capabilities)))
    if query.any_capabilities:
        conditions.append(
            ModelRow.id.in_(
                sa.select(ModelCapabilityRow.model_pk)
                .join(CapabilityRow, CapabilityRow.id == ModelCapabilityRow.capability_id)
                .where(CapabilityRow.name.in_(query.any_capabilities))
            )
        )
    if query.providers is not None:
        conditions.append(ProviderRow.name.in_(query.providers))
    if query.statuses is not None:
        conditions.append(ModelRow.status.in_([status.value for status in query.statuses]))
    return conditions


def _order_key(field: str, *, sqlite: bool) -> sa.ColumnElement[Any]:
    if field == "cost":
        return sum(
            (_scaled_money(price, sqlite=sqlite) for price in PRICES.values()),
            start=sa.literal(0),
        )
    if field in PRICES:
        return _scaled_money(PRICES[field], sqlite=sqlite)
    if field == "latency_p50_ms":
        return sa.case(
            (ModelRow.latency_p50_ms == 0, sa.literal(UNKNOWN_LATENCY, sa.BigInteger)),
            else_=ModelRow.latency_p50_ms,
        )
    return COLUMNS[
        "context_window"
        if field == "context_window"
        else "quality_" + field.removeprefix("quality.")
    ]


def find_statement(query: ModelQuery, *, sqlite: bool) -> sa.Select[Any]:
    """The SQL answer of ``find_models``: filtered, ordered (ties by id), limited."""
    statement = MODELS.where(*_conditions(query, sqlite=sqlite))
    if query.order_by is not None:
        key = _order_key(query.order_by, sqlite=sqlite)
        statement = statement.order_by(key.desc() if query.descending else key.asc())
    statement = statement.order_by(ModelRow.model_id)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return statement
