"""What a version-2 catalog document holds beside its models: the catalog's state.

Aliases, each model's full price timeline (past and scheduled, cached-input prices included),
the synced models' bases and provenance, and the upstream sources synced from::

    schema_version: 2
    exported_at: '2026-12-02T05:00:00+00:00'
    models: [...]
    aliases: {mini: gpt-4o-mini}
    prices:
      gpt-4o-mini:
        - {effective_from: '...', input_per_1m: '0.15', output_per_1m: '0.6',
           cached_input_per_1m: '0.075', recorded_at: '...', actor: admin, reason: null,
           rates: [{component: cache_write_5m, amount: '0.1875', service_tier: standard,
                    above_tokens: 0}]}     # (rates: only when the price has any)
    sync_bases: {model_id: {kind, location, content_sha256, etag, synced_at, removed_by_sync,
                 fields}}
    sync_sources: [{kind, location, etag, content_sha256, synced_at, valid_models}]

Money is exact decimal text; instants are ISO 8601 with their offset. This module does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.pricing import Price, decimal_text, money
from modelregistry.domain.rates import Rate, check_rates, rate_json
from modelregistry.errors import InvalidModelConfigError, Violation

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

__all__ = ["STATE_KEYS", "CatalogState", "parse_state"]

STATE_KEYS: Final = ("aliases", "prices", "sync_bases", "sync_sources")
"""The keys of a version-2 document beside ``schema_version``, ``exported_at`` and ``models``."""

_PRICE_KEYS: Final = {
    "effective_from",
    "input_per_1m",
    "output_per_1m",
    "cached_input_per_1m",
    "recorded_at",
    "actor",
    "reason",
    "rates",
}
_BASE_KEYS: Final = {
    "kind",
    "location",
    "content_sha256",
    "etag",
    "synced_at",
    "removed_by_sync",
    "fields",
}
_SOURCE_KEYS: Final = {"kind", "location", "etag", "content_sha256", "synced_at", "valid_models"}


@dataclass(frozen=True, slots=True)
class CatalogState:
    """The aliases, price timelines, sync bases and sources of a catalog (or a document).

    ``sync_bases`` and ``sync_sources`` hold the rows' values (instants as aware datetimes).
    """

    aliases: dict[str, str] = field(default_factory=dict)
    prices: dict[str, tuple[Price, ...]] = field(default_factory=dict)
    sync_bases: dict[str, dict[str, Any]] = field(default_factory=dict)
    sync_sources: list[dict[str, Any]] = field(default_factory=list)

    def only(self, model_ids: Collection[str]) -> CatalogState:
        """This state restricted to the models ``model_ids`` (sources are kept)."""
        return CatalogState(
            aliases={a: m for a, m in self.aliases.items() if m in model_ids},
            prices={m: p for m, p in self.prices.items() if m in model_ids},
            sync_bases={m: b for m, b in self.sync_bases.items() if m in model_ids},
            sync_sources=self.sync_sources,
        )

    def to_document(self) -> dict[str, Any]:
        """The JSON form of the state (sorted by model id, prices in effect order)."""
        return {
            "aliases": dict(sorted(self.aliases.items())),
            "prices": {
                model_id: [_price_json(price) for price in timeline]
                for model_id, timeline in sorted(self.prices.items())
            },
            "sync_bases": {
                model_id: _instants_json(base) for model_id, base in sorted(self.sync_bases.items())
            },
            "sync_sources": [
                _instants_json(source)
                for source in sorted(self.sync_sources, key=lambda s: (s["kind"], s["location"]))
            ],
        }


def _price_json(price: Price) -> dict[str, Any]:
    cached = price.cached_input_per_1m
    document: dict[str, Any] = {
        "effective_from": price.effective_from.isoformat(),
        "input_per_1m": decimal_text(price.input_per_1m),
        "output_per_1m": decimal_text(price.output_per_1m),
        "cached_input_per_1m": None if cached is None else decimal_text(cached),
        "recorded_at": price.recorded_at.isoformat(),
        "actor": price.actor,
        "reason": price.reason,
    }
    if price.rates:
        document["rates"] = [rate_json(rate) for rate in price.rates]
    return document


def _instants_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }


def parse_state(data: dict[str, Any], model_ids: Collection[str]) -> CatalogState:
    """Validate the state keys of a version-2 document against its models' ids.

    Raises:
        InvalidModelConfigError: E4003 (re-raised by the caller as E4005), every problem.
    """
    problems: list[Violation] = []
    state = CatalogState(
        aliases=_aliases(data.get("aliases", {}), model_ids, problems),
        prices=_mapping_of(
            data,
            "prices",
            model_ids,
            problems,
            lambda where, value, model_id: _timeline(where, value, model_id, problems),
        ),
        sync_bases=_mapping_of(
            data,
            "sync_bases",
            model_ids,
            problems,
            lambda where, value, _: _row(where, value, _BASE_KEYS, problems),
        ),
        sync_sources=_sources(data.get("sync_sources", []), problems),
    )
    if problems:
        raise InvalidModelConfigError(problems)
    return state


def _aliases(
    value: object, model_ids: Collection[str], problems: list[Violation]
) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(Violation("aliases", "must be a mapping of alias to model id", value))
        return {}
    found = {}
    for alias, target in value.items():
        if not isinstance(target, str) or target not in model_ids:
            problems.append(
                Violation(f"aliases.{alias}", "must name a model of the document", target)
            )
        elif target == alias or alias in model_ids:
            problems.append(Violation(f"aliases.{alias}", "must not be a model id", alias))
        else:
            found[str(alias)] = target
    return found


def _mapping_of(
    data: dict[str, Any],
    key: str,
    model_ids: Collection[str],
    problems: list[Violation],
    read: Callable[[str, object, str], Any],
) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(Violation(key, "must be a mapping by model id", value))
        return {}
    found = {}
    for model_id, entry in value.items():
        where = f"{key}.{model_id}"
        if model_id not in model_ids:
            problems.append(Violation(where, "must be a model of the document", model_id))
            continue
        parsed = read(where, entry, model_id)
        if parsed is not None:
            found[model_id] = parsed
    return found


def _timeline(
    where: str, value: object, model_id: str, problems: list[Violation]
) -> tuple[Price, ...] | None:
    if not isinstance(value, list) or not value:
        problems.append(Violation(where, "must be a non-empty list of prices", value))
        return None
    prices = []
    for index, entry in enumerate(value):
        row = _row(f"{where}[{index}]", entry, _PRICE_KEYS, problems, optional={"reason", "rates"})
        if row is None:
            continue
        try:
            cached = row.get("cached_input_per_1m")
            prices.append(
                Price(
                    model_id=model_id,
                    input_per_1m=money(row["input_per_1m"], f"{where}[{index}].input_per_1m"),
                    output_per_1m=money(row["output_per_1m"], f"{where}[{index}].output_per_1m"),
                    cached_input_per_1m=None
                    if cached is None
                    else money(cached, f"{where}[{index}].cached_input_per_1m"),
                    effective_from=row["effective_from"],
                    recorded_at=row["recorded_at"],
                    actor=_text(row["actor"], f"{where}[{index}].actor", problems),
                    reason=row.get("reason"),
                    rates=_rates(row.get("rates", []), f"{where}[{index}].rates"),
                )
            )
        except InvalidModelConfigError as exc:
            problems.extend(exc.violations)
    if [p.effective_from for p in prices] != sorted(p.effective_from for p in prices):
        problems.append(Violation(where, "must be in effect order (effective_from ascending)"))
    return tuple(prices)


def _rates(value: object, where: str) -> tuple[Rate, ...]:
    if not isinstance(value, list):
        raise InvalidModelConfigError.single(where, "must be a list of rates", value)
    return check_rates(value, where)


def _text(value: object, where: str, problems: list[Violation]) -> str:
    if not isinstance(value, str) or not value:
        problems.append(Violation(where, "must be a non-empty string", value))
        return ""
    return value


def _sources(value: object, problems: list[Violation]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        problems.append(Violation("sync_sources", "must be a list", value))
        return []
    rows = [
        _row(f"sync_sources[{index}]", entry, _SOURCE_KEYS, problems)
        for index, entry in enumerate(value)
    ]
    return [row for row in rows if row is not None]


_INSTANTS: Final = {"effective_from", "recorded_at", "synced_at"}
_NULLABLE: Final = {"etag", "cached_input_per_1m", "reason"}
_TYPES: Final[dict[str, tuple[type, str]]] = {
    "kind": (str, "a string"),
    "location": (str, "a string"),
    "content_sha256": (str, "a string"),
    "etag": (str, "a string"),
    "actor": (str, "a string"),
    "reason": (str, "a string"),
    "removed_by_sync": (bool, "true or false"),
    "valid_models": (int, "an integer >= 0"),
    "fields": (dict, "a mapping"),
}


def _is(value: object, expected: tuple[type, str]) -> bool:
    kind = expected[0]
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return isinstance(value, kind)


def _row(
    where: str,
    value: object,
    keys: set[str],
    problems: list[Violation],
    optional: Collection[str] = (),
) -> dict[str, Any] | None:
    """A mapping with exactly ``keys`` (``optional`` may be left out), instants parsed."""
    if not isinstance(value, dict):
        problems.append(Violation(where, "must be a mapping", value))
        return None
    unknown = sorted(set(map(str, value)) - keys)
    missing = sorted(keys - set(value) - set(optional))
    if unknown or missing:
        rule = "; ".join(
            part
            for part in (
                f"unknown keys {', '.join(unknown)}" if unknown else "",
                f"missing keys {', '.join(missing)}" if missing else "",
            )
            if part
        )
        problems.append(Violation(where, rule))
        return None
    row = dict(value)
    for key, item in row.items():
        if key in _INSTANTS:
            row[key] = _instant(item, f"{where}.{key}", problems)
        elif item is None and key not in _NULLABLE:
            problems.append(Violation(f"{where}.{key}", "must not be null"))
        elif item is not None and key in _TYPES and not _is(item, _TYPES[key]):
            problems.append(Violation(f"{where}.{key}", f"must be {_TYPES[key][1]}", item))
    return row


def _instant(value: object, where: str, problems: list[Violation]) -> datetime | None:
    try:
        found = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        problems.append(Violation(where, "must be an ISO 8601 instant with its offset", value))
        return None
    return found
