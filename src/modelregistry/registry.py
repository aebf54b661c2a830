"""ModelRegistry: the public API of the catalog (the seed's 14 methods, on a database).

The registry owns the engine and every transaction: a read is one snapshot, a write is one
transaction that commits or rolls back as a whole and holds the catalog's write lock. It writes
no SQL itself (see :mod:`modelregistry.repository`).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy.orm import sessionmaker

from modelregistry import migrate
from modelregistry.db.engine import (
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
    parse_status,
)
from modelregistry.errors import (
    DatabaseUnavailableError,
    InvalidModelConfigError,
    ModelNotFoundError,
)
from modelregistry.repository import CatalogRepository
from modelregistry.settings import resolve_database_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime
    from types import TracebackType

    from sqlalchemy.orm import Session

T = TypeVar("T")


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

    def __init__(self, url: str | None = None, *, auto_migrate: bool = False) -> None:
        """Open (and if empty, initialise) the catalog at ``url``."""
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

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The catalog's database URL, password masked."""
        return self._url

    def close(self) -> None:
        """Release every database connection held by the registry."""
        self._engine.dispose()

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

    def register_model(self, model: ModelConfig | Mapping[str, Any]) -> ModelConfig:
        """Create the model, or replace the stored model with the same ``model_id``.

        Args:
            model: A ModelConfig or a mapping of its fields. It is validated again, so a
                model altered with ``model_copy(update=...)`` cannot bypass the rules.

        Returns:
            The model as stored. Registering a config equal to the stored one writes nothing.

        Raises:
            InvalidModelConfigError: E4003, naming each broken rule; nothing is written.
            DatabaseUnavailableError: E4020, the database cannot be reached (retryable).
        """
        config = _validated(model)
        with self._writing() as (repository, now):
            if repository.get(config.model_id) != config:
                repository.save(config, now=now)
            stored = repository.get(config.model_id)
        if stored is None:  # pragma: no cover - the row was written in this transaction
            raise ModelNotFoundError(config.model_id)
        return stored

    def update_model_status(self, model_id: str, status: ModelStatus | str) -> ModelConfig:
        """Set the status of a model (``status`` is a ModelStatus or its name, any case).

        Returns:
            The model after the change.

        Raises:
            ModelNotFoundError: E4001, no model has this id; nothing is written.
            InvalidModelConfigError: E4003, ``status`` names no status.
        """
        new_status = parse_status(status)
        _check_id(model_id)
        with self._writing() as (repository, now):
            if not repository.set_status(model_id, new_status, now=now):
                raise ModelNotFoundError(model_id)
            stored = repository.get(model_id)
        if stored is None:  # pragma: no cover - the row was updated in this transaction
            raise ModelNotFoundError(model_id)
        return stored

    def load_default_models(self) -> int:
        """Insert the seed's default models that are missing; never overwrite one that exists.

        An admin's change to a default model therefore survives every restart.

        Returns:
            How many models were inserted (0 when all three exist).
        """
        inserted = 0
        with self._writing() as (repository, now):
            for config in DEFAULT_MODELS:
                if repository.get(config.model_id) is None:
                    repository.save(config, now=now)
                    inserted += 1
        return inserted

    # -- reads -----------------------------------------------------------------------------

    def get_model(self, model_id: str) -> ModelConfig | None:
        """Return the model with this id (exact, case-sensitive), or None."""
        _check_id(model_id)
        return self._read(lambda repository: repository.get(model_id))

    def get_model_or_raise(self, model_id: str) -> ModelConfig:
        """Return the model with this id.

        Raises:
            ModelNotFoundError: E4001, no model has this id.
        """
        model = self.get_model(model_id)
        if model is None:
            raise ModelNotFoundError(model_id)
        return model

    def list_models(
        self,
        provider: str | None = None,
        status: ModelStatus | str | None = None,
        *,
        capabilities: Iterable[str] = (),
    ) -> list[ModelConfig]:
        """Return the models matching every given filter; None (or no names) means any.

        Args:
            provider: Provider name, any case.
            status: A ModelStatus or its name, any case.
            capabilities: Capability names (``vision`` or ``supports_vision``) the models
                must all have.

        Raises:
            InvalidModelConfigError: E4003, ``status`` names no status, or ``capabilities``
                is a single string rather than a list of names.
        """
        wanted = None if status is None else parse_status(status)
        name = None if provider is None else _provider(provider)
        names = _capability_names(capabilities)
        return self._read(
            lambda repository: repository.list_models(
                provider=name, status=wanted, capabilities=names
            )
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
        if not names:
            return self.get_available_models()
        return self._read(lambda repository: repository.list_models(capabilities=names))

    def get_models_by_provider(self, provider: str) -> list[ModelConfig]:
        """Return every model of ``provider`` (any case), any status."""
        return self.list_models(provider=provider)

    def get_available_models(self) -> list[ModelConfig]:
        """Return every active model."""
        return self.list_models(status=ModelStatus.ACTIVE)

    def get_providers(self) -> list[str]:
        """Return the names of providers that have at least one model, sorted."""
        return self._read(CatalogRepository.providers_in_use)

    def get_capabilities(self) -> list[str]:
        """Return the names of capabilities that at least one model has, sorted."""
        return self._read(CatalogRepository.capabilities_in_use)

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

        def collect(repository: CatalogRepository) -> dict[str, Any]:
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

        return self._read(collect, snapshot=True)

    # -- transactions ----------------------------------------------------------------------

    def _read(self, query: Callable[[CatalogRepository], T], *, snapshot: bool = False) -> T:
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

    @contextmanager
    def _writing(self) -> Iterator[tuple[CatalogRepository, datetime]]:
        with translating(database=self._url), self._write_session.begin() as session:
            repository = CatalogRepository(session)
            yield repository, repository.lock_for_write()


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


def _capability_names(capabilities: Iterable[str]) -> set[str]:
    if isinstance(capabilities, str):
        raise InvalidModelConfigError.single(
            "capabilities", "must be a list of capability names, not a string", capabilities
        )
    return {capability_name(_string(name, "capabilities")) for name in capabilities}


def _check_id(model_id: object) -> None:
    _string(model_id, "model_id")


def _provider(provider: object) -> str:
    return _string(provider, "provider").lower()
