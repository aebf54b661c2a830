"""The changes one write transaction makes: versioned, recorded and guarded.

Every write of the registry goes through :class:`CatalogChanges`, inside the transaction the
registry owns: a change bumps the model's version by exactly one and appends its revision; a
change that changes nothing writes nothing; ``expected_version`` refuses to overwrite a change
made by someone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.errors import (
    ConcurrentModificationError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
)
from modelregistry.history import ChangeKind, ChangeNote, ModelRevision

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from modelregistry.domain import ModelConfig
    from modelregistry.repository import CatalogRepository


class CatalogChanges:
    """Applies changes through one repository, at one time, on behalf of one actor."""

    def __init__(self, repository: CatalogRepository, *, now: datetime, note: ChangeNote) -> None:
        """Apply changes through ``repository``, dated ``now`` and signed with ``note``."""
        self._repository = repository
        self._now = now
        self._note = note
        self.last_revision: int | None = None
        """The catalog revision of the last change made here (None: nothing changed)."""
        self.written: dict[tuple[str, int], ModelConfig] = {}
        """The configs written here, by ``(model_id, version)``: the cache reuses them."""
        # The model current() read, until a change: write() need not read it again.
        self._read: ModelConfig | None = None

    def current(self, model_id: str) -> ModelConfig:
        """The model as stored now.

        Raises:
            ModelNotFoundError: E4001, no such model (never registered, or removed).
        """
        model = self._repository.get(model_id)
        if model is None:
            raise ModelNotFoundError(model_id)
        self._read = model
        return model

    def all_models(self) -> dict[str, ModelConfig]:
        """Every model as stored now, by id."""
        return {model.model_id: model for model in self._repository.list_models()}

    def last_version(self, model_id: str) -> int:
        """The model's newest version, a removal included; 0 if it never existed."""
        return self._repository.last_version(model_id)

    def revision(self, model_id: str, version: int) -> ModelRevision:
        """Revision ``version`` of the model.

        Raises:
            ModelNotFoundError: E4001, the model has no history at all.
            ModelVersionNotFoundError: E4004, it has no such version.
        """
        revision = self._repository.revision(model_id, version)
        if revision is not None:
            return revision
        latest = self._repository.last_version(model_id)
        if latest == 0:
            raise ModelNotFoundError(model_id)
        raise ModelVersionNotFoundError(model_id, version, latest)

    def write(
        self, config: ModelConfig, *, kind: ChangeKind, expected_version: int | None = None
    ) -> ModelConfig:
        """Store ``config`` as the model's next version, unless it changes nothing.

        ``kind`` names the change; writing a model that does not exist records ``created``
        (``restored`` stays ``restored``).

        Raises:
            ConcurrentModificationError: E4030, ``expected_version`` is not the stored version.
        """
        last = self._check_version(config.model_id, expected_version)
        read, self._read = self._read, None
        current = (
            read
            if read is not None and read.model_id == config.model_id
            else self._repository.get(config.model_id)
        )
        if current is not None and current == config:
            return current
        if current is None and kind is not ChangeKind.RESTORED:
            kind = ChangeKind.CREATED
        self._repository.save(config, version=last + 1, now=self._now)
        self._record(config, version=last + 1, kind=kind)
        self.written[config.model_id, last + 1] = config
        stored = self._repository.get(config.model_id)
        if stored is None:  # pragma: no cover - written in this very transaction
            raise ModelNotFoundError(config.model_id)
        return stored

    def write_many(self, configs: list[ModelConfig], current: Mapping[str, ModelConfig]) -> None:
        """Store each config as its model's next version, in a few statements for them all.

        For imports: ``current`` is the catalog as read in this transaction; configs equal to
        their stored model are skipped; ids must be distinct. Records ``created`` or
        ``updated``.
        """
        changed = [config for config in configs if current.get(config.model_id) != config]
        if not changed:
            return
        versions = self._repository.last_versions([config.model_id for config in changed])
        items = [(config, versions.get(config.model_id, 0) + 1) for config in changed]
        self._repository.save_many(items, now=self._now, existing=current.keys())
        self.written.update(((config.model_id, version), config) for config, version in items)
        self.last_revision = self._repository.append_revisions(
            [
                (
                    config,
                    version,
                    ChangeKind.UPDATED if config.model_id in current else ChangeKind.CREATED,
                )
                for config, version in items
            ],
            now=self._now,
            note=self._note,
        )

    def remove(self, model_id: str, *, expected_version: int | None = None) -> ModelRevision:
        """Remove the model from the catalog; its history stays.

        Raises:
            ModelNotFoundError: E4001, no such model.
            ConcurrentModificationError: E4030, ``expected_version`` is not the stored version.
        """
        current = self.current(model_id)
        self._read = None
        last = self._check_version(model_id, expected_version)
        self._repository.delete(model_id)
        self._record(current, version=last + 1, kind=ChangeKind.REMOVED)
        return self.revision(model_id, last + 1)

    def _check_version(self, model_id: str, expected: int | None) -> int:
        last = self._repository.last_version(model_id)
        if expected is not None and expected != last:
            raise ConcurrentModificationError(model_id, expected, last)
        return last

    def _record(self, config: ModelConfig, *, version: int, kind: ChangeKind) -> None:
        self.last_revision = self._repository.append_revisions(
            [(config, version, kind)], now=self._now, note=self._note
        )
