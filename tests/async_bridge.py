"""Drive AsyncModelRegistry from synchronous tests, so one suite covers both APIs.

:class:`BlockingAsyncRegistry` owns an event loop running on a thread of its own and turns
every coroutine of the wrapped :class:`~modelregistry.AsyncModelRegistry` into a blocking call:
a test written against ModelRegistry runs unchanged, and every call it makes really goes
through the async API (its event loop, its asyncio drivers). Calls from several threads run as
concurrent coroutines on that one loop.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import TYPE_CHECKING, Any, Self, cast

from modelregistry import AsyncModelRegistry, ModelRegistry

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType


class BlockingAsyncRegistry:
    """An AsyncModelRegistry, opened, whose coroutines are called as blocking methods."""

    def __init__(self, url: str | None = None, **options: Any) -> None:
        """Start the loop and open the registry (raising what opening raises)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        try:
            self.wrapped = AsyncModelRegistry(url, **options)
            self._call(self.wrapped.open())
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        """The wrapped registry's attribute; a coroutine method becomes a blocking one."""
        attribute = getattr(self.wrapped, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._call(attribute(*args, **kwargs))

        return blocking

    def close(self) -> None:
        """Close the registry, then stop the loop (again: nothing, as ModelRegistry.close)."""
        if self._loop.is_closed():
            return
        try:
            self._call(self.wrapped.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> Self:
        """Return the registry."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the registry."""
        self.close()

    def __repr__(self) -> str:
        """The wrapped registry's repr."""
        return repr(self.wrapped)


def opener(api: str) -> Callable[..., ModelRegistry]:
    """What opens a registry for ``api``: ModelRegistry, or the async API behind a stand-in.

    The stand-in has every method of ModelRegistry, so tests type it as one.
    """
    if api == "async":
        return cast("Callable[..., ModelRegistry]", BlockingAsyncRegistry)
    return ModelRegistry
