"""What the catalog remembers of its upstreams: each source's last fetch, each model's origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from modelregistry.domain.upstream.plan import SyncPlan

__all__ = ["Override", "Provenance", "SourceState", "SyncResult"]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a synced model's values came from.

    Attributes:
        kind: The upstream kind (``litellm``, ``models.dev``, ``openrouter``).
        location: The file or URL synced from.
        content_sha256: The sha256 of the document's bytes.
        etag: The ETag the server sent with it (None: a file, or no ETag).
        synced_at: When the model was last synced.
    """

    kind: str
    location: str
    content_sha256: str
    etag: str | None
    synced_at: datetime

    def to_dict(self) -> dict[str, str | None]:
        """JSON-friendly: the instant as ISO 8601 text."""
        return {
            "kind": self.kind,
            "location": self.location,
            "content_sha256": self.content_sha256,
            "etag": self.etag,
            "synced_at": self.synced_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source's last successful fetch: its ETag and content sha256."""

    etag: str | None
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Override:
    """A field of a synced model whose local value differs from the upstream value (its base)."""

    model_id: str
    field: str
    local: str | int | bool | None
    upstream: str | int | bool | None

    def to_dict(self) -> dict[str, object]:
        """``{"model_id", "field", "local", "upstream"}``."""
        return {
            "model_id": self.model_id,
            "field": self.field,
            "local": self.local,
            "upstream": self.upstream,
        }


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a sync did (or, with ``dry_run``, would do).

    Attributes:
        plan: The plan computed (applied unless ``dry_run``); empty when ``not_modified``.
        provenance: The source: kind, location, content sha256, ETag, time of the sync.
        dry_run: Nothing was written.
        not_modified: The server answered 304 to the remembered ETag: nothing was read or
            written.
    """

    plan: SyncPlan
    provenance: Provenance
    dry_run: bool
    not_modified: bool

    def to_dict(self) -> dict[str, object]:
        """The plan's report (the issue's shape), with ``source``, ``dry_run``, ``not_modified``."""
        return {
            **self.plan.to_dict(),
            "source": self.provenance.to_dict(),
            "dry_run": self.dry_run,
            "not_modified": self.not_modified,
        }
