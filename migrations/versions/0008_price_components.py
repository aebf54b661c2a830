"""Price components: cache writes, reasoning, per request, context tiers and service tiers.

Creates ``model_price_rates`` (append-only, like ``model_prices``): a rate of a price beyond the
standard base, one per (price, service tier, context threshold ``above_tokens`` with 0 for the
tier's base, component). ``model_prices`` stays the period header: its input, output and cached
input columns are the standard tier's base rates, so the backfill is that every existing price
already is its standard tier's input/output/cached input (no row to copy) and every reader of
``model_prices`` (the ``model_catalog`` and ``price_history`` views) keeps its meaning.

Creates the ``price_rates`` view: every rate of every counted price (the standard base from
``model_prices`` and the others from ``model_price_rates``) with the price's period start.

Downgrading drops the view and the table: the rates beyond the standard base are lost (the
prices themselves stay).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from decimal import Decimal

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "model_price_rates"
VIEW = "price_rates"


def _money() -> sa.types.TypeEngine[Decimal]:
    # Exact decimals: NUMERIC on PostgreSQL; on SQLite (no decimal type) the decimal's text.
    return sa.Numeric(15, 10).with_variant(sa.String(32), "sqlite")


def _price_rates() -> str:
    sqlite = op.get_bind().dialect.name == "sqlite"
    money = "{}" if sqlite else "trim_scale({})"
    # The prices that count now: those after the model's latest restatement (as revision 0007).
    counted = (
        "mp.id > COALESCE((SELECT MAX(r.after_price_id) FROM model_price_restatements AS r "
        "WHERE r.model_id = mp.model_id), 0)"
    )
    base = "\nUNION ALL\n".join(
        f"SELECT mp.id AS price_id, mp.model_id, 'standard' AS service_tier, 0 AS above_tokens, "
        f"'{component}' AS component, {money.format(f'mp.{component}_per_1m')} AS amount, "
        f"mp.effective_from FROM model_prices AS mp WHERE {counted}"
        + (f" AND mp.{component}_per_1m IS NOT NULL" if component == "cached_input" else "")
        for component in ("input", "output", "cached_input")
    )
    return f"""
CREATE VIEW {VIEW} AS
SELECT * FROM (
{base}
UNION ALL
SELECT mp.id AS price_id, mp.model_id, rate.service_tier, rate.above_tokens, rate.component,
    {money.format("rate.amount")} AS amount, mp.effective_from
FROM {TABLE} AS rate JOIN model_prices AS mp ON mp.id = rate.price_id
WHERE {counted}
) AS rates
ORDER BY model_id, effective_from, price_id, service_tier, above_tokens, component
"""


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("price_id", sa.Integer(), nullable=False),
        sa.Column("service_tier", sa.String(16), nullable=False),
        sa.Column("above_tokens", sa.BigInteger(), nullable=False),
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["price_id"], ["model_prices.id"], name=op.f(f"fk_{TABLE}_price_id_model_prices")
        ),
        sa.PrimaryKeyConstraint(
            "price_id", "service_tier", "above_tokens", "component", name=op.f(f"pk_{TABLE}")
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{event.lower()} BEFORE {event} ON {TABLE} BEGIN "
                f"SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{TABLE} is append-only' "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE "
            f"ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE "
            f"ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()"
        )
    op.execute(_price_rates())


def downgrade() -> None:
    op.execute(f"DROP VIEW {VIEW}")
    op.drop_table(TABLE)  # its triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION {TABLE}_append_only()")
