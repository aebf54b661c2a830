"""find_models: the router's query, answered alike from the cache and from SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import config
from modelregistry import InvalidArgumentError, ModelConfig, ModelRegistry
from modelregistry.domain.models import QUALITY_DIMENSIONS
from modelregistry.domain.query import ORDER_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.both_apis

PROVIDERS = ["openai", "anthropic", "ollama"]
CAPABILITIES = ["streaming", "vision", "tool_use", "reasoning"]
STATUSES = ["active", "deprecated", "disabled", "maintenance"]
PRICES = [0.0, 0.1, 0.2, 0.3, 2.5, 10.0, 15.0, 9999.9999999999]
SCORES = [0.0, 0.5, 0.75, 0.8, 1.0]
MODALITIES = ["text", "image", "audio", "pdf", "video"]
MODES = ["chat", "embedding", "completion"]
TAG_KEYS = ["residency", "team", "tier"]
TAG_VALUES = ["eu", "us", "EU", "ml-platform", "1"]
descriptors = st.fixed_dictionaries(
    {
        "input_modalities": st.lists(st.sampled_from(MODALITIES), max_size=3),
        "output_modalities": st.lists(st.sampled_from(MODALITIES), max_size=2),
        "mode": st.none() | st.sampled_from(MODES),
        "open_weights": st.none() | st.booleans(),
        "tags": st.dictionaries(st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES)),
    }
)

models = st.builds(
    lambda n, provider, status, caps, context, price_in, price_out, latency, scores, extra: (
        ModelConfig(
            **config(
                model_id=f"m{n:02d}",
                provider=provider,
                status=status,
                capabilities={f"supports_{c}": True for c in caps},
                context_window=context,
                max_output_tokens=context,
                cost_per_1m_input_tokens=price_in,
                cost_per_1m_output_tokens=price_out,
                latency_p50_ms=latency,
                latency_p99_ms=0,
                quality_scores=dict(zip(QUALITY_DIMENSIONS, scores, strict=True)),
                **extra,
            )
        )
    ),
    st.integers(0, 40),
    st.sampled_from(PROVIDERS),
    st.sampled_from(["active", "active", "active", *STATUSES]),
    st.sets(st.sampled_from(CAPABILITIES)),
    st.sampled_from([4096, 8192, 128000]),
    st.sampled_from(PRICES),
    st.sampled_from(PRICES),
    st.sampled_from([0, 200, 500, 800]),
    st.tuples(*[st.sampled_from(SCORES)] * 4),
    descriptors,
)
catalogs = st.lists(models, min_size=3, max_size=15, unique_by=lambda m: m.model_id)
CRITERIA: dict[str, st.SearchStrategy[Any]] = {
    "capabilities": st.lists(st.sampled_from([*CAPABILITIES, "telepathy"]), max_size=2),
    "any_capabilities": st.lists(st.sampled_from([*CAPABILITIES, "x!"]), max_size=2),
    "providers": st.none() | st.lists(st.sampled_from([*PROVIDERS, "OpenAI"]), max_size=2),
    "statuses": st.none() | st.lists(st.sampled_from(STATUSES), max_size=2),
    "min_context_window": st.sampled_from([4096, 8192, 100000]),
    "min_max_output_tokens": st.sampled_from([4096, 8192]),
    "max_cost_per_1m_input": st.sampled_from(PRICES),
    "max_cost_per_1m_output": st.sampled_from(PRICES),
    "min_quality": st.dictionaries(
        st.sampled_from(QUALITY_DIMENSIONS), st.sampled_from(SCORES), max_size=2
    ),
    "max_latency_p50_ms": st.sampled_from([200, 500, 800]),
    "order_by": st.sampled_from([*ORDER_FIELDS, *(f"-{f}" for f in ORDER_FIELDS)]),
    "limit": st.integers(0, 5),
    "input_modalities": st.lists(st.sampled_from([*MODALITIES, "IMAGE"]), max_size=2),
    "output_modalities": st.lists(st.sampled_from(MODALITIES), max_size=2),
    "mode": st.none() | st.sampled_from([*MODES, "CHAT"]) | st.lists(st.sampled_from(MODES)),
    "open_weights": st.none() | st.booleans(),
    "tags": st.none()
    | st.dictionaries(st.sampled_from(TAG_KEYS), st.sampled_from(TAG_VALUES), max_size=2),
}
# A few criteria per query (all at once would leave nothing to compare), often ordered.
queries = st.lists(st.sampled_from(sorted(CRITERIA)), max_size=3, unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({key: CRITERIA[key] for key in {*keys, "order_by"}})
)


@pytest.fixture
def pair(
    open_registry: Callable[..., ModelRegistry], database_url: str
) -> Iterator[tuple[ModelRegistry, ModelRegistry]]:
    with (
        open_registry(database_url, poll_interval=3600) as cached,
        open_registry(database_url, cache=False) as direct,
    ):
        yield cached, direct


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(catalog=catalogs, asked=st.lists(queries, min_size=1, max_size=8))
def test_cache_and_sql_answer_every_query_alike(
    pair: tuple[ModelRegistry, ModelRegistry],
    catalog: list[ModelConfig],
    asked: list[dict[str, Any]],
) -> None:
    cached, direct = pair
    direct.import_catalog({"models": [m.model_dump() for m in catalog]}, prune=True)
    cached.refresh()
    for query in asked:
        from_cache = cached.find_models(**query)
        from_sql = direct.find_models(**query)
        assert [m.model_id for m in from_cache] == [m.model_id for m in from_sql], query
        assert from_cache == from_sql


@pytest.fixture(params=["cached", "sql"])
def router(
    open_registry: Callable[..., ModelRegistry], request: pytest.FixtureRequest, database_url: str
) -> Iterator[ModelRegistry]:
    """The same small catalog, read from the cache or with SQL."""
    with open_registry(database_url, cache=request.param == "cached") as registry:
        yield _seed(registry)


def _seed(registry: ModelRegistry) -> ModelRegistry:
    registry.import_catalog(
        {
            "models": [
                config(
                    model_id="a-cheap",
                    cost_per_1m_input_tokens=0.1,
                    cost_per_1m_output_tokens=0.2,
                    latency_p50_ms=500,
                ),
                config(
                    model_id="b-same-cost",
                    cost_per_1m_input_tokens=0.3,
                    cost_per_1m_output_tokens=0.0,
                    latency_p50_ms=0,
                ),
                config(
                    model_id="c-dear",
                    cost_per_1m_input_tokens=15.0,
                    cost_per_1m_output_tokens=75.0,
                    latency_p50_ms=2000,
                    latency_p99_ms=8000,
                    status="deprecated",
                ),
            ]
        },
        prune=True,
    )
    return registry


def ids(found: list[ModelConfig]) -> list[str]:
    return [m.model_id for m in found]


def test_costs_sum_exactly_and_ties_go_by_id_in_both_directions(router: ModelRegistry) -> None:
    # 0.1 + 0.2 == 0.3 + 0.0 exactly (in floats 0.30000000000000004 != 0.3): a tie.
    assert ids(router.find_models(order_by="cost")) == ["a-cheap", "b-same-cost"]
    assert ids(router.find_models(order_by="-cost")) == ["a-cheap", "b-same-cost"]
    assert ids(router.find_models(order_by="cost", statuses=None)) == [
        "a-cheap",
        "b-same-cost",
        "c-dear",
    ]
    assert ids(router.find_models(order_by="-cost", statuses=None)) == [
        "c-dear",
        "a-cheap",
        "b-same-cost",
    ]


def test_bounds_are_inclusive_and_unknown_latency_passes_no_bound(router: ModelRegistry) -> None:
    assert ids(router.find_models(max_cost_per_1m_input=0.3)) == ["a-cheap", "b-same-cost"]
    assert ids(router.find_models(max_cost_per_1m_input=0.29)) == ["a-cheap"]
    assert ids(router.find_models(max_latency_p50_ms=500)) == ["a-cheap"]
    assert ids(router.find_models(max_latency_p50_ms=10**9)) == ["a-cheap"]
    assert ids(router.find_models(order_by="latency_p50_ms", statuses=None)) == [
        "a-cheap",
        "c-dear",
        "b-same-cost",
    ]
    assert ids(router.find_models(min_quality={"coding": 0.88})) == ["a-cheap", "b-same-cost"]
    assert router.find_models(min_quality={"coding": 0.881}) == []


def test_select_model_and_limits(router: ModelRegistry) -> None:
    chosen = router.select_model(capabilities=["vision", "tool_use"], order_by="cost")
    assert chosen is not None
    assert chosen.model_id == "a-cheap"
    assert router.select_model(capabilities=["telepathy"]) is None
    assert ids(router.find_models(statuses=None, order_by="-latency_p50_ms", limit=1)) == [
        "b-same-cost"
    ]
    assert router.find_models(limit=0) == []


def test_bad_arguments_are_e4007_naming_them(router: ModelRegistry) -> None:
    with pytest.raises(InvalidArgumentError, match=r"quality\.coding") as raised:
        router.find_models(order_by="speed")
    assert (raised.value.code, raised.value.violations[0].field) == ("E4007", "order_by")
    with pytest.raises(InvalidArgumentError, match="min_quality"):
        router.find_models(min_quality={"humour": 0.5})
    with pytest.raises(InvalidArgumentError, match="statuses"):
        router.find_models(statuses=["retired"])
    with pytest.raises(InvalidArgumentError, match="limit"):
        router.find_models(limit=-1)
    with pytest.raises(InvalidArgumentError, match="max_cost_per_1m_input"):
        router.find_models(max_cost_per_1m_input=float("nan"))


def _seed_described(registry: ModelRegistry) -> ModelRegistry:
    registry.import_catalog(
        {
            "models": [
                config(
                    model_id="eu-vision",
                    input_modalities=["text", "image", "pdf"],
                    output_modalities=["text"],
                    mode="chat",
                    open_weights=True,
                    tags={"residency": "eu", "team": "ml-platform"},
                ),
                config(
                    model_id="us-vision",
                    input_modalities=["image", "text"],
                    output_modalities=["text"],
                    mode="chat",
                    open_weights=False,
                    tags={"residency": "us"},
                ),
                config(
                    model_id="embedder",
                    input_modalities=["text"],
                    mode="embedding",
                    tags={"residency": "EU"},
                ),
                config(model_id="unknown"),
            ]
        },
        prune=True,
    )
    return registry


def test_modalities_mode_open_weights_and_tags_filter_alike(router: ModelRegistry) -> None:
    _seed_described(router)
    assert ids(router.find_models(input_modalities=["image"])) == ["eu-vision", "us-vision"]
    # Every listed modality is required; names are any case.
    assert ids(router.find_models(input_modalities=["Image", "pdf"])) == ["eu-vision"]
    assert ids(router.find_models(output_modalities=["text"])) == ["eu-vision", "us-vision"]
    assert ids(router.find_models(mode="embedding")) == ["embedder"]
    assert ids(router.find_models(mode=["embedding", "chat"])) == [
        "embedder",
        "eu-vision",
        "us-vision",
    ]
    # Unknown (None) matches neither True nor False.
    assert ids(router.find_models(open_weights=True)) == ["eu-vision"]
    assert ids(router.find_models(open_weights=False)) == ["us-vision"]
    # Every tag must match, exactly (values are case-sensitive).
    assert ids(router.find_models(tags={"residency": "eu"})) == ["eu-vision"]
    assert ids(router.find_models(tags={"residency": "eu", "team": "ml-platform"})) == ["eu-vision"]
    assert router.find_models(tags={"residency": "eu", "team": "other"}) == []
    assert ids(router.find_models(tags={"residency": "EU"})) == ["embedder"]
    found = router.find_models(input_modalities=["image"], tags={"residency": "eu"})
    assert found == [router.get_model_or_raise("eu-vision")]
    assert found[0].tags == {"residency": "eu", "team": "ml-platform"}
    assert found[0].input_modalities == ("image", "pdf", "text")


def test_bad_descriptor_arguments_are_e4007_naming_them(router: ModelRegistry) -> None:
    for arguments, field in (
        ({"input_modalities": ["smell"]}, "input_modalities"),
        ({"output_modalities": [3]}, "output_modalities"),
        ({"mode": "telepathy"}, "mode"),
        ({"open_weights": "yes"}, "open_weights"),
        ({"tags": {"Bad Key": "x"}}, "tags"),
        ({"tags": {"residency": ""}}, "tags"),
        ({"tags": ["residency=eu"]}, "tags"),
    ):
        with pytest.raises(InvalidArgumentError) as raised:
            router.find_models(**arguments)
        assert raised.value.violations[0].field == field, arguments
