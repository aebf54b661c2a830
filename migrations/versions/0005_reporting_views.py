"""Reporting views: the catalog in SQL, for admins' reports and dashboards.

Creates five read-only views over the catalog's tables, on both engines:

- ``model_catalog``: one row per model, every field, its provider, its capabilities as sorted
  comma-separated text, the price in effect now (from ``model_prices``: the newest price whose
  ``effective_from`` has come, ties to the one recorded last), its version and timestamps;
- ``provider_summary`` and ``capability_summary``: counts per provider (by status) and per
  capability;
- ``price_history``: every price with the period it applies to and whether it is in effect;
- ``model_changes``: the history of every model, newest first.

Money is exact: ``NUMERIC`` without trailing zeros on PostgreSQL (``trim_scale``, PostgreSQL
13 and later), the stored decimal text on SQLite (which has no decimal type). Timestamps are
``timestamptz`` on PostgreSQL and UTC text on SQLite.

Views hold no data: downgrading drops them and deletes nothing. A later revision that rebuilds
one of the tables they read on SQLite (batch mode copies and renames tables) must drop the
views first and create them again afterwards.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import NamedTuple

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VIEWS = (
    "model_catalog",
    "provider_summary",
    "capability_summary",
    "price_history",
    "model_changes",
)


class _Dialect(NamedTuple):
    # A NamedTuple, not a dataclass: Alembic loads this file by path, outside sys.modules.
    """The few expressions the engines spell differently."""

    now: str
    """The current instant, comparable with the stored timestamps."""
    capabilities: str
    """The sorted, comma-separated capability names of the model ``m``."""
    money: str
    """A format string presenting an exact amount (``{}``: the column)."""
    config_field: str
    """A format string reading a top-level text field of the revision document ``r.config``."""


_CAPABILITIES_OF_M = (
    "FROM model_capabilities AS mc JOIN capabilities AS c ON c.id = mc.capability_id "
    "WHERE mc.model_pk = m.id"
)

POSTGRESQL = _Dialect(
    now="CURRENT_TIMESTAMP",
    # The names use the "C" collation: ordered by code point, as everywhere in the catalog.
    capabilities=f"(SELECT string_agg(c.name, ',' ORDER BY c.name) {_CAPABILITIES_OF_M})",
    money="trim_scale({})",
    config_field="r.config ->> '{}'",
)
SQLITE = _Dialect(
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; the clock's text compares with it.
    now="strftime('%Y-%m-%d %H:%M:%f', 'now')",
    # group_concat takes no ORDER BY before SQLite 3.44; as a window function it concatenates
    # in the window's order.
    capabilities=(
        "(SELECT group_concat(c.name, ',') OVER (ORDER BY c.name ROWS BETWEEN UNBOUNDED "
        f"PRECEDING AND UNBOUNDED FOLLOWING) {_CAPABILITIES_OF_M} LIMIT 1)"
    ),
    money="{}",
    config_field="json_extract(r.config, '$.{}')",
)


def _model_catalog(d: _Dialect) -> str:
    return f"""
CREATE VIEW model_catalog AS
SELECT
    m.model_id,
    p.name AS provider,
    m.display_name,
    m.status,
    COALESCE({d.capabilities}, '') AS capabilities,
    m.context_window,
    m.max_output_tokens,
    {d.money.format("COALESCE(price.input_per_1m, m.cost_per_1m_input_tokens)")}
        AS cost_per_1m_input_tokens,
    {d.money.format("COALESCE(price.output_per_1m, m.cost_per_1m_output_tokens)")}
        AS cost_per_1m_output_tokens,
    {d.money.format("price.cached_input_per_1m")} AS cost_per_1m_cached_input_tokens,
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
    m.updated_at
FROM models AS m
JOIN providers AS p ON p.id = m.provider_id
LEFT JOIN model_prices AS price ON price.id = (
    SELECT latest.id
    FROM model_prices AS latest
    WHERE latest.model_id = m.model_id AND latest.effective_from <= {d.now}
    ORDER BY latest.effective_from DESC, latest.id DESC
    LIMIT 1
)
ORDER BY m.model_id
"""


def _provider_summary() -> str:
    counts = ",\n    ".join(
        f"COUNT(CASE WHEN m.status = '{status}' THEN 1 END) AS {status}_models"
        for status in ("active", "deprecated", "disabled", "maintenance")
    )
    return f"""
CREATE VIEW provider_summary AS
SELECT
    p.name AS provider,
    COUNT(*) AS models,
    {counts},
    MAX(m.context_window) AS max_context_window,
    MAX(m.updated_at) AS last_updated_at
FROM providers AS p
JOIN models AS m ON m.provider_id = p.id
GROUP BY p.name
ORDER BY p.name
"""


def _capability_summary() -> str:
    return """
CREATE VIEW capability_summary AS
SELECT
    c.name AS capability,
    COUNT(*) AS models,
    COUNT(CASE WHEN m.status = 'active' THEN 1 END) AS active_models,
    COUNT(DISTINCT m.provider_id) AS providers
FROM capabilities AS c
JOIN model_capabilities AS mc ON mc.capability_id = c.id
JOIN models AS m ON m.id = mc.model_pk
GROUP BY c.name
ORDER BY c.name
"""


def _price_history(d: _Dialect) -> str:
    # A price applies until the model's next price (in effect order: effective_from, then id).
    return f"""
CREATE VIEW price_history AS
SELECT
    priced.id,
    priced.model_id,
    priced.currency,
    {d.money.format("priced.input_per_1m")} AS input_per_1m,
    {d.money.format("priced.output_per_1m")} AS output_per_1m,
    {d.money.format("priced.cached_input_per_1m")} AS cached_input_per_1m,
    priced.effective_from,
    priced.effective_until,
    (priced.effective_from <= {d.now}
        AND (priced.effective_until IS NULL OR priced.effective_until > {d.now})) AS in_effect,
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
    FROM model_prices AS mp
) AS priced
ORDER BY priced.model_id, priced.effective_from, priced.id
"""


def _model_changes(d: _Dialect) -> str:
    return f"""
CREATE VIEW model_changes AS
SELECT
    r.id AS revision,
    r.model_id,
    r.version,
    r.change,
    {d.config_field.format("provider")} AS provider,
    {d.config_field.format("status")} AS status,
    r.changed_at,
    r.actor,
    r.reason,
    r.config
FROM model_revisions AS r
ORDER BY r.id DESC
"""


def upgrade() -> None:
    dialect = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL
    for statement in (
        _model_catalog(dialect),
        _provider_summary(),
        _capability_summary(),
        _price_history(dialect),
        _model_changes(dialect),
    ):
        op.execute(statement)


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW {view}")
