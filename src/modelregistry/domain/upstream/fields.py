"""The fields a sync manages, flattened: one comparable JSON value per field.

A sync compares three versions of each managed field (the local value, the base last synced,
upstream's value), so a model is seen as a flat mapping: the scalar fields an upstream sets,
the cached-input price, the price's other rates (:data:`RATES`, one canonical text for the
whole set, present only when the price has rates) and one ``supports_<name>`` entry per
capability flag. Prices are exact decimal text, dates ISO text: the mapping is what the bases
table stores, as is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Final

from modelregistry.domain.pricing import decimal_text, money
from modelregistry.domain.rates import check_rates, ordered
from modelregistry.domain.rules import CAPABILITY_PREFIX
from modelregistry.errors import InvalidModelConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.rates import Rate

__all__ = [
    "CACHED_INPUT",
    "DESCRIPTOR_FIELDS",
    "PRICE_FIELDS",
    "RATES",
    "SCALAR_FIELDS",
    "Fields",
    "apply_fields",
    "field_value",
    "flatten",
    "parse_rates",
    "rates_text",
]

Fields = dict[str, str | int | bool | None]
"""A model's managed fields, flattened (capabilities as ``supports_<name>: true``)."""

CACHED_INPUT: Final = "cached_input_per_1m"
"""The cached-input price: part of a model's price, not of its config."""
DESCRIPTOR_FIELDS: Final = (
    "input_modalities",
    "output_modalities",
    "mode",
    "release_date",
    "knowledge_cutoff",
    "open_weights",
)
"""The descriptive fields an upstream sets: modalities as comma-separated text, None when
unknown (so a base synced before they existed, which lacks them, agrees with an unknown one)."""
_MODALITY_FIELDS: Final = frozenset({"input_modalities", "output_modalities"})
PRICE_FIELDS: Final = ("cost_per_1m_input_tokens", "cost_per_1m_output_tokens", CACHED_INPUT)
"""The managed prices (exact decimal text; the cached-input one may be None)."""
RATES: Final = "rates"
"""The price's other rates as one value (:func:`rates_text`): compared as a set."""
_RATE_KEY_PARTS: Final = 3
SCALAR_FIELDS: Final = (
    "provider",
    "display_name",
    "context_window",
    "max_output_tokens",
    "cost_per_1m_input_tokens",
    "cost_per_1m_output_tokens",
    "rate_limit_rpm",
    "rate_limit_tpm",
    "status",
    "deprecation_date",
    "successor_model_id",
    *DESCRIPTOR_FIELDS,
)
"""ModelConfig's fields an upstream sets (quality scores, latencies, retirement and tags stay
local)."""


def rates_text(rates: Iterable[Rate]) -> str | None:
    """The rates as one canonical text (None: no rates); equal texts are equal sets.

    ``<service tier>/<above tokens>/<component>=<amount>``, in canonical order, joined by
    ``"; "``: ``standard/0/cache_write_5m=3.75; standard/200000/input=6``.
    """
    items = [
        f"{rate.service_tier}/{rate.above_tokens}/{rate.component}={decimal_text(rate.amount)}"
        for rate in ordered(rates)
    ]
    return "; ".join(items) if items else None


def parse_rates(text: str | int | bool | None) -> tuple[Rate, ...]:
    """The rates of a :func:`rates_text` (None or empty: none), checked.

    Raises:
        InvalidModelConfigError: E4003 naming ``rates``: not such a text, or a rate breaking a
            rule of :func:`~modelregistry.domain.rates.check_rates` (a base from an imported
            catalog document may hold anything).
    """
    if text is None or text == "":
        return ()
    given: list[dict[str, object]] = []
    for item in str(text).split("; "):
        key, _, amount = item.partition("=")
        parts = key.split("/")
        if len(parts) != _RATE_KEY_PARTS or not parts[1].isdigit():
            rule = "must be rates as text: <service tier>/<above tokens>/<component>=<USD>; ..."
            raise InvalidModelConfigError.single(RATES, rule, text)
        tier, above, component = parts
        given.append(
            {
                "component": component,
                "amount": amount,
                "service_tier": tier,
                "above_tokens": int(above),
            }
        )
    return check_rates(given, RATES)


def flatten(
    config: ModelConfig, cached_input_per_1m: Decimal | None, rates: Iterable[Rate] = ()
) -> Fields:
    """The managed fields of ``config`` (its cached-input price, its rates), flattened."""
    fields: Fields = {}
    for name in SCALAR_FIELDS:
        value = getattr(config, name)
        if name in PRICE_FIELDS:
            fields[name] = decimal_text(money(value, name))
        elif name == "deprecation_date":
            fields[name] = None if value is None else value.isoformat()
        elif name in {"status", "mode"}:
            fields[name] = None if value is None else str(value.value)
        elif name in _MODALITY_FIELDS:
            fields[name] = ",".join(value) or None
        else:
            fields[name] = value
    fields[CACHED_INPUT] = (
        None if cached_input_per_1m is None else decimal_text(cached_input_per_1m)
    )
    text = rates_text(rates)
    if text is not None:
        fields[RATES] = text
    for name in sorted(config.capabilities.names()):
        fields[CAPABILITY_PREFIX + name] = True
    return fields


def field_value(fields: Fields, name: str) -> str | int | bool | None:
    """``fields[name]``; a capability flag that is absent is False."""
    if name in fields:
        return fields[name]
    return False if name.startswith(CAPABILITY_PREFIX) else None


def apply_fields(
    config: ModelConfig, cached: Decimal | None, changes: Fields
) -> tuple[ModelConfig, Decimal | None]:
    """``config`` and its cached-input price with ``changes`` (flattened fields) applied.

    (A change of :data:`RATES` is not the config's: see :func:`parse_rates`.)
    """
    update: dict[str, object] = {}
    flags = dict(config.capabilities.model_dump())
    flags_changed = False
    for name, value in changes.items():
        if name == RATES:
            continue
        if name == CACHED_INPUT:
            cached = None if value is None else Decimal(str(value))
        elif name.startswith(CAPABILITY_PREFIX):
            flags[name] = bool(value)
            flags_changed = True
        elif name in PRICE_FIELDS:
            update[name] = float(Decimal(str(value)))
        elif name in _MODALITY_FIELDS:
            update[name] = str(value).split(",") if value else []
        else:
            update[name] = value
    if flags_changed:
        update["capabilities"] = flags
    if not update:
        return config, cached
    data = {**config.model_dump(), **update}
    return type(config).model_validate(data), cached
