"""Price restatements: a model's price timeline replaced without deleting a row.

Creates ``model_price_restatements`` (append-only, like ``model_prices``): one row each time a
model's whole price timeline is restated (a version-2 catalog import brings it). The row keeps
``after_price_id``, the highest ``model_prices.id`` when it was recorded: the model's prices
with a higher id are its restated timeline, and reads of the present (or of any instant from
``restated_at`` on) ignore its prices up to that id. Reads as of an earlier instant still see
the timeline the catalog had then. Downgrading drops the table (the restatements are lost:
every price row of a model counts again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "model_price_restatements"


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", _name(256), nullable=False),
        sa.Column("after_price_id", sa.BigInteger(), nullable=False),
        sa.Column("restated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    op.create_index(
        op.f(f"ix_{TABLE}_model_id_after_price_id"), TABLE, ["model_id", "after_price_id"]
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{event.lower()} BEFORE {event} ON {TABLE} BEGIN "
                f"SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            )
        return
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


def downgrade() -> None:
    op.drop_table(TABLE)  # its index and triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION {TABLE}_append_only()")
