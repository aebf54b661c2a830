"""ModelRegistry: the public API of the catalog (the seed's 14 methods, on a database).

The registry owns the engine and every transaction: a read is one snapshot, a write is one
transaction that commits or rolls back as a whole and holds the catalog's write lock. It writes
no SQL itself (see :mod:`modelregistry.repository`).
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

from sqlalchemy.orm import sessionmaker

from modelregistry import migrate
from modelregistry.cache import CatalogCache, CatalogEvent, CatalogReader
from modelregistry.catalog_file import (
    Format,
    ImportResult,
    dump_catalog,
    format_of,
    parse_catalog,
    plan_import,
    read_catalog_file,
)
from modelregistry.changes import CatalogChanges
from modelregistry.db.engine import (
    is_memory_sqlite,
    make_engine,
    reader,
    safe_url,
    snapshot_reader,
    was_disconnected,
    writer,
)
from modelregistry.db.errors import translating
from modelregistry.defaults import DEFAULT_MODELS
from modelregistry.domain import (
    ModelConfig,
    ModelStatus,
    capability_name,
    is_capability_name,
    is_model_id,
    is_provider_name,
    parse_status,
)
from modelregistry.errors import (
    DatabaseUnavailableError,
    InvalidModelConfigError,
    ModelNotFoundError,
    ModelRegistryError,
    ModelVersionNotFoundError,
)
from modelregistry.feed import ChangeFeed
from modelregistry.history import ChangeKind, ChangeNote, FieldChange, ModelRevision, diff_configs
from modelregistry.repository import Anchor, CatalogRepository
from modelregistry.settings import default_actor, resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType

    from sqlalchemy.orm import Session

T = TypeVar("T")

logger = logging.getLogger(__name__)
_OPEN: weakref.WeakSet[ModelRegistry] = weakref.WeakSet()

_CATCH_UP_ATTEMPTS: Final = 3

_ANALYZE_AFTER: Final = 1000
"""Imports of at least this many entries refresh the planner's statistics afterwards."""

_IMPORT_BATCH: Final = 500
"""Entries an import writes per batch (the progress bar moves between batches)."""

DEFAULT_POLL_INTERVAL: Final = 1.0
"""Seconds between checks of the catalog revision by the change feed."""


class ModelRegistry:
    """The catalog of models, stored in SQLite or PostgreSQL.

    Args:
        url: SQLAlchemy database URL (``postgresql://user@host/db``, ``sqlite:///path.db``,
            ``sqlite://`` for a private in-memory catalog). Default: the
            ``MODELREGISTRY_DATABASE_URL`` environment variable, else an embedded SQLite file
            in the user data directory, created on first use.
        auto_migrate: Upgrade a database at an older schema revision instead of refusing it.

    An empty database is initialised to the newest schema (seeded with the three default
    models). Use the registry as a context manager, or call :meth:`close`, to release its
    connections.

    Raises:
        SchemaOutdatedError: E4010, the database is older and ``auto_migrate`` is False; run
            ``modelregistry db upgrade``.
        SchemaUnknownError: E4011, the database was migrated by a newer modelregistry.
        DatabaseUnavailableError: E4020, the database cannot be reached.
        DatabaseError: E4021, the URL is not usable or the database refused the schema check.

    Example:
        >>> with ModelRegistry("sqlite://") as registry:
        ...     registry.get_model("llama3.1:8b").display_name
        'Llama 3.1 8B'
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        auto_migrate: bool = False,
        cache: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        """Open (and if empty, initialise) the catalog at ``url``."""
        if not (isinstance(poll_interval, int | float) and poll_interval > 0):
            raise InvalidModelConfigError.single(
                "poll_interval", "must be a number of seconds > 0", poll_interval
            )
        resolved = resolve_database_url(url)
        self._url = safe_url(resolved)
        with translating(database=self._url):
            self._engine = make_engine(resolved)
            try:
                migrate.ensure_schema(self._engine, auto_migrate=auto_migrate)
            except BaseException:
                self._engine.dispose()
                raise
        self._read_session: sessionmaker[Session] = sessionmaker(reader(self._engine))
        self._snapshot_session: sessionmaker[Session] = sessionmaker(snapshot_reader(self._engine))
        self._write_session: sessionmaker[Session] = sessionmaker(writer(self._engine))
        self._cache: CatalogCache | None = None
        self._feed: ChangeFeed | None = None
        if cache:
            try:
                self._cache = CatalogCache(self._load_catalog, self._changes_since)
            except BaseException:
                self._engine.dispose()
                raise
            self._poll_interval = poll_interval
            self._start_feed()
        _OPEN.add(self)

    def _start_feed(self) -> None:
        if self._cache is not None and not is_memory_sqlite(self._engine.url):
            # A private in-memory catalog has no other writer to follow.
            self._feed = ChangeFeed(
                self._engine, self._cache.refresh, self._cache.mark_failed, self._poll_interval
            )

    def _after_fork(self) -> None:
        """In a forked child: new connections and a new change feed (threads don't fork)."""
        self._engine.dispose(close=False)
        if self._feed is not None:
            self._feed.abandon()
            self._start_feed()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog's database URL, password masked."""
        return self._url

    def close(self) -> None:
        """Stop the change feed and release every database connection held by the registry."""
        _OPEN.discard(self)
        if self._feed is not None:
            self._feed.close()
        self._engine.dispose()

    def subscribe(self, callback: Callable[[CatalogEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every change of the catalog, from any process.

        Each :class:`~modelregistry.cache.CatalogEvent` (``model_id``, ``change``,
        ``version``, ``revision``) arrives after this registry's cache holds the change, so the
        callback reads the new state (a router can rebuild its routing table). Callbacks run
        on the change feed's thread (or, for this process's own writes, the writer's thread);
        an exception in one is logged and does not stop the others.

        Returns:
            A function that cancels the subscription.

        Raises:
            RuntimeError: the registry was opened with ``cache=False``.
        """
        if self._cache is None:
            msg = "subscribe() needs the cache: open the registry with cache=True"
            raise RuntimeError(msg)
        return self._cache.subscribe(callback)

    def refresh(self) -> None:
        """Bring the cache up to date now, without waiting for the change feed.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached (the cache keeps
                its last snapshot).
        """
        if self._cache is not None:
            self._cache.refresh()

    def __enter__(self) -> Self:
        """Return the registry itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        self.close()

    def __repr__(self) -> str:
        """Show the database URL with its password masked."""
        return f"ModelRegistry({self._url!r})"

    # -- writes ----------------------------------------------------------------------------

    def register_model(
        self,
        model: ModelConfig | Mapping[str, Any],
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Create the model, or replace the stored model with the same ``model_id``.

        Args:
            model: A ModelConfig or a mapping of its fields. It is validated again, so a
                model altered with ``model_copy(update=...)`` cannot bypass the rules.
            expected_version: Write only if the model's version is this one (0: only if the
                model does not exist yet).
            actor: Who makes the change (default: ``MODELREGISTRY_ACTOR``, else the OS user).
            reason: Why, recorded in the model's history.

        Returns:
            The model as stored, with its new ``version``. A config equal to the stored one
            writes nothing and returns the stored model.

        Raises:
            InvalidModelConfigError: E4003, naming each broken rule; nothing is written.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
            DatabaseUnavailableError: E4020, the database cannot be reached (retryable).
        """
        config = _validated(model)
        with self._changes(actor, reason) as changes:
            return changes.write(
                config, kind=ChangeKind.UPDATED, expected_version=_version(expected_version)
            )

    def update_model_status(
        self,
        model_id: str,
        status: ModelStatus | str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Set the status of a model (``status`` is a ModelStatus or its name, any case).

        Setting the status it already has changes nothing. ``expected_version``, ``actor``
        and ``reason`` work as in :meth:`register_model`.

        Returns:
            The model after the change.

        Raises:
            ModelNotFoundError: E4001, no model has this id; nothing is written.
            InvalidModelConfigError: E4003, ``status`` names no status.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        new_status = parse_status(status)
        model_id = _existing_id(model_id)
        with self._changes(actor, reason) as changes:
            current = changes.current(model_id)
            return changes.write(
                current.model_copy(update={"status": new_status}),
                kind=ChangeKind.STATUS_CHANGED,
                expected_version=_version(expected_version),
            )

    def remove_model(
        self,
        model_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelRevision:
        """Remove a model from the catalog: it disappears from every query.

        Its history stays readable, and registering the same id later continues its version
        numbers. ``expected_version``, ``actor`` and ``reason`` work as in
        :meth:`register_model`.

        Returns:
            The revision that records the removal.

        Raises:
            ModelNotFoundError: E4001, no model has this id.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = _existing_id(model_id)
        with self._changes(actor, reason) as changes:
            return changes.remove(model_id, expected_version=_version(expected_version))

    def restore_model(
        self,
        model_id: str,
        version: int,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> ModelConfig:
        """Write the config of an older version as the model's next version.

        Works on a removed model too (it comes back). Restoring a config equal to the current
        one changes nothing.

        Returns:
            The model as stored after the restore.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, it has no such version.
            ConcurrentModificationError: E4030, the model is not at ``expected_version``.
        """
        model_id = _existing_id(model_id)
        wanted = _whole_number(version, "version")
        with self._changes(actor, reason) as changes:
            revision = changes.revision(model_id, wanted)
            return changes.write(
                revision.config,
                kind=ChangeKind.RESTORED,
                expected_version=_version(expected_version),
            )

    def load_default_models(self, *, actor: str | None = None, reason: str | None = None) -> int:
        """Insert the seed's default models that this catalog never had.

        A default that exists is never overwritten, and one an admin removed is not brought
        back, so an admin's change survives every restart.

        Returns:
            How many models were inserted (0 when all three exist or existed).
        """
        inserted = 0
        with self._changes(actor, reason) as changes:
            for config in DEFAULT_MODELS:
                if changes.last_version(config.model_id) == 0:
                    changes.write(config, kind=ChangeKind.CREATED)
                    inserted += 1
        return inserted

    def import_catalog(  # noqa: PLR0913 - keyword-only options
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        prune: bool = False,
        dry_run: bool = False,
        actor: str | None = None,
        reason: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Apply a catalog file (YAML or JSON, by extension) or mapping, all or nothing.

        Every entry is validated first; any invalid entry stops the import before anything is
        written. Then every entry is registered in one transaction (new versions only for
        real changes) and, with ``prune``, models the catalog lacks are removed.

        Args:
            source: A path, or a mapping ``{"models": [...], "schema_version": 1}``.
            prune: Remove the models that are not in ``source``.
            dry_run: Only report what would change.
            actor: Who makes the changes (recorded in each model's history).
            reason: Why.
            progress: Called with ``(done, total)`` as entries are applied.

        Returns:
            The ids added, changed, unchanged and removed.

        Raises:
            InvalidCatalogFileError: E4005, listing every problem (entry index, model_id,
                field, rule); nothing is written.
        """
        models = (
            parse_catalog(source)
            if isinstance(source, Mapping)
            else read_catalog_file(Path(source))
        )
        if dry_run:
            current = self._query_db(
                lambda repository: {m.model_id: m for m in repository.list_models()}
            )
            return plan_import(current, models, prune=prune, dry_run=True)
        total = len(models)
        with self._changes(actor, reason) as changes:
            current = changes.all_models()
            result = plan_import(current, models, prune=prune, dry_run=False)
            for start in range(0, total, _IMPORT_BATCH):
                changes.write_many(models[start : start + _IMPORT_BATCH], current)
                if progress is not None:
                    progress(min(start + _IMPORT_BATCH, total), total)
            for model_id in result.removed:
                changes.remove(model_id)
        if total + len(result.removed) >= _ANALYZE_AFTER:
            with translating(database=self._url), self._write_session.begin() as session:
                CatalogRepository(session).refresh_statistics()
        return result

    def export_catalog(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        format: Format | None = None,  # noqa: A002 - the natural name, as in the CLI
        provider: str | None = None,
        status: ModelStatus | str | None = None,
    ) -> str:
        """Render the catalog (or the models of ``provider``/``status``) as a catalog file.

        Importing the result into an empty database gives the same catalog, field for field.

        Args:
            path: Also write the text to this file (its extension picks the format).
            format: ``yaml`` or ``json`` (default: from ``path``, else ``yaml``).
            provider: Only this provider's models.
            status: Only models in this status.

        Returns:
            The file's text.
        """
        target = None if path is None else Path(path)
        kind: Format = format or (format_of(target) if target is not None else "yaml")
        if kind not in {"yaml", "json"}:
            raise InvalidModelConfigError.single("format", "must be yaml or json", kind)
        text = dump_catalog(self.list_models(provider, status), kind)
        if target is not None:
            target.write_text(text, encoding="utf-8")
        return text

    # -- reads -----------------------------------------------------------------------------

    def get_model(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig | None:
        """Return the model with this id (exact, case-sensitive), or None.

        Args:
            model_id: The model's id.
            as_of: An aware datetime: return what the catalog said at that instant instead
                (None if the model did not exist then, or was removed).

        Raises:
            InvalidModelConfigError: E4003, ``model_id`` is not a string or ``as_of`` is not
                an aware datetime.
        """
        cache = self._cache
        if as_of is None and cache is not None and isinstance(model_id, str):
            # The hot path: one dictionary lookup in the current snapshot.
            return cache.snapshot.get(model_id)
        when = _instant(as_of)
        if not _findable(model_id):
            return None
        if when is None:
            return self._read(lambda catalog: catalog.get(model_id))
        revision = self._query_db(lambda repository: repository.revision_as_of(model_id, when))
        if revision is None or revision.change is ChangeKind.REMOVED:
            return None
        return revision.config

    def get_model_or_raise(self, model_id: str, *, as_of: datetime | None = None) -> ModelConfig:
        """Return the model with this id (at ``as_of``, as in :meth:`get_model`).

        Raises:
            ModelNotFoundError: E4001, no model has this id.
        """
        model = self.get_model(model_id, as_of=as_of)
        if model is None:
            raise ModelNotFoundError(model_id)
        return model

    def list_models(
        self,
        provider: str | None = None,
        status: ModelStatus | str | None = None,
        *,
        capabilities: Iterable[str] = (),
        as_of: datetime | None = None,
    ) -> list[ModelConfig]:
        """Return the models matching every given filter; None (or no names) means any.

        Args:
            provider: Provider name, any case.
            status: A ModelStatus or its name, any case.
            capabilities: Capability names (``vision`` or ``supports_vision``) the models
                must all have.
            as_of: An aware datetime: list the catalog as it was at that instant.

        Raises:
            InvalidModelConfigError: E4003, ``status`` names no status, ``capabilities`` is a
                single string rather than a list of names, or ``as_of`` is not aware.
        """
        wanted = None if status is None else parse_status(status)
        name = None if provider is None else _provider(provider)
        names = _capability_names(capabilities)
        when = _instant(as_of)
        if names is None or (provider is not None and name is None):
            return []
        if when is not None:
            revisions = self._query_db(lambda repository: repository.revisions_as_of(when))
            # The past catalog lives in revision documents: filtered here, not in SQL.
            return [
                revision.config
                for revision in revisions
                if revision.change is not ChangeKind.REMOVED
                and (name is None or revision.config.provider == name)
                and (wanted is None or revision.config.status is wanted)
                and names <= revision.config.capabilities.names()
            ]
        return self._read(
            lambda catalog: catalog.list_models(provider=name, status=wanted, capabilities=names)
        )

    def get_models_by_capability(self, capability: str) -> list[ModelConfig]:
        """Return the models (any status) having the capability.

        ``capability`` is ``vision`` or ``supports_vision``, any case; an unknown capability
        gives an empty list, as in the seed.
        """
        return self.get_models_by_capabilities([capability])

    def get_models_by_capabilities(self, capabilities: Iterable[str]) -> list[ModelConfig]:
        """Return the models (any status) having every named capability.

        An empty list of names returns every active model, as the seed does.

        Raises:
            InvalidModelConfigError: E4003, ``capabilities`` is a single string, not a list.
        """
        names = _capability_names(capabilities)
        if names is None:
            return []
        if not names:
            return self.get_available_models()
        return self._read(lambda catalog: catalog.list_models(capabilities=names))

    def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """Return every model of ``provider`` (any case), any status."""
        return self.list_models(provider=provider)

    def get_available_models(self) -> list[ModelConfig]:
        """Return every active model."""
        return self.list_models(status=ModelStatus.ACTIVE)

    def get_providers(self) -> list[str]:
        """Return the names of providers that have at least one model, sorted."""
        return self._read(lambda catalog: catalog.providers_in_use())

    def get_capabilities(self) -> list[str]:
        """Return the names of capabilities that at least one model has, sorted."""
        return self._read(lambda catalog: catalog.capabilities_in_use())

    def is_initialized(self) -> bool:
        """Tell whether the database schema is at the newest revision this version knows.

        Raises:
            DatabaseUnavailableError: E4020, the database cannot be reached.
        """
        with translating(database=self._url):
            return migrate.is_current(self._engine)

    def get_stats(self) -> dict[str, Any]:
        """Return counts of the catalog, from one consistent snapshot.

        Keys: ``total_models``, ``active_models``, ``total_providers``,
        ``total_capabilities``, ``providers`` (sorted names), ``capabilities`` (sorted names
        in use), ``by_status`` (every status, zeros included) and ``by_provider``.
        """

        def collect(repository: CatalogReader) -> dict[str, Any]:
            counts = repository.count_by_status()
            by_status = {status.value: counts.get(status.value, 0) for status in ModelStatus}
            by_provider = repository.count_by_provider()
            capabilities = repository.capabilities_in_use()
            return {
                "total_models": sum(by_status.values()),
                "active_models": by_status[ModelStatus.ACTIVE.value],
                "total_providers": len(by_provider),
                "total_capabilities": len(capabilities),
                "providers": list(by_provider),
                "capabilities": capabilities,
                "by_status": by_status,
                "by_provider": by_provider,
            }

        stats = self._read(collect, snapshot=True)
        stats["cache"] = {"enabled": False} if self._cache is None else self._cache.state()
        return stats

    # -- history and lifecycle -------------------------------------------------------------

    def get_model_history(self, model_id: str) -> list[ModelRevision]:
        """Return every revision of the model, oldest first (removed models included).

        Raises:
            ModelNotFoundError: E4001, the model has no history (it never existed).
        """
        if not _findable(model_id):
            raise ModelNotFoundError(model_id)
        history = self._query_db(lambda repository: repository.history(model_id))
        if not history:
            raise ModelNotFoundError(model_id)
        return history

    def get_model_version(self, model_id: str, version: int) -> ModelRevision:
        """Return one revision of the model.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, it has no such version.
        """
        wanted = _whole_number(version, "version")
        if not _findable(model_id):
            raise ModelNotFoundError(model_id)
        revision = self._query_db(lambda repository: repository.revision(model_id, wanted))
        if revision is not None:
            return revision
        latest = self._query_db(lambda repository: repository.last_version(model_id))
        if latest == 0:
            raise ModelNotFoundError(model_id)
        raise ModelVersionNotFoundError(model_id, wanted, latest)

    def diff_versions(self, model_id: str, a: int, b: int) -> list[FieldChange]:
        """Return the fields that differ from version ``a`` to version ``b``.

        Fields are dotted paths (``quality_scores.coding``, ``capabilities.supports_vision``)
        with their old and new values in JSON form, sorted by path.

        Raises:
            ModelNotFoundError: E4001, the model has no history.
            ModelVersionNotFoundError: E4004, either version does not exist.
        """
        old = self.get_model_version(model_id, a)
        new = self.get_model_version(model_id, b)
        return diff_configs(old.config, new.config)

    def get_models_retiring(self, within_days: int = 30) -> list[ModelConfig]:
        """Return the models whose retirement date is past or within ``within_days`` days.

        Soonest first; each carries its ``successor_model_id`` when one is set. Days count
        from today in UTC.

        Raises:
            InvalidModelConfigError: E4003, ``within_days`` is not an integer >= 0.
        """
        days = _whole_number(within_days, "within_days")
        today = datetime.now(UTC).date()
        until = today + timedelta(days=days) if days <= (date.max - today).days else date.max
        return self._read(lambda catalog: catalog.retiring(until))

    # -- transactions ----------------------------------------------------------------------

    def _read(self, query: Callable[[CatalogReader], T], *, snapshot: bool = False) -> T:
        """Answer a catalog query from the cache, or from the database without one."""
        if self._cache is not None:
            return query(self._cache.snapshot)
        return self._query_db(query, snapshot=snapshot)

    def _query_db(self, query: Callable[[CatalogRepository], T], *, snapshot: bool = False) -> T:
        sessions = self._snapshot_session if snapshot else self._read_session
        try:
            with translating(database=self._url), sessions() as session:
                return query(CatalogRepository(session))
        except DatabaseUnavailableError as exc:
            if not was_disconnected(exc):
                raise
        # The pool held a connection the server had dropped (a restart): one fresh try.
        with translating(database=self._url), sessions() as session:
            return query(CatalogRepository(session))

    def _load_catalog(self) -> tuple[Anchor, dict[str, ModelConfig]]:
        def load(repository: CatalogRepository) -> tuple[Anchor, dict[str, ModelConfig]]:
            models = repository.list_models()
            return repository.catalog_anchor(), {model.model_id: model for model in models}

        return self._query_db(load, snapshot=True)

    def _changes_since(self, anchor: Anchor) -> list[tuple[int, ModelRevision]] | None:
        return self._query_db(lambda repository: repository.changes_since(anchor))

    def _catch_up(self) -> None:
        """After a write: make this process's cache hold it before the write returns.

        The write has committed whatever happens here; if the database cannot be read back
        after a few tries, the cache is marked stale and the change feed catches up later.
        """
        if self._cache is None:
            return
        for attempt in range(_CATCH_UP_ATTEMPTS):
            try:
                self._cache.refresh()
            except ModelRegistryError as exc:
                self._cache.mark_failed(exc)
                time.sleep(0.05 * (attempt + 1))
            else:
                return
        logger.warning("modelregistry: a committed write is not yet in this process's cache")

    @contextmanager
    def _changes(self, actor: str | None, reason: str | None) -> Iterator[CatalogChanges]:
        note = ChangeNote(actor=default_actor() if actor is None else actor, reason=reason)
        with translating(database=self._url), self._write_session.begin() as session:
            repository = CatalogRepository(session)
            now = repository.lock_for_write()
            changes = CatalogChanges(repository, now=now, note=note)
            yield changes
            if changes.last_revision is not None:
                repository.announce()
        self._catch_up()


def _validated(model: ModelConfig | Mapping[str, Any]) -> ModelConfig:
    if isinstance(model, ModelConfig):
        return ModelConfig.model_validate(model.model_dump())
    if isinstance(model, Mapping):
        return ModelConfig.model_validate(dict(model))
    raise InvalidModelConfigError.single(
        "model", "must be a ModelConfig or a mapping of its fields", model
    )


def _string(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidModelConfigError.single(field, "must be a string", value)
    return value


def _findable(model_id: object) -> bool:
    """Whether a model may have this id; False needs no query (E4003: not even a string)."""
    return is_model_id(_string(model_id, "model_id"))


def _existing_id(model_id: object) -> str:
    """The id of a model a write will look up (E4001 right away when none can have it)."""
    if not _findable(model_id):
        raise ModelNotFoundError(str(model_id))
    return str(model_id)


def _provider(provider: object) -> str | None:
    """The provider name to query, or None when no provider can have it."""
    name = _string(provider, "provider").lower()
    return name if is_provider_name(name) else None


def _capability_names(capabilities: Iterable[str]) -> set[str] | None:
    """Canonical capability names to query, or None when some name no model can have."""
    if isinstance(capabilities, str) or not isinstance(capabilities, Iterable):
        raise InvalidModelConfigError.single(
            "capabilities", "must be a list of capability names, not a single value", capabilities
        )
    names = {capability_name(_string(name, "capabilities")) for name in capabilities}
    return names if all(is_capability_name(name) for name in names) else None


def _instant(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidModelConfigError.single(
            "as_of", "must be a timezone-aware datetime (e.g. datetime.now(UTC))", value
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidModelConfigError.single(
            "as_of", "must be a time that exists in UTC (years 1-9999)", value
        ) from exc


def _version(value: int | None) -> int | None:
    return None if value is None else _whole_number(value, "expected_version")


def _whole_number(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidModelConfigError.single(field, "must be an integer >= 0", value)
    return value


def _after_fork_in_child() -> None:
    for registry in list(_OPEN):
        registry._after_fork()  # noqa: SLF001 - the module's own fork hook


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
