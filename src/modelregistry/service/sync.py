"""Syncing from an upstream catalog: fetch, convert, plan, then apply in one transaction.

The pure parts (conversion, the plan and its three-way merge) are in
:mod:`modelregistry.domain.upstream`; this module fetches (:mod:`.fetch`), reads what the plan
needs (the catalog, its cached-input prices, the bases, the ids removed locally) and writes
the plan: models, prices, bases and the source's ETag, recorded with the reason
``sync <kind> <content sha256>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from modelregistry.cache.snapshot import bulk_building
from modelregistry.db import sync_store
from modelregistry.db.bridge import blocking
from modelregistry.domain.history import ChangeKind
from modelregistry.domain.pricing import in_effect, money
from modelregistry.domain.upstream.convert import UnusableValueError
from modelregistry.domain.upstream.fields import (
    CACHED_INPUT,
    RATES,
    apply_fields,
    field_value,
    flatten,
    parse_rates,
)
from modelregistry.domain.upstream.kinds import upstream_kind
from modelregistry.domain.upstream.plan import SyncOptions, SyncPlan, plan_sync
from modelregistry.domain.upstream.records import Override, Provenance, SyncResult
from modelregistry.errors import OverrideNotFoundError, UpstreamDocumentError
from modelregistry.service.fetch import fetch

if TYPE_CHECKING:
    from modelregistry.db.repository import Repository
    from modelregistry.domain.models import ModelConfig
    from modelregistry.domain.pricing import Price
    from modelregistry.domain.upstream.convert import Conversion
    from modelregistry.domain.upstream.kinds import UpstreamKind
    from modelregistry.domain.upstream.plan import Base
    from modelregistry.service.parts import Parts
    from modelregistry.service.writer import Writer

__all__ = ["Progress", "list_overrides", "provenance", "reset_override", "sync"]

_BATCH: Final = 500
_COSTS: Final = frozenset({"cost_per_1m_input_tokens", "cost_per_1m_output_tokens"})

Progress = Callable[[str, int, int | None], None]
"""Called with ``(phase, done, total)``: phase ``fetch`` (bytes) or ``apply`` (models)."""


def sync(  # noqa: PLR0913 - the source, then keyword-only options
    parts: Parts,
    kind_name: str,
    location: str | None,
    *,
    dry_run: bool,
    options: SyncOptions,
    actor: str | None,
    timeout: float,
    max_bytes: int,
    progress: Progress | None,
) -> SyncResult:
    """Sync the catalog from ``kind_name`` at ``location`` (default: the kind's URL)."""
    kind = upstream_kind(kind_name)
    where = kind.default_url if location is None else location
    remembered = parts.query(lambda r: sync_store.source_state(r.session, kind.name, where))
    # An option that changes the result even for the same document asks for it in full.
    fresh = options.adopt or options.restore_removed or options.accept_held
    etag = (
        None
        if remembered is None or fresh or options.on_removed.value != "keep"
        else (remembered.etag)
    )
    fetched = blocking(  # in AsyncModelRegistry, off the event loop
        fetch,
        where,
        etag=etag,
        timeout=timeout,
        max_bytes=max_bytes,
        progress=None if progress is None else lambda done, total: progress("fetch", done, total),
    )
    now = datetime.now(UTC)
    if fetched.not_modified:
        sha = remembered.content_sha256 if remembered is not None else ""
        origin = Provenance(kind.name, where, sha, fetched.etag, now)
        return SyncResult(SyncPlan(kind.name), origin, dry_run=dry_run, not_modified=True)
    conversion = _convert(kind, where, fetched.content or b"", now)
    if dry_run:
        plan, _, _ = parts.query(lambda r: _plan(r, kind.name, conversion, options))
        origin = Provenance(kind.name, where, fetched.sha256, fetched.etag, now)
        return SyncResult(plan, origin, dry_run=True, not_modified=False)
    with bulk_building(), parts.write(actor, f"sync {kind.name} {fetched.sha256}") as writer:
        origin = Provenance(kind.name, where, fetched.sha256, fetched.etag, writer.now)
        plan, stored, bases = _plan(writer.repository, kind.name, conversion, options)
        _apply(writer, plan, stored, progress)
        sync_store.save_bases(writer.repository.session, plan.bases, origin, bases)
        sync_store.mark_removed(writer.repository.session, plan.removals)
        sync_store.save_source(
            writer.repository.session,
            kind.name,
            where,
            etag=fetched.etag,
            content_sha256=fetched.sha256,
            now=writer.now,
            valid_models=len(conversion.models),
        )
    if len(plan.writes) >= _BATCH * 2:
        parts.database.refresh_statistics()
    return SyncResult(plan, origin, dry_run=False, not_modified=False)


def _convert(kind: UpstreamKind, where: str, content: bytes, now: datetime) -> Conversion:
    try:
        document = json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise UpstreamDocumentError(kind.name, where, f"not valid JSON: {exc}") from exc
    try:
        with bulk_building():
            return kind.conversion(document, today=now.date())
    except UnusableValueError as exc:
        raise UpstreamDocumentError(kind.name, where, str(exc)) from exc


def _prices(repository: Repository, at: datetime) -> dict[str, Price]:
    """The price in effect at ``at`` of each priced model (its cached input, its rates)."""
    found: dict[str, Price] = {}
    for model_id, timeline in repository.price_timelines().items():
        price = in_effect(timeline, at)
        if price is not None:
            found[model_id] = price
    return found


def _plan(
    repository: Repository, kind: str, conversion: Conversion, options: SyncOptions
) -> tuple[SyncPlan, dict[str, ModelConfig], dict[str, Base]]:
    """The plan, and the catalog and bases as read for it (by id)."""
    models = repository.list_models()
    prices = _prices(repository, repository.read_at)
    current = {model.model_id: (model, _cached(prices, model.model_id)) for model in models}
    rates = {model_id: price.rates for model_id, price in prices.items() if price.rates}
    missing = [m.config.model_id for m in conversion.models if m.config.model_id not in current]
    removed_locally = set(repository.last_versions(missing)) if missing else set()
    bases = sync_store.bases(repository.session)
    plan = plan_sync(
        kind,
        conversion,
        current,
        bases=bases,
        removed_locally=removed_locally,
        options=options,
        rates=rates,
    )
    return plan, {model.model_id: model for model in models}, bases


def _apply(
    writer: Writer,
    plan: SyncPlan,
    stored: dict[str, ModelConfig],
    progress: Progress | None,
) -> None:
    configs = [config for config, _ in plan.writes.values()]
    cached = {model_id: price for model_id, (_, price) in plan.writes.items()}
    total = len(configs)
    for start in range(0, total, _BATCH):
        writer.write_many(
            configs[start : start + _BATCH], stored, cached_inputs=cached, rates=plan.rates
        )
        if progress is not None:
            progress("apply", min(start + _BATCH, total), total)
    _reprice_cached_only(writer, plan)
    for model_id in plan.removals:
        writer.remove(model_id)


def _reprice_cached_only(writer: Writer, plan: SyncPlan) -> None:
    """A new price for models whose cached-input price or rates changed but not their costs.

    (A change of the input or output price already wrote a price with the cached one and the
    rates.)
    """
    for item in plan.updated:
        if not {CACHED_INPUT, RATES} & set(item.fields) or set(item.fields) & _COSTS:
            continue
        config, cached = plan.writes[item.model_id]
        writer.set_price(
            item.model_id,
            input_per_1m=money(config.cost_per_1m_input_tokens, "cost_per_1m_input_tokens"),
            output_per_1m=money(config.cost_per_1m_output_tokens, "cost_per_1m_output_tokens"),
            cached_input_per_1m=cached,
            effective_from=None,
            rates=plan.rates.get(item.model_id, ()),
        )


def _cached(prices: dict[str, Price], model_id: str) -> Decimal | None:
    price = prices.get(model_id)
    return None if price is None else price.cached_input_per_1m


def provenance(parts: Parts, model_id: str) -> Provenance | None:
    """Where the model was last synced from (None: never)."""
    return parts.query(lambda r: sync_store.provenance(r.session, model_id))


def _overrides_in(repository: Repository, model_id: str | None) -> list[Override]:
    models = [repository.get(model_id)] if model_id is not None else repository.list_models()
    present = [model for model in models if model is not None]
    bases = sync_store.bases(repository.session, [model.model_id for model in present])
    prices = _prices(repository, repository.read_at)
    found: list[Override] = []
    for model in present:
        base = bases.get(model.model_id)
        if base is None or base.removed_by_sync:
            continue
        price = prices.get(model.model_id)
        local = flatten(
            model, _cached(prices, model.model_id), () if price is None else price.rates
        )
        names = sorted(set(local) | set(base.fields))
        found.extend(
            Override(model.model_id, name, field_value(local, name), field_value(base.fields, name))
            for name in names
            if field_value(local, name) != field_value(base.fields, name)
        )
    return found


def list_overrides(parts: Parts, model_id: str | None) -> list[Override]:
    """Every locally edited field of the synced models (of ``model_id``), beside upstream's."""
    return parts.query(lambda r: _overrides_in(r, model_id))


def reset_override(
    parts: Parts, model_id: str, field: str | None, *, actor: str | None, reason: str | None
) -> list[Override]:
    """Return the model's field (every edited field) to its upstream value; those reset.

    Raises:
        OverrideNotFoundError: E4043, the model was never synced, or ``field`` is not edited.
    """
    with parts.write(actor, reason or f"overrides reset {model_id}") as writer:
        model_id = writer.resolve(model_id)
        found = _overrides_in(writer.repository, model_id)
        config = writer.current(model_id)
        if not sync_store.bases(writer.repository.session, [model_id]):
            raise OverrideNotFoundError(model_id)
        chosen = [item for item in found if field is None or item.field == field]
        if field is not None and not chosen:
            raise OverrideNotFoundError(model_id, field)
        if not chosen:
            return []
        price = _prices(writer.repository, writer.now).get(model_id)
        cached = None if price is None else price.cached_input_per_1m
        rates = () if price is None else price.rates
        changes = {item.field: item.upstream for item in chosen}
        new, new_cached = apply_fields(config, cached, changes)
        new_rates = parse_rates(changes[RATES]) if RATES in changes else rates
        if new != config:
            writer.write(new, kind=ChangeKind.UPDATED)
        if new_cached != cached or new_rates != rates:
            writer.set_price(
                model_id,
                input_per_1m=money(new.cost_per_1m_input_tokens, "cost_per_1m_input_tokens"),
                output_per_1m=money(new.cost_per_1m_output_tokens, "cost_per_1m_output_tokens"),
                cached_input_per_1m=new_cached,
                effective_from=None,
                rates=new_rates,
            )
        return chosen
