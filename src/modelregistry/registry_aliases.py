"""The alias methods of the public API: other names of a model.

:class:`AliasMethods` is a part of :class:`~modelregistry.ModelRegistry` (one of its bases).
Every method of the registry that takes a model id also takes an alias.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.domain.arguments import existing_id, string_argument
from modelregistry.domain.models import is_model_id
from modelregistry.errors import InvalidModelConfigError
from modelregistry.metrics.telemetry import operation
from modelregistry.store import CatalogStore

if TYPE_CHECKING:
    from modelregistry.domain.aliases import AliasState


class AliasMethods(CatalogStore):
    """Aliases of models (see ModelRegistry)."""

    @operation
    def set_alias(
        self,
        alias: str,
        model_id: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> AliasState:
        """Make ``alias`` another name of the model ``model_id`` (or repoint it there).

        ``claude-3-opus`` -> ``claude-3-opus-20240229``: from then on every method taking a
        model id accepts the alias, and returns the model under its own id. Each setting is
        recorded with who, when and why; setting what is already set writes nothing.

        Args:
            alias: The other name; the rules of a model id apply, and it cannot be the id of
                a model, past or present.
            model_id: The model it names (an alias of it works too).
            actor: Who makes the change.
            reason: Why.

        Returns:
            The alias as set.

        Raises:
            InvalidModelConfigError: E4003, ``alias`` breaks the rules of an id or is the id
                of a model.
            ModelNotFoundError: E4001, ``model_id`` names no model.
        """
        name = string_argument(alias, "alias")
        if not is_model_id(name):
            raise InvalidModelConfigError.single(
                "alias", "must be a valid model id (1-256 characters, no spaces)", alias
            )
        target = existing_id(model_id)
        with self._changes(actor, reason) as changes:
            return changes.set_alias(name, target)

    @operation
    def remove_alias(
        self, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> str:
        """Remove ``alias`` (recorded with who, when and why); return the id it named.

        Raises:
            ModelNotFoundError: E4001, no such alias.
        """
        name = existing_id(alias)
        with self._changes(actor, reason) as changes:
            return changes.remove_alias(name)

    @operation
    def list_aliases(self) -> list[AliasState]:
        """Every alias, sorted, with the model it names and who set it when."""
        return self._query_db(lambda repository: repository.alias_states())
