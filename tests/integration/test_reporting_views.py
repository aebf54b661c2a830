"""The reporting views (revision 0005), queried in SQL on both engines, agree with the API."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from cases import GPT4_TURBO, config
from modelregistry.settings import default_actor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import RowMapping

    from modelregistry import ModelRegistry

DEADLINE = 60.0  # generous: only a broken clock takes this long


def query(engine: sa.Engine, sql: str) -> Sequence[RowMapping]:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).mappings().all()


def money(value: object) -> Decimal:
    """An amount from a view: NUMERIC on PostgreSQL, the exact decimal text on SQLite."""
    assert isinstance(value, Decimal | str), value
    return Decimal(value)


def plain(value: object) -> str:
    """An amount as text in SQL would show it: without exponent or trailing zeros."""
    return value if isinstance(value, str) else format(money(value), "f")


def day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    assert isinstance(value, str)
    return date.fromisoformat(value)


def instant(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    assert isinstance(value, str)  # SQLite: UTC text
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def wait_until(moment: datetime) -> None:
    limit = time.monotonic() + DEADLINE
    while datetime.now(UTC) <= moment:
        assert time.monotonic() < limit, "the clock does not move"
        time.sleep(0.05)


def test_model_catalog_is_one_row_per_model_with_every_field(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    registry.register_model(
        config(
            cost_per_1m_input_tokens=0.1,
            retirement_date=date(2030, 1, 31),
            deprecation_date=date(2029, 12, 1),
            successor_model_id="gpt-5",
            status="deprecated",
        )
    )
    registry.register_model(
        config(model_id="bare", provider="acme", capabilities={}, cost_per_1m_input_tokens=0)
    )
    rows = query(raw_engine, "SELECT * FROM model_catalog")
    models = registry.list_models()
    assert [row["model_id"] for row in rows] == [model.model_id for model in models]
    for row, model in zip(rows, models, strict=True):
        scores = model.quality_scores
        assert row["provider"] == model.provider
        assert row["display_name"] == model.display_name
        assert row["status"] == model.status.value
        assert row["capabilities"] == ",".join(sorted(model.capabilities.names()))
        assert (row["context_window"], row["max_output_tokens"]) == (
            model.context_window,
            model.max_output_tokens,
        )
        assert money(row["cost_per_1m_input_tokens"]) == Decimal(
            repr(model.cost_per_1m_input_tokens)
        )
        assert money(row["cost_per_1m_output_tokens"]) == Decimal(
            repr(model.cost_per_1m_output_tokens)
        )
        assert row["currency"] == "USD"
        assert (row["rate_limit_rpm"], row["rate_limit_tpm"]) == (
            model.rate_limit_rpm,
            model.rate_limit_tpm,
        )
        assert (row["latency_p50_ms"], row["latency_p99_ms"]) == (
            model.latency_p50_ms,
            model.latency_p99_ms,
        )
        assert (
            row["quality_reasoning"],
            row["quality_coding"],
            row["quality_creative"],
            row["quality_summarization"],
        ) == (scores.reasoning, scores.coding, scores.creative, scores.summarization)
        assert day(row["deprecation_date"]) == model.deprecation_date
        assert day(row["retirement_date"]) == model.retirement_date
        assert row["successor_model_id"] == model.successor_model_id
        assert row["version"] == model.version
        assert instant(row["updated_at"]) >= instant(row["created_at"])
    by_id = {row["model_id"]: row for row in rows}
    assert by_id["gpt-4-turbo"]["capabilities"] == "json_mode,streaming,tool_use,vision"
    assert by_id["bare"]["capabilities"] == ""
    # Exact: the decimal 0.1, not the binary float's 0.1000000000000000055...
    assert plain(by_id["gpt-4-turbo"]["cost_per_1m_input_tokens"]) == "0.1"
    assert plain(by_id["bare"]["cost_per_1m_input_tokens"]) == "0"


def test_model_catalog_shows_the_price_in_effect_now_from_model_prices(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    registry.register_model(GPT4_TURBO)
    registry.set_price("gpt-4-turbo", "8", "24", cached_input_per_1m="4", reason="cut")
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    # Two prices for the same instant: the one recorded last applies.
    registry.set_price("gpt-4-turbo", "7", "21", effective_from=soon)
    registry.set_price("gpt-4-turbo", "6", "18", effective_from=soon)
    registry.set_price("gpt-4-turbo", "1", "2", effective_from=soon + timedelta(days=30))

    def catalog_price() -> tuple[Decimal, Decimal, Decimal | None]:
        row = query(raw_engine, "SELECT * FROM model_catalog WHERE model_id = 'gpt-4-turbo'")[0]
        cached = row["cost_per_1m_cached_input_tokens"]
        return (
            money(row["cost_per_1m_input_tokens"]),
            money(row["cost_per_1m_output_tokens"]),
            None if cached is None else money(cached),
        )

    assert catalog_price() == (Decimal(8), Decimal(24), Decimal(4))
    wait_until(soon)
    assert catalog_price() == (Decimal(6), Decimal(18), None)
    # The models table still holds the costs of the config as last written: not what applies.
    written = query(raw_engine, "SELECT * FROM models WHERE model_id = 'gpt-4-turbo'")[0]
    assert money(written["cost_per_1m_input_tokens"]) == Decimal(8)
    price = registry.get_price("gpt-4-turbo")
    assert (price.input_per_1m, price.output_per_1m) == catalog_price()[:2]


def test_price_history_gives_each_price_its_period(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    registry.register_model(GPT4_TURBO)
    later = datetime.now(UTC) + timedelta(days=7)
    registry.set_price("gpt-4-turbo", "9.5", "28", cached_input_per_1m="0.0000000001")
    registry.set_price("gpt-4-turbo", "3", "3", effective_from=later)
    registry.set_price("gpt-4-turbo", "2", "2", effective_from=later)
    registry.remove_model("gpt-4-turbo", reason="gone")  # its prices stay
    rows = [
        row
        for row in query(raw_engine, "SELECT * FROM price_history")
        if row["model_id"] == "gpt-4-turbo"
    ]
    history = registry.get_price_history("gpt-4-turbo")
    assert len(rows) == len(history) == 4
    for row, price in zip(rows, history, strict=True):
        assert money(row["input_per_1m"]) == price.input_per_1m
        assert money(row["output_per_1m"]) == price.output_per_1m
        cached = row["cached_input_per_1m"]
        assert (None if cached is None else money(cached)) == price.cached_input_per_1m
        assert instant(row["effective_from"]) == price.effective_from
        until = row["effective_until"]
        assert (None if until is None else instant(until)) == price.effective_until
        assert (row["actor"], row["reason"]) == (price.actor, price.reason)
    assert [bool(row["in_effect"]) for row in rows] == [False, True, False, False]
    # Set for the same instant, the earlier of the two never applied: an empty period.
    assert rows[2]["effective_until"] == rows[2]["effective_from"]
    assert plain(rows[1]["cached_input_per_1m"]) == "0.0000000001"


def test_summaries_count_what_the_api_counts(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    registry.register_model(GPT4_TURBO)
    registry.register_model(config(model_id="gpt-4o-mini", status="maintenance"))
    registry.update_model_status("llama3.2:3b", "disabled")
    providers = query(raw_engine, "SELECT * FROM provider_summary")
    stats = registry.get_stats()
    assert [row["provider"] for row in providers] == stats["providers"] == ["ollama", "openai"]
    for row in providers:
        models = registry.get_models_by_provider(row["provider"])
        assert row["models"] == len(models) == stats["by_provider"][row["provider"]]
        for status in ("active", "deprecated", "disabled", "maintenance"):
            assert row[f"{status}_models"] == sum(m.status.value == status for m in models)
        assert row["max_context_window"] == max(m.context_window for m in models)
    capabilities = query(raw_engine, "SELECT * FROM capability_summary")
    assert [row["capability"] for row in capabilities] == registry.get_capabilities()
    for row in capabilities:
        models = registry.get_models_by_capability(row["capability"])
        assert row["models"] == len(models)
        assert row["active_models"] == sum(m.status.value == "active" for m in models)
        assert row["providers"] == len({m.provider for m in models})


def test_model_changes_is_the_history_newest_first(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    registry.register_model(GPT4_TURBO, actor="alice", reason="new")
    registry.update_model_status("gpt-4-turbo", "deprecated", actor="bob")
    registry.set_price("gpt-4-turbo", "1", "2")
    registry.remove_model("llama3.2:3b", reason="retired")
    rows = query(raw_engine, "SELECT * FROM model_changes")
    revisions = sorted(
        (
            revision
            for model_id in ("gpt-4-turbo", "llama3.1:8b", "llama3.2:3b", "llava-llama3:latest")
            for revision in registry.get_model_history(model_id)
        ),
        key=lambda revision: (revision.changed_at, revision.model_id),
        reverse=True,
    )
    assert [row["revision"] for row in rows] == sorted(
        (row["revision"] for row in rows), reverse=True
    )

    def summary(item: Any) -> tuple[object, ...]:
        return tuple(item[key] for key in ("model_id", "version", "change", "actor", "reason"))

    assert [summary(row) for row in rows[:4]] == [
        ("llama3.2:3b", 2, "removed", default_actor(), "retired"),
        ("gpt-4-turbo", 3, "repriced", default_actor(), None),
        ("gpt-4-turbo", 2, "status_changed", "bob", None),
        ("gpt-4-turbo", 1, "created", "alice", "new"),
    ]
    assert [(row["model_id"], row["version"]) for row in rows] == [
        (revision.model_id, revision.version) for revision in revisions
    ]
    for row, revision in zip(rows, revisions, strict=True):
        assert row["provider"] == revision.config.provider
        assert row["status"] == revision.config.status.value
        assert instant(row["changed_at"]) == revision.changed_at


def test_price_rates_lists_every_rate_of_the_counted_prices(
    registry: ModelRegistry, raw_engine: sa.Engine
) -> None:
    from modelregistry import Rate  # noqa: PLC0415 - only here

    registry.register_model(GPT4_TURBO)
    price = registry.set_price(
        "gpt-4-turbo",
        "2",
        "8",
        cached_input_per_1m="0.5",
        rates=[
            Rate("cache_write_1h", Decimal("0.0000000001")),
            Rate("input", Decimal(1), service_tier="batch", above_tokens=272_000),
        ],
    )
    rows = [
        (row["service_tier"], row["above_tokens"], row["component"], plain(row["amount"]),
         instant(row["effective_from"]))
        for row in query(raw_engine, "SELECT * FROM price_rates")
        if row["model_id"] == "gpt-4-turbo"
    ]  # fmt: skip
    first = registry.get_price_history("gpt-4-turbo")[0].effective_from
    start = price.effective_from
    # (The view's order of components follows the database's collation.)
    assert sorted(rows, key=lambda row: (row[4], row)) == [
        ("standard", 0, "input", "10", first),  # the registration's price: its base only
        ("standard", 0, "output", "30", first),
        ("batch", 272_000, "input", "1", start),
        ("standard", 0, "cache_write_1h", "0.0000000001", start),
        ("standard", 0, "cached_input", "0.5", start),
        ("standard", 0, "input", "2", start),
        ("standard", 0, "output", "8", start),
    ]


@pytest.mark.parametrize(
    "view",
    ["model_catalog", "provider_summary", "capability_summary", "price_history", "price_rates"],
)
def test_views_are_read_only(raw_engine: sa.Engine, registry: ModelRegistry, view: str) -> None:
    del registry  # migrated and seeded
    with pytest.raises(sa.exc.DatabaseError), raw_engine.begin() as connection:
        connection.execute(sa.text(f"DELETE FROM {view}"))  # noqa: S608 - the test's constants
