"""The catalog as the server answers it: opened in the background, rendered once per snapshot.

The server answers from the registry's cache. Each snapshot of the cache gets one
:class:`Rendered`: its strong ETag and the bodies serialised from it, built on first use and
reused by every request until the cache moves on (a change, an alias, a scheduled price taking
effect). A body is always built from the very snapshot its ETag names.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from modelregistry.errors import CatalogNotReadyError, ModelNotFoundError, ModelRegistryError
from modelregistry.server.changes import ChangeLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelregistry.cache.cache import SnapshotCache
    from modelregistry.cache.snapshot import Snapshot
    from modelregistry.domain.models import ModelConfig
    from modelregistry.registry import ModelRegistry

logger = logging.getLogger(__name__)

MAX_BODIES: Final = 4096
"""Bodies kept per snapshot (one per model, list and query asked for); the oldest go first."""

RETRY_SECONDS: Final = 1.0
"""Pause between attempts to open a database that could not be reached."""


class Rendered:
    """One snapshot of the catalog, its ETag and the bodies serialised from it.

    Attributes:
        snapshot: The snapshot.
        revision: Its catalog revision.
        etag: The strong ETag: ``"<revision>"``, or ``"<revision>.<n>"`` when the same revision
            was shown again with other prices (a scheduled price took effect) or aliases.
    """

    __slots__ = ("_bodies", "_lock", "etag", "generation", "revision", "snapshot")

    def __init__(self, snapshot: Snapshot, generation: int) -> None:
        """Name ``snapshot`` (the ``generation``-th shown at its revision)."""
        self.snapshot = snapshot
        self.revision = snapshot.revision
        self.generation = generation
        suffix = f".{generation}" if generation else ""
        self.etag = f'"{self.revision}{suffix}"'
        self._bodies: OrderedDict[object, Any] = OrderedDict()
        self._lock = threading.Lock()

    def memo(self, key: object, build: Callable[[], Any]) -> Any:  # noqa: ANN401 - any body
        """The value built for ``key`` from this snapshot, built once."""
        found = self._bodies.get(key, _MISSING)
        if found is not _MISSING:
            return found
        value = build()
        with self._lock:
            self._bodies[key] = value
            if len(self._bodies) > MAX_BODIES:
                self._bodies.popitem(last=False)
        return value

    def has(self, key: object) -> bool:
        """Whether the value for ``key`` is built already."""
        return key in self._bodies

    def model(self, name: str) -> ModelConfig:
        """The model with this id or alias.

        Raises:
            ModelNotFoundError: E4001.
        """
        snapshot = self.snapshot
        model = snapshot.get(name) or snapshot.get(snapshot.resolve(name))
        if model is None:
            raise ModelNotFoundError(name)
        return model


_MISSING: Final = object()


class Catalog:
    """The registry the server reads, opened in a thread of its own until the database answers.

    Args:
        open_registry: Opens the registry (with its cache); called again every
            :data:`RETRY_SECONDS` while it raises :class:`~modelregistry.ModelRegistryError`.
        history_size: Changes the change stream can replay.
    """

    def __init__(self, open_registry: Callable[[], ModelRegistry], history_size: int) -> None:
        """Start opening the registry in the background."""
        self._open_registry = open_registry
        self.changes = ChangeLog(history_size)
        self.registry: ModelRegistry | None = None
        self.error: str | None = "opening the catalog"
        self.fatal: ModelRegistryError | None = None
        """An error that retrying cannot mend (a schema to upgrade): the server stops."""
        self._snapshots: SnapshotCache | None = None
        self._rendered: Rendered | None = None
        self._created: dict[str, int] = {}
        self._stopped = threading.Event()
        self._opener = threading.Thread(target=self._open, name="modelregistry-open", daemon=True)

    def start(self) -> None:
        """Open the registry in the background (until it opens, or :meth:`close`)."""
        self._opener.start()

    def wait_open(self, timeout: float) -> bool:
        """Wait until the registry is open; tell whether it is."""
        self._opener.join(timeout)
        return self.registry is not None

    def _open(self) -> None:
        while not self._stopped.is_set():
            try:
                registry = self._open_registry()
            except ModelRegistryError as exc:
                error = str(exc).replace("\n", " ")
                if not exc.retryable:
                    self.error, self.fatal = error, exc
                    return
                if error != self.error:  # said once, not every second
                    logger.warning("modelregistry serve: cannot open the catalog yet: %s", error)
                self.error = error
                self._stopped.wait(RETRY_SECONDS)
                continue
            # The one use of the registry's internals: the server renders each snapshot of
            # its cache once (the public reads would each take the newest one).
            snapshots = registry._cache  # noqa: SLF001 - see above
            if snapshots is None:
                registry.close()
                msg = "the server needs a registry opened with cache=True"
                raise RuntimeError(msg)
            self.changes.follow(registry, snapshots.current().revision)
            self._snapshots = snapshots
            self.registry = registry
            self.error = None
            if self._stopped.is_set():
                registry.close()
            return

    def rendered(self) -> Rendered:
        """The current snapshot, rendered.

        Raises:
            CatalogNotReadyError: E4053, the database was never reached.
        """
        snapshots = self._snapshots
        if snapshots is None:
            raise CatalogNotReadyError(f"the catalog is not loaded yet: {self.error}")
        snapshot = snapshots.current()
        rendered = self._rendered
        if rendered is None or rendered.snapshot is not snapshot:
            same = rendered is not None and rendered.revision == snapshot.revision
            generation = rendered.generation + 1 if same and rendered is not None else 0
            rendered = self._rendered = Rendered(snapshot, generation)
        return rendered

    def created(self, model_ids: list[str]) -> dict[str, int]:
        """Unix time of each model's first version (read once per model; blocking)."""
        registry = self.registry
        missing = [model_id for model_id in model_ids if model_id not in self._created]
        for model_id in missing:
            if registry is None:
                break
            try:
                first = registry.get_model_version(model_id, 1)
            except ModelRegistryError:
                continue  # not memoised: asked again next time
            self._created[model_id] = int(first.changed_at.timestamp())
        return {model_id: self._created.get(model_id, 0) for model_id in model_ids}

    def close(self) -> None:
        """Stop opening, stop following and close the registry."""
        self._stopped.set()
        self.changes.close()
        registry, self.registry, self._snapshots = self.registry, None, None
        if registry is not None:
            registry.close()
