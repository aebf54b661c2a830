"""Finding one revision of a model, or saying exactly why there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.errors import ModelNotFoundError, ModelVersionNotFoundError

if TYPE_CHECKING:
    from modelregistry.db.repository import Repository
    from modelregistry.domain.history import ModelRevision


def revision_or_raise(repository: Repository, model_id: str, version: int) -> ModelRevision:
    """Revision ``version`` of the model.

    Raises:
        ModelNotFoundError: E4001, the model has no history at all.
        ModelVersionNotFoundError: E4004, it has no such version (the error names the newest).
    """
    revision = repository.revision(model_id, version)
    if revision is not None:
        return revision
    latest = repository.last_version(model_id)
    if latest == 0:
        raise ModelNotFoundError(model_id)
    raise ModelVersionNotFoundError(model_id, version, latest)
