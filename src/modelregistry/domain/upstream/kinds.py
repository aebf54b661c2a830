"""The upstream kinds a catalog syncs from: each one's converter and documented default URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from modelregistry.domain.upstream import litellm, models_dev, openrouter
from modelregistry.errors import InvalidArgumentError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from modelregistry.domain.upstream.convert import Conversion

__all__ = ["KINDS", "UpstreamKind", "upstream_kind"]


@dataclass(frozen=True, slots=True)
class UpstreamKind:
    """One upstream catalog: its name, where it is published, and how it converts."""

    name: str
    default_url: str
    convert: Callable[..., Conversion]

    def conversion(self, document: object, *, today: date) -> Conversion:
        """Convert a parsed document of this kind."""
        return self.convert(document, today=today)


KINDS: Final = {
    kind.name: kind
    for kind in (
        UpstreamKind(
            "litellm",
            "https://raw.githubusercontent.com/BerriAI/litellm/main/"
            "model_prices_and_context_window.json",
            litellm.convert,
        ),
        UpstreamKind("models.dev", "https://models.dev/api.json", models_dev.convert),
        UpstreamKind("openrouter", "https://openrouter.ai/api/v1/models", openrouter.convert),
    )
}
"""Every upstream kind, by name."""


def upstream_kind(name: object) -> UpstreamKind:
    """The kind called ``name``.

    Raises:
        InvalidArgumentError: E4007, no such kind.
    """
    found = KINDS.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidArgumentError.single("kind", f"must be one of {', '.join(KINDS)}", name)
    return found
