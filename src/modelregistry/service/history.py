"""A model's recorded history: every revision, one version, the difference of two."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.domain.arguments import is_findable_id
from modelregistry.domain.history import diff_configs
from modelregistry.errors import ModelNotFoundError
from modelregistry.service.reads import resolve
from modelregistry.service.revisions import revision_or_raise

if TYPE_CHECKING:
    from modelregistry.domain.history import FieldChange, ModelRevision
    from modelregistry.service.parts import Parts


def history(parts: Parts, model_id: str) -> list[ModelRevision]:
    """Every revision of the model (or alias), oldest first.

    Raises:
        ModelNotFoundError: E4001, the model has no history.
    """
    if not is_findable_id(model_id):
        raise ModelNotFoundError(model_id)
    name = resolve(parts, model_id)
    found = parts.query(lambda repository: repository.history(name))
    if not found:
        raise ModelNotFoundError(name)
    return found


def version(parts: Parts, model_id: str, number: int) -> ModelRevision:
    """Revision ``number`` of the model (or alias).

    Raises:
        ModelNotFoundError: E4001, the model has no history.
        ModelVersionNotFoundError: E4004, it has no such version.
    """
    if not is_findable_id(model_id):
        raise ModelNotFoundError(model_id)
    name = resolve(parts, model_id)
    return parts.query(lambda repository: revision_or_raise(repository, name, number))


def diff(parts: Parts, model_id: str, a: int, b: int) -> list[FieldChange]:
    """The fields that differ from version ``a`` to version ``b``."""
    old, new = version(parts, model_id, a), version(parts, model_id, b)
    return diff_configs(old.config, new.config)
