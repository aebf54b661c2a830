"""Rows of upstream sync: the sources' last fetch, the synced models' bases and provenance.

Functions over the session of a read or write unit (``repository.session``); the service
decides when to call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from modelregistry.db.tables import ModelRow, ModelSyncBaseRow, SyncSourceRow
from modelregistry.domain.upstream.plan import Base
from modelregistry.domain.upstream.records import Provenance, SourceState

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping
    from datetime import datetime

    from sqlalchemy.engine import Connection

    from modelregistry.domain.upstream.fields import Fields

__all__ = [
    "base_rows",
    "bases",
    "mark_removed",
    "provenance",
    "provenance_counts",
    "restore",
    "save_bases",
    "save_source",
    "source_rows",
    "source_state",
    "sync_summary",
]

_CHUNK: Final = 500


def source_state(session: Connection, kind: str, location: str) -> SourceState | None:
    """The last successful fetch of ``kind`` at ``location`` (None: never synced)."""
    row = session.execute(
        sa.select(SyncSourceRow.etag, SyncSourceRow.content_sha256).where(
            SyncSourceRow.kind == kind, SyncSourceRow.location == location
        )
    ).one_or_none()
    return None if row is None else SourceState(row.etag, row.content_sha256)


def save_source(  # noqa: PLR0913 - the columns of the row
    session: Connection,
    kind: str,
    location: str,
    *,
    etag: str | None,
    content_sha256: str,
    now: datetime,
    valid_models: int,
) -> None:
    """Remember the fetch of ``kind`` at ``location`` (its ETag for the next If-None-Match)."""
    session.execute(
        sa.delete(SyncSourceRow).where(
            SyncSourceRow.kind == kind, SyncSourceRow.location == location
        )
    )
    session.execute(
        sa.insert(SyncSourceRow).values(
            kind=kind,
            location=location,
            etag=etag,
            content_sha256=content_sha256,
            synced_at=now,
            valid_models=valid_models,
        )
    )


def bases(session: Connection, model_ids: Collection[str] | None = None) -> dict[str, Base]:
    """The bases of synced models (all, or those of ``model_ids``), by model id."""
    query = sa.select(
        ModelSyncBaseRow.model_id,
        ModelSyncBaseRow.kind,
        ModelSyncBaseRow.fields,
        ModelSyncBaseRow.removed_by_sync,
    )
    if model_ids is not None:
        found: dict[str, Base] = {}
        ids = list(model_ids)
        for start in range(0, len(ids), _CHUNK):
            chunk = query.where(ModelSyncBaseRow.model_id.in_(ids[start : start + _CHUNK]))
            found.update(_bases(session.execute(chunk)))
        return found
    return _bases(session.execute(query))


def _bases(rows: Iterable[sa.Row[tuple[str, str, dict[str, object], bool]]]) -> dict[str, Base]:
    return {
        row.model_id: Base(row.kind, dict(row.fields), bool(row.removed_by_sync)) for row in rows
    }


def provenance(session: Connection, model_id: str) -> Provenance | None:
    """Where the model was last synced from (None: never synced, or removed by a sync)."""
    row = session.execute(
        sa.select(
            ModelSyncBaseRow.kind,
            ModelSyncBaseRow.location,
            ModelSyncBaseRow.content_sha256,
            ModelSyncBaseRow.etag,
            ModelSyncBaseRow.synced_at,
        ).where(ModelSyncBaseRow.model_id == model_id, ModelSyncBaseRow.removed_by_sync.is_(False))
    ).one_or_none()
    if row is None:
        return None
    return Provenance(row.kind, row.location, row.content_sha256, row.etag, row.synced_at)


def provenance_counts(session: Connection) -> dict[str, int]:
    """How many models of the catalog were synced from each kind."""
    rows = session.execute(
        sa.select(ModelSyncBaseRow.kind, sa.func.count())
        .join(ModelRow, ModelRow.model_id == ModelSyncBaseRow.model_id)
        .where(ModelSyncBaseRow.removed_by_sync.is_(False))
        .group_by(ModelSyncBaseRow.kind)
    )
    return {kind: int(count) for kind, count in rows}


def sync_summary(session: Connection) -> dict[str, tuple[int, datetime | None]]:
    """Per upstream kind: the catalog's models synced from it, and its last sync."""
    counts = provenance_counts(session)
    last = dict(
        session.execute(
            sa.select(SyncSourceRow.kind, sa.func.max(SyncSourceRow.synced_at)).group_by(
                SyncSourceRow.kind
            )
        ).all()
    )
    return {kind: (counts.get(kind, 0), last.get(kind)) for kind in sorted({*counts, *last})}


def save_bases(
    session: Connection,
    new: Mapping[str, Fields],
    origin: Provenance,
    previous: Mapping[str, Base] | None = None,
) -> None:
    """Store ``new`` bases (replacing the models' old ones), all from ``origin``.

    A base equal to its ``previous`` one only gets the new provenance (one UPDATE per chunk,
    not a row rewritten with its document).
    """
    known = previous or {}
    same = [
        model_id
        for model_id, fields in new.items()
        if (old := known.get(model_id)) is not None
        and old.kind == origin.kind
        and not old.removed_by_sync
        and old.fields == fields
    ]
    for start in range(0, len(same), _CHUNK):
        session.execute(
            sa.update(ModelSyncBaseRow)
            .where(ModelSyncBaseRow.model_id.in_(same[start : start + _CHUNK]))
            .values(
                location=origin.location,
                content_sha256=origin.content_sha256,
                etag=origin.etag,
                synced_at=origin.synced_at,
            )
        )
    unchanged = set(same)
    ids = [model_id for model_id in new if model_id not in unchanged]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(sa.delete(ModelSyncBaseRow).where(ModelSyncBaseRow.model_id.in_(chunk)))
        session.execute(
            sa.insert(ModelSyncBaseRow),
            [
                {
                    "model_id": model_id,
                    "kind": origin.kind,
                    "location": origin.location,
                    "content_sha256": origin.content_sha256,
                    "etag": origin.etag,
                    "synced_at": origin.synced_at,
                    "fields": new[model_id],
                    "removed_by_sync": False,
                }
                for model_id in chunk
            ],
        )


def mark_removed(session: Connection, model_ids: Collection[str]) -> None:
    """Mark the bases of ``model_ids`` as removed by the sync (they may come back)."""
    ids = list(model_ids)
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            sa.update(ModelSyncBaseRow)
            .where(ModelSyncBaseRow.model_id.in_(ids[start : start + _CHUNK]))
            .values(removed_by_sync=True)
        )


_BASE_COLUMNS: Final = (
    "kind",
    "location",
    "content_sha256",
    "etag",
    "synced_at",
    "removed_by_sync",
    "fields",
)
_SOURCE_COLUMNS: Final = ("kind", "location", "etag", "content_sha256", "synced_at", "valid_models")


def base_rows(session: Connection, model_ids: Collection[str]) -> dict[str, dict[str, object]]:
    """The base and provenance rows of ``model_ids`` (for an export), by model id."""
    ids = sorted(model_ids)
    found: dict[str, dict[str, object]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = sa.select(ModelSyncBaseRow.__table__).where(
            ModelSyncBaseRow.model_id.in_(ids[start : start + _CHUNK])
        )
        for row in session.execute(query).mappings():
            found[row["model_id"]] = {column: row[column] for column in _BASE_COLUMNS}
    return found


def source_rows(session: Connection) -> list[dict[str, object]]:
    """Every upstream source's last fetch (for an export), by kind and location."""
    query = sa.select(SyncSourceRow.__table__).order_by(SyncSourceRow.kind, SyncSourceRow.location)
    return [
        {column: row[column] for column in _SOURCE_COLUMNS}
        for row in session.execute(query).mappings()
    ]


def restore(
    session: Connection,
    bases: Mapping[str, Mapping[str, object]],
    sources: Iterable[Mapping[str, object]],
) -> None:
    """Replace the bases of the models of ``bases`` and the sources of ``sources`` (an import)."""
    ids = sorted(bases)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(sa.delete(ModelSyncBaseRow).where(ModelSyncBaseRow.model_id.in_(chunk)))
        session.execute(
            sa.insert(ModelSyncBaseRow),
            [{"model_id": model_id, **bases[model_id]} for model_id in chunk],
        )
    for source in sources:
        session.execute(
            sa.delete(SyncSourceRow).where(
                SyncSourceRow.kind == source["kind"], SyncSourceRow.location == source["location"]
            )
        )
        session.execute(sa.insert(SyncSourceRow).values(**source))
