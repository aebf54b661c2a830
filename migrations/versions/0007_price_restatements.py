"""Price restatements: a model's price timeline replaced without deleting a row.

Creates ``model_price_restatements`` (append-only, like ``model_prices``): one row each time a
model's whole price timeline is restated (a version-2 catalog import brings it). The row keeps
``after_price_id``, the highest ``model_prices.id`` when it was recorded: the model's prices
with a higher id are its restated timeline, and reads of the present (or of any instant from
``restated_at`` on) ignore its prices up to that id. Reads as of an earlier instant still see
the timeline the catalog had then. Rebuilds the ``model_catalog`` and ``price_history`` views
to count only those prices. Downgrading restores the views of revision 0006 and drops the
table (the restatements are lost: every price row of a model counts again).

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


# The views' SQL as of revision 0006, frozen here (a migration imports neither the
# application nor another revision); ``restated`` counts only the prices after a restatement.
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


def _model_catalog(*, restated: bool) -> str:
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
    m.updated_at{_PROVENANCE_COLUMNS}
FROM models AS m
JOIN providers AS p ON p.id = m.provider_id{_PROVENANCE_JOIN}
LEFT JOIN model_prices AS price ON price.id = (
    SELECT latest.id
    FROM model_prices AS latest
    WHERE latest.model_id = m.model_id AND latest.effective_from <= {d["now"]}{
        _counted("latest") if restated else ""
    }
    ORDER BY latest.effective_from DESC, latest.id DESC
    LIMIT 1
)
ORDER BY m.model_id
"""


def _price_history(*, restated: bool) -> str:
    sqlite = op.get_bind().dialect.name == "sqlite"
    money = "{}" if sqlite else "trim_scale({})"
    now = _SQLITE["now"] if sqlite else _POSTGRESQL["now"]
    # A price applies until the model's next price (in effect order: effective_from, then id).
    return f"""
CREATE VIEW price_history AS
SELECT
    priced.id,
    priced.model_id,
    priced.currency,
    {money.format("priced.input_per_1m")} AS input_per_1m,
    {money.format("priced.output_per_1m")} AS output_per_1m,
    {money.format("priced.cached_input_per_1m")} AS cached_input_per_1m,
    priced.effective_from,
    priced.effective_until,
    (priced.effective_from <= {now}
        AND (priced.effective_until IS NULL OR priced.effective_until > {now})) AS in_effect,
    priced.recorded_at,
    priced.actor,
    priced.reason
FROM (
    SELECT
        mp.id, mp.model_id, mp.currency, mp.input_per_1m, mp.output_per_1m,
        mp.cached_input_per_1m, mp.effective_from, mp.recorded_at, mp.actor, mp.reason,
        LEAD(mp.effective_from) OVER (
            PARTITION BY mp.model_id ORDER BY mp.effective_from, mp.id
        ) AS effective_until
    FROM model_prices AS mp{" WHERE TRUE" + _counted("mp") if restated else ""}
) AS priced
ORDER BY priced.model_id, priced.effective_from, priced.id
"""


def _counted(alias: str) -> str:
    """The prices of ``alias`` that count now: those after the model's latest restatement."""
    return (
        f" AND {alias}.id > COALESCE((SELECT MAX(r.after_price_id) FROM {TABLE} AS r "
        f"WHERE r.model_id = {alias}.model_id), 0)"
    )


def _views(*, restated: bool) -> None:
    op.execute("DROP VIEW model_catalog")
    op.execute("DROP VIEW price_history")
    op.execute(_model_catalog(restated=restated))
    op.execute(_price_history(restated=restated))


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
        _views(restated=True)
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
    _views(restated=True)


def downgrade() -> None:
    _views(restated=False)
    op.drop_table(TABLE)  # its index and triggers go with it
    if op.get_bind().dialect.name != "sqlite":
        op.execute(f"DROP FUNCTION {TABLE}_append_only()")
