"""The sync plan: what a sync would change, computed from the catalog, the bases and upstream.

A pure function of its inputs (:func:`plan_sync`); the service applies the plan it returns in
one write transaction. For each synced model the catalog keeps the *base*: the upstream
values it was last synced with. A three-way merge of (local, base, upstream) decides, field by
field:

- local equals base, upstream differs: the field is updated, unless the change looks like a
  mistake (:func:`hold_rule`): then it is *held* (``accept_held`` applies it);
- local differs from base: the field was edited locally and is never overwritten; it is listed
  as *protected* when upstream moved too;
- a model with no base from this source keeps its differing fields (all *protected*) unless
  ``adopt``, which takes upstream's values as if local were the base.

The base becomes upstream's value, except for held fields, which keep theirs (so the change is
held again next time rather than forgotten).

The price's other rates (cache writes, context and service tiers) are one field,
:data:`~modelregistry.domain.upstream.fields.RATES`, merged as a set by the same rule: a
change of any rate rewrites the price with all of upstream's rates; a local edit of the rates
(``prices set --rate``) is protected. No hold rule applies to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from modelregistry.domain.models import ModelStatus
from modelregistry.domain.rules import CAPABILITY_PREFIX
from modelregistry.domain.upstream.convert import InvalidEntry
from modelregistry.domain.upstream.fields import (
    CACHED_INPUT,
    PRICE_FIELDS,
    RATES,
    SCALAR_FIELDS,
    Fields,
    apply_fields,
    field_value,
    flatten,
    parse_rates,
)
from modelregistry.errors import InvalidArgumentError, InvalidModelConfigError, SyncRefusedError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.rates import Rate
    from modelregistry.domain.upstream.convert import Conversion

__all__ = [
    "MIN_VALID_MODELS",
    "Base",
    "HeldChange",
    "OnRemoved",
    "ProtectedField",
    "SyncOptions",
    "SyncPlan",
    "SyncUpdate",
    "hold_rule",
    "on_removed_policy",
    "plan_sync",
]

MIN_VALID_MODELS: Final = 50
"""A source yielding fewer valid models is refused (unless forced)."""
MAX_PRICE_FACTOR: Final = 10
"""A price moving by more than this factor, either way, is held."""
_LIMITS: Final = frozenset({"context_window", "max_output_tokens"})

Value = str | int | bool | None


class OnRemoved(StrEnum):
    """What a sync does with a model that disappeared upstream (it is always listed)."""

    KEEP = "keep"
    DEPRECATE = "deprecate"
    REMOVE = "remove"


def on_removed_policy(value: object) -> OnRemoved:
    """The removal policy named ``value`` (``keep``, ``deprecate``, ``remove``).

    Raises:
        InvalidArgumentError: E4007, no such policy.
    """
    try:
        return OnRemoved(str(value)) if isinstance(value, str) else OnRemoved("")
    except ValueError as exc:
        allowed = ", ".join(policy.value for policy in OnRemoved)
        raise InvalidArgumentError.single("on_removed", f"must be one of {allowed}", value) from exc


@dataclass(frozen=True, slots=True)
class Base:
    """What a model was last synced with: the source kind and the fields.

    ``removed_by_sync`` marks a model the sync itself removed (``--on-removed remove``): it
    may come back, unlike one an admin removed.
    """

    kind: str
    fields: Fields
    removed_by_sync: bool = False


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """How a sync treats guards, holds, local removals, models without a base, removals."""

    force: bool = False
    accept_held: bool = False
    adopt: bool = False
    restore_removed: bool = False
    on_removed: OnRemoved = OnRemoved.KEEP


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """A model the sync changes: each field with its ``(old, new)`` value."""

    model_id: str
    fields: dict[str, tuple[Value, Value]]

    def to_dict(self) -> dict[str, object]:
        """``{"model_id", "fields": {field: [old, new]}}``."""
        return {
            "model_id": self.model_id,
            "fields": {name: [old, new] for name, (old, new) in self.fields.items()},
        }


@dataclass(frozen=True, slots=True)
class ProtectedField:
    """A field edited locally (or never synced) that the sync leaves as it is."""

    model_id: str
    field: str
    local: Value
    upstream: Value

    def to_dict(self) -> dict[str, object]:
        """``{"model_id", "field", "local", "upstream"}``."""
        return {
            "model_id": self.model_id,
            "field": self.field,
            "local": self.local,
            "upstream": self.upstream,
        }


@dataclass(frozen=True, slots=True)
class HeldChange:
    """A change that looks like a mistake, not applied (``accept_held`` applies it)."""

    model_id: str
    field: str
    old: Value
    new: Value
    rule: str

    def to_dict(self) -> dict[str, object]:
        """``{"model_id", "field", "old", "new", "rule"}``."""
        return {
            "model_id": self.model_id,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "rule": self.rule,
        }


@dataclass(slots=True)
class SyncPlan:
    """What a sync changes (the report), and the writes that do it.

    The report: ``added``, ``updated``, ``unchanged`` (a count), ``removed_upstream``,
    ``protected``, ``held``, ``invalid``, ``skipped_removed_locally``, and ``dropped`` (values
    of valid entries that were left out). The writes: ``writes`` (model id -> config and
    cached-input price to store), ``rates`` (model id -> the other rates of the price of each
    write: upstream's for an added model or a rates change, else the stored ones; a write
    without them keeps the rates in effect), ``bases`` (model id -> new base), ``removals``
    (ids the sync removes; their bases are kept, marked removed by the sync).
    """

    kind: str
    added: list[str] = field(default_factory=list)
    updated: list[SyncUpdate] = field(default_factory=list)
    unchanged: int = 0
    removed_upstream: list[str] = field(default_factory=list)
    protected: list[ProtectedField] = field(default_factory=list)
    held: list[HeldChange] = field(default_factory=list)
    invalid: list[InvalidEntry] = field(default_factory=list)
    skipped_removed_locally: list[str] = field(default_factory=list)
    dropped: list[InvalidEntry] = field(default_factory=list)
    writes: dict[str, tuple[ModelConfig, Decimal | None]] = field(default_factory=dict)
    rates: dict[str, tuple[Rate, ...]] = field(default_factory=dict)
    bases: dict[str, Fields] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)

    @property
    def changes_catalog(self) -> bool:
        """Whether applying the plan changes any model."""
        return bool(self.writes or self.removals)

    def to_dict(self) -> dict[str, object]:
        """The report as JSON: the issue's shape (lists of ids, counts, objects)."""
        return {
            "added": list(self.added),
            "updated": [item.to_dict() for item in self.updated],
            "unchanged": self.unchanged,
            "removed_upstream": list(self.removed_upstream),
            "protected": [item.to_dict() for item in self.protected],
            "held": [item.to_dict() for item in self.held],
            "invalid": [item.to_dict() for item in self.invalid],
            "skipped_removed_locally": list(self.skipped_removed_locally),
            "dropped": [item.to_dict() for item in self.dropped],
        }

    def totals(self) -> dict[str, int]:
        """How many of each (``--quiet``)."""
        return {
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "removed_upstream": len(self.removed_upstream),
            "protected": len(self.protected),
            "held": len(self.held),
            "invalid": len(self.invalid),
            "skipped_removed_locally": len(self.skipped_removed_locally),
        }


def _as_decimal(value: Value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def hold_rule(name: str, old: Value, new: Value) -> str | None:  # noqa: PLR0911 - one answer per rule
    """Why changing field ``name`` from ``old`` to ``new`` is held; None if it is not.

    Held: a price moving more than 10x either way or crossing zero; a context window or max
    output shrinking; a capability turning off.
    """
    if name in PRICE_FIELDS:
        before, after = _as_decimal(old), _as_decimal(new)
        if before is None or after is None:
            return None  # a cached-input price appearing or going: no amount to compare
        if (before == 0) != (after == 0):
            return "price crosses zero"
        if before and (after > before * MAX_PRICE_FACTOR or before > after * MAX_PRICE_FACTOR):
            return f"price moves more than {MAX_PRICE_FACTOR}x"
        return None
    if name in _LIMITS and isinstance(old, int) and isinstance(new, int) and new < old:
        return f"{name} shrinks"
    if name.startswith(CAPABILITY_PREFIX) and old is True and new is not True:
        return "capability turns off"
    return None


def _names(*mappings: Fields) -> list[str]:
    names = [*SCALAR_FIELDS, CACHED_INPUT, RATES]
    flags = sorted(
        {key for fields in mappings for key in fields if key.startswith(CAPABILITY_PREFIX)}
    )
    return names + flags


def _stored_base(fields: Fields) -> Fields:
    """A base as stored: capability flags only where True."""
    return {
        key: value
        for key, value in fields.items()
        if (not key.startswith(CAPABILITY_PREFIX) or value is True)
        and (key != RATES or value is not None)
    }


def _check_guards(kind: str, valid: int, synced: int, options: SyncOptions) -> None:
    if options.force:
        return
    if valid < MIN_VALID_MODELS:
        rule = f"the source yields {valid} valid models, fewer than {MIN_VALID_MODELS}"
        raise SyncRefusedError(kind, rule, valid=valid, synced=synced)
    if valid * 2 < synced:
        rule = (
            f"the source yields {valid} valid models, fewer than half of the {synced} "
            "synced from it now"
        )
        raise SyncRefusedError(kind, rule, valid=valid, synced=synced)


def plan_sync(  # noqa: PLR0913 - the three sides of the merge and how to treat them
    kind: str,
    upstream: Conversion,
    current: Mapping[str, tuple[ModelConfig, Decimal | None]],
    *,
    bases: Mapping[str, Base],
    removed_locally: Collection[str],
    options: SyncOptions,
    rates: Mapping[str, tuple[Rate, ...]] | None = None,
) -> SyncPlan:
    """Plan a sync of ``kind``: the report and the writes.

    Args:
        kind: The upstream kind (``litellm``, ``models.dev``, ``openrouter``).
        upstream: The converted upstream document.
        current: Every model of the catalog, with its cached-input price in effect.
        bases: The bases of synced models (any source), by model id.
        removed_locally: Upstream ids that the catalog had and no longer has.
        options: Guards, holds, adoption, restoration, removal policy.
        rates: The other rates of each model's price in effect, by model id (absent: none).

    Raises:
        SyncRefusedError: E4040, a guard refused the sync (``options.force`` skips them).
    """
    synced = sum(
        1
        for model_id, base in bases.items()
        if base.kind == kind and not base.removed_by_sync and model_id in current
    )
    _check_guards(kind, len(upstream.models), synced, options)
    plan = SyncPlan(kind, invalid=list(upstream.invalid), dropped=list(upstream.dropped))
    seen: set[str] = set()
    stored_rates = rates or {}
    for model in upstream.models:
        model_id = model.config.model_id
        seen.add(model_id)
        incoming = flatten(model.config, model.cached_input_per_1m, model.rates)
        base = bases.get(model_id)
        if model_id not in current:
            was_synced_away = base is not None and base.kind == kind and base.removed_by_sync
            if model_id in removed_locally and not was_synced_away and not options.restore_removed:
                plan.skipped_removed_locally.append(model_id)
                continue
            plan.added.append(model_id)
            plan.writes[model_id] = (model.config, model.cached_input_per_1m)
            plan.rates[model_id] = model.rates
            plan.bases[model_id] = _stored_base(incoming)
            continue
        mine = stored_rates.get(model_id, ())
        _merge(
            plan,
            model_id,
            (*current[model_id], mine),
            incoming=incoming,
            base=base,
            options=options,
        )
    _removed_upstream(plan, seen, current, bases, options)
    return plan


def _merge(  # noqa: PLR0913 - one model's three sides
    plan: SyncPlan,
    model_id: str,
    stored: tuple[ModelConfig, Decimal | None, tuple[Rate, ...]],
    *,
    incoming: Fields,
    base: Base | None,
    options: SyncOptions,
) -> None:
    local = flatten(*stored)
    has_base = base is not None and base.kind == plan.kind and not base.removed_by_sync
    reference = base.fields if has_base and base is not None else local if options.adopt else None
    changes: Fields = {}
    diffs: dict[str, tuple[Value, Value]] = {}
    new_base: Fields = {}
    for name in _names(local, incoming, reference or {}):
        mine, theirs = field_value(local, name), field_value(incoming, name)
        new_base[name] = theirs
        if reference is None:
            if mine != theirs:
                plan.protected.append(ProtectedField(model_id, name, mine, theirs))
            continue
        before = field_value(reference, name)
        if mine != before:
            if theirs != before:
                plan.protected.append(ProtectedField(model_id, name, mine, theirs))
            continue
        if theirs == mine:
            continue
        rule = hold_rule(name, mine, theirs)
        if rule is not None and not options.accept_held:
            plan.held.append(HeldChange(model_id, name, mine, theirs, rule))
            new_base[name] = before
            continue
        changes[name] = theirs
        diffs[name] = (mine, theirs)
    if changes:
        try:
            plan.writes[model_id] = apply_fields(stored[0], stored[1], changes)
            plan.rates[model_id] = parse_rates(changes[RATES]) if RATES in changes else stored[2]
        except InvalidModelConfigError as exc:
            reason = "; ".join(f"{v.field}: {v.rule}" for v in exc.violations)
            plan.invalid.append(
                InvalidEntry(model_id, f"upstream's change breaks a rule: {reason}")
            )
            return
        plan.updated.append(SyncUpdate(model_id, diffs))
    else:
        plan.unchanged += 1
    plan.bases[model_id] = _stored_base(new_base)


def _removed_upstream(
    plan: SyncPlan,
    seen: set[str],
    current: Mapping[str, tuple[ModelConfig, Decimal | None]],
    bases: Mapping[str, Base],
    options: SyncOptions,
) -> None:
    for model_id in sorted(bases):
        base = bases[model_id]
        if base.kind != plan.kind or base.removed_by_sync or model_id in seen:
            continue
        if model_id not in current:
            continue  # removed locally before: nothing to do
        plan.removed_upstream.append(model_id)
        if options.on_removed is OnRemoved.REMOVE:
            plan.removals.append(model_id)
        elif options.on_removed is OnRemoved.DEPRECATE:
            config, cached = current[model_id]
            if config.status is not ModelStatus.DEPRECATED:
                plan.writes[model_id] = (
                    config.model_copy(update={"status": ModelStatus.DEPRECATED}),
                    cached,
                )
