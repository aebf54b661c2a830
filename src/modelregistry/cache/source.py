"""Where the cache's data comes from: the whole catalog, or what changed after an anchor.

Both are read through a :class:`~modelregistry.db.database.Database` usable from any thread
(the change feed's, a metrics scrape's): the load in one snapshot, a delta in one statement
plus, only when something changed, the price timelines and alias map it needs (none for a
change that cannot have changed a price, such as a status change).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.cache.contract import Delta, FullLoad

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from modelregistry.cache.snapshot import Snapshot
    from modelregistry.db.database import Database
    from modelregistry.db.repository import Anchor, Repository
    from modelregistry.domain.models import ModelConfig


class DatabaseSource:
    """Reads the cache's data from ``database``.

    Args:
        database: A database usable from any thread.
        on_load: Told after each full load (the registry counts them as ``reload``).
    """

    def __init__(
        self,
        database: Database,
        *,
        on_load: Callable[[], object],
        current: Callable[[], Snapshot | None] = lambda: None,
    ) -> None:
        """Read through ``database``; nothing is read yet.

        ``current``: the snapshot a delta applies to (None: none yet); the price timelines
        of the models whose changes cannot have changed them are not read
        (:meth:`~modelregistry.cache.snapshot.Snapshot.prices_kept`).
        """
        self._database = database
        self._on_load = on_load
        self._current = current

    def load(self) -> FullLoad:
        """The whole catalog, in one snapshot."""

        def load(repository: Repository) -> FullLoad:
            # The instant the models are priced at is the snapshot's: a price that takes
            # effect while the rest is read then expires the snapshot instead of being missed.
            at = repository.fix_read_at()
            models = repository.list_models()
            return FullLoad(
                anchor=repository.catalog_anchor(),
                models={model.model_id: model for model in models},
                prices=repository.price_timelines(),
                aliases=repository.aliases(),
                alias_cursor=repository.alias_cursor(),
                at=at,
            )

        loaded = self._database.read(load, snapshot=True)
        self._on_load()
        return loaded

    def changes_since(
        self,
        anchor: Anchor,
        alias_cursor: int,
        known: Mapping[tuple[str, int], ModelConfig] | None = None,
    ) -> Delta | None:
        """What changed after ``anchor`` (None: not the database the anchor came from).

        ``known``: configs this process just wrote, by ``(model_id, version)``, to reuse.
        """

        def read(repository: Repository) -> Delta | None:
            found = repository.changes_since(anchor, known)
            if found is None:
                return None
            changes, cursor = found
            # Separate statements, only when there is something to read: prices only grow,
            # and an alias map newer than its cursor is read again at the next refresh.
            aliases = None if cursor == alias_cursor else repository.aliases()
            snapshot = self._current()
            kept = set() if snapshot is None else snapshot.prices_kept(c for _, c in changes)
            ids = sorted({change.model_id for _, change in changes} - kept)
            prices = repository.price_timelines(ids) if ids else {}
            return Delta(
                changes=changes,
                prices=dict.fromkeys(ids, ()) | prices,
                aliases=aliases,
                alias_cursor=cursor,
            )

        return self._database.read(read)
