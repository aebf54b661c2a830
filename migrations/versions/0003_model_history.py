"""Model history: versions, immutable revisions, lifecycle dates and successors.

Adds ``models.version`` and the lifecycle columns, creates ``model_revisions`` (append-only:
triggers refuse UPDATE, DELETE and, on PostgreSQL, TRUNCATE), and records version 1 of every
model that already exists (its current config, dated by its ``updated_at``: what it was before
is unknown), so every model has a history from here on.

Downgrading deletes that history, the versions and the lifecycle dates (``modelregistry db
downgrade`` asks for ``--yes``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BACKFILL_ACTOR = "modelregistry-migration"
BACKFILL_REASON = "history starts at schema revision 0003"
STANDARD_FLAGS = ("streaming", "vision", "tool_use", "json_mode")
QUALITY = ("reasoning", "coding", "creative", "summarization")
OFFLINE_SEEDED = "modelregistry.offline.seeded_models"
"""Offline only: the models 0002 seeded in this run (frozen names, shared with 0002 and 0004)."""
OFFLINE_REVISIONS = "modelregistry.offline.revisions"
"""Offline only: the revisions this backfill wrote, for 0004's price backfill."""


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN on both engines: SQLite's batch mode would copy the table, and dropping
    # the old copy would cascade into model_capabilities.
    op.add_column("models", sa.Column("deprecation_date", sa.Date(), nullable=True))
    op.add_column("models", sa.Column("retirement_date", sa.Date(), nullable=True))
    op.add_column("models", sa.Column("successor_model_id", _name(256), nullable=True))
    op.add_column(
        "models", sa.Column("version", sa.BigInteger(), server_default="1", nullable=False)
    )
    op.create_index(op.f("ix_models_retirement_date"), "models", ["retirement_date"])
    revisions = op.create_table(
        "model_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", _name(256), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("config", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_revisions")),
        sa.UniqueConstraint(
            "model_id", "version", name=op.f("uq_model_revisions_model_id_version")
        ),
    )
    op.create_index(op.f("ix_model_revisions_changed_at"), "model_revisions", ["changed_at"])
    _backfill(revisions)
    _make_append_only()


def _make_append_only() -> None:
    """Refuse UPDATE and DELETE on model_revisions: history is never rewritten."""
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER model_revisions_no_{event.lower()} BEFORE {event} "
                "ON model_revisions BEGIN "
                "SELECT RAISE(ABORT, 'model_revisions is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION model_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'model_revisions is append-only' "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$"
    )
    op.execute(
        "CREATE TRIGGER model_revisions_append_only BEFORE UPDATE OR DELETE "
        "ON model_revisions FOR EACH ROW EXECUTE FUNCTION model_revisions_append_only()"
    )
    op.execute(
        "CREATE TRIGGER model_revisions_no_truncate BEFORE TRUNCATE "
        "ON model_revisions FOR EACH STATEMENT EXECUTE FUNCTION model_revisions_append_only()"
    )


def _backfill(revisions: sa.Table) -> None:
    """Record version 1 of every existing model, oldest change first."""
    if context.is_offline_mode():
        _backfill_offline(revisions)
        return
    bind = op.get_bind()
    models = sa.table(
        "models",
        *(sa.column(name) for name in ("id", "model_id", "provider_id", "display_name")),
        *(sa.column(name) for name in ("context_window", "max_output_tokens", "status")),
        sa.column("cost_per_1m_input_tokens"),
        sa.column("cost_per_1m_output_tokens"),
        *(sa.column(f"rate_limit_{unit}") for unit in ("rpm", "tpm")),
        *(sa.column(f"latency_{pct}_ms") for pct in ("p50", "p99")),
        *(sa.column(f"quality_{name}") for name in QUALITY),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    providers = sa.table("providers", sa.column("id"), sa.column("name"))
    capabilities = sa.table("capabilities", sa.column("id"), sa.column("name"))
    links = sa.table("model_capabilities", sa.column("model_pk"), sa.column("capability_id"))
    provider_names = dict(bind.execute(sa.select(providers.c.id, providers.c.name)).all())
    flags: dict[int, set[str]] = {}
    for model_pk, name in bind.execute(
        sa.select(links.c.model_pk, capabilities.c.name).join(
            capabilities, capabilities.c.id == links.c.capability_id
        )
    ):
        flags.setdefault(model_pk, set()).add(name)
    rows = bind.execute(sa.select(models).order_by(models.c.updated_at, models.c.model_id))
    records = [
        {
            "model_id": row.model_id,
            "version": 1,
            "change": "created",
            "config": _config(row, provider_names[row.provider_id], flags.get(row.id, set())),
            "changed_at": _utc(row.updated_at),
            "actor": BACKFILL_ACTOR,
            "reason": BACKFILL_REASON,
        }
        for row in rows
    ]
    if records:
        op.bulk_insert(revisions, records)


def _backfill_offline(revisions: sa.Table) -> None:
    """The backfill as SQL that reads nothing back: for the models 0002 seeded in this run.

    Offline (``--sql``) nothing can be read; from an empty database the models are those of
    0002, which leaves them in ``config.attributes``. Each revision takes its time from its
    model's row, as the live backfill does.
    """
    seeded = context.config.attributes.get(OFFLINE_SEEDED)
    if seeded is None:
        msg = (
            "the migration 0003 copies every model into its history: its SQL can be written "
            "offline only from an empty database (or from 0004 on)"
        )
        raise CommandError(msg)
    models = sa.table("models", sa.column("model_id"), sa.column("updated_at"))
    postgresql = op.get_bind().dialect.name == "postgresql"
    written = []
    for model in sorted(seeded, key=lambda model: model["model_id"]):
        config = _config(SimpleNamespace(**model), model["provider"], set(model["capabilities"]))
        document = sa.literal(json.dumps(config))
        values = sa.select(
            models.c.model_id,
            sa.literal(1),
            sa.literal("created"),
            sa.cast(document, JSONB()) if postgresql else document,
            models.c.updated_at,
            sa.literal(BACKFILL_ACTOR),
            sa.literal(BACKFILL_REASON),
        ).where(models.c.model_id == model["model_id"])
        names = ["model_id", "version", "change", "config", "changed_at", "actor", "reason"]
        op.execute(revisions.insert().from_select(names, values))
        written.append({"model_id": model["model_id"], "config": config})
    context.config.attributes[OFFLINE_REVISIONS] = written


def _config(row: Any, provider: str, flags: set[str]) -> dict[str, Any]:  # noqa: ANN401 - a row
    """The model's config in the JSON form the registry writes (frozen here)."""
    capabilities = {f"supports_{name}": name in flags for name in STANDARD_FLAGS}
    capabilities.update({f"supports_{name}": True for name in sorted(flags - {*STANDARD_FLAGS})})
    return {
        "model_id": row.model_id,
        "provider": provider,
        "display_name": row.display_name,
        "capabilities": capabilities,
        "context_window": row.context_window,
        "max_output_tokens": row.max_output_tokens,
        "cost_per_1m_input_tokens": _money(row.cost_per_1m_input_tokens),
        "cost_per_1m_output_tokens": _money(row.cost_per_1m_output_tokens),
        "rate_limit_rpm": row.rate_limit_rpm,
        "rate_limit_tpm": row.rate_limit_tpm,
        "latency_p50_ms": row.latency_p50_ms,
        "latency_p99_ms": row.latency_p99_ms,
        "status": row.status,
        "quality_scores": {name: getattr(row, f"quality_{name}") for name in QUALITY},
        "deprecation_date": None,
        "retirement_date": None,
        "successor_model_id": None,
    }


def _money(value: Decimal | float | str) -> float:
    # NUMERIC (PostgreSQL) reads as Decimal, the decimal text (SQLite) as str.
    return float(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))


def _utc(value: datetime | str) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def downgrade() -> None:
    op.drop_index(op.f("ix_model_revisions_changed_at"), table_name="model_revisions")
    op.drop_table("model_revisions")  # its triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION model_revisions_append_only()")
    op.drop_index(op.f("ix_models_retirement_date"), table_name="models")
    # ALTER TABLE ... DROP COLUMN exists on both engines (SQLite >= 3.35); see upgrade().
    for column in ("version", "successor_model_id", "retirement_date", "deprecation_date"):
        op.execute(sa.text(f"ALTER TABLE models DROP COLUMN {column}"))
