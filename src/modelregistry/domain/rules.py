"""The rules a catalog's data follows: names, numbers, prices, and how breaking one is told.

The annotated types (``ModelId``, ``ProviderName``, ``Cost``, ...) carry each field's rule for
pydantic; :class:`DomainModel` is the frozen base whose validation errors become
:class:`~modelregistry.errors.InvalidModelConfigError` (E4003), one violation per broken rule.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from modelregistry.errors import InvalidModelConfigError, Violation

if TYPE_CHECKING:
    from collections.abc import Callable


class CaselessStrEnum(StrEnum):
    """A string enum whose members are also found by their value in any case (``"Active"``)."""

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            lowered = value.lower()
            for member in cls:
                if member.value == lowered:
                    return member
        return None


MAX_ID_LENGTH: Final = 256
"""Longest ``model_id`` and ``display_name``, in characters."""
MAX_NAME_LENGTH: Final = 64
"""Longest provider or capability name, in characters."""
MAX_INTEGER: Final = 2**63 - 1
"""Largest value of any integer field (the database's BIGINT)."""
MAX_COST_PER_1M: Final = 10_000
"""Highest accepted price, in USD per 1M tokens."""
MAX_COST_DECIMAL_PLACES: Final = 10
"""Most decimal places of a price: with the bound above, at most 15 significant digits, which
both PostgreSQL's NUMERIC and SQLite's REAL keep exactly."""
CAPABILITY_PREFIX: Final = "supports_"
"""Every capability flag is named ``supports_<name>``; the capability's name is ``<name>``."""

_PROVIDER_RE: Final = re.compile(r"[a-z0-9][a-z0-9._-]*")
_CAPABILITY_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_BAD_CHAR_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


def is_model_id(value: object) -> bool:
    """Tell whether ``value`` is a valid model id (so a model may have it)."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= MAX_ID_LENGTH
        and _bad_character(value, allow_spaces=False) is None
    )


def is_provider_name(value: str) -> bool:
    """Tell whether ``value`` (already lowercased) is a valid provider name."""
    return len(value) <= MAX_NAME_LENGTH and _PROVIDER_RE.fullmatch(value) is not None


def is_capability_name(value: str) -> bool:
    """Tell whether ``value`` is a valid canonical capability name (``vision``)."""
    return len(value) <= MAX_NAME_LENGTH and _CAPABILITY_RE.fullmatch(value) is not None


def capability_name(name: str) -> str:
    """Return the canonical capability name: lowercase, without the ``supports_`` prefix.

    >>> capability_name("Supports_Vision")
    'vision'
    """
    return name.lower().removeprefix(CAPABILITY_PREFIX)


def _bad_character(text: str, *, allow_spaces: bool) -> str | None:
    if text.isascii() and text.isprintable() and (allow_spaces or " " not in text):
        # The common case, without a lookup per character: printable ASCII holds no control
        # character and no whitespace but the space.
        return None
    for char in text:
        if allow_spaces and char == " ":
            continue
        if char.isspace() or unicodedata.category(char) in _BAD_CHAR_CATEGORIES:
            return char
    return None


def _check_model_id(value: str) -> str:
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        raise PydanticCustomError("model_id_length", f"must be 1-{MAX_ID_LENGTH} characters long")
    bad = _bad_character(value, allow_spaces=False)
    if bad is not None:
        raise PydanticCustomError(
            "model_id_characters",
            "must not contain whitespace or control characters (found {char})",
            {"char": f"U+{ord(bad):04X}"},
        )
    return value


def _check_display_name(value: str) -> str:
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        raise PydanticCustomError(
            "display_name_length", f"must be 1-{MAX_ID_LENGTH} characters long"
        )
    bad = _bad_character(value, allow_spaces=True)
    if bad is not None:
        raise PydanticCustomError(
            "display_name_characters",
            "must not contain control characters or line breaks (found {char})",
            {"char": f"U+{ord(bad):04X}"},
        )
    return value


def _check_provider(value: str) -> str:
    if not is_provider_name(value):
        raise PydanticCustomError(
            "provider_format",
            f"must match [a-z0-9][a-z0-9._-]* (lowercased) and be at most {MAX_NAME_LENGTH} "
            "characters long",
        )
    return value


def _decimal_as_float(highest: int) -> Callable[[object], object]:
    """A before-validator turning a Decimal in ``[0, highest]`` into its float.

    Decimal is the natural type for money in Python; floats hold it exactly within our
    bounds. A Decimal out of them is refused here, so that the error shows the value given
    (pydantic-core, which checks every float, would show the float); floats go straight on.
    """

    def as_float(value: object) -> object:
        if type(value) is float or not isinstance(value, Decimal):
            return value
        if not value.is_finite():
            raise PydanticCustomError("finite_number", "must be a finite number")
        if value < 0:
            raise PydanticCustomError("greater_than_equal", "must be greater than or equal to 0")
        if value > highest:
            raise PydanticCustomError("less_than_equal", f"must be less than or equal to {highest}")
        return float(value)

    return as_float


def exact_decimal(value: float) -> Decimal:
    """The decimal ``value`` prints as (its shortest round-trip repr): ``0.1`` is 0.1 exactly.

    A price written ``0.1`` is stored as a float, whose exact binary value is
    0.1000000000000000055511151231257827...; the user meant the decimal it prints as.
    """
    return Decimal(repr(value))


def too_many_places(amount: Decimal) -> bool:
    """Whether a price has more than :data:`MAX_COST_DECIMAL_PLACES` decimal places."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and exponent < -MAX_COST_DECIMAL_PLACES


def _check_cost_places(value: float) -> float:
    text = repr(value)
    if "e" not in text and len(text.partition(".")[2]) <= MAX_COST_DECIMAL_PLACES:
        return value  # the shortest repr shows at most that many places: no Decimal needed
    if too_many_places(exact_decimal(value)):
        raise PydanticCustomError(
            "cost_decimal_places",
            f"must have at most {MAX_COST_DECIMAL_PLACES} decimal places",
        )
    return value


ModelId = Annotated[StrictStr, AfterValidator(_check_model_id)]
DisplayName = Annotated[StrictStr, AfterValidator(_check_display_name)]
ProviderName = Annotated[
    str, StringConstraints(strict=True, to_lower=True), AfterValidator(_check_provider)
]
PositiveInt = Annotated[int, Field(strict=True, gt=0, le=MAX_INTEGER)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0, le=MAX_INTEGER)]
# The constraints come before the validators written in Python, so that pydantic-core checks
# them inside its float schema: after a BeforeValidator, pydantic would check each of them
# with a Python function of its own (three calls per number; issue 19: a change feed reader
# validates every config it receives).
Cost = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_COST_PER_1M, allow_inf_nan=False),
    BeforeValidator(_decimal_as_float(MAX_COST_PER_1M)),
    AfterValidator(_check_cost_places),
]
Score = Annotated[
    float,
    Field(strict=True, ge=0, le=1, allow_inf_nan=False),
    BeforeValidator(_decimal_as_float(1)),
]


def _rule(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    message = str(error["msg"])
    if message.startswith("Input should"):
        return "must" + message.removeprefix("Input should")
    return message


def config_error(exc: ValidationError, data: object) -> InvalidModelConfigError:
    """Translate pydantic's ValidationError into E4003, one violation per broken rule."""
    violations: list[Violation] = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        nested = error.get("ctx", {}).get("error")
        if isinstance(nested, InvalidModelConfigError):
            # A nested part (capabilities, quality_scores) already explained itself.
            violations.extend(
                Violation(".".join(filter(None, (field, v.field))), v.rule, v.value)
                for v in nested.violations
            )
            continue
        value = None if error["type"] in {"missing", "extra_forbidden"} else error["input"]
        violations.append(Violation(field, _rule(error), value))
    model_id = data.get("model_id") if isinstance(data, dict) else None
    return InvalidModelConfigError(
        violations, model_id=model_id if isinstance(model_id, str) else None
    )


def check_keys(data: Mapping[Any, Any], field: str) -> None:
    """E4003 when a mapping of fields has a key that is not a string (YAML allows them)."""
    if _STR_ONLY.issuperset(map(type, data)):
        return  # (every key a str: checked without a Python step per key)
    bad = [key for key in data if not isinstance(key, str)]
    if bad:
        raise InvalidModelConfigError.single(field, "field names must be strings", bad)


_STR_ONLY: Final = frozenset({str})


class DomainModel(BaseModel):
    """Frozen pydantic model whose validation errors are E4003."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    def __init__(self, /, **data: Any) -> None:
        """Validate ``data``.

        Raises:
            InvalidModelConfigError: E4003, naming every offending field and rule.
        """
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, data) from exc

    # pydantic calls a custom __init__ for every nested model it validates (capabilities,
    # quality scores: three Python calls per entry); this one only translates errors, which
    # the outermost call does for the whole tree. Marked as pydantic's own, nested models are
    # validated inside pydantic-core.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate a mapping (or an instance) into this model.

        Raises:
            InvalidModelConfigError: E4003, naming every offending field and rule.
        """
        if type(obj) is dict or isinstance(obj, Mapping):
            check_keys(obj, "")
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise config_error(exc, obj) from exc

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Validate a JSON document into this model.

        Raises:
            InvalidModelConfigError: E4003, naming every offending field and rule.
        """
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise config_error(exc, None) from exc
