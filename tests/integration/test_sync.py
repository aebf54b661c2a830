"""Upstream sync on both engines (and both APIs, except over HTTP): what a sync writes, what
survives it, the guards, holds, tombstones and removal policies, the plan of a dry run,
provenance, overrides, and the fetcher over a real local HTTP server (ETag and 304, gzip,
size, timeout, errors)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from modelregistry import (
    InvalidArgumentError,
    ModelRegistry,
    OverrideNotFoundError,
    SyncRefusedError,
    UpstreamDocumentError,
    UpstreamFetchError,
)
from upstream_docs import (
    UpstreamServer,
    encoded,
    litellm_entry,
    litellm_map,
    models_dev_api,
    openrouter_models,
)

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Writes a document to a file and returns its path."""
    counter = iter(range(1000))

    def writer(document: object) -> str:
        path = tmp_path / f"upstream-{next(counter)}.json"
        path.write_bytes(encoded(document))
        return str(path)

    return writer


def revision_count(registry: ModelRegistry) -> int:
    return sum(len(registry.get_model_history(m.model_id)) for m in registry.list_models())


@pytest.mark.both_apis
def test_sync_litellm_file_adds_models_prices_and_provenance(
    registry: ModelRegistry, write: Any
) -> None:
    path = write(litellm_map(60))
    result = registry.sync("litellm", path, actor="ops")
    assert len(result.plan.added) == 60
    assert result.plan.to_dict()["invalid"] == []
    model = registry.get_model_or_raise("m/7")
    assert model.provider == "openai"
    assert model.capabilities.names() == {"streaming", "tool_use", "vision"}
    assert model.cost_per_1m_input_tokens == 2.507
    price = registry.get_price("m/7")
    assert (price.input_per_1m, price.output_per_1m, price.cached_input_per_1m) == (
        Decimal("2.507"), Decimal(10), Decimal("1.25")
    )  # fmt: skip
    [revision] = registry.get_model_history("m/7")
    assert revision.actor == "ops"
    assert revision.reason == f"sync litellm {result.provenance.content_sha256}"
    provenance = registry.get_provenance("m/7")
    assert provenance is not None
    assert (provenance.kind, provenance.location) == ("litellm", path)
    assert provenance.content_sha256 == result.provenance.content_sha256
    assert registry.get_provenance("llama3.1:8b") is None  # a default model, never synced


@pytest.mark.both_apis
def test_models_dev_and_openrouter_documents_sync(registry: ModelRegistry, write: Any) -> None:
    registry.sync("models.dev", write(models_dev_api(55)))
    model = registry.get_model_or_raise("acme/model-3")
    assert (model.display_name, model.cost_per_1m_input_tokens) == ("Model 3", 0.05)
    assert registry.get_price("acme/model-3").cached_input_per_1m == Decimal("0.01")
    registry.sync("openrouter", write(openrouter_models(55)), adopt=True)
    model = registry.get_model_or_raise("acme/model-3")
    assert (model.display_name, model.max_output_tokens) == ("Acme: Model 3", 8192)
    assert registry.get_price("acme/model-3").cached_input_per_1m == Decimal("0.03")
    provenance = registry.get_provenance("acme/model-3")
    assert provenance is not None
    assert provenance.kind == "openrouter"


@pytest.mark.both_apis
def test_dry_run_computes_the_plan_and_writes_nothing(registry: ModelRegistry, write: Any) -> None:
    before = (registry.list_models(), revision_count(registry))
    result = registry.sync("litellm", write(litellm_map(60)), dry_run=True)
    assert result.dry_run
    assert len(result.plan.added) == 60
    assert (registry.list_models(), revision_count(registry)) == before
    assert registry.get_provenance("m/1") is None


@pytest.mark.both_apis
def test_second_sync_of_the_same_document_changes_nothing(
    registry: ModelRegistry, write: Any
) -> None:
    path = write(litellm_map(60))
    registry.sync("litellm", path)
    revisions = revision_count(registry)
    again = registry.sync("litellm", path)
    assert again.plan.unchanged == 60
    assert again.plan.added == []
    assert again.plan.updated == []
    assert revision_count(registry) == revisions


@pytest.mark.both_apis
def test_upstream_change_updates_unedited_fields_and_local_edits_survive(
    registry: ModelRegistry, write: Any
) -> None:
    registry.sync("litellm", write(litellm_map(60)))
    registry.set_price("m/1", "9", "19", reason="our negotiated price")
    registry.update_model_status("m/2", "maintenance")
    changed = litellm_map(
        60,
        **{
            "m/1": litellm_entry(1, input_cost_per_token=3e-06, max_output_tokens=32768),
            "m/2": litellm_entry(2, deprecation_date="2099-01-01"),
        },
    )
    result = registry.sync("litellm", write(changed))
    m1 = registry.get_model_or_raise("m/1")
    assert (m1.cost_per_1m_input_tokens, m1.cost_per_1m_output_tokens) == (9.0, 19.0)
    assert m1.max_output_tokens == 32768  # not edited locally: updated
    assert registry.get_model_or_raise("m/2").status == "maintenance"
    assert {(p.model_id, p.field, p.local, p.upstream) for p in result.plan.protected} == {
        ("m/1", "cost_per_1m_input_tokens", "9", "3")
    }
    overrides = {(o.model_id, o.field, o.local, o.upstream) for o in registry.list_overrides()}
    assert overrides == {
        ("m/1", "cost_per_1m_input_tokens", "9", "3"),
        ("m/1", "cost_per_1m_output_tokens", "19", "10"),
        ("m/1", "cached_input_per_1m", None, "1.25"),
        ("m/2", "status", "maintenance", "active"),
    }
    registry.reset_override("m/1", "cost_per_1m_input_tokens")
    assert registry.get_model_or_raise("m/1").cost_per_1m_input_tokens == 3.0
    registry.reset_override("m/1")
    price = registry.get_price("m/1")
    assert (price.input_per_1m, price.output_per_1m, price.cached_input_per_1m) == (
        Decimal(3), Decimal(10), Decimal("1.25")
    )  # fmt: skip
    assert [o.model_id for o in registry.list_overrides()] == ["m/2"]
    with pytest.raises(OverrideNotFoundError):
        registry.reset_override("m/1", "display_name")
    with pytest.raises(OverrideNotFoundError):
        registry.reset_override("llama3.1:8b")


@pytest.mark.both_apis
def test_existing_model_without_base_is_protected_unless_adopted(
    registry: ModelRegistry, write: Any
) -> None:
    entry = litellm_entry(0, litellm_provider="ollama", max_input_tokens=4096)
    path = write(litellm_map(60, **{"llama3.1:8b": entry}))
    result = registry.sync("litellm", path)
    assert ("llama3.1:8b", "context_window") in {
        (p.model_id, p.field) for p in result.plan.protected
    }
    assert registry.get_model_or_raise("llama3.1:8b").context_window != 4096
    registry.sync("litellm", path, adopt=True)
    # The first sync recorded upstream's values as the base: the local value is an edit now.
    assert registry.get_model_or_raise("llama3.1:8b").context_window != 4096
    assert ("llama3.1:8b", "context_window") in {
        (o.model_id, o.field) for o in registry.list_overrides()
    }


@pytest.mark.both_apis
def test_adopt_on_first_sync_takes_upstreams_values_holds_still_apply(
    registry: ModelRegistry, write: Any
) -> None:
    entry = litellm_entry(
        0, litellm_provider="ollama", max_input_tokens=256000, max_output_tokens=1
    )
    result = registry.sync("litellm", write(litellm_map(60, **{"llama3.1:8b": entry})), adopt=True)
    model = registry.get_model_or_raise("llama3.1:8b")
    assert model.context_window == 256000
    assert model.max_output_tokens != 1
    # The local model is free with JSON mode: a price crossing zero, a flag turning off.
    assert {h.field for h in result.plan.held} == {
        "max_output_tokens",
        "cost_per_1m_input_tokens",
        "cost_per_1m_output_tokens",
        "supports_json_mode",
    }


@pytest.mark.both_apis
def test_guards_refuse_and_write_nothing_unless_forced(registry: ModelRegistry, write: Any) -> None:
    before = (registry.list_models(), revision_count(registry))
    with pytest.raises(SyncRefusedError) as refused:
        registry.sync("litellm", write(litellm_map(49)))
    assert refused.value.code == "E4040"
    assert (registry.list_models(), revision_count(registry)) == before
    registry.sync("litellm", write(litellm_map(120)))
    with pytest.raises(SyncRefusedError, match="fewer than half of the 120"):
        registry.sync("litellm", write(litellm_map(59)))
    assert len(registry.list_models()) == 123
    assert registry.sync("litellm", write(litellm_map(59)), force=True).plan.removed_upstream


@pytest.mark.both_apis
def test_held_changes_are_not_applied_until_accepted(registry: ModelRegistry, write: Any) -> None:
    registry.sync("litellm", write(litellm_map(60)))
    suspicious = litellm_map(
        60,
        **{
            "m/1": litellm_entry(1, input_cost_per_token=2.5e-04),  # 100x
            "m/2": litellm_entry(2, max_input_tokens=1000),
            "m/3": litellm_entry(3, supports_vision=False),
            "m/4": litellm_entry(4, input_cost_per_token=0),
        },
    )
    path = write(suspicious)
    result = registry.sync("litellm", path)
    assert {(h.model_id, h.field, h.rule) for h in result.plan.held} == {
        ("m/1", "cost_per_1m_input_tokens", "price moves more than 10x"),
        ("m/2", "context_window", "context_window shrinks"),
        ("m/3", "supports_vision", "capability turns off"),
        ("m/4", "cost_per_1m_input_tokens", "price crosses zero"),
    }
    assert registry.get_model_or_raise("m/2").context_window == 128000
    assert len(registry.sync("litellm", path).plan.held) == 4  # held again, not forgotten
    registry.sync("litellm", path, accept_held=True)
    assert registry.get_model_or_raise("m/2").context_window == 1000
    assert not registry.get_model_or_raise("m/3").capabilities.supports_vision
    assert registry.get_model_or_raise("m/1").cost_per_1m_input_tokens == 250.0


@pytest.mark.both_apis
def test_a_model_removed_by_an_admin_stays_removed(registry: ModelRegistry, write: Any) -> None:
    path = write(litellm_map(60))
    registry.sync("litellm", path)
    registry.remove_model("m/5", reason="we do not use it")
    result = registry.sync("litellm", path)
    assert result.plan.skipped_removed_locally == ["m/5"]
    assert registry.get_model("m/5") is None
    registry.sync("litellm", path, restore_removed=True)
    assert registry.get_model("m/5") is not None


@pytest.mark.both_apis
@pytest.mark.parametrize("policy", ["keep", "deprecate", "remove"])
def test_model_gone_upstream_follows_the_removal_policy(
    registry: ModelRegistry, write: Any, policy: str
) -> None:
    registry.sync("litellm", write(litellm_map(60)))
    result = registry.sync("litellm", write(litellm_map(60, **{"m/9": {}})), on_removed=policy)
    assert result.plan.removed_upstream == ["m/9"]
    gone = registry.get_model("m/9")
    if policy == "keep":
        assert gone is not None
        assert gone.status == "active"
    elif policy == "deprecate":
        assert gone is not None
        assert gone.status == "deprecated"
    else:
        assert gone is None
        back = registry.sync("litellm", write(litellm_map(60)))  # it comes back upstream
        assert back.plan.added == ["m/9"]


@pytest.mark.both_apis
def test_unknown_kind_or_policy_is_e4007(registry: ModelRegistry, write: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="kind"):
        registry.sync("huggingface", write({}))
    with pytest.raises(InvalidArgumentError, match="on_removed"):
        registry.sync("litellm", write(litellm_map(60)), on_removed="purge")


@pytest.mark.both_apis
def test_a_document_in_the_wrong_shape_is_e4042_and_writes_nothing(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UpstreamDocumentError, match="not valid JSON"):
        registry.sync("litellm", str(bad))
    bad.write_text(json.dumps({"models": []}))
    with pytest.raises(UpstreamDocumentError, match="data"):
        registry.sync("openrouter", str(bad))
    with pytest.raises(UpstreamFetchError):
        registry.sync("litellm", str(tmp_path / "absent.json"))


@pytest.mark.both_apis
def test_model_catalog_view_shows_provenance(
    registry: ModelRegistry, write: Any, raw_engine: sa.Engine
) -> None:
    result = registry.sync("litellm", write(litellm_map(60)))
    query = sa.text("SELECT model_id, sync_source, sync_content_sha256 FROM model_catalog")
    with raw_engine.connect() as connection:
        rows = {row[0]: (row[1], row[2]) for row in connection.execute(query)}
    assert rows["m/0"] == ("litellm", result.provenance.content_sha256)
    assert rows["llama3.1:8b"] == (None, None)


# -- over HTTP (the synchronous API: the server is local, the behaviour the same) ----------


def test_unchanged_upstream_costs_one_304_and_writes_nothing(database_url: str) -> None:
    with (
        UpstreamServer(encoded(litellm_map(60))) as server,
        ModelRegistry(database_url) as registry,
    ):
        first = registry.sync("litellm", server.url)
        assert len(first.plan.added) == 60
        assert first.provenance.etag is not None
        assert server.requests[0].get("Accept-Encoding", "").find("gzip") >= 0
        revisions = revision_count(registry)
        second = registry.sync("litellm", server.url)
        assert second.not_modified
        assert server.requests[1]["If-None-Match"] == first.provenance.etag
        assert server.not_modified == 1
        assert len(server.requests) == 2
        assert revision_count(registry) == revisions
        server.publish(encoded(litellm_map(61)))
        third = registry.sync("litellm", server.url)
        assert third.plan.added == ["m/60"]
        assert third.provenance.etag != first.provenance.etag


def test_http_errors_timeouts_and_size_limit_are_e4041(database_url: str) -> None:
    body = encoded(litellm_map(60))
    with UpstreamServer(body) as server, ModelRegistry(database_url) as registry:
        with pytest.raises(UpstreamFetchError, match="larger than 1000 bytes"):
            registry.sync("litellm", server.url, max_bytes=1000)
        with pytest.raises(UpstreamFetchError, match="HTTP 404"):
            registry.sync("litellm", server.url.replace("/catalog.json", "/missing"))
        server.delay = 2.0
        with pytest.raises(UpstreamFetchError, match="timed out") as caught:
            registry.sync("litellm", server.url, timeout=0.2)
        assert caught.value.retryable
        assert registry.get_model("m/0") is None


def test_metrics_expose_the_models_synced_per_source(database_url: str, tmp_path: Path) -> None:
    from prometheus_client import generate_latest  # noqa: PLC0415 - metrics only

    path = tmp_path / "map.json"
    path.write_bytes(encoded(litellm_map(60)))
    with ModelRegistry(database_url) as registry:
        registry.sync("litellm", str(path))
        registry.remove_model("m/0")
        text = generate_latest(registry.metrics.registry).decode()
    assert 'modelregistry_models_synced{source="litellm"} 59.0' in text
    assert 'modelregistry_source_synced_timestamp_seconds{source="litellm"}' in text


def test_async_sync_fetches_off_the_event_loop(database_url: str) -> None:
    import asyncio  # noqa: PLC0415 - this test only
    import time  # noqa: PLC0415 - ditto

    from modelregistry import AsyncModelRegistry  # noqa: PLC0415 - the asyncio extra

    async def scenario(url: str) -> tuple[int, float]:
        async with AsyncModelRegistry(database_url) as registry:
            await registry.get_stats()  # opened before the ticker starts
            gaps: list[float] = []
            done = asyncio.Event()

            async def ticker() -> None:
                last = time.monotonic()
                while not done.is_set():
                    await asyncio.sleep(0.01)
                    now = time.monotonic()
                    gaps.append(now - last)
                    last = now

            task = asyncio.create_task(ticker())
            result = await registry.sync("litellm", url)
            done.set()
            await task
            return len(result.plan.added), max(gaps)

    with UpstreamServer(encoded(litellm_map(60)), delay=3.0) as server:
        added, longest_gap = asyncio.run(scenario(server.url))
    assert added == 60
    # The server waits 3 s before answering: a request blocking the loop would stop the
    # ticker for all of it.
    assert longest_gap < 1.5


@pytest.mark.both_apis
@pytest.mark.parametrize(
    ("options", "field"),
    [({"timeout": 0}, "timeout"), ({"timeout": "5"}, "timeout"), ({"max_bytes": -1}, "max_bytes")],
)
def test_bad_fetch_options_are_e4007(
    registry: ModelRegistry, write: Any, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=field):
        registry.sync("litellm", write(litellm_map(60)), **options)
    assert registry.get_model("m/0") is None


@pytest.mark.both_apis
def test_a_cached_input_price_change_is_written_alone_or_with_other_fields(
    registry: ModelRegistry, write: Any
) -> None:
    registry.sync("litellm", write(litellm_map(60)))
    changed = litellm_map(
        60,
        **{
            "m/1": litellm_entry(1, cache_read_input_token_cost=5e-07),
            "m/2": litellm_entry(2, cache_read_input_token_cost=5e-07, max_output_tokens=20000),
        },
    )
    registry.sync("litellm", write(changed))
    for model_id in ("m/1", "m/2"):
        assert registry.get_price(model_id).cached_input_per_1m == Decimal("0.5"), model_id
    assert registry.get_model_or_raise("m/2").max_output_tokens == 20000
    assert registry.list_overrides() == []
