"""Aliases: other names of a model, set, removed and listed (every change recorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelregistry.domain.aliases import AliasState
    from modelregistry.service.parts import Parts


def set_alias(
    parts: Parts, alias: str, model_id: str, *, actor: str | None, reason: str | None
) -> AliasState:
    """Make ``alias`` name the model ``model_id``; the alias as set."""
    with parts.write(actor, reason) as writer:
        return writer.set_alias(alias, model_id)


def remove_alias(parts: Parts, alias: str, *, actor: str | None, reason: str | None) -> str:
    """Remove ``alias``; the model id it named."""
    with parts.write(actor, reason) as writer:
        return writer.remove_alias(alias)


def list_aliases(parts: Parts) -> list[AliasState]:
    """Every alias, sorted, with its model and last change."""
    return parts.query(lambda repository: repository.alias_states())
