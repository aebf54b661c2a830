"""The router's selection query: what ``find_models`` asks, checked once, answered twice.

:class:`ModelQuery` holds the checked arguments. The cache answers it in memory
(:meth:`ModelQuery.select` and :meth:`ModelQuery.order`); the repository answers it in SQL
from the same fields. Both follow the same rules, and a property-based test holds them to it:

- every ``min_*``/``max_*`` bound is inclusive;
- a latency of 0 means unknown: it passes no ``max_latency_p50_ms`` bound and sorts as the
  slowest;
- ``cost`` is input + output per 1M tokens, summed exactly;
- ties are broken by ``model_id`` ascending, whatever the direction;
- every listed modality is required (of the input, of the output); any listed mode passes;
  ``open_weights`` matches only a model that says so (None, unknown, matches neither);
  every tag ``key=value`` must be the model's, exactly (case-sensitive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final

from modelregistry.domain.arguments import (
    capability_names,
    provider_name,
    status_argument,
    string_argument,
    whole_number,
)
from modelregistry.domain.descriptors import (
    MODALITIES,
    ModelMode,
    modality_name,
    tag_problem,
)
from modelregistry.domain.models import QUALITY_DIMENSIONS, ModelStatus
from modelregistry.domain.rules import capability_name, is_capability_name
from modelregistry.errors import InvalidArgumentError

if TYPE_CHECKING:
    from collections.abc import Callable

    from modelregistry.domain.models import ModelConfig

ORDER_FIELDS: Final = (
    "cost",
    "cost_per_1m_input_tokens",
    "cost_per_1m_output_tokens",
    "latency_p50_ms",
    "context_window",
    *(f"quality.{name}" for name in QUALITY_DIMENSIONS),
)
"""Valid ``order_by`` names (prefix ``-`` to reverse); quality orders highest first."""
COST_SCALE: Final = 10**10
"""Prices have at most 10 decimal places: times this, they are exact integers."""
UNKNOWN_LATENCY: Final = 2**63 - 1
"""Where a latency of 0 (unknown) sorts: with the largest latency there can be."""


@dataclass(frozen=True, slots=True)
class ModelQuery:
    """The checked arguments of ``find_models`` (see :meth:`ModelRegistry.find_models`)."""

    capabilities: frozenset[str]
    any_capabilities: frozenset[str]
    providers: frozenset[str] | None
    statuses: frozenset[ModelStatus] | None
    min_context_window: int | None
    min_max_output_tokens: int | None
    max_cost_per_1m_input: float | None
    max_cost_per_1m_output: float | None
    min_quality: tuple[tuple[str, float], ...]
    max_latency_p50_ms: int | None
    order_by: str | None
    descending: bool
    limit: int | None
    impossible: bool
    """True when no model can match (a capability or provider name no model can have)."""
    input_modalities: frozenset[str] = frozenset()
    output_modalities: frozenset[str] = frozenset()
    modes: frozenset[ModelMode] | None = None
    open_weights: bool | None = None
    tags: tuple[tuple[str, str], ...] = ()
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Hash once: the cache's memo looks a query up on every call."""
        values = tuple(getattr(self, f.name) for f in fields(self) if f.compare)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        """The hash of every compared field, computed once."""
        return self._hash

    def select(  # noqa: C901 - one pass per filter, all in one place
        self, models: list[ModelConfig], names: Mapping[str, frozenset[str]]
    ) -> list[ModelConfig]:
        """The ``models`` passing every filter, in their order.

        ``names`` holds each model's capability names by id. Each filter the query sets is
        one pass over what the previous ones left; a filter it does not set costs nothing.
        """
        found = models
        if self.statuses is not None:
            statuses = self.statuses
            found = [model for model in found if model.status in statuses]
        if self.providers is not None:
            providers = self.providers
            found = [model for model in found if model.provider in providers]
        if self.capabilities:
            required = self.capabilities
            found = [model for model in found if required <= names[model.model_id]]
        if self.any_capabilities:
            wanted = self.any_capabilities
            found = [model for model in found if not wanted.isdisjoint(names[model.model_id])]
        if self.min_context_window is not None:
            low = self.min_context_window
            found = [model for model in found if model.context_window >= low]
        if self.min_max_output_tokens is not None:
            low = self.min_max_output_tokens
            found = [model for model in found if model.max_output_tokens >= low]
        if self.max_cost_per_1m_input is not None:
            high = self.max_cost_per_1m_input
            found = [model for model in found if model.cost_per_1m_input_tokens <= high]
        if self.max_cost_per_1m_output is not None:
            high = self.max_cost_per_1m_output
            found = [model for model in found if model.cost_per_1m_output_tokens <= high]
        for dimension, score in self.min_quality:
            found = [m for m in found if getattr(m.quality_scores, dimension) >= score]
        if self.max_latency_p50_ms is not None:
            high = self.max_latency_p50_ms
            found = [model for model in found if 0 < model.latency_p50_ms <= high]
        return self._select_descriptors(found)

    def _select_descriptors(self, found: list[ModelConfig]) -> list[ModelConfig]:
        """The models of ``found`` passing the modality, mode, open-weights and tag filters."""
        if self.input_modalities:
            wanted = self.input_modalities
            found = [model for model in found if wanted.issubset(model.input_modalities)]
        if self.output_modalities:
            wanted = self.output_modalities
            found = [model for model in found if wanted.issubset(model.output_modalities)]
        if self.modes is not None:
            modes = self.modes
            found = [model for model in found if model.mode in modes]
        if self.open_weights is not None:
            open_weights = self.open_weights
            found = [model for model in found if model.open_weights is open_weights]
        for key, value in self.tags:
            found = [model for model in found if model.tags.get(key) == value]
        return found

    def matches(self, model: ModelConfig) -> bool:
        """Whether ``model`` passes every filter."""
        return bool(self.select([model], {model.model_id: model.capabilities.names()}))

    def sort_key(self, model: ModelConfig) -> float | int:
        """The value ``order_by`` sorts on, ascending (the caller applies the direction)."""
        return _SORT_KEYS[str(self.order_by)](model)

    def order(self, models: Iterable[ModelConfig]) -> list[ModelConfig]:
        """``models`` (already sorted by id) ordered as asked, ties by id, then limited."""
        ordered = list(models)
        if self.order_by is not None:
            # Stable, even reversed: equal keys keep their id order in either direction.
            ordered.sort(key=_SORT_KEYS[self.order_by], reverse=self.descending)
        return ordered if self.limit is None else ordered[: self.limit]


def _cost(model: ModelConfig) -> int:
    return _scaled(model.cost_per_1m_input_tokens) + _scaled(model.cost_per_1m_output_tokens)


def _quality_key(dimension: str) -> Callable[[ModelConfig], float]:
    def score(model: ModelConfig) -> float:
        value: float = getattr(model.quality_scores, dimension)
        return value

    return score


_SORT_KEYS: Final[dict[str, Callable[[ModelConfig], float | int]]] = {
    "cost": _cost,
    "cost_per_1m_input_tokens": lambda model: _scaled(model.cost_per_1m_input_tokens),
    "cost_per_1m_output_tokens": lambda model: _scaled(model.cost_per_1m_output_tokens),
    "latency_p50_ms": lambda model: model.latency_p50_ms or UNKNOWN_LATENCY,
    "context_window": lambda model: model.context_window,
    **{f"quality.{name}": _quality_key(name) for name in QUALITY_DIMENSIONS},
}
"""The value each ``order_by`` field sorts on, ascending."""


def _scaled(price: float) -> int:
    return round(price * COST_SCALE)


def build_query(  # noqa: PLR0913 - mirrors find_models' keyword arguments
    *,
    capabilities: Iterable[str],
    any_capabilities: Iterable[str],
    providers: Iterable[str] | None,
    statuses: Iterable[ModelStatus | str] | None,
    min_context_window: int | None,
    min_max_output_tokens: int | None,
    max_cost_per_1m_input: float | None,
    max_cost_per_1m_output: float | None,
    min_quality: Mapping[str, float] | None,
    max_latency_p50_ms: int | None,
    order_by: str | None,
    limit: int | None,
    input_modalities: Iterable[str] = (),
    output_modalities: Iterable[str] = (),
    mode: Iterable[ModelMode | str] | ModelMode | str | None = None,
    open_weights: bool | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelQuery:
    """Check ``find_models``' arguments.

    Raises:
        InvalidArgumentError: E4007 naming the argument; an unknown ``order_by`` lists the
            valid names.
    """
    required = capability_names(capabilities)
    optional, any_given = _possible_names(any_capabilities)
    wanted_providers = None
    # A name no model can have: nothing matches "all of", it just drops out of "any of".
    impossible = required is None or (any_given and not optional)
    if providers is not None:
        if isinstance(providers, str):
            providers = [providers]
        names = {provider_name(name) for name in providers}
        wanted_providers = frozenset(name for name in names if name is not None)
    wanted_statuses = None
    if statuses is not None:
        if isinstance(statuses, str):
            statuses = [statuses]
        wanted_statuses = frozenset(status_argument(status, "statuses") for status in statuses)
    quality = _quality(min_quality)
    field, descending = _order(order_by)
    return ModelQuery(
        capabilities=frozenset(required or ()),
        any_capabilities=optional,
        providers=wanted_providers,
        statuses=wanted_statuses,
        min_context_window=_optional_whole(min_context_window, "min_context_window"),
        min_max_output_tokens=_optional_whole(min_max_output_tokens, "min_max_output_tokens"),
        max_cost_per_1m_input=_optional_number(max_cost_per_1m_input, "max_cost_per_1m_input"),
        max_cost_per_1m_output=_optional_number(max_cost_per_1m_output, "max_cost_per_1m_output"),
        min_quality=quality,
        max_latency_p50_ms=_optional_whole(max_latency_p50_ms, "max_latency_p50_ms"),
        order_by=field,
        descending=descending,
        limit=_optional_whole(limit, "limit"),
        impossible=impossible,
        input_modalities=_modalities(input_modalities, "input_modalities"),
        output_modalities=_modalities(output_modalities, "output_modalities"),
        modes=_modes(mode),
        open_weights=_open_weights(open_weights),
        tags=_tags(tags),
    )


_FIELDS: Final = (
    "capabilities",
    "any_capabilities",
    "providers",
    "statuses",
    "min_context_window",
    "min_max_output_tokens",
    "max_cost_per_1m_input",
    "max_cost_per_1m_output",
    "min_quality",
    "max_latency_p50_ms",
    "order_by",
    "limit",
    "input_modalities",
    "output_modalities",
    "mode",
    "open_weights",
    "tags",
)
_REMEMBERED: dict[tuple[object, ...], ModelQuery] = {}
_REMEMBER_AT_MOST: Final = 4096
_SCALARS: Final = frozenset({type(None), str, int, float, bool})
_NAMES: Final = frozenset({str, ModelStatus})


def remembered_query(*arguments: object) -> ModelQuery:
    """:func:`build_query` of ``find_models``' arguments (in its order), remembered.

    The router asks the same few queries again and again: checking them once per process
    leaves a dict lookup. Only arguments of plain types are remembered (strings, numbers,
    None, lists or tuples of names, a dict of scores), keyed with their types, so ``1`` and
    ``True`` never share an answer; a refused query is never remembered.

    Raises:
        InvalidArgumentError: E4007, as :func:`build_query`.
    """
    key = _key(arguments)
    found = None if key is None else _REMEMBERED.get(key)
    if found is None:
        found = build_query(**dict(zip(_FIELDS, arguments, strict=True)))  # type: ignore[arg-type]
        if key is not None:
            if len(_REMEMBERED) >= _REMEMBER_AT_MOST:
                _REMEMBERED.clear()
            _REMEMBERED[key] = found
    return found


def _key(arguments: tuple[object, ...]) -> tuple[object, ...] | None:
    """A hashable key telling ``arguments`` apart by value and type; None: not plain.

    The key is the arguments' types and their values, lists made tuples. It is built on
    every ``find_models`` call, so the scalars (most arguments) are not looked at one by one.
    """
    kinds = tuple(map(type, arguments))
    if _SCALARS.issuperset(kinds):
        return (kinds, arguments)
    values = list(arguments)
    for index, kind in enumerate(kinds):
        if kind in _SCALARS:
            continue
        value: Any = values[index]
        if kind is tuple or kind is list:  # exactly: ``kind`` is the value's own type
            if value and not _NAMES.issuperset(map(type, value)):
                return None
            if kind is list:
                values[index] = tuple(value)
        elif kind is dict:
            scores = tuple((k, type(v), v) for k, v in value.items())
            if not all(type(k) is str and t in _SCALARS for k, t, _ in scores):
                return None
            values[index] = scores
        else:
            return None
    return (kinds, tuple(values))


def _possible_names(names: Iterable[str]) -> tuple[frozenset[str], bool]:
    """The names of ``any_capabilities`` a model can have, and whether any were given."""
    if isinstance(names, str) or not isinstance(names, Iterable):
        capability_names(names)  # raises E4007, naming the argument
    given = [string_argument(name, "any_capabilities") for name in names]
    canonical = {capability_name(name) for name in given}
    return frozenset(name for name in canonical if is_capability_name(name)), bool(given)


def _modalities(names: Iterable[str], field: str) -> frozenset[str]:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Iterable):
        raise InvalidArgumentError.single(field, "must be a list of modalities", names)
    found = set()
    for name in names:
        modality = modality_name(name)
        if modality is None:
            raise InvalidArgumentError.single(
                field, f"each must be one of {', '.join(MODALITIES)}", name
            )
        found.add(modality)
    return frozenset(found)


def _modes(
    modes: Iterable[ModelMode | str] | ModelMode | str | None,
) -> frozenset[ModelMode] | None:
    if modes is None:
        return None
    if isinstance(modes, str):
        modes = [modes]
    if not isinstance(modes, Iterable):
        raise InvalidArgumentError.single("mode", "must be a mode or a list of modes", modes)
    found = set()
    for name in modes:
        try:
            found.add(ModelMode(name))
        except ValueError as exc:
            allowed = ", ".join(mode.value for mode in ModelMode)
            raise InvalidArgumentError.single("mode", f"must be one of {allowed}", name) from exc
    return frozenset(found)


def _open_weights(value: bool | None) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgumentError.single("open_weights", "must be True, False or None", value)
    return value


def _tags(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if tags is None:
        return ()
    if not isinstance(tags, Mapping):
        raise InvalidArgumentError.single(
            "tags", "must be a mapping like {'residency': 'eu'}", tags
        )
    for key, value in tags.items():
        problem = tag_problem(key, value)
        if problem is not None:
            raise InvalidArgumentError.single("tags", problem, {key: value})
    return tuple(sorted(tags.items()))


def _optional_whole(value: int | None, field: str) -> int | None:
    return None if value is None else whole_number(value, field)


def _optional_number(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # noqa: PLR0124 - NaN
        raise InvalidArgumentError.single(field, "must be a number", value)
    try:
        return float(value)
    except OverflowError as exc:  # an int beyond any float
        raise InvalidArgumentError.single(field, "must be a number", value) from exc


def _quality(bounds: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    if bounds is None:
        return ()
    if not isinstance(bounds, Mapping):
        raise InvalidArgumentError.single(
            "min_quality", "must be a mapping like {'coding': 0.8}", bounds
        )
    checked = []
    for dimension, low in sorted(bounds.items()):
        if dimension not in QUALITY_DIMENSIONS:
            raise InvalidArgumentError.single(
                "min_quality", f"keys must be {', '.join(QUALITY_DIMENSIONS)}", dimension
            )
        checked.append((dimension, _optional_number(low, f"min_quality.{dimension}") or 0.0))
    return tuple(checked)


def _order(order_by: str | None) -> tuple[str | None, bool]:
    if order_by is None:
        return None, False
    if not isinstance(order_by, str):
        raise InvalidArgumentError.single("order_by", "must be a string", order_by)
    reverse = order_by.startswith("-")
    field = order_by.removeprefix("-")
    if field not in ORDER_FIELDS:
        raise InvalidArgumentError.single(
            "order_by", f"must be one of {', '.join(ORDER_FIELDS)} (prefix - to reverse)", order_by
        )
    highest_first = field.startswith("quality.")
    return field, highest_first != reverse
