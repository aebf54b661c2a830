"""The catalog's domain objects: ModelConfig and its parts, validated with pydantic v2.

Field names and types are the seed's (``../shared/seed/ModelRegistry.md``). Every object is
immutable (frozen), so the registry can hand out the same instance to many callers. Breaking a
rule raises :class:`~modelregistry.errors.InvalidModelConfigError` (E4003, a ``ValueError``)
naming each offending field and the rule it broke.

The rules of single fields (ids, names, numbers, prices) are in
:mod:`modelregistry.domain.rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelregistry.domain.descriptors import CatalogDate, Modalities, ModelMode, Tags
from modelregistry.domain.rules import (
    CAPABILITY_PREFIX,
    MAX_NAME_LENGTH,
    CaselessStrEnum,
    Cost,
    DisplayName,
    DomainModel,
    ModelId,
    NonNegativeInt,
    PositiveInt,
    ProviderName,
    Score,
    capability_name,
    check_keys,
    is_capability_name,
    is_model_id,
)
from modelregistry.errors import InvalidModelConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "QUALITY_DIMENSIONS",
    "ModelCapabilities",
    "ModelConfig",
    "ModelStatus",
    "QualityScores",
    "parse_status",
]


class ModelStatus(CaselessStrEnum):
    """Lifecycle status of a model. Strings are accepted case-insensitively."""

    ACTIVE = "active"
    """Available for use."""
    DEPRECATED = "deprecated"
    """Being phased out; still usable."""
    DISABLED = "disabled"
    """Not to be used."""
    MAINTENANCE = "maintenance"
    """Temporarily unavailable."""


def parse_status(value: ModelStatus | str, *, field: str = "status") -> ModelStatus:
    """Turn a status or its name (any case) into a :class:`ModelStatus`.

    Raises:
        InvalidModelConfigError: E4003, when ``value`` names no status.
    """
    try:
        return ModelStatus(value)
    except ValueError as exc:
        allowed = ", ".join(s.value for s in ModelStatus)
        raise InvalidModelConfigError.single(field, f"must be one of {allowed}", value) from exc


def normalise_flags(data: object) -> object:
    """Lowercase capability flag names and drop extra flags that are False.

    Leaves anything but a mapping to pydantic, which rejects it.

    Raises:
        PydanticCustomError: a key is not ``supports_<name>``, or a flag is given twice (in
            different case) with different values.
    """
    if type(data) is dict and _STANDARD_FLAGS.issuperset(data):
        return data  # only the seed's flags, already named as stored: nothing to normalise
    if not isinstance(data, Mapping):
        return data
    normalised: dict[str, object] = {}
    unknown: list[str] = []
    for key, value in data.items():
        name = _flag_name(key) if isinstance(key, str) else None
        if name is None:
            unknown.append(repr(key))
            continue
        if name in normalised and normalised[name] != value:
            raise PydanticCustomError(
                "capability_flag_conflict",
                "{name} is given twice (in different case) with different values",
                {"name": name},
            )
        normalised[name] = value
    if unknown:
        raise PydanticCustomError(
            "capability_flag_name",
            "unknown fields {names}: capability flags are named supports_<name>, where "
            f"<name> matches [a-z][a-z0-9_]* and has at most {MAX_NAME_LENGTH} characters",
            {"names": ", ".join(unknown)},
        )
    # An extra flag that is False is the same as an absent one (and stores the same).
    return {
        name: value
        for name, value in normalised.items()
        if name in _STANDARD_FLAGS or value is not False
    }


@lru_cache(maxsize=1024)
def _flag_name(key: str) -> str | None:
    """``key`` as a flag name (lowercase ``supports_<name>``), or None if it cannot be one.

    Memoised: catalogs use a handful of flag names, and every model validation checks them.
    """
    name = key.lower()
    if name.startswith(CAPABILITY_PREFIX) and is_capability_name(
        name.removeprefix(CAPABILITY_PREFIX)
    ):
        return name
    return None


class ModelCapabilities(DomainModel):
    """What a model can do: ``supports_<name>`` boolean flags, all False by default.

    The seed's four flags always exist. Any further ``supports_<name>`` flag (for example
    ``supports_reasoning``) is accepted and stored the same way; reading a flag that was never
    set returns False. Flag names are case-insensitive and stored lowercase.
    """

    model_config = ConfigDict(frozen=True, extra="allow")
    __pydantic_extra__: dict[str, StrictBool] = Field(init=False)

    supports_streaming: StrictBool = False
    supports_vision: StrictBool = False
    supports_tool_use: StrictBool = False
    supports_json_mode: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _normalise_flags(cls, data: Any) -> Any:
        if type(data) is dict and _STANDARD_FLAGS.issuperset(data):
            return data  # (normalise_flags' common case, without a call more per validation)
        return normalise_flags(data)

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> bool:
            """Any ``supports_<name>`` flag reads as a bool, set or not."""
            ...

    else:

        def __getattr__(self, name: str) -> Any:
            """Return False for a ``supports_*`` flag that was never set."""
            try:
                return super().__getattr__(name)
            except AttributeError:
                if name.startswith(CAPABILITY_PREFIX):
                    return False
                raise

    def names(self) -> frozenset[str]:
        """Return the names (without ``supports_``) of every capability that is True."""
        flags = {**self.__dict__, **(self.__pydantic_extra__ or {})}
        return frozenset(
            key.removeprefix(CAPABILITY_PREFIX) for key, value in flags.items() if value is True
        )

    def has(self, name: str) -> bool:
        """Tell whether the capability ``name`` (``vision`` or ``supports_vision``) is True."""
        return capability_name(name) in self.names()

    @classmethod
    def from_names(cls, names: Iterable[str]) -> ModelCapabilities:
        """Build the capabilities with exactly the named flags True."""
        return cls(**{CAPABILITY_PREFIX + capability_name(name): True for name in names})


_STANDARD_FLAGS: Final = frozenset(ModelCapabilities.model_fields)
"""The seed's four flags, which always exist (read once: pydantic computes model_fields)."""


class QualityScores(DomainModel):
    """Benchmark quality of a model per task, each from 0 to 1 inclusive (default 0: unknown)."""

    reasoning: Score = 0.0
    coding: Score = 0.0
    creative: Score = 0.0
    summarization: Score = 0.0


QUALITY_DIMENSIONS: Final = tuple(QualityScores.model_fields)
"""The quality dimensions (``reasoning``, ``coding``, ...): the fields of QualityScores."""


class ModelConfig(DomainModel):
    """One model of the catalog.

    ``model_id``, ``provider``, ``context_window`` and ``max_output_tokens`` are required. The
    rest default to: ``display_name`` = ``model_id``; every capability False; costs 0.0 USD per
    1M tokens; rate limits and latencies 0 (unknown); status ``active``; quality scores 0.0.

    Rules: ``model_id`` has 1-256 characters and no whitespace or control characters (``/ : @ .
    *`` are fine) and is case-sensitive; ``provider`` is lowercased and matches
    ``[a-z0-9][a-z0-9._-]*``; ``context_window`` and ``max_output_tokens`` are integers > 0;
    costs are finite, >= 0, at most 10,000 and have at most 10 decimal places; rate limits and
    latencies are integers >= 0; ``latency_p99_ms >= latency_p50_ms`` unless p99 is 0
    (unknown); quality scores lie in [0, 1]. Unknown fields are rejected, so a typo cannot pass
    silently.

    Lifecycle fields are optional: ``deprecation_date`` and ``retirement_date`` (dates, the
    retirement not before the deprecation) and ``successor_model_id`` (a valid model id other
    than the model's own).

    Descriptive fields (:mod:`modelregistry.domain.descriptors`), all unknown by default:
    ``input_modalities`` and ``output_modalities`` (sorted names from ``audio``, ``image``,
    ``pdf``, ``text``, ``video``), ``mode`` (a :class:`ModelMode`), ``release_date`` and
    ``knowledge_cutoff`` (ISO text ``YYYY-MM-DD``, or ``YYYY-MM`` when only the month is
    known), ``open_weights`` (None: unknown) and ``tags`` (``str -> str``).

    ``version`` is set by the registry on the models it returns (1 for a new model, +1 for every
    change) and is None on a config you build; it cannot be given as input, is left out of
    ``model_dump()`` and of equality, so a stored model equals the config it was registered
    from. Pass ``expected_version=`` to a write method to guard against concurrent changes.
    """

    model_id: ModelId
    provider: ProviderName
    display_name: DisplayName = ""
    capabilities: ModelCapabilities = Field(default_factory=ModelCapabilities)
    context_window: PositiveInt
    max_output_tokens: PositiveInt
    cost_per_1m_input_tokens: Cost = 0.0
    cost_per_1m_output_tokens: Cost = 0.0
    rate_limit_rpm: NonNegativeInt = 0
    rate_limit_tpm: NonNegativeInt = 0
    latency_p50_ms: NonNegativeInt = 0
    latency_p99_ms: NonNegativeInt = 0
    status: ModelStatus = ModelStatus.ACTIVE
    quality_scores: QualityScores = Field(default_factory=QualityScores)
    deprecation_date: date | None = None
    retirement_date: date | None = None
    successor_model_id: ModelId | None = None
    input_modalities: Modalities = ()
    output_modalities: Modalities = ()
    mode: ModelMode | None = None
    release_date: CatalogDate | None = None
    knowledge_cutoff: CatalogDate | None = None
    open_weights: StrictBool | None = None
    tags: Tags = Field(default_factory=dict)
    version: int | None = Field(default=None, exclude=True, repr=True)

    @model_validator(mode="before")
    @classmethod
    def _default_display_name(cls, data: Any) -> Any:
        if type(data) is dict and data.get("display_name") is not None:
            return data  # (the common case, without a walk through the ABCs below)
        # Only a valid id is copied: an invalid one is reported once, under model_id.
        if (
            isinstance(data, Mapping)
            and data.get("display_name") is None
            and is_model_id(data.get("model_id"))
        ):
            return {**data, "display_name": data["model_id"]}
        if isinstance(data, Mapping) and data.get("display_name") is None:
            return {key: value for key, value in data.items() if key != "display_name"}
        return data

    # (Capability flags are normalised once, by ModelCapabilities' own validator: pydantic-core
    # validates the nested model without calling its __init__, so a key that is not a string
    # reaches that validator and is refused by its rule, under ``capabilities``.)

    @field_validator("quality_scores", mode="before")
    @classmethod
    def _score_names_are_strings(cls, value: object) -> object:
        # QualityScores is built by calling its __init__(**value), where a key that is not a
        # string (YAML allows them) would be a TypeError rather than a broken rule.
        if type(value) is dict or isinstance(value, Mapping):
            check_keys(value, "")  # reported under the field's own name
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_not_input(cls, value: object) -> object:
        # Only the registry marks a config as stored (:meth:`stored`, :meth:`with_version`).
        if value is not None:
            raise PydanticCustomError(
                "version_is_assigned",
                "is assigned by the registry; pass expected_version= to a write method instead",
            )
        return value

    @field_validator("retirement_date")
    @classmethod
    def _retirement_after_deprecation(cls, value: date | None, info: ValidationInfo) -> date | None:
        deprecated = info.data.get("deprecation_date")
        if value is not None and deprecated is not None and value < deprecated:
            raise PydanticCustomError(
                "retirement_order",
                "must not be before deprecation_date ({deprecated})",
                {"deprecated": deprecated.isoformat()},
            )
        return value

    @field_validator("successor_model_id")
    @classmethod
    def _successor_is_another_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("model_id"):
            raise PydanticCustomError("successor_self", "must differ from model_id")
        return value

    def __eq__(self, other: object) -> bool:
        """Compare every field but ``version``: a stored model equals its registered config."""
        if not isinstance(other, ModelConfig):
            return NotImplemented
        return _without_version(self) == _without_version(other)

    def __hash__(self) -> int:
        """Hash by ``model_id`` (consistent with equality, which ignores ``version``)."""
        return hash(self.model_id)

    def with_version(self, version: int) -> ModelConfig:
        """Return this config marked as stored at ``version`` (used by the registry)."""
        return self.model_copy(update={"version": version})

    @classmethod
    def stored(cls, data: dict[str, Any], version: int) -> ModelConfig:
        """Validate ``data`` (a config's fields, without ``version``) as stored at ``version``.

        The same as ``model_validate(data).with_version(version)``, without the copy (a
        change feed reader validates every change it receives).

        Raises:
            InvalidModelConfigError: E4003, naming every offending field and rule.
        """
        if type(data) is not dict:  # (an instance would be handed back as it is: copy it)
            return cls.model_validate(data).with_version(version)
        config = cls.model_validate(data)  # (E4003 for a version among the fields, too)
        # Marked as model_copy(update=...) marks its copy: the instance is new, ours until returned.
        config.__dict__["version"] = version
        config.__pydantic_fields_set__.add("version")
        return config

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly mapping of the model: every field, and its ``version``.

        ``model_dump(mode="json")`` leaves ``version`` out (it is not input); this is the form
        the command line prints with ``--json``.
        """
        return {**self.model_dump(mode="json"), "version": self.version}

    @field_validator("latency_p99_ms")
    @classmethod
    def _p99_not_below_p50(cls, value: int, info: ValidationInfo) -> int:
        p50 = info.data.get("latency_p50_ms")
        if value and isinstance(p50, int) and value < p50:
            raise PydanticCustomError(
                "latency_order",
                "must be >= latency_p50_ms ({p50}) or 0 (unknown)",
                {"p50": p50},
            )
        return value


def _without_version(config: ModelConfig) -> dict[str, Any]:
    return {key: value for key, value in config.__dict__.items() if key != "version"}
