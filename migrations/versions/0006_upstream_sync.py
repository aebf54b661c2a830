"""Upstream sync: the sources synced from, each synced model's base and provenance.

Creates ``sync_sources`` (one row per upstream kind and location: the ETag and content sha256
last seen, when, and how many valid models it gave) and ``model_sync_bases`` (one row per
synced model: the upstream values it was last synced with, as a JSON document of the managed
fields, and where they came from; ``removed_by_sync`` marks a model the sync itself removed
because it disappeared upstream). A model removed by an admin keeps its base: that is its
tombstone, so a later sync does not bring it back.

Rebuilds the ``model_catalog`` view with the provenance of each model: ``sync_source``,
``sync_location``, ``sync_content_sha256``, ``sync_etag`` and ``synced_at`` (NULL for a model
never synced). Downgrading drops both tables (the bases and provenance are lost; the models
stay) and restores the view of revision 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[Any]:
    from sqlalchemy.dialects.postgresql import JSONB  # noqa: PLC0415 - PostgreSQL only

    return sa.JSON().with_variant(JSONB(), "postgresql")


# The view's SQL as of revision 0005, frozen here (a migration imports neither the application
# nor another revision); ``provenance`` adds the columns and join of this revision.
_CAPABILITIES_OF_M = (
    "FROM model_capabilities AS mc JOIN capabilities AS c ON c.id = mc.capability_id "
    "WHERE mc.model_pk = m.id"
)
_POSTGRESQL = {
    "now": "CURRENT_TIMESTAMP",
    "capabilities": f"(SELECT string_agg(c.name, ',' ORDER BY c.name) {_CAPABILITIES_OF_M})",
    "money": "trim_scale({})",
}
_SQLITE = {
    "now": "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "capabilities": (
        "(SELECT group_concat(c.name, ',') OVER (ORDER BY c.name ROWS BETWEEN UNBOUNDED "
        f"PRECEDING AND UNBOUNDED FOLLOWING) {_CAPABILITIES_OF_M} LIMIT 1)"
    ),
    "money": "{}",
}
_PROVENANCE_COLUMNS = """,
    b.kind AS sync_source,
    b.location AS sync_location,
    b.content_sha256 AS sync_content_sha256,
    b.etag AS sync_etag,
    b.synced_at"""
_PROVENANCE_JOIN = """
LEFT JOIN model_sync_bases AS b ON b.model_id = m.model_id AND NOT b.removed_by_sync"""


def _model_catalog(*, provenance: bool) -> str:
    d = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL
    money = d["money"]
    return f"""
CREATE VIEW model_catalog AS
SELECT
    m.model_id,
    p.name AS provider,
    m.display_name,
    m.status,
    COALESCE({d["capabilities"]}, '') AS capabilities,
    m.context_window,
    m.max_output_tokens,
    {money.format("COALESCE(price.input_per_1m, m.cost_per_1m_input_tokens)")}
        AS cost_per_1m_input_tokens,
    {money.format("COALESCE(price.output_per_1m, m.cost_per_1m_output_tokens)")}
        AS cost_per_1m_output_tokens,
    {money.format("price.cached_input_per_1m")} AS cost_per_1m_cached_input_tokens,
    COALESCE(price.currency, 'USD') AS currency,
    price.effective_from AS price_effective_from,
    m.rate_limit_rpm,
    m.rate_limit_tpm,
    m.latency_p50_ms,
    m.latency_p99_ms,
    m.quality_reasoning,
    m.quality_coding,
    m.quality_creative,
    m.quality_summarization,
    m.deprecation_date,
    m.retirement_date,
    m.successor_model_id,
    m.version,
    m.created_at,
    m.updated_at{_PROVENANCE_COLUMNS if provenance else ""}
FROM models AS m
JOIN providers AS p ON p.id = m.provider_id{_PROVENANCE_JOIN if provenance else ""}
LEFT JOIN model_prices AS price ON price.id = (
    SELECT latest.id
    FROM model_prices AS latest
    WHERE latest.model_id = m.model_id AND latest.effective_from <= {d["now"]}
    ORDER BY latest.effective_from DESC, latest.id DESC
    LIMIT 1
)
ORDER BY m.model_id
"""


def upgrade() -> None:
    op.create_table(
        "sync_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("location", sa.String(2048), nullable=False),
        sa.Column("etag", sa.String(1024), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_models", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_sources")),
        sa.UniqueConstraint("kind", "location", name=op.f("uq_sync_sources_kind_location")),
    )
    op.create_table(
        "model_sync_bases",
        sa.Column("model_id", _name(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("location", sa.String(2048), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(1024), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("removed_by_sync", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_model_sync_bases")),
    )
    op.create_index(op.f("ix_model_sync_bases_kind"), "model_sync_bases", ["kind"])
    op.execute("DROP VIEW model_catalog")
    op.execute(_model_catalog(provenance=True))


def downgrade() -> None:
    op.execute("DROP VIEW model_catalog")
    op.execute(_model_catalog(provenance=False))
    op.drop_index(op.f("ix_model_sync_bases_kind"), table_name="model_sync_bases")
    op.drop_table("model_sync_bases")
    op.drop_table("sync_sources")
