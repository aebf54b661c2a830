"""Writer: the changes one write transaction makes, versioned, recorded and guarded.

Every write of the registry goes through a :class:`Writer`, inside the transaction that
:meth:`~modelregistry.service.parts.Parts.write` opens: a change bumps the model's version by
exactly one and appends its revision; a change that changes nothing writes nothing;
``expected_version`` refuses to overwrite a change made by someone else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelregistry.db import restatements
from modelregistry.domain.history import ChangeKind, ChangeNote, ModelRevision
from modelregistry.domain.pricing import Price, in_effect, money, next_change, priced
from modelregistry.errors import (
    AliasNotFoundError,
    ConcurrentModificationError,
    InvalidModelConfigError,
    ModelNotFoundError,
)
from modelregistry.service.revisions import revision_or_raise

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from decimal import Decimal

    from modelregistry.db.repository import Repository
    from modelregistry.domain.aliases import AliasState
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.rates import Rate


class Writer:
    """Applies changes through one repository, at one time, on behalf of one actor."""

    def __init__(
        self,
        repository: Repository,
        *,
        now: datetime,
        note: ChangeNote,
        keep_records: bool = True,
    ) -> None:
        """Apply changes through ``repository``, dated ``now`` and signed with ``note``.

        ``keep_records``: keep each revision recorded (:attr:`recorded`), for a cache that
        applies its own changes; False when nothing will (no cache): none is built.
        """
        self._repository = repository
        self._now = now
        self._note = note
        self.last_revision: int | None = None
        """The catalog revision of the last change made here (None: nothing changed)."""
        self.aliases_changed = False
        """Whether an alias was set or removed here."""
        self.kinds: list[ChangeKind] = []
        """The kind of each revision recorded here, in order (for the registry's metrics)."""
        self.written: dict[tuple[str, int], ModelConfig] = {}
        """The configs written here, by ``(model_id, version)``: the cache reuses them."""
        self.recorded: list[tuple[int, ModelRevision]] | None = [] if keep_records else None
        """Each revision recorded here with its number, when all of them and every price
        timeline they changed are known (None: the cache reads the change back instead)."""
        self.timelines: dict[str, tuple[Price, ...]] = {}
        """With :attr:`recorded`: the whole price timeline, as committed, of each model whose
        prices were written here (the other models' timelines are as they were)."""
        self.announced = False
        """Whether other processes are told of this transaction's changes already (at commit:
        the NOTIFY went with a change's statement)."""
        # The model current() read, until a change: write() need not read it again.
        self._read: ModelConfig | None = None
        # The aliases as read in this transaction, until one changes here (an import's
        # batches read them once).
        self._aliases: dict[str, str] | None = None

    @property
    def now(self) -> datetime:
        """The instant of this transaction's changes."""
        return self._now

    @property
    def repository(self) -> Repository:
        """The repository written through (for rows other modules keep: sync bases)."""
        return self._repository

    @property
    def changed(self) -> bool:
        """Whether anything was written (other processes are then told)."""
        return self.last_revision is not None or self.aliases_changed

    def resolve(self, name: str) -> str:
        """The model id an alias names; any other name as it is."""
        return self._repository.resolve(name)

    def set_alias(self, alias: str, target: str) -> AliasState:
        """Make ``alias`` name the model ``target`` (a model id, or an alias of one).

        Raises:
            InvalidModelConfigError: E4003, ``alias`` is the id of a model, past or present.
            ModelNotFoundError: E4001, ``target`` names no model.
        """
        if self._repository.last_version(alias) > 0:
            raise InvalidModelConfigError.single(
                "alias", "is the id of a model (past or present), so it cannot be an alias", alias
            )
        model_id = self._repository.resolve(target)
        if self._repository.get(model_id) is None:
            raise ModelNotFoundError(target)
        current = self._repository.alias_target(alias)
        if current != model_id:
            self._repository.add_alias_change(alias, model_id, now=self._now, note=self._note)
            self.aliases_changed = True
            self._aliases = None
        return next(state for state in self._repository.alias_states() if state.alias == alias)

    def remove_alias(self, alias: str) -> str:
        """Remove ``alias``; return the model id it named.

        Raises:
            AliasNotFoundError: E4008, no such alias.
        """
        target = self._repository.alias_target(alias)
        if target is None:
            raise AliasNotFoundError(alias)
        self._repository.add_alias_change(alias, None, now=self._now, note=self._note)
        self.aliases_changed = True
        self._aliases = None
        return target

    def _refuse_alias_ids(self, model_ids: list[str]) -> None:
        if not model_ids:
            return
        if self._aliases is None:
            self._aliases = self._repository.aliases()
        aliases = self._aliases
        for model_id in model_ids:
            if model_id in aliases:
                raise InvalidModelConfigError.single(
                    "model_id",
                    f"is an alias of {aliases[model_id]!r}; remove the alias to use it as an id",
                    model_id,
                )

    def current(self, model_id: str) -> ModelConfig:
        """The model as stored now.

        Raises:
            ModelNotFoundError: E4001, no such model (never registered, or removed).
        """
        model = self._repository.get(model_id)
        if model is None:
            raise ModelNotFoundError(model_id)
        self._read = model
        return model

    def current_named(self, name: str) -> ModelConfig:
        """The model ``name`` names (its id, or an alias of it), as stored now.

        An id of a stored model is never an alias (aliases and ids are kept apart), so the
        alias is looked up only when no model has the id.

        Raises:
            ModelNotFoundError: E4001, no such model.
        """
        model = self._repository.get(name)
        if model is not None:
            self._read = model
            return model
        return self.current(self._repository.resolve(name))

    def all_models(self) -> dict[str, ModelConfig]:
        """Every model as stored now, by id."""
        return {model.model_id: model for model in self._repository.list_models()}

    def last_version(self, model_id: str) -> int:
        """The model's newest version, a removal included; 0 if it never existed."""
        return self._repository.last_version(model_id)

    def revision(self, model_id: str, version: int) -> ModelRevision:
        """Revision ``version`` of the model.

        Raises:
            ModelNotFoundError: E4001, the model has no history at all.
            ModelVersionNotFoundError: E4004, it has no such version.
        """
        return revision_or_raise(self._repository, model_id, version)

    def write(
        self, config: ModelConfig, *, kind: ChangeKind, expected_version: int | None = None
    ) -> ModelConfig:
        """Store ``config`` as the model's next version, unless it changes nothing.

        ``kind`` names the change; writing a model that does not exist records ``created``
        (``restored`` stays ``restored``).

        Raises:
            ConcurrentModificationError: E4030, ``expected_version`` is not the stored version.
        """
        read, self._read = self._read, None
        current = (
            read
            if read is not None and read.model_id == config.model_id
            else self._repository.get(config.model_id)
        )
        # After the read: a stored model's row gave its version (no max(version) query).
        last = self._check_version(config.model_id, expected_version)
        if current is not None and current == config:
            return current
        if current is None:
            self._refuse_alias_ids([config.model_id])
        if current is None and kind is not ChangeKind.RESTORED:
            kind = ChangeKind.CREATED
        if current is None or _costs(current) != _costs(config):
            # (A stored model shows the price in effect now: equal costs need no new price.)
            timelines = {config.model_id: self._repository.timeline(config.model_id)}
            prices = self._new_prices([config], timelines)
            self._repository.add_prices(prices)
            self._keep_timelines([config.model_id], timelines, prices)
        if current is None:
            self._repository.save(config, version=last + 1, now=self._now)
            self._record(config, version=last + 1, kind=kind)
        else:
            number = self._repository.update_model(
                current, config, version=last + 1, now=self._now, kind=kind, note=self._note
            )
            self._recorded(config, version=last + 1, kind=kind, number=number)
            self.announced = True  # (in the same statement, on PostgreSQL)
        self.written[config.model_id, last + 1] = config
        if current is not None:
            # The row now holds exactly config (its costs are the price in effect now).
            return config.with_version(last + 1)
        stored = self._repository.get(config.model_id)
        if stored is None:  # pragma: no cover - written in this very transaction
            raise ModelNotFoundError(config.model_id)
        return stored

    def write_many(
        self,
        configs: list[ModelConfig],
        current: Mapping[str, ModelConfig],
        *,
        cached_inputs: Mapping[str, Decimal | None] | None = None,
        rates: Mapping[str, tuple[Rate, ...]] | None = None,
    ) -> None:
        """Store each config as its model's next version, in a few statements for them all.

        For imports: ``current`` is the catalog as read in this transaction; configs equal to
        their stored model are skipped; ids must be distinct. Records ``created`` or
        ``updated``. ``cached_inputs`` and ``rates`` give the cached-input price and the
        other rates of a new price (by model id; a sync); without them, the price in effect's
        carry over.
        """
        changed = [config for config in configs if current.get(config.model_id) != config]
        if not changed:
            return
        ids = [config.model_id for config in changed]
        if cached_inputs is not None or rates is not None:
            self.recorded = None  # (a sync's prices: read back as stored)
        self._refuse_alias_ids([model_id for model_id in ids if model_id not in current])
        versions = self._repository.last_versions(ids)
        items = [(config, versions.get(config.model_id, 0) + 1) for config in changed]
        self._repository.save_many(items, now=self._now, existing=current.keys())
        repriced = [
            config
            for config in changed
            if config.model_id not in current or _costs(current[config.model_id]) != _costs(config)
        ]
        if repriced:
            repriced_ids = [config.model_id for config in repriced]
            # A model that never existed has no price yet: only the others' are read.
            existed = [model_id for model_id in repriced_ids if versions.get(model_id, 0) > 0]
            timelines = self._repository.price_timelines(existed) if existed else {}
            prices = self._new_prices(repriced, timelines, cached_inputs, rates)
            self._repository.add_prices(prices)
            self._keep_timelines(repriced_ids, timelines, prices)
        self.written.update(((config.model_id, version), config) for config, version in items)
        entries = [
            (
                config,
                version,
                ChangeKind.UPDATED if config.model_id in current else ChangeKind.CREATED,
            )
            for config, version in items
        ]
        numbers = self._repository.append_revisions(entries, now=self._now, note=self._note)
        for (config, version, kind), number in zip(entries, numbers, strict=True):
            self._recorded(config, version=version, kind=kind, number=number)

    def remove(self, model_id: str, *, expected_version: int | None = None) -> ModelRevision:
        """Remove the model from the catalog; its history stays.

        Raises:
            ModelNotFoundError: E4001, no such model.
            ConcurrentModificationError: E4030, ``expected_version`` is not the stored version.
        """
        current = self.current(model_id)
        self._read = None
        last = self._check_version(model_id, expected_version)
        self._repository.delete(model_id)
        self._record(current, version=last + 1, kind=ChangeKind.REMOVED)
        return self.revision(model_id, last + 1)

    def set_price(  # noqa: PLR0913 - the price's parts, keyword-only
        self,
        model_id: str,
        *,
        input_per_1m: Decimal,
        output_per_1m: Decimal,
        cached_input_per_1m: Decimal | None,
        effective_from: datetime | None,
        expected_version: int | None = None,
        rates: tuple[Rate, ...] = (),
    ) -> Price:
        """Record a price of the model from ``effective_from`` (None: now), a new version.

        A price in effect now also becomes the costs of the model's config; a later one
        changes them by itself when its time comes. Setting, for now, the price already in
        effect writes nothing.

        Raises:
            ModelNotFoundError: E4001, no such model.
            InvalidModelConfigError: E4003, ``effective_from`` is before now.
            ConcurrentModificationError: E4030, ``expected_version`` is not the stored version.
        """
        current = self.current(model_id)
        last = self._check_version(model_id, expected_version)
        start = self._now if effective_from is None else effective_from
        if start < self._now:
            raise InvalidModelConfigError.single(
                "effective_from",
                "must not be in the past (a price never changes what was already charged)",
                effective_from.isoformat() if effective_from is not None else None,
            )
        price = Price(
            model_id=model_id,
            input_per_1m=input_per_1m,
            output_per_1m=output_per_1m,
            cached_input_per_1m=cached_input_per_1m,
            effective_from=start,
            recorded_at=self._now,
            actor=self._note.actor,
            reason=self._note.reason,
            rates=rates,
        )
        timeline = self._repository.timeline(model_id)
        in_force = in_effect(timeline, self._now)
        if (
            effective_from is None
            and in_force is not None
            and _amounts(in_force) == _amounts(price)
            and next_change(timeline, self._now) is None
        ):
            return in_force
        self._repository.add_prices([price])
        self.recorded = None
        # A price in effect now shows in the config at once; a later one when its time comes.
        config = priced(current, (price,), self._now)
        self._repository.save(config, version=last + 1, now=self._now)
        self._record(config, version=last + 1, kind=ChangeKind.REPRICED)
        self.written[model_id, last + 1] = config
        return price

    def restate_prices(self, timelines: Mapping[str, tuple[Price, ...]]) -> list[str]:
        """Replace the whole price timeline of each model (a version-2 import), a new version.

        ``model_prices`` stays append-only: a restatement marks the model's earlier prices as
        replaced (reads as of an earlier instant still see them). A timeline equal to the
        stored one is left alone. Returns the ids restated.
        """
        changed = sorted(
            model_id
            for model_id, prices in timelines.items()
            if prices != self._repository.timeline(model_id)
        )
        if changed:
            self.recorded = None
        restatements.record(
            self._repository.session,
            changed,
            now=self._now,
            actor=self._note.actor,
            reason=self._note.reason,
        )
        self._repository.add_prices([price for m in changed for price in timelines[m]])
        for model_id in changed:
            last = self._check_version(model_id, None)
            config = priced(self.current(model_id), timelines[model_id], self._now)
            self._repository.save(config, version=last + 1, now=self._now)
            self._record(config, version=last + 1, kind=ChangeKind.REPRICED)
            self.written[model_id, last + 1] = config
        return changed

    def _new_prices(
        self,
        configs: list[ModelConfig],
        timelines: Mapping[str, tuple[Price, ...]],
        cached_inputs: Mapping[str, Decimal | None] | None = None,
        rates: Mapping[str, tuple[Rate, ...]] | None = None,
    ) -> list[Price]:
        """Prices from now for the configs whose costs differ from the price in effect.

        The cached-input price is the one of ``cached_inputs``, the other rates (cache writes,
        tiers) those of ``rates``; a model absent from them keeps the price in effect's.
        """
        prices = []
        for config in configs:
            in_force = in_effect(timelines.get(config.model_id, ()), self._now)
            costs = (
                money(config.cost_per_1m_input_tokens, "cost_per_1m_input_tokens"),
                money(config.cost_per_1m_output_tokens, "cost_per_1m_output_tokens"),
            )
            if in_force is not None and (in_force.input_per_1m, in_force.output_per_1m) == costs:
                continue
            prices.append(
                Price(
                    model_id=config.model_id,
                    input_per_1m=costs[0],
                    output_per_1m=costs[1],
                    cached_input_per_1m=cached_inputs[config.model_id]
                    if cached_inputs is not None and config.model_id in cached_inputs
                    else None
                    if in_force is None
                    else in_force.cached_input_per_1m,
                    effective_from=self._now,
                    recorded_at=self._now,
                    actor=self._note.actor,
                    reason=self._note.reason,
                    rates=rates[config.model_id]
                    if rates is not None and config.model_id in rates
                    else ()
                    if in_force is None
                    else in_force.rates,
                )
            )
        return prices

    def _keep_timelines(
        self, model_ids: list[str], timelines: Mapping[str, tuple[Price, ...]], added: list[Price]
    ) -> None:
        """Keep the timelines of ``model_ids`` as they will be committed, in effect order.

        ``timelines`` were read here; ``added`` are their new prices, recorded after.
        """
        if self.recorded is None:
            return
        new: dict[str, list[Price]] = {}
        for price in added:
            new.setdefault(price.model_id, []).append(price)
        for model_id in model_ids:
            timeline = (*timelines.get(model_id, ()), *new.get(model_id, ()))
            # (Stable: an equal instant keeps the order of recording, as the SQL's id does.)
            self.timelines[model_id] = tuple(sorted(timeline, key=_effective_from))

    def _check_version(self, model_id: str, expected: int | None) -> int:
        last = self._repository.last_version(model_id)
        if expected is not None and expected != last:
            raise ConcurrentModificationError(model_id, expected, last)
        return last

    def _record(self, config: ModelConfig, *, version: int, kind: ChangeKind) -> None:
        (number,) = self._repository.append_revisions(
            [(config, version, kind)], now=self._now, note=self._note
        )
        self._recorded(config, version=version, kind=kind, number=number)

    def _recorded(
        self, config: ModelConfig, *, version: int, kind: ChangeKind, number: int
    ) -> None:
        self.last_revision = number
        self.kinds.append(kind)
        if self.recorded is not None:
            revision = ModelRevision(
                model_id=config.model_id,
                version=version,
                config=config.with_version(version),
                change=kind,
                changed_at=self._now,
                actor=self._note.actor,
                reason=self._note.reason,
            )
            self.recorded.append((number, revision))


def _amounts(price: Price) -> tuple[Decimal, Decimal, Decimal | None, tuple[Rate, ...]]:
    return (price.input_per_1m, price.output_per_1m, price.cached_input_per_1m, price.rates)


def _effective_from(price: Price) -> datetime:
    return price.effective_from


def _costs(config: ModelConfig) -> tuple[float, float]:
    return (config.cost_per_1m_input_tokens, config.cost_per_1m_output_tokens)
