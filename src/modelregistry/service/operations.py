"""What kind of work each public method does, declared once where the method is defined.

``@operation(Kind.CACHE)`` on a method of :class:`~modelregistry.ModelRegistry` records its
calls (:mod:`modelregistry.metrics.telemetry`) and declares its kind, which
:class:`~modelregistry.AsyncModelRegistry` dispatches on: a method answered from the cache runs
on the event loop, one that needs the database runs in SQLAlchemy's asyncio bridge, a write
runs there and then catches the cache up off the loop, a refresh runs off the loop. A test
calls every method declared :attr:`Kind.CACHE` with the cache on and fails if one touches the
database.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Concatenate, Final, ParamSpec, TypeVar

from modelregistry.metrics.telemetry import Instrumented, recorded

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound=Instrumented)

_KIND: Final = "__modelregistry_kind__"


class Kind(Enum):
    """The kind of work a public method does."""

    CACHE = "cache"
    """Answered from the cache when the registry has one and no ``as_of`` is given (no I/O);
    from the database otherwise."""
    DATABASE = "database"
    """Reads the database (or a file) every time."""
    WRITE = "write"
    """One write transaction; the registry's own cache holds the change when it returns."""
    REFRESH = "refresh"
    """Brings the cache up to date from the database."""


def operation(
    kind: Kind, *, record: bool = True
) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """Declare a public method's ``kind`` and record its calls under its name.

    ``record=False``: the method records its calls itself (``get_model``, whose cache hits are
    not recorded).
    """

    def decorate(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        declared = recorded(method.__name__)(method) if record else method
        setattr(declared, _KIND, kind)
        return declared

    return decorate


def declared_kind(method: object) -> Kind | None:
    """The kind ``method`` was declared with, or None (not an operation)."""
    kind = getattr(method, _KIND, None)
    return kind if isinstance(kind, Kind) else None


def kind_of(method: object) -> Kind:
    """The kind ``method`` was declared with.

    Raises:
        TypeError: it was not declared with :func:`operation`.
    """
    kind = declared_kind(method)
    if kind is None:
        msg = f"{method!r} is not a declared operation"
        raise TypeError(msg)
    return kind
