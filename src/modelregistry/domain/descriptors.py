"""The descriptive fields of a model: modalities, mode, dates, open weights, tags.

What the real catalogs (LiteLLM, models.dev, OpenRouter) say about a model besides its limits
and prices. Every field defaults to *unknown* (an empty tuple, None, no tags): a default that
invented a fact ("text in, text out") would be worse than none, and a model synced from a
source that does not say stays honest.

- ``input_modalities`` / ``output_modalities``: names from :data:`MODALITIES`, any case,
  stored lowercase, sorted, each once (a repeated name counts once).
- ``mode``: one of :class:`ModelMode` (LiteLLM's modes, the set its real map uses).
- ``release_date`` / ``knowledge_cutoff``: an ISO day ``YYYY-MM-DD`` or an ISO month
  ``YYYY-MM`` (models.dev gives months), kept at the precision given as text: a month is not
  turned into its first day, which would invent a fact. A ``datetime.date`` is accepted and
  stored as its day. ISO text sorts in time order at equal precision.
- ``open_weights``: True, False, or None (unknown).
- ``tags``: a free-form ``str -> str`` mapping (owner team, data residency, ...); see
  :func:`check_tag`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Annotated, Final

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from modelregistry.domain.rules import CaselessStrEnum

__all__ = [
    "MAX_TAGS",
    "MAX_TAG_KEY_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "MODALITIES",
    "CatalogDate",
    "Modalities",
    "ModelMode",
    "Tags",
    "catalog_date",
    "check_tag",
    "modality_name",
    "tag_problem",
]

MODALITIES: Final = ("audio", "image", "pdf", "text", "video")
"""The modalities a model can take in or give out, sorted."""
MAX_TAGS: Final = 64
"""The most tags a model can carry."""
MAX_TAG_KEY_LENGTH: Final = 64
"""The longest tag key."""
MAX_TAG_VALUE_LENGTH: Final = 256
"""The longest tag value."""
_TAG_KEY_RE: Final = re.compile(r"[a-z][a-z0-9_.-]*")
_MONTH_RE: Final = re.compile(r"\d{4}-\d{2}")
_DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_BAD_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


class ModelMode(CaselessStrEnum):
    """What kind of endpoint a model serves: LiteLLM's ``mode`` values (any case accepted)."""

    CHAT = "chat"
    COMPLETION = "completion"
    RESPONSES = "responses"
    EMBEDDING = "embedding"
    RERANK = "rerank"
    MODERATION = "moderation"
    IMAGE_GENERATION = "image_generation"
    VIDEO_GENERATION = "video_generation"
    AUDIO_TRANSCRIPTION = "audio_transcription"
    AUDIO_SPEECH = "audio_speech"
    OCR = "ocr"
    SEARCH = "search"
    VECTOR_STORE = "vector_store"


def modality_name(value: object) -> str | None:
    """``value`` as a modality name (lowercase), or None when it names none."""
    if not isinstance(value, str):
        return None
    name = value.lower()
    return name if name in MODALITIES else None


def _modalities(value: object) -> tuple[str, ...]:
    if type(value) is list and not value:
        return ()  # (the common case, unknown, without a walk through the ABCs below)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise PydanticCustomError(
            "modalities_list", "must be a list of modalities ({allowed})", _ALLOWED
        )
    names = set()
    for item in value:
        name = modality_name(item)
        if name is None:
            raise PydanticCustomError(
                "modality_name",
                "{item} is not a modality: each must be one of {allowed}",
                {"item": repr(item), **_ALLOWED},
            )
        names.add(name)
    return tuple(sorted(names))


_ALLOWED: Final = {"allowed": ", ".join(MODALITIES)}


def catalog_date(value: object) -> str | None:
    """``value`` as catalog date text (an ISO day or month), or None when it is not a real one.

    A ``datetime.date`` gives its day; a ``datetime`` is refused (it is an instant, not a day).
    """
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return None
    text = value.strip()
    day = text if _DAY_RE.fullmatch(text) else text + "-01" if _MONTH_RE.fullmatch(text) else None
    if day is None:
        return None
    try:
        date.fromisoformat(day)
    except ValueError:
        return None
    return text


def _catalog_date(value: object) -> str:
    text = catalog_date(value)
    if text is None:
        raise PydanticCustomError(
            "catalog_date", "must be a date YYYY-MM-DD or a month YYYY-MM (a real one)"
        )
    return text


def tag_problem(key: object, value: object) -> str | None:
    """Why ``key: value`` cannot be a tag, or None when it can."""
    if not isinstance(key, str) or not (
        len(key) <= MAX_TAG_KEY_LENGTH and _TAG_KEY_RE.fullmatch(key)
    ):
        return (
            f"tag key {key!r} must match [a-z][a-z0-9_.-]* and have at most "
            f"{MAX_TAG_KEY_LENGTH} characters"
        )
    if not isinstance(value, str):
        return f"tag {key}: the value must be a string"
    if not 1 <= len(value) <= MAX_TAG_VALUE_LENGTH or value != value.strip():
        return (
            f"tag {key}: the value must have 1-{MAX_TAG_VALUE_LENGTH} characters and no "
            "leading or trailing whitespace"
        )
    if any(
        unicodedata.category(char) in _BAD_CATEGORIES for char in value if not char.isprintable()
    ):
        return f"tag {key}: the value must not contain control characters or line breaks"
    return None


def check_tag(key: object, value: object) -> tuple[str, str]:
    """``(key, value)`` checked as a tag.

    Raises:
        PydanticCustomError: the key or the value breaks a rule (the message says which).
    """
    problem = tag_problem(key, value)
    if problem is not None:
        raise PydanticCustomError("tag", problem)
    return str(key), str(value)


def _tags(value: object) -> dict[str, str]:
    if type(value) is dict and not value:
        return {}  # (the common case, no tags, without a walk through the ABCs below)
    if not isinstance(value, Mapping):
        raise PydanticCustomError("tags_mapping", "must be a mapping of tag keys to values")
    if len(value) > MAX_TAGS:
        raise PydanticCustomError("tags_count", f"must have at most {MAX_TAGS} tags")
    return dict(sorted(check_tag(key, text) for key, text in value.items()))


Modalities = Annotated[
    tuple[str, ...],
    BeforeValidator(_modalities),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"enum": list(MODALITIES)},
            "description": "Modalities, any case (stored lowercase, sorted, each once); "
            "empty: unknown.",
        }
    ),
]
"""A sorted tuple of distinct modality names."""
CatalogDate = Annotated[
    str,
    BeforeValidator(_catalog_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}(-\d{2})?$",
            "description": "An ISO day YYYY-MM-DD or an ISO month YYYY-MM (kept as a month).",
        }
    ),
]
"""An ISO day (``YYYY-MM-DD``) or month (``YYYY-MM``), as text."""
Tags = Annotated[
    dict[str, str],
    BeforeValidator(_tags),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_TAGS,
            "propertyNames": {
                "pattern": "^[a-z][a-z0-9_.-]*$",
                "maxLength": MAX_TAG_KEY_LENGTH,
            },
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TAG_VALUE_LENGTH,
            },
            "description": "Free-form tags (owner team, data residency, ...).",
        }
    ),
]
"""Tags by key, sorted by key."""
