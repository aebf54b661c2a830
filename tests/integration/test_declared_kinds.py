"""Each public method declares its kind once, and the declaration is true.

AsyncModelRegistry runs a method declared ``Kind.CACHE`` straight on the event loop when the
cache is on: if such a method touched the database, it would block the loop. These tests call
every such method with the cache on and fail if one checks out a connection or executes a
statement on the calling thread.
"""

from __future__ import annotations

import inspect
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import Pool

from cases import GPT4_TURBO
from modelregistry import AsyncModelRegistry, ModelRegistry
from modelregistry.service.operations import Kind, kind_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Not operations: they open, close, describe or subscribe, and do no catalog work.
LIFECYCLE = {"close", "subscribe"}

# A model that every call below finds (it retires within a year).
RETIRING = {**GPT4_TURBO, "retirement_date": (datetime.now(UTC) + timedelta(days=100)).date()}

# One call of every method declared Kind.CACHE, with arguments that succeed.
CACHED_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "get_model": (("gpt-4-turbo",), {}),
    "get_model_or_raise": (("turbo",), {}),  # an alias, resolved from the cache too
    "list_models": ((), {"provider": "openai", "status": "active", "capabilities": ["vision"]}),
    "find_models": ((), {"capabilities": ["streaming"], "order_by": "cost", "limit": 2}),
    "select_model": ((), {"min_context_window": 8000, "order_by": "-context_window"}),
    "get_models_by_capability": (("vision",), {}),
    "get_models_by_capabilities": ((["streaming", "tool_use"],), {}),
    "get_models_by_provider": (("ollama",), {}),
    "get_available_models": ((), {}),
    "get_providers": ((), {}),
    "get_capabilities": ((), {}),
    "get_stats": ((), {}),
    "get_models_retiring": ((365,), {}),
    "get_price": (("gpt-4-turbo",), {}),
    "get_price_history": (("turbo",), {}),
    "estimate_cost": (("gpt-4-turbo", 1000, 500), {"cached_input_tokens": 200}),
    "cost_breakdown": (("turbo", 1000, 500), {"reasoning_tokens": 20}),
}


def public_methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and not isinstance(member, type)
    }


def test_every_public_method_declares_its_kind() -> None:
    undeclared = []
    for name, method in public_methods(ModelRegistry).items():
        if name in LIFECYCLE:
            continue
        try:
            kind_of(method)
        except TypeError:
            undeclared.append(name)
    assert undeclared == []


def test_every_method_declared_cache_answered_is_called_below() -> None:
    declared = {
        name
        for name, method in public_methods(ModelRegistry).items()
        if name not in LIFECYCLE and kind_of(method) is Kind.CACHE
    }
    assert declared == set(CACHED_CALLS)


def test_writes_are_declared_writes() -> None:
    writes = {
        "register_model",
        "update_model_status",
        "remove_model",
        "restore_model",
        "load_default_models",
        "import_catalog",
        "set_price",
        "set_alias",
        "remove_alias",
    }
    methods = public_methods(ModelRegistry)
    assert {name for name in writes if kind_of(methods[name]) is Kind.WRITE} == writes
    assert kind_of(methods["refresh"]) is Kind.REFRESH


@pytest.fixture
def database_use() -> Iterator[list[str]]:
    """What the calling thread asks of any database (checkouts and statements) meanwhile."""
    caller = threading.get_ident()
    seen: list[str] = []

    def checkout(*_: object) -> None:
        if threading.get_ident() == caller:
            seen.append("connection checkout")

    def statement(_connection: object, _cursor: object, text: str, *_: object) -> None:
        if threading.get_ident() == caller:
            seen.append(text)

    sa.event.listen(Pool, "checkout", checkout)
    sa.event.listen(sa.Engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        sa.event.remove(Pool, "checkout", checkout)
        sa.event.remove(sa.Engine, "before_cursor_execute", statement)


@pytest.fixture
def cached_registry(database_url: str) -> Iterator[ModelRegistry]:
    """A cached registry holding an alias and a price scheduled for later (a clock check)."""
    with ModelRegistry(database_url, poll_interval=3600) as registry:
        registry.register_model(RETIRING)
        registry.set_alias("turbo", "gpt-4-turbo")
        later = datetime.now(UTC) + timedelta(hours=1)
        registry.set_price("gpt-4-turbo", "9", "27", effective_from=later)
        registry.refresh()
        yield registry


@pytest.mark.parametrize("name", sorted(CACHED_CALLS))
def test_a_cache_answered_method_touches_no_database_with_the_cache_on(
    name: str, cached_registry: ModelRegistry, database_use: list[str]
) -> None:
    args, kwargs = CACHED_CALLS[name]
    method: Callable[..., object] = getattr(cached_registry, name)
    assert method(*args, **kwargs) not in (None, [], {})
    assert database_use == []


def test_the_check_sees_database_use(
    cached_registry: ModelRegistry, database_use: list[str]
) -> None:
    """The fixture catches a read that goes to the database (or the test above proves nothing)."""
    cached_registry.get_model("gpt-4-turbo", as_of=datetime.now(UTC))
    cached_registry.list_aliases()
    assert "connection checkout" in database_use
    assert len(database_use) > 2


def test_the_async_registry_answers_cached_reads_without_the_bridge(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dispatched on the declaration: a cached read never enters the asyncio bridge."""
    import asyncio  # noqa: PLC0415 - this test only

    from modelregistry import aio  # noqa: PLC0415 - the module whose bridge is watched
    from modelregistry.db.bridge import in_bridge as real  # noqa: PLC0415 - what aio calls

    bridged: list[str] = []

    async def watched(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        bridged.append(getattr(function, "__name__", repr(function)))
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(aio, "in_bridge", watched)

    async def main() -> dict[str, list[str]]:
        seen: dict[str, list[str]] = {}
        async with AsyncModelRegistry(database_url, poll_interval=3600) as registry:
            await registry.register_model(RETIRING)
            await registry.set_alias("turbo", "gpt-4-turbo")
            for name, (args, kwargs) in CACHED_CALLS.items():
                bridged.clear()
                await getattr(registry, name)(*args, **kwargs)
                seen[name] = list(bridged)
            bridged.clear()
            await registry.get_model("gpt-4-turbo", as_of=datetime.now(UTC))
            seen["get_model(as_of=...)"] = list(bridged)
        return seen

    seen = asyncio.run(main())
    past = seen.pop("get_model(as_of=...)")
    assert seen == {name: [] for name in CACHED_CALLS}
    assert past == ["get_model"]  # a read of the past needs the database: the bridge
