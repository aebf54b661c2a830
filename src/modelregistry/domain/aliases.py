"""Aliases: other names of a model (``claude-3-opus`` for ``claude-3-opus-20240229``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["AliasState"]


@dataclass(frozen=True, slots=True)
class AliasState:
    """An alias, the model it names, and its last change.

    Attributes:
        alias: The other name.
        model_id: The model it names.
        changed_at: When it was set to name that model.
        actor: Who set it.
        reason: Why.
    """

    alias: str
    model_id: str
    changed_at: datetime
    actor: str
    reason: str | None = None
