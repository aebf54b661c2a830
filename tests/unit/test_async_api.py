"""AsyncModelRegistry offers every method of ModelRegistry, with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from modelregistry import AsyncModelRegistry, ModelRegistry

# Synchronous in both: registering a callback does no I/O.
SYNC_IN_BOTH = {"subscribe"}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and not isinstance(member, type)
    }


def test_every_public_method_of_modelregistry_has_an_async_twin() -> None:
    missing = public_methods(ModelRegistry) - public_methods(AsyncModelRegistry)
    assert missing == set()


@pytest.mark.parametrize("name", sorted(public_methods(ModelRegistry) - SYNC_IN_BOTH))
def test_the_twin_is_a_coroutine_with_the_same_parameters(name: str) -> None:
    sync = inspect.signature(getattr(ModelRegistry, name))
    twin = getattr(AsyncModelRegistry, name)
    assert inspect.iscoroutinefunction(twin)
    assert inspect.signature(twin).parameters == sync.parameters
    assert inspect.signature(twin).return_annotation == sync.return_annotation


def test_subscribe_stays_synchronous_in_both() -> None:
    assert not inspect.iscoroutinefunction(AsyncModelRegistry.subscribe)
    assert inspect.signature(AsyncModelRegistry.subscribe) == inspect.signature(
        ModelRegistry.subscribe
    )


def test_url_and_repr_need_no_io_and_mask_the_password() -> None:
    registry = AsyncModelRegistry("postgresql://admin:s3cr3t@127.0.0.1:1/catalog")
    assert registry.url == "postgresql+psycopg://admin:***@127.0.0.1:1/catalog"
    assert "s3cr3t" not in repr(registry)


def test_the_constructors_take_the_same_options() -> None:
    # feed= among them: an async reader follows the JetStream feed as a synchronous one does.
    sync = inspect.signature(ModelRegistry.__init__).parameters
    assert inspect.signature(AsyncModelRegistry.__init__).parameters == sync
    assert "feed" in sync
