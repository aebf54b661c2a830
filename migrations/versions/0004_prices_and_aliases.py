"""Effective-dated prices and model aliases.

Creates ``model_prices`` (every price of every model with the instant it takes effect; a price
applies until the next one of the same model) and ``model_aliases`` (every setting and removal
of an alias; the newest row of an alias is its current target, NULL once removed). Both are
append-only, like ``model_revisions``: triggers refuse UPDATE, DELETE and, on PostgreSQL,
TRUNCATE.

The price history is rebuilt from the model history: each revision whose costs differ from the
model's previous ones becomes a price effective at that revision's time, so estimates for any
past instant use the prices the catalog held then. ``models.cost_per_1m_*`` stay: they keep
the costs of the config as last written; reads take the price in effect from ``model_prices``.

Downgrading deletes the prices scheduled or set since, and the aliases (``modelregistry db
downgrade`` asks for ``--yes``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BACKFILL_REASON = "from the model's history (schema revision 0004)"
APPEND_ONLY = ("model_prices", "model_aliases")
OFFLINE_REVISIONS = "modelregistry.offline.revisions"
"""Offline only: the revisions 0003 wrote in this run (a frozen name, shared with 0003)."""


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _money() -> sa.types.TypeEngine[Decimal]:
    # Exact decimals: NUMERIC on PostgreSQL; on SQLite (no decimal type) the decimal's text.
    return sa.Numeric(15, 10).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    prices = op.create_table(
        "model_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", _name(256), nullable=False),
        sa.Column("input_per_1m", _money(), nullable=False),
        sa.Column("output_per_1m", _money(), nullable=False),
        sa.Column("cached_input_per_1m", _money(), nullable=True),
        sa.Column("currency", sa.String(3), server_default="USD", nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_prices")),
    )
    op.create_index(
        op.f("ix_model_prices_model_id_effective_from_id"),
        "model_prices",
        ["model_id", "effective_from", "id"],
    )
    op.create_table(
        "model_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", _name(256), nullable=False),
        sa.Column("model_id", _name(256), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_aliases")),
    )
    op.create_index(op.f("ix_model_aliases_alias_id"), "model_aliases", ["alias", "id"])
    _backfill_prices(prices)
    for table in APPEND_ONLY:
        _make_append_only(table)


def _make_append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table``: history is never rewritten."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{table} is append-only' "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def _backfill_prices(prices: sa.Table) -> None:
    """One price per change of a model's costs in its history, effective when it was made."""
    revisions = sa.table(
        "model_revisions",
        sa.column("id"),
        sa.column("model_id"),
        sa.column("change"),
        sa.column("config", sa.JSON()),
        sa.column("changed_at", sa.DateTime(timezone=True)),
        sa.column("actor"),
    )
    if context.is_offline_mode():
        _backfill_prices_offline(prices)
        return
    bind = op.get_bind()
    # SQLite keeps prices as their decimal text (no decimal type), PostgreSQL as NUMERIC.
    stored = _decimal_text if bind.dialect.name == "sqlite" else (lambda amount: amount)
    last: dict[str, tuple[Decimal, Decimal]] = {}
    records: list[dict[str, Any]] = []
    rows = bind.execute(sa.select(revisions).order_by(revisions.c.id))
    for row in rows:
        if row.change == "removed":
            continue
        config = row.config
        costs = (
            _money_of(config["cost_per_1m_input_tokens"]),
            _money_of(config["cost_per_1m_output_tokens"]),
        )
        if last.get(row.model_id) == costs:
            continue
        last[row.model_id] = costs
        when = _utc(row.changed_at)
        records.append(
            {
                "model_id": row.model_id,
                "input_per_1m": stored(costs[0]),
                "output_per_1m": stored(costs[1]),
                "cached_input_per_1m": None,
                "currency": "USD",
                "effective_from": when,
                "recorded_at": when,
                "actor": row.actor,
                "reason": BACKFILL_REASON,
            }
        )
    if records:
        op.bulk_insert(prices, records)


def _backfill_prices_offline(prices: sa.Table) -> None:
    """The backfill as SQL that reads nothing back: for the revisions 0003 wrote in this run.

    Each is version 1 of its model (an empty database has no other), so each is one price;
    its instant and actor are read from the revision's row, as the live backfill does.
    """
    written = context.config.attributes.get(OFFLINE_REVISIONS)
    if written is None:
        msg = (
            "the migration 0004 builds the prices from the model history: its SQL can be "
            "written offline only from an empty database (or from 0004 on)"
        )
        raise CommandError(msg)
    revisions = sa.table(
        "model_revisions",
        sa.column("model_id"),
        sa.column("version"),
        sa.column("changed_at"),
        sa.column("actor"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"

    def amount(value: float) -> sa.ColumnElement[Any]:
        if sqlite:
            return sa.literal(_decimal_text(_money_of(value)))
        return sa.cast(sa.literal(str(_money_of(value))), _money())

    for revision in written:
        config = revision["config"]
        values = sa.select(
            revisions.c.model_id,
            amount(config["cost_per_1m_input_tokens"]),
            amount(config["cost_per_1m_output_tokens"]),
            sa.null(),
            sa.literal("USD"),
            revisions.c.changed_at,
            revisions.c.changed_at,
            revisions.c.actor,
            sa.literal(BACKFILL_REASON),
        ).where(revisions.c.model_id == revision["model_id"], revisions.c.version == 1)
        names = [
            "model_id",
            "input_per_1m",
            "output_per_1m",
            "cached_input_per_1m",
            "currency",
            "effective_from",
            "recorded_at",
            "actor",
            "reason",
        ]
        op.execute(prices.insert().from_select(names, values))


def _money_of(value: float) -> Decimal:
    # The JSON documents hold the price as the float the user meant (its shortest repr).
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _decimal_text(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def _utc(value: datetime | str) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(APPEND_ONLY):
        op.drop_table(table)  # its indexes and triggers go with it
        if not sqlite:
            op.execute(f"DROP FUNCTION {table}_append_only()")
