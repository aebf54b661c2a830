"""What happened to a model: revisions, kinds of change, diffs and change notes.

Every change to a model appends an immutable :class:`ModelRevision` (the full config after the
change, who made it, when and why) in the same transaction as the change itself. This module
holds the domain side of that record and imports no database code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import AfterValidator, Field, StrictStr
from pydantic_core import PydanticCustomError

from modelregistry.domain.rules import DisplayName, DomainModel

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from modelregistry.domain.models import ModelConfig

__all__ = [
    "ChangeKind",
    "ChangeNote",
    "FieldChange",
    "Fingerprint",
    "ModelRevision",
    "diff_configs",
    "fingerprint",
    "same_change",
]

MAX_REASON_LENGTH: Final = 4096

Fingerprint = tuple[str, int, "datetime"]
"""What tells one recorded change from another numbered alike: model id, version, time."""


def fingerprint(model_id: str, version: int, changed_at: datetime) -> Fingerprint:
    """The fingerprint of a change: the same change, in the same history, has the same one.

    A restored backup replays revision numbers, model ids and versions (the next change
    after the restore gets the number, and often the model and version, that an undone
    change had), but not the instant of the change: comparing it too tells that the database
    is on another timeline than the one a cache (or a feed consumer) followed. Used to check
    an anchor (see ``Repository.changes_since``): on a mismatch, reload everything.
    """
    return (model_id, version, changed_at)


def same_change(
    held: tuple[int, Fingerprint | None], found: tuple[int, Fingerprint | None]
) -> bool:
    """Whether ``found`` (a revision and its change's fingerprint) is the change ``held`` is.

    The one rule for "is this the timeline a cache followed": the database's row numbered
    like a cache's anchor (``Repository.changes_since``), and the predecessor a feed message
    names (``cache.jetstream``), must both be the anchor's very change; otherwise the catalog
    was restored, replaced or recreated, and only a full reload is right.
    """
    return held[0] == found[0] and held[1] == found[1]


class ChangeKind(StrEnum):
    """The kind of change a revision records."""

    CREATED = "created"
    """The model was registered (for the first time, or again after a removal)."""
    UPDATED = "updated"
    """``register_model`` replaced the config with a different one."""
    STATUS_CHANGED = "status_changed"
    """``update_model_status`` changed the status."""
    REMOVED = "removed"
    """``remove_model``; the revision keeps the config the model had."""
    RESTORED = "restored"
    """``restore_model`` wrote the config of an older version as a new version."""
    REPRICED = "repriced"
    """``set_price`` recorded a price (in effect now, or scheduled for later)."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("reason_nul", "must not contain NUL characters")
    return value


class ChangeNote(DomainModel):
    """Who made a change and why: ``actor`` (1-256 characters) and an optional ``reason``."""

    actor: DisplayName
    reason: (
        Annotated[
            StrictStr, Field(min_length=1, max_length=MAX_REASON_LENGTH), AfterValidator(_no_nul)
        ]
        | None
    ) = None


@dataclass(frozen=True, slots=True)
class ModelRevision:
    """One recorded change of a model.

    Attributes:
        model_id: The model's id.
        version: The model's version after the change (1, 2, ...).
        config: The full config after the change (for a removal: the config it had).
        change: What kind of change this was.
        changed_at: When it was committed (the database's clock, UTC, microseconds).
        actor: Who made it.
        reason: Why, when given.
    """

    model_id: str
    version: int
    config: ModelConfig
    change: ChangeKind
    changed_at: datetime
    actor: str
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly mapping of the revision."""
        return {
            "model_id": self.model_id,
            "version": self.version,
            "change": self.change.value,
            "changed_at": self.changed_at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "config": self.config.model_dump(mode="json"),
        }


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A field that differs between two versions (dotted path for nested fields)."""

    field: str
    old: object
    new: object

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-friendly mapping of the change."""
        return {"field": self.field, "old": self.old, "new": self.new}


def diff_configs(old: ModelConfig, new: ModelConfig) -> list[FieldChange]:
    """Return the fields that differ from ``old`` to ``new``, sorted by field path.

    Values are in their JSON form; a capability flag missing on one side counts as False.
    """
    before, after = _flatten(old), _flatten(new)
    changes = []
    for field in sorted(before.keys() | after.keys()):
        default = False if field.startswith("capabilities.") else None
        old_value, new_value = before.get(field, default), after.get(field, default)
        if old_value != new_value:
            changes.append(FieldChange(field, old_value, new_value))
    return changes


def _flatten(config: ModelConfig) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in config.model_dump(mode="json").items():
        if isinstance(value, dict):
            nested: Mapping[str, object] = value
            flat.update({f"{key}.{inner}": item for inner, item in nested.items()})
        else:
            flat[key] = value
    return flat
