"""The query strings of ``GET /api/models`` and ``GET /api/cost``: checked, named as in the API."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.query import build_query
from modelregistry.errors import InvalidArgumentError

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams

    from modelregistry.domain.query import ModelQuery

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
REPEATABLE: Final = frozenset(
    {
        "capabilities",
        "any_capabilities",
        "providers",
        "statuses",
        "input_modalities",
        "output_modalities",
        "mode",
    }
)
INTEGERS: Final = frozenset({"min_context_window", "min_max_output_tokens", "max_latency_p50_ms"})
NUMBERS: Final = frozenset({"max_cost_per_1m_input", "max_cost_per_1m_output"})
SINGLE: Final = INTEGERS | NUMBERS | {"order_by", "limit", "cursor", "q", "open_weights"}
QUALITY_PREFIX: Final = "min_quality."
TAG_PREFIX: Final = "tags."
_BOOLEANS: Final = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class ModelsQuery:
    """A checked ``GET /api/models`` query: the selection, a search text and a page."""

    key: tuple[tuple[str, str], ...]
    """The selection's parameters, sorted (the memo key of its result)."""
    selection: ModelQuery
    search: str | None
    limit: int
    cursor: Cursor | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page starts: after this model, at this position if it is gone."""

    after: str
    offset: int

    def encode(self) -> str:
        """The opaque text a client sends back as ``cursor``."""
        text = json.dumps([self.after, self.offset], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor (E4007 naming ``cursor`` when it is not one of ours)."""
        try:
            padded = text + "=" * (-len(text) % 4)
            after, offset = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise _bad("cursor", "must be a next_cursor this server gave", text) from exc
        if not isinstance(after, str) or not isinstance(offset, int) or offset < 0:
            raise _bad("cursor", "must be a next_cursor this server gave", text)
        return cls(after, offset)


def _bad(field: str, rule: str, value: object = None) -> InvalidArgumentError:
    return InvalidArgumentError.single(field, rule, value)


def _integer(field: str, text: str, low: int = 0, high: int = 2**63 - 1) -> int:
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise _bad(field, f"must be an integer from {low} to {high}", text)
    return int(text)


def _number(field: str, text: str) -> float:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise _bad(field, "must be a decimal number", text) from exc
    if not value.is_finite() or value < 0:
        raise _bad(field, "must be a finite decimal number >= 0", text)
    return float(value)


def models_query(params: QueryParams) -> ModelsQuery:
    """Check the query of ``GET /api/models``.

    Raises:
        InvalidArgumentError: E4007 naming the parameter (an unknown one too).
    """
    many: dict[str, list[str]] = {}
    one: dict[str, str] = {}
    quality: dict[str, float] = {}
    tags: dict[str, str] = {}
    for name, value in params.multi_items():
        if name.startswith(TAG_PREFIX):
            if name in one:
                raise _bad(name, "must be given once", value)
            tags[name.removeprefix(TAG_PREFIX)] = value
            one[name] = value
        elif name in REPEATABLE:
            many.setdefault(name, []).extend(part for part in value.split(",") if part)
        elif name.startswith(QUALITY_PREFIX) and name not in one:
            quality[name.removeprefix(QUALITY_PREFIX)] = _number(name, value)
            one[name] = value
        elif name in SINGLE:
            if name in one:
                raise _bad(name, "must be given once", value)
            one[name] = value
        else:
            raise _bad(name, "is not a parameter of GET /api/models", value)
    arguments: dict[str, Any] = {name: _integer(name, one[name]) for name in INTEGERS & one.keys()}
    arguments.update({name: _number(name, one[name]) for name in NUMBERS & one.keys()})
    statuses = many.get("statuses")
    open_weights = None
    if "open_weights" in one:
        open_weights = _BOOLEANS.get(one["open_weights"])
        if open_weights is None:
            raise _bad("open_weights", "must be true or false", one["open_weights"])
    selection = build_query(
        capabilities=many.get("capabilities", ()),
        any_capabilities=many.get("any_capabilities", ()),
        providers=many.get("providers"),
        statuses=statuses or None,
        min_context_window=arguments.get("min_context_window"),
        min_max_output_tokens=arguments.get("min_max_output_tokens"),
        max_cost_per_1m_input=arguments.get("max_cost_per_1m_input"),
        max_cost_per_1m_output=arguments.get("max_cost_per_1m_output"),
        min_quality=quality or None,
        max_latency_p50_ms=arguments.get("max_latency_p50_ms"),
        order_by=one.get("order_by"),
        limit=None,
        input_modalities=many.get("input_modalities", ()),
        output_modalities=many.get("output_modalities", ()),
        mode=many.get("mode"),
        open_weights=open_weights,
        tags=tags or None,
    )
    limit = _integer("limit", one["limit"], 1, MAX_LIMIT) if "limit" in one else DEFAULT_LIMIT
    cursor = Cursor.decode(one["cursor"]) if "cursor" in one else None
    search = one.get("q", "").strip().casefold() or None
    key = tuple(
        sorted(
            [(name, ",".join(values)) for name, values in many.items()]
            + [(name, value) for name, value in one.items() if name not in {"limit", "cursor"}]
        )
    )
    return ModelsQuery(key, selection, search, limit, cursor)


@dataclass(frozen=True, slots=True)
class CostQuery:
    """A checked ``GET /api/cost`` query."""

    model: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    at: datetime | None
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_ttl: str = "5m"
    service_tier: str = "standard"


_COUNTS: Final = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
COST_PARAMETERS: Final = ("model", *_COUNTS, "cache_write_ttl", "service_tier", "at")


def cost_query(params: QueryParams) -> CostQuery:
    """Check the query of ``GET /api/cost``.

    Raises:
        InvalidArgumentError: E4007 naming the parameter.
    """
    for name in params:
        if name not in COST_PARAMETERS:
            raise _bad(name, "is not a parameter of GET /api/cost", params[name])
    model = params.get("model")
    if not model:
        raise _bad("model", "is required: a model id or alias")
    counts = {name: _integer(name, params.get(name, "0")) for name in _COUNTS}
    at = None
    if "at" in params:
        try:
            at = datetime.fromisoformat(params["at"])
        except ValueError as exc:
            raise _bad("at", "must be an ISO 8601 instant with a UTC offset", params["at"]) from exc
        if at.tzinfo is None:
            raise _bad("at", "must be an ISO 8601 instant with a UTC offset", params["at"])
    return CostQuery(
        model,
        counts["input_tokens"],
        counts["output_tokens"],
        counts["cached_input_tokens"],
        at,
        cache_write_tokens=counts["cache_write_tokens"],
        reasoning_tokens=counts["reasoning_tokens"],
        # (checked by the registry, which names the valid values)
        cache_write_ttl=params.get("cache_write_ttl", "5m"),
        service_tier=params.get("service_tier", "standard"),
    )
