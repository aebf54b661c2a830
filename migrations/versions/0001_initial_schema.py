"""Initial schema: providers, models, capabilities and the model_capabilities join table.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

if TYPE_CHECKING:
    from decimal import Decimal

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _name(length: int) -> sa.types.TypeEngine[str]:
    # Ordered by code point: the C collation on PostgreSQL, SQLite's BINARY collation.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _money() -> sa.Numeric[Decimal]:
    # Exact decimals: NUMERIC on PostgreSQL; on SQLite (no decimal type) the decimal's text.
    return sa.Numeric(15, 10).with_variant(sa.String(32), "sqlite")


def _timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _name(64), nullable=False),
        sa.Column(
            "created_at", _timestamp(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_providers_name")),
    )
    op.create_table(
        "capabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _name(64), nullable=False),
        sa.Column(
            "created_at", _timestamp(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capabilities")),
        sa.UniqueConstraint("name", name=op.f("uq_capabilities_name")),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", _name(256), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=False),
        sa.Column("context_window", sa.BigInteger(), nullable=False),
        sa.Column("max_output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_per_1m_input_tokens", _money(), nullable=False),
        sa.Column("cost_per_1m_output_tokens", _money(), nullable=False),
        sa.Column("rate_limit_rpm", sa.BigInteger(), nullable=False),
        sa.Column("rate_limit_tpm", sa.BigInteger(), nullable=False),
        sa.Column("latency_p50_ms", sa.BigInteger(), nullable=False),
        sa.Column("latency_p99_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("quality_reasoning", sa.Double(), nullable=False),
        sa.Column("quality_coding", sa.Double(), nullable=False),
        sa.Column("quality_creative", sa.Double(), nullable=False),
        sa.Column("quality_summarization", sa.Double(), nullable=False),
        sa.Column(
            "created_at", _timestamp(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.Column(
            "updated_at", _timestamp(), server_default=sa.func.current_timestamp(), nullable=False
        ),
        sa.CheckConstraint(
            "status IN ('active', 'deprecated', 'disabled', 'maintenance')",
            name=op.f("ck_models_status"),
        ),
        sa.CheckConstraint("context_window > 0", name=op.f("ck_models_context_window_positive")),
        sa.CheckConstraint(
            "max_output_tokens > 0", name=op.f("ck_models_max_output_tokens_positive")
        ),
        sa.CheckConstraint(
            "cost_per_1m_input_tokens >= 0 AND cost_per_1m_output_tokens >= 0",
            name=op.f("ck_models_costs_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_models_provider_id_providers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("model_id", name=op.f("uq_models_model_id")),
    )
    op.create_index(op.f("ix_models_provider_id_model_id"), "models", ["provider_id", "model_id"])
    op.create_index(op.f("ix_models_status_model_id"), "models", ["status", "model_id"])
    op.create_table(
        "model_capabilities",
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("capability_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["models.id"],
            name=op.f("fk_model_capabilities_model_pk_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["capability_id"],
            ["capabilities.id"],
            name=op.f("fk_model_capabilities_capability_id_capabilities"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("model_pk", "capability_id", name=op.f("pk_model_capabilities")),
    )
    op.create_index(
        op.f("ix_model_capabilities_capability_id_model_pk"),
        "model_capabilities",
        ["capability_id", "model_pk"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_model_capabilities_capability_id_model_pk"), table_name="model_capabilities"
    )
    op.drop_table("model_capabilities")
    op.drop_index(op.f("ix_models_status_model_id"), table_name="models")
    op.drop_index(op.f("ix_models_provider_id_model_id"), table_name="models")
    op.drop_table("models")
    op.drop_table("capabilities")
    op.drop_table("providers")
