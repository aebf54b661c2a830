"""Export version 2 is lossless: export, import into a new database, export again (both engines).

A v2 import restates each model's price timeline (``model_prices`` stays append-only): the
present catalog equals the document, the cache answers as SQL does, and reads as of before the
import still show the timeline the catalog had then.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from cases import config
from modelregistry import InvalidCatalogFileError, ModelConfig, ModelRegistry, Rate
from modelregistry.domain.catalog_schema import catalog_json_schema
from upstream_docs import encoded, litellm_map

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

DEFAULT = "llama3.1:8b"
LIFECYCLE = "old-model"
SYNCED = "m/1"
RATES = [
    Rate("cache_write_5m", Decimal("1.5625")),
    Rate("cache_write_1h", Decimal("2.5")),
    Rate("request", Decimal("0.0001")),
    Rate("reasoning", Decimal(3)),
    Rate("input", Decimal("2.5"), above_tokens=200_000),
    Rate("input", Decimal("0.625"), service_tier="batch"),
    Rate("output", Decimal("1.25"), service_tier="batch"),
    Rate("input", Decimal("1.25"), service_tier="batch", above_tokens=200_000),
]


@pytest.fixture
def new_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database on the backend under test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"mr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def populate(registry: ModelRegistry, tmp_path: Path) -> datetime:
    """Every kind of state an export must carry; returns the scheduled price's instant."""
    registry.register_model(
        ModelConfig(
            **config(
                model_id=LIFECYCLE,
                cost_per_1m_input_tokens=1.5,
                cost_per_1m_output_tokens=3,
                deprecation_date=date(2026, 1, 1),
                retirement_date=date(2030, 1, 1),
                successor_model_id=DEFAULT,
                status="deprecated",
            )
        )
    )
    # A past price (the registration's), a current one with a cached-input price, a scheduled one.
    # Both with rates beyond the base (issue 17): cache writes, tiers, per request.
    registry.set_price(
        LIFECYCLE, "1.25", "2.5", cached_input_per_1m="0.125", rates=RATES, reason="cut"
    )
    future = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    registry.set_price(
        LIFECYCLE, "1", "2", cached_input_per_1m="0.1", rates=RATES[5:7], effective_from=future
    )
    # The seeded defaults changed in the source.
    changed = registry.get_model_or_raise(DEFAULT).model_copy(update={"context_window": 64000})
    registry.register_model(changed, actor="ops")
    registry.set_price(DEFAULT, "0.02", "0.04", cached_input_per_1m="0.01")
    registry.set_alias("fast", DEFAULT)
    registry.set_alias("legacy", LIFECYCLE)
    path = tmp_path / "litellm.json"
    path.write_bytes(encoded(litellm_map(3)))
    registry.sync("litellm", str(path), actor="ops", force=True)
    return future


def without_export_time(text: str) -> list[str]:
    lines = text.splitlines()
    assert sum("exported_at" in line for line in lines) == 1
    return [line for line in lines if "exported_at" not in line]


def price_view(
    registry: ModelRegistry, model_id: str, instants: list[datetime]
) -> tuple[list[Any], list[Any]]:
    history = [
        (p.input_per_1m, p.output_per_1m, p.cached_input_per_1m, p.effective_from,
         p.effective_until, p.recorded_at, p.actor, p.reason, p.rates)
        for p in registry.get_price_history(model_id)
    ]  # fmt: skip
    at: list[tuple[object, Decimal]] = [
        (registry.get_price(model_id, at).input_per_1m,
         registry.estimate_cost(model_id, 1000, 1000, cached_input_tokens=1000, at=at))
        for at in instants
    ]  # fmt: skip
    if model_id == LIFECYCLE:  # its rates: a long cached batch request, reasoning
        at += [
            (registry.cost_breakdown(model_id, 250_000, 10, cached_input_tokens=9,
                                     service_tier="batch", at=when),
             registry.estimate_cost(model_id, 1, 1, reasoning_tokens=7, service_tier="standard",
                                    at=when))
            for when in instants
        ]  # fmt: skip
    return history, at


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_export_import_export_is_identical_and_the_catalog_equals_the_document(
    registry: ModelRegistry,
    open_registry: Callable[..., ModelRegistry],
    new_url: str,
    tmp_path: Path,
    kind: str,
) -> None:
    future = populate(registry, tmp_path)
    first = registry.export_catalog(tmp_path / f"first.{kind}")
    document = json.loads(first) if kind == "json" else yaml.safe_load(first)
    assert document["schema_version"] == 2
    assert [p["cached_input_per_1m"] for p in document["prices"][LIFECYCLE]] == [
        None, "0.125", "0.1"
    ]  # fmt: skip
    rates = [len(p.get("rates", [])) for p in document["prices"][LIFECYCLE]]
    assert rates == [0, len(RATES), 2]  # the scheduled one: batch only
    assert document["prices"][LIFECYCLE][1]["rates"][0] == {
        "component": "cache_write_5m",
        "amount": "1.5625",
        "service_tier": "standard",
        "above_tokens": 0,
    }
    assert document["aliases"] == {"fast": DEFAULT, "legacy": LIFECYCLE}
    assert document["sync_bases"][SYNCED]["kind"] == "litellm"
    assert [s["valid_models"] for s in document["sync_sources"]] == [3]

    with open_registry(new_url) as target:
        before = datetime.now(UTC)
        seeded = price_view(target, DEFAULT, [before])
        seeded_model = target.get_model_or_raise(DEFAULT)
        target.import_catalog(tmp_path / f"first.{kind}", actor="restore")
        second = target.export_catalog(tmp_path / f"second.{kind}")
        assert without_export_time(second) == without_export_time(first)

        now = datetime.now(UTC)
        instants = [now, future - timedelta(seconds=1), future, future + timedelta(days=1)]
        for model_id in (LIFECYCLE, DEFAULT, SYNCED):
            assert price_view(target, model_id, instants) == price_view(
                registry, model_id, instants
            )
        assert target.get_provenance(SYNCED) == registry.get_provenance(SYNCED)
        assert target.get_model_or_raise(DEFAULT) == registry.get_model_or_raise(DEFAULT)
        assert target.get_model_or_raise("legacy").model_id == LIFECYCLE
        # History stays true: as of before the import, the seeded timeline and model.
        assert target.get_model(DEFAULT, as_of=before) == seeded_model
        assert target.list_models(as_of=before) == [
            m for m in target.list_models(as_of=before) if m.model_id != LIFECYCLE
        ]  # the imported models did not exist then
        as_of_before = target.get_model_or_raise(DEFAULT, as_of=before)
        assert as_of_before.cost_per_1m_input_tokens == seeded_model.cost_per_1m_input_tokens
        assert seeded[0] != price_view(target, DEFAULT, [before])[0]

    # The cache and SQL agree on the restated timelines (a registry without the cache).
    with open_registry(new_url, cache=False) as uncached, open_registry(new_url) as cached:
        for model_id in (LIFECYCLE, DEFAULT, SYNCED):
            assert price_view(uncached, model_id, instants) == price_view(
                cached, model_id, instants
            )
        for reader in (uncached, cached):
            found = reader.find_models(max_cost_per_1m_input=0.03, statuses=None)
            assert DEFAULT in {m.model_id for m in found}
            assert reader.get_model_or_raise(DEFAULT).cost_per_1m_input_tokens == 0.02


def test_importing_the_same_document_again_changes_nothing(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    populate(registry, tmp_path)
    path = tmp_path / "catalog.yaml"
    first = registry.export_catalog(path)
    history = [len(registry.get_model_history(m.model_id)) for m in registry.list_models()]
    result = registry.import_catalog(path)
    assert result.changed == []
    assert [len(registry.get_model_history(m.model_id)) for m in registry.list_models()] == history
    assert without_export_time(registry.export_catalog()) == without_export_time(first)


def test_a_version_1_document_still_imports(registry: ModelRegistry) -> None:
    model = config(model_id="v1-model")
    result = registry.import_catalog({"schema_version": 1, "models": [model]})
    assert result.added == ["v1-model"]
    with pytest.raises(InvalidCatalogFileError, match="aliases"):
        registry.import_catalog({"schema_version": 1, "models": [model], "aliases": {}})


def test_bad_state_is_refused_naming_the_field_and_changes_nothing(
    registry: ModelRegistry,
) -> None:
    before = registry.export_catalog(format="json")
    model = config(model_id="v2-model")
    price: dict[str, Any] = {
        "effective_from": "2026-01-01T00:00:00+00:00",
        "input_per_1m": "-1",
        "output_per_1m": "1",
        "cached_input_per_1m": None,
        "recorded_at": "2026-01-01",
        "actor": "a",
    }
    document = {
        "schema_version": 2,
        "models": [model],
        "aliases": {"x": "nowhere"},
        "prices": {"v2-model": [price]},
    }
    with pytest.raises(InvalidCatalogFileError) as raised:
        registry.import_catalog(document)
    fields = {v.field for v in raised.value.violations}
    assert fields == {
        "aliases.x",
        "prices.v2-model[0].input_per_1m",
        "prices.v2-model[0].recorded_at",
    }
    assert without_export_time(registry.export_catalog(format="json")) == without_export_time(
        before
    )


def test_catalog_schema_is_version_2_and_describes_an_exported_document(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    populate(registry, tmp_path)
    document = yaml.safe_load(registry.export_catalog())
    schema = catalog_json_schema()
    assert schema["properties"]["schema_version"] == {"enum": [1, 2]}
    check(document, schema, schema)


def check(value: object, schema: dict[str, Any], root: dict[str, Any]) -> None:
    """A structural check of ``value`` against the parts of JSON Schema the catalog's uses."""
    if "$ref" in schema:
        check(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root)
        return
    if "anyOf" in schema:
        assert any(_passes(value, option, root) for option in schema["anyOf"]), value
        return
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        assert any(_is_type(value, name) for name in names), (value, types)
    assert value in schema.get("enum", [value])
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), (value, schema["pattern"])
    if isinstance(value, dict):
        _check_object(value, schema, root)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            check(item, schema["items"], root)


def _check_object(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any]) -> None:
    properties = schema.get("properties", {})
    assert set(schema.get("required", ())) <= set(value), (schema.get("required"), value)
    for key, item in value.items():
        if key in properties:
            check(item, properties[key], root)
        elif isinstance(schema.get("additionalProperties"), dict):
            check(item, schema["additionalProperties"], root)
        else:
            assert schema.get("additionalProperties") is not False, key


def _passes(value: object, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    try:
        check(value, schema, root)
    except AssertionError:
        return False
    return True


def _is_type(value: object, name: str) -> bool:
    kinds: dict[str, Any] = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "null": type(None),
        "integer": int,
        "number": (int, float),
    }
    if name in {"integer", "number"} and isinstance(value, bool):
        return False
    return isinstance(value, kinds[name])


def test_prices_are_exact_decimal_text(registry: ModelRegistry, tmp_path: Path) -> None:
    populate(registry, tmp_path)
    document = json.loads(registry.export_catalog(format="json"))
    assert document["prices"][DEFAULT][-1]["input_per_1m"] == "0.02"
    assert Decimal(document["prices"][LIFECYCLE][1]["cached_input_per_1m"]) == Decimal("0.125")
