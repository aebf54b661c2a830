"""Model fields the real catalogs carry: modalities, mode, dates, open weights, tags.

Adds to ``models`` (all unknown for existing models: nothing is backfilled, a default such as
"text in, text out" would invent a fact):

- ``input_modalities`` / ``output_modalities``: sorted, comma-separated modality names
  (``'image,text'``), ``''`` when unknown. Five short names from a fixed set: one column each
  is read with the row (no join) and a filter is a delimited ``LIKE`` (modalities are not
  selective enough for an index to pay);
- ``mode`` (``chat``, ``embedding``, ...), ``release_date`` and ``knowledge_cutoff`` (ISO text:
  a day ``YYYY-MM-DD`` or a month ``YYYY-MM``, the precision the source gave), ``open_weights``
  (NULL: unknown).

Creates ``model_tags`` (one row per model and key; deleted with its model), indexed by
``(key, value)`` so a tag filter is an index lookup. Rebuilds the ``model_catalog`` view with
the new columns (tags as sorted ``key=value`` text joined by ``;``). Downgrading restores the
view of revision 0007, drops ``model_tags`` and the columns (their values are lost; the
models' revisions keep them).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
# Written in parallel with 0008 (price components); re-chained onto it when both were merged.
down_revision = "0008"
branch_labels = None
depends_on = None

TAGS = "model_tags"
COLUMNS = (
    "input_modalities",
    "output_modalities",
    "mode",
    "release_date",
    "knowledge_cutoff",
    "open_weights",
)


def _name(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


# The view's SQL, frozen here (a migration imports neither the application nor another
# revision): revision 0007's model_catalog, and the same with the new columns.
_CAPABILITIES_OF_M = (
    "FROM model_capabilities AS mc JOIN capabilities AS c ON c.id = mc.capability_id "
    "WHERE mc.model_pk = m.id"
)
_TAGS_OF_M = f"FROM {TAGS} AS t WHERE t.model_pk = m.id"
_POSTGRESQL = {
    "now": "CURRENT_TIMESTAMP",
    "capabilities": f"(SELECT string_agg(c.name, ',' ORDER BY c.name) {_CAPABILITIES_OF_M})",
    "tags": f"(SELECT string_agg(t.key || '=' || t.value, ';' ORDER BY t.key) {_TAGS_OF_M})",
    "money": "trim_scale({})",
}
_SQLITE = {
    "now": "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    "capabilities": (
        "(SELECT group_concat(c.name, ',') OVER (ORDER BY c.name ROWS BETWEEN UNBOUNDED "
        f"PRECEDING AND UNBOUNDED FOLLOWING) {_CAPABILITIES_OF_M} LIMIT 1)"
    ),
    "tags": (
        "(SELECT group_concat(t.key || '=' || t.value, ';') OVER (ORDER BY t.key ROWS BETWEEN "
        f"UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) {_TAGS_OF_M} LIMIT 1)"
    ),
    "money": "{}",
}
_NEW_COLUMNS = """
    m.input_modalities,
    m.output_modalities,
    m.mode,
    m.release_date,
    m.knowledge_cutoff,
    m.open_weights,
    COALESCE({tags}, '') AS tags,"""


def _model_catalog(*, fields: bool) -> str:
    d = _SQLITE if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL
    money = d["money"]
    new_columns = _NEW_COLUMNS.format(tags=d["tags"]) if fields else ""
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
    m.successor_model_id,{new_columns}
    m.version,
    m.created_at,
    m.updated_at,
    b.kind AS sync_source,
    b.location AS sync_location,
    b.content_sha256 AS sync_content_sha256,
    b.etag AS sync_etag,
    b.synced_at
FROM models AS m
JOIN providers AS p ON p.id = m.provider_id
LEFT JOIN model_sync_bases AS b ON b.model_id = m.model_id AND NOT b.removed_by_sync
LEFT JOIN model_prices AS price ON price.id = (
    SELECT latest.id
    FROM model_prices AS latest
    WHERE latest.model_id = m.model_id AND latest.effective_from <= {d["now"]}
        AND latest.id > COALESCE((SELECT MAX(r.after_price_id) FROM model_price_restatements
        AS r WHERE r.model_id = latest.model_id), 0)
    ORDER BY latest.effective_from DESC, latest.id DESC
    LIMIT 1
)
ORDER BY m.model_id
"""


def upgrade() -> None:
    # Plain ADD COLUMN on both engines (as revision 0003): SQLite's batch mode would copy the
    # table, and dropping the old copy would cascade into model_capabilities.
    op.add_column(
        "models", sa.Column("input_modalities", sa.String(64), server_default="", nullable=False)
    )
    op.add_column(
        "models", sa.Column("output_modalities", sa.String(64), server_default="", nullable=False)
    )
    op.add_column("models", sa.Column("mode", sa.String(32), nullable=True))
    op.add_column("models", sa.Column("release_date", sa.String(10), nullable=True))
    op.add_column("models", sa.Column("knowledge_cutoff", sa.String(10), nullable=True))
    op.add_column("models", sa.Column("open_weights", sa.Boolean(), nullable=True))
    op.create_table(
        TAGS,
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("key", _name(64), nullable=False),
        sa.Column("value", _name(256), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["models.id"],
            name=op.f(f"fk_{TAGS}_model_pk_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_pk", "key", name=op.f(f"pk_{TAGS}")),
    )
    op.create_index(op.f(f"ix_{TAGS}_key_value_model_pk"), TAGS, ["key", "value", "model_pk"])
    op.execute("DROP VIEW model_catalog")
    op.execute(_model_catalog(fields=True))


def downgrade() -> None:
    op.execute("DROP VIEW model_catalog")
    op.drop_index(op.f(f"ix_{TAGS}_key_value_model_pk"), table_name=TAGS)
    op.drop_table(TAGS)
    # ALTER TABLE ... DROP COLUMN on both engines (SQLite >= 3.35): no table copy.
    for column in reversed(COLUMNS):
        op.drop_column("models", column)
    op.execute(_model_catalog(fields=False))
