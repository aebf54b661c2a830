"""Checking and normalising the arguments of the public API, before any database work.

An invalid argument raises E4007 (:class:`~modelregistry.errors.InvalidArgumentError`) naming
it, unless its value is stored: a model config, an alias's name and a price's start are E4003
(:class:`~modelregistry.errors.InvalidModelConfigError`), as the rule in
:mod:`modelregistry.errors` says. Input no model can match (an id with a space, a provider with
a slash) is told apart so that lookups answer "none" without a query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from modelregistry.domain.models import ModelConfig, ModelStatus, parse_status
from modelregistry.domain.rules import (
    MAX_INTEGER,
    capability_name,
    is_capability_name,
    is_model_id,
    is_provider_name,
)
from modelregistry.errors import InvalidArgumentError, InvalidModelConfigError, ModelNotFoundError


def refusal(
    field: str, rule: str, value: object, *, stored: bool = False
) -> InvalidArgumentError | InvalidModelConfigError:
    """The error for the argument ``field`` breaking ``rule``.

    E4003 when the value is data the catalog stores (``stored``: an alias's name, a price's
    start), like the rest of its data; E4007 for an argument that only steers the call.
    """
    if stored:
        return InvalidModelConfigError.single(field, rule, value)
    return InvalidArgumentError.single(field, rule, value)


def checked_config(model: ModelConfig | Mapping[str, Any]) -> ModelConfig:
    """Validate a config or mapping again (a ``model_copy`` may have bypassed the rules)."""
    if isinstance(model, ModelConfig):
        # No serializer warnings: a value planted by model_copy is reported by validation.
        return ModelConfig.model_validate(model.model_dump(warnings=False))
    if isinstance(model, Mapping):
        return ModelConfig.model_validate(dict(model))
    raise InvalidModelConfigError.single(
        "model", "must be a ModelConfig or a mapping of its fields", model
    )


def string_argument(value: object, field: str, *, stored: bool = False) -> str:
    """``value``, which must be a string (else E4007 naming ``field``; E4003 if ``stored``)."""
    if not isinstance(value, str):
        raise refusal(field, "must be a string", value, stored=stored)
    return value


def is_findable_id(model_id: object) -> bool:
    """Whether a model may have this id; False needs no query (E4007: not even a string)."""
    return is_model_id(string_argument(model_id, "model_id"))


def existing_id(model_id: object) -> str:
    """The id of a model a write will look up (E4001 right away when none can have it)."""
    if not is_findable_id(model_id):
        raise ModelNotFoundError(str(model_id))
    return str(model_id)


def provider_name(provider: object) -> str | None:
    """The provider name to query, or None when no provider can have it."""
    name = string_argument(provider, "provider").lower()
    return name if is_provider_name(name) else None


def one_capability_name(capability: object) -> str | None:
    """The canonical capability name to query, or None when no model can have it."""
    name = capability_name(string_argument(capability, "capability"))
    return name if is_capability_name(name) else None


def capability_names(capabilities: Iterable[str]) -> set[str] | None:
    """Canonical capability names to query, or None when some name no model can have."""
    if isinstance(capabilities, str) or not isinstance(capabilities, Iterable):
        raise InvalidArgumentError.single(
            "capabilities", "must be a list of capability names, not a single value", capabilities
        )
    names = {capability_name(string_argument(name, "capabilities")) for name in capabilities}
    return names if all(is_capability_name(name) for name in names) else None


def status_argument(value: ModelStatus | str, field: str = "status") -> ModelStatus:
    """A status to match (a filter, not a model's new status): E4007 when it names none."""
    try:
        return parse_status(value, field=field)
    except InvalidModelConfigError as exc:
        raise InvalidArgumentError(exc.violations) from exc


def instant(
    value: datetime | None, field: str = "as_of", *, stored: bool = False
) -> datetime | None:
    """A time argument (``as_of`` unless named) in UTC; it must be timezone-aware.

    Raises:
        InvalidArgumentError: E4007 naming ``field``.
        InvalidModelConfigError: E4003 instead, when the time is ``stored`` (a price's start).
    """
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise refusal(
            field,
            "must be a timezone-aware datetime (e.g. datetime.now(UTC))",
            value,
            stored=stored,
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        rule = "must be a time that exists in UTC (years 1-9999)"
        raise refusal(field, rule, value, stored=stored) from exc


def version_guard(value: int | None) -> int | None:
    """An ``expected_version``: None or an integer >= 0 (E4007 otherwise)."""
    return None if value is None else whole_number(value, "expected_version")


def whole_number(value: object, field: str) -> int:
    """``value``, which must be an integer from 0 to 2**63 - 1 (E4007 naming ``field``).

    The bound is the database's: a larger number would fail there (or overflow SQLite's
    driver) instead of being refused here.
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INTEGER:
        raise InvalidArgumentError.single(
            field, f"must be an integer from 0 to {MAX_INTEGER}", value
        )
    return value


def poll_seconds(value: object) -> float:
    """Check the change feed's ``poll_interval``: a number of seconds > 0 (E4007 otherwise)."""
    if isinstance(value, bool) or not (isinstance(value, int | float) and value > 0):
        raise InvalidArgumentError.single("poll_interval", "must be a number of seconds > 0", value)
    return float(value)


def timeout_seconds(value: object, name: str) -> float | None:
    """Check a database timeout: None (the URL's, else the default) or seconds > 0 (E4007)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value < float("inf")
    ):
        raise InvalidArgumentError.single(name, "must be a number of seconds > 0", value)
    return float(value)


def alias_name(value: object) -> str:
    """An alias to set: a string following the rules of a model id (E4003 otherwise)."""
    name = string_argument(value, "alias", stored=True)
    if not is_model_id(name):
        raise InvalidModelConfigError.single(
            "alias", "must be a valid model id (1-256 characters, no spaces)", value
        )
    return name
