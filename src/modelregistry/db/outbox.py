"""What a change feed publishes, read from the revision table: the outbox of the catalog.

PostgreSQL stays the source of truth: a writer (after its commit) and ``modelregistry relay``
(tailing the table) read here the revisions to publish, each with the change it follows (the
chain a reader checks: :func:`~modelregistry.cache.jetstream.lineage_matches`), the price
timelines of the models they touch, the alias map and the schema revision, in one snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from modelregistry.db.mapping import revision_from_row
from modelregistry.db.migrate import VERSION_TABLE, current_revision
from modelregistry.db.statements import REVISIONS, revisions_from
from modelregistry.db.tables import ModelRevisionRow
from modelregistry.domain.history import fingerprint

if TYPE_CHECKING:
    from modelregistry.db.repository import Anchor, Repository
    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.pricing import Price


@dataclass(frozen=True, slots=True)
class Outbox:
    """Revisions after a point, and what a reader needs to apply them.

    Attributes:
        changes: ``(revision, ModelRevision, previous)`` oldest first; ``previous`` is the
            anchor of the revision before it (``(0, None)``: none).
        prices: The price timelines of the models the changes touch.
        aliases: Every alias and the model it names.
        alias_cursor: The newest alias change (0: none).
        schema: The database's schema revision.
    """

    changes: list[tuple[int, ModelRevision, Anchor]]
    prices: dict[str, tuple[Price, ...]]
    aliases: dict[str, str]
    alias_cursor: int
    schema: str | None


def read_outbox(
    repository: Repository, after: int, upto: int | None = None, *, aliases: bool = True
) -> Outbox:
    """The revisions after ``after`` up to ``upto`` (None: the newest), in one snapshot.

    Without ``aliases``, the alias map is left empty (a write that changed none): two
    statements then, the revisions (with the one before and the schema revision) and the
    prices they touch.
    """
    session = repository.session
    before = (
        sa.select(sa.func.max(ModelRevisionRow.id))
        .where(ModelRevisionRow.id <= after)
        .scalar_subquery()
    )
    version = sa.table(VERSION_TABLE, sa.column("version_num", sa.String))
    query = (
        sa.select(
            *REVISIONS.selected_columns,
            sa.select(version.c.version_num).scalar_subquery().label("schema_revision"),
        )
        .where(revisions_from(sa.func.coalesce(before, 0)))
        .order_by(ModelRevisionRow.id)
    )
    if upto is not None:
        query = query.where(ModelRevisionRow.id <= upto)
    rows = session.execute(query).mappings().all()
    # Identity numbers have holes (a rolled-back insert): each change names the one before.
    previous: Anchor = (0, None)
    changes: list[tuple[int, ModelRevision, Anchor]] = []
    for row in rows:
        if row["id"] > after:
            changes.append((row["id"], revision_from_row(row), previous))
        previous = (row["id"], fingerprint(row["model_id"], row["version"], row["changed_at"]))
    schema = rows[0]["schema_revision"] if rows else current_revision(session)
    ids = sorted({change.model_id for _, change, _ in changes})
    prices = repository.price_timelines(ids) if ids else {}
    return Outbox(
        changes=changes,
        prices=dict.fromkeys(ids, ()) | prices,
        aliases=repository.aliases() if aliases else {},
        alias_cursor=repository.alias_cursor() if aliases else 0,
        schema=schema,
    )


def newest_revisions(repository: Repository) -> tuple[int, int]:
    """The catalog's newest revision and newest alias change (0: none), in one statement."""
    anchor = repository.catalog_anchor()
    return anchor[0], repository.alias_cursor()
