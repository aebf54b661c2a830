"""What every upstream converter shares: its result, exact prices, whole numbers, a pipeline.

A converter turns one upstream document (parsed with ``json.loads(text, parse_float=Decimal)``,
so every number keeps the exact text the upstream wrote) into a :class:`Conversion`: the valid
models, each with its cached-input price, and the entries it could not use, each with its
reason. An invalid entry never blocks the valid ones.

Each converter is a list of *mappings*: small functions that read an upstream entry and fill
in some of the fields of the model being built. A later mapping (price components, modalities,
tiers) is one more function appended to a converter's list; none of the others changes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.models import ModelConfig
from modelregistry.domain.rules import CAPABILITY_PREFIX, MAX_COST_PER_1M, exact_decimal
from modelregistry.errors import InvalidModelConfigError

if TYPE_CHECKING:
    from datetime import date

    from modelregistry.domain.rates import Rate

__all__ = [
    "Conversion",
    "Draft",
    "InvalidEntry",
    "Rule",
    "UnusableValueError",
    "UpstreamModel",
    "clean_name",
    "convert_entries",
    "per_1m",
    "per_token_to_per_1m",
    "run_mappings",
    "whole_number",
]

PRICE_PLACES: Final = Decimal("1E-10")
"""Prices are rounded half-even to 10 decimal places (the catalog's most)."""
_MILLION: Final = 6
_CONTROL: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class UpstreamModel:
    """One valid upstream model: its config, cached-input price (None: none given), other rates.

    The rates are those of :mod:`modelregistry.domain.upstream.price_keys`.
    """

    config: ModelConfig
    cached_input_per_1m: Decimal | None = None
    rates: tuple[Rate, ...] = ()


@dataclass(frozen=True, slots=True)
class InvalidEntry:
    """An upstream entry that was skipped (or a value of one that was dropped), and why."""

    model_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """``{"model_id", "reason"}``."""
        return {"model_id": self.model_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Conversion:
    """The result of converting one upstream document.

    Attributes:
        models: The valid models, in the document's order.
        invalid: The entries skipped, each with its reason.
        dropped: Values of valid entries that were dropped (a successor that is not a valid
            id), each with its reason; the entry itself was kept.
        ignored: How many entries the rules leave out on purpose (another ``mode``).
    """

    models: list[UpstreamModel]
    invalid: list[InvalidEntry]
    dropped: list[InvalidEntry] = field(default_factory=list)
    ignored: int = 0


class UnusableValueError(ValueError):
    """A mapping found a value it cannot use: the entry is invalid (the message says why)."""


@dataclass(slots=True)
class Draft:
    """The model a converter is building from one entry: ModelConfig's fields, by name.

    Attributes:
        model_id: The id the model will have (for messages).
        fields: ModelConfig's fields so far (``capabilities`` is a dict of flags).
        cached_input_per_1m: The cached-input price (None: the upstream gives none).
        today: The day of the sync (UTC), for rules that depend on it.
        dropped: Reasons for values dropped from an otherwise valid entry.
        rates: The price's other rates (cache writes, reasoning, tiers), in canonical order.
    """

    model_id: str
    today: date
    fields: dict[str, Any] = field(default_factory=dict)
    cached_input_per_1m: Decimal | None = None
    dropped: list[str] = field(default_factory=list)
    rates: tuple[Rate, ...] = ()

    def flag(self, name: str, value: object) -> None:
        """Set capability ``supports_<name>`` when ``value`` is True (flags only where true)."""
        if value is True:
            self.fields.setdefault("capabilities", {})[CAPABILITY_PREFIX + name] = True


Rule = Callable[[Mapping[str, Any], Draft], None]
"""One rule of a converter: read the entry, fill in the draft (or raise UnusableValueError)."""


def run_mappings(
    model_id: str,
    entry: Mapping[str, Any],
    mappings: Sequence[Rule],
    *,
    today: date,
) -> tuple[UpstreamModel | None, InvalidEntry | None, list[InvalidEntry]]:
    """Apply ``mappings`` to one entry: the model, or why it is invalid; values dropped."""
    draft = Draft(model_id=model_id, today=today)
    try:
        for mapping in mappings:
            mapping(entry, draft)
        config = ModelConfig.model_validate(draft.fields)
    except UnusableValueError as exc:
        return None, InvalidEntry(model_id, str(exc)), []
    except InvalidModelConfigError as exc:
        reason = "; ".join(f"{v.field}: {v.rule}" for v in exc.violations)
        return None, InvalidEntry(model_id, reason), []
    dropped = [InvalidEntry(model_id, reason) for reason in draft.dropped]
    return UpstreamModel(config, draft.cached_input_per_1m, draft.rates), None, dropped


def convert_entries(
    entries: Sequence[tuple[str, Mapping[str, Any]]],
    mappings: Sequence[Rule],
    *,
    today: date,
    ignored: int = 0,
) -> Conversion:
    """Convert ``(model_id, entry)`` pairs; a repeated id is invalid after its first."""
    models: list[UpstreamModel] = []
    invalid: list[InvalidEntry] = []
    dropped: list[InvalidEntry] = []
    seen: set[str] = set()
    for model_id, entry in entries:
        if model_id in seen:
            invalid.append(InvalidEntry(model_id, "the id appears more than once"))
            continue
        seen.add(model_id)
        model, problem, lost = run_mappings(model_id, entry, mappings, today=today)
        if model is not None:
            models.append(model)
        if problem is not None:
            invalid.append(problem)
        dropped.extend(lost)
    return Conversion(models, invalid, dropped, ignored)


def _number(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise UnusableValueError(f"{name} must be a number")
    try:
        number = exact_decimal(value) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as exc:
        raise UnusableValueError(f"{name} must be a number") from exc
    if not number.is_finite():
        raise UnusableValueError(f"{name} must be a finite number")
    return number


def _rounded(amount: Decimal, name: str) -> Decimal:
    rounded = amount.quantize(PRICE_PLACES, rounding=ROUND_HALF_EVEN)
    if rounded < 0 or rounded > MAX_COST_PER_1M:
        raise UnusableValueError(f"{name} must be >= 0 and <= {MAX_COST_PER_1M} per 1M tokens")
    return rounded.normalize() if rounded else Decimal(0)


def per_token_to_per_1m(value: object, name: str) -> Decimal:
    """A per-token price (number or decimal text) times 10^6, exact, rounded half-even to 10 places.

    Raises:
        UnusableValueError: not a finite number, or outside 0..10,000 per 1M tokens.
    """
    return _rounded(_number(value, name).scaleb(_MILLION), name)


def per_1m(value: object, name: str) -> Decimal:
    """A price already per 1M tokens, rounded half-even to 10 decimal places.

    Raises:
        UnusableValueError: not a finite number, or outside 0..10,000 per 1M tokens.
    """
    return _rounded(_number(value, name), name)


def whole_number(value: object, name: str, *, positive: bool) -> int:
    """A token count or limit: a whole number (``8192`` or ``8192.0``), > 0 or >= 0.

    Raises:
        UnusableValueError: not a whole number, or not positive (non-negative).
    """
    rule = "a positive whole number" if positive else "a whole number >= 0"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise UnusableValueError(f"{name} must be {rule}")
    number = _number(value, name)
    if number != number.to_integral_value() or number < (1 if positive else 0):
        raise UnusableValueError(f"{name} must be {rule}")
    return int(number)


def clean_name(value: object) -> str | None:
    """A display name: control characters and surrounding whitespace removed (None: unusable)."""
    if not isinstance(value, str):
        return None
    text = "".join(char for char in value if unicodedata.category(char) not in _CONTROL)
    text = text.strip()
    return text or None
