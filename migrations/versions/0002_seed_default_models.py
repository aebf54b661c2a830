"""Seed the three default Ollama models of the seed specification.

Values are frozen here (never imported from the application), exactly as the seed's
``load_default_models()`` defines them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PROVIDER = "ollama"
CAPABILITIES = ("json_mode", "streaming", "vision")
MODELS: tuple[dict[str, Any], ...] = (
    {
        "model_id": "llama3.1:8b",
        "display_name": "Llama 3.1 8B",
        "capabilities": ("streaming", "json_mode"),
        "context_window": 128000,
        "max_output_tokens": 8192,
        "rate_limit_rpm": 1000,
        "rate_limit_tpm": 100000,
        "latency_p50_ms": 500,
        "latency_p99_ms": 2000,
        "quality": (0.75, 0.70, 0.80, 0.78),
    },
    {
        "model_id": "llama3.2:3b",
        "display_name": "Llama 3.2 3B",
        "capabilities": ("streaming", "json_mode"),
        "context_window": 128000,
        "max_output_tokens": 8192,
        "rate_limit_rpm": 1000,
        "rate_limit_tpm": 100000,
        "latency_p50_ms": 300,
        "latency_p99_ms": 1000,
        "quality": (0.65, 0.60, 0.70, 0.68),
    },
    {
        "model_id": "llava-llama3:latest",
        "display_name": "LLaVA Llama 3",
        "capabilities": ("streaming", "vision"),
        "context_window": 8192,
        "max_output_tokens": 4096,
        "rate_limit_rpm": 1000,
        "rate_limit_tpm": 50000,
        "latency_p50_ms": 800,
        "latency_p99_ms": 3000,
        "quality": (0.60, 0.50, 0.65, 0.62),
    },
)

providers = sa.table("providers", sa.column("id", sa.Integer), sa.column("name", sa.String))
capabilities = sa.table("capabilities", sa.column("id", sa.Integer), sa.column("name", sa.String))
model_capabilities = sa.table(
    "model_capabilities",
    sa.column("model_pk", sa.Integer),
    sa.column("capability_id", sa.Integer),
)
models = sa.table(
    "models",
    sa.column("id", sa.Integer),
    sa.column("model_id", sa.String),
    sa.column("provider_id", sa.Integer),
    sa.column("display_name", sa.String),
    sa.column("context_window", sa.BigInteger),
    sa.column("max_output_tokens", sa.BigInteger),
    sa.column("cost_per_1m_input_tokens"),
    sa.column("cost_per_1m_output_tokens"),
    sa.column("rate_limit_rpm", sa.BigInteger),
    sa.column("rate_limit_tpm", sa.BigInteger),
    sa.column("latency_p50_ms", sa.BigInteger),
    sa.column("latency_p99_ms", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("quality_reasoning", sa.Double),
    sa.column("quality_coding", sa.Double),
    sa.column("quality_creative", sa.Double),
    sa.column("quality_summarization", sa.Double),
)
MODEL_IDS = tuple(model["model_id"] for model in MODELS)
OFFLINE_SEEDED = "modelregistry.offline.seeded_models"
"""Offline only: the models this revision seeds, as 0003 would read them back."""


def upgrade() -> None:
    # Statements that read nothing back (the provider's id is a subquery): the same SQL runs
    # on a live database and prints offline (`modelregistry db upgrade --sql` from nothing).
    op.bulk_insert(providers, [{"name": PROVIDER}])
    op.bulk_insert(capabilities, [{"name": name} for name in CAPABILITIES])
    provider_id = sa.select(providers.c.id).where(providers.c.name == PROVIDER).scalar_subquery()
    for model in MODELS:
        op.execute(models.insert().values(provider_id=provider_id, **_row(model)))
    for model in MODELS:
        model_pk = sa.select(models.c.id).where(models.c.model_id == model["model_id"])
        pairs = sa.select(model_pk.scalar_subquery(), capabilities.c.id).where(
            capabilities.c.name.in_(model["capabilities"])
        )
        op.execute(model_capabilities.insert().from_select(["model_pk", "capability_id"], pairs))
    if context.is_offline_mode():
        # What the next data migrations read from the database, for their offline SQL.
        context.config.attributes[OFFLINE_SEEDED] = [
            {
                **_row(model),
                "cost_per_1m_input_tokens": "0",
                "cost_per_1m_output_tokens": "0",
                "provider": PROVIDER,
                "capabilities": model["capabilities"],
            }
            for model in MODELS
        ]


# "0" is exact in PostgreSQL's NUMERIC and in SQLite's decimal text alike; the cast types it
# for PostgreSQL, also when printed offline.
FREE = sa.cast(sa.literal("0"), sa.Numeric(15, 10).with_variant(sa.String(32), "sqlite"))


def _row(model: dict[str, Any]) -> dict[str, Any]:
    reasoning, coding, creative, summarization = model["quality"]
    return {
        "model_id": model["model_id"],
        "display_name": model["display_name"],
        "context_window": model["context_window"],
        "max_output_tokens": model["max_output_tokens"],
        "cost_per_1m_input_tokens": FREE,
        "cost_per_1m_output_tokens": FREE,
        "rate_limit_rpm": model["rate_limit_rpm"],
        "rate_limit_tpm": model["rate_limit_tpm"],
        "latency_p50_ms": model["latency_p50_ms"],
        "latency_p99_ms": model["latency_p99_ms"],
        "status": "active",
        "quality_reasoning": reasoning,
        "quality_coding": coding,
        "quality_creative": creative,
        "quality_summarization": summarization,
    }


def downgrade() -> None:
    seeded = sa.select(models.c.id).where(models.c.model_id.in_(MODEL_IDS))
    op.execute(model_capabilities.delete().where(model_capabilities.c.model_pk.in_(seeded)))
    op.execute(models.delete().where(models.c.model_id.in_(MODEL_IDS)))
    unused_capability = ~sa.exists().where(model_capabilities.c.capability_id == capabilities.c.id)
    op.execute(
        capabilities.delete().where(capabilities.c.name.in_(CAPABILITIES), unused_capability)
    )
    unused_provider = ~sa.exists().where(models.c.provider_id == providers.c.id)
    op.execute(providers.delete().where(providers.c.name == PROVIDER, unused_provider))
