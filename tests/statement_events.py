"""Listening to every engine's statements and commits for the length of a block."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@contextmanager
def statements_and_commits(
    on_statement: Callable[[str], None], on_commit: Callable[[], None]
) -> Iterator[None]:
    """Call ``on_statement(sql)`` before each statement and ``on_commit()`` at each COMMIT."""

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        on_statement(statement)

    def commit(_conn: Any) -> None:
        on_commit()

    event.listen(sa.engine.Engine, "before_cursor_execute", before)
    event.listen(sa.engine.Engine, "commit", commit)
    try:
        yield
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", before)
        event.remove(sa.engine.Engine, "commit", commit)
