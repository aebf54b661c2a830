"""Writing models: register, change status, remove, restore, insert the defaults.

Each function is one write transaction (:meth:`~modelregistry.service.parts.Parts.write`);
arguments arrive checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.domain.defaults import DEFAULT_MODELS
from modelregistry.domain.history import ChangeKind

if TYPE_CHECKING:
    from modelregistry.domain.history import ModelRevision
    from modelregistry.domain.models import ModelConfig, ModelStatus
    from modelregistry.service.parts import Parts


def register(
    parts: Parts,
    config: ModelConfig,
    *,
    expected_version: int | None,
    actor: str | None,
    reason: str | None,
) -> ModelConfig:
    """Create the model or replace the stored one; the model as stored."""
    with parts.write(actor, reason, from_cache=True) as writer:
        return writer.write(config, kind=ChangeKind.UPDATED, expected_version=expected_version)


def set_status(  # noqa: PLR0913 - the model, its status, and the write's usual keywords
    parts: Parts,
    model_id: str,
    status: ModelStatus,
    *,
    expected_version: int | None,
    actor: str | None,
    reason: str | None,
) -> ModelConfig:
    """Set the model's status (the same status writes nothing); the model after it."""
    with parts.write(actor, reason, from_cache=True) as writer:
        current = writer.current_named(model_id)
        return writer.write(
            current.model_copy(update={"status": status}),
            kind=ChangeKind.STATUS_CHANGED,
            expected_version=expected_version,
        )


def remove(
    parts: Parts,
    model_id: str,
    *,
    expected_version: int | None,
    actor: str | None,
    reason: str | None,
) -> ModelRevision:
    """Remove the model; the revision that records it."""
    with parts.write(actor, reason, from_cache=True) as writer:
        return writer.remove(writer.resolve(model_id), expected_version=expected_version)


def restore(  # noqa: PLR0913 - the model, its version, and the write's usual keywords
    parts: Parts,
    model_id: str,
    version: int,
    *,
    expected_version: int | None,
    actor: str | None,
    reason: str | None,
) -> ModelConfig:
    """Write the config of an older version as the next one; the model after it."""
    with parts.write(actor, reason, from_cache=True) as writer:
        revision = writer.revision(writer.resolve(model_id), version)
        return writer.write(
            revision.config, kind=ChangeKind.RESTORED, expected_version=expected_version
        )


def load_defaults(parts: Parts, *, actor: str | None, reason: str | None) -> int:
    """Insert the default models the catalog never had; how many."""
    inserted = 0
    with parts.write(actor, reason) as writer:
        for config in DEFAULT_MODELS:
            if writer.last_version(config.model_id) == 0:
                writer.write(config, kind=ChangeKind.CREATED)
                inserted += 1
    return inserted
