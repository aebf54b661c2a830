"""Tables that fit the terminal without cutting a word, and printing them without trailing spaces.

Each column says how its values may give way to a narrow terminal (:class:`Fit`): numbers,
instants and statuses never; ids only past 40 characters, with an ellipsis; text wraps at its
spaces (a capability list between its items). Headers wrap at their spaces. The widths are
computed here and rich draws the table. Light on purpose (rich only): the command modules
import it at their top.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.table import Table

from modelregistry.cli.common import out

if TYPE_CHECKING:
    from collections.abc import Sequence


class Fit(Enum):
    """How a column's values give way when the terminal is narrow."""

    WHOLE = "whole"
    """Never cut or wrapped: a number, an amount, an instant, a status, a date."""
    ID = "id"
    """Whole up to :data:`LONGEST_WHOLE_ID` characters; a longer one is cut with an ellipsis."""
    WORDS = "words"
    """Wraps at spaces (a comma list between its items); a word is never cut, unless it is
    longer than :data:`LONGEST_WHOLE_WORD` (a URL): that one folds, every character shown."""


LONGEST_WHOLE_ID = 40
"""Ids up to this long are never cut (the README promises it)."""
LONGEST_WHOLE_WORD = 24
"""A text column need not be wider than this to keep its words whole."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a fitted table: its header, how it gives way, and its justification."""

    header: str
    fit: Fit = Fit.WORDS
    right: bool = False


def _words(text: str) -> list[str]:
    return text.split() or [""]


def _natural(column: Column, values: Sequence[str]) -> int:
    return max([cell_len(column.header), *(cell_len(value) for value in values)])


def _least(column: Column, values: Sequence[str]) -> int:
    """The narrowest the column may be: its header's and its values' words whole."""
    header = max(cell_len(word) for word in _words(column.header))
    if column.fit is Fit.WHOLE:
        return max([header, *(cell_len(value) for value in values)])
    if column.fit is Fit.ID:
        longest = max([0, *(cell_len(value) for value in values)])
        return max(header, min(longest, LONGEST_WHOLE_ID))
    longest_word = max([0, *(cell_len(word) for value in values for word in _words(value))])
    return max(header, min(longest_word, LONGEST_WHOLE_WORD))


def fit_widths(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], room: int
) -> list[int] | None:
    """The columns' widths, their sum at most ``room`` (None: they cannot fit).

    Every column gets at least its least width (:func:`_least`). What is left lets the wrapped
    headers of whole columns stand on one line when that takes at most a third of it; the rest
    goes to the text columns (the one that wraps most first), then to ids, then to headers.
    """
    values = [[row[i] for row in rows] for i in range(len(columns))]
    natural = [_natural(column, values[i]) for i, column in enumerate(columns)]
    if sum(natural) <= room:
        return natural
    widths = [_least(column, values[i]) for i, column in enumerate(columns)]
    spare = room - sum(widths)
    if spare < 0:
        return None
    headers = [
        max(0, natural[i] - widths[i]) if c.fit is Fit.WHOLE else 0 for i, c in enumerate(columns)
    ]
    if sum(headers) * 3 <= spare:
        widths = [width + more for width, more in zip(widths, headers, strict=True)]
        spare -= sum(headers)
    for fit in (Fit.WORDS, Fit.ID):
        while spare > 0:
            short = [i for i, column in enumerate(columns) if column.fit is fit]
            short = [i for i in short if widths[i] < natural[i]]
            if not short:
                break
            widest = max(short, key=lambda i: natural[i] - widths[i])
            widths[widest] += 1
            spare -= 1
    for i in range(len(columns)):  # a WHOLE column short of its natural width: a header
        if 0 < natural[i] - widths[i] <= spare:
            spare -= natural[i] - widths[i]
            widths[i] = natural[i]
    return widths


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
) -> Table | None:
    """``rows`` as a table at most ``width`` (default: the terminal's) columns wide.

    One space stands between two columns. None when the columns cannot fit even at their least
    widths (the caller leaves a column out, or prints one block per row).
    """
    room = (width or out.width) - (len(columns) - 1)
    widths = fit_widths(columns, rows, room)
    if widths is None:
        return None
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
        expand=False,
    )
    for column, size in zip(columns, widths, strict=True):
        table.add_column(
            column.header,
            width=size,
            justify="right" if column.right else "left",
            # Values fit their width (see _least) but an id past 40 characters, cut with an
            # ellipsis, and a word past 24, folded; headers wrap at their spaces.
            overflow="ellipsis" if column.fit is Fit.ID else "fold",
        )
    for row in rows:
        table.add_row(*row)
    return table


def simple_table(*headers: str) -> Table:
    """A plain table with these headers, for rows added by the caller: rich shares the width.

    rich keeps every column at least as wide as its longest word while the terminal allows.
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def fields_table(rows: dict[str, object]) -> Table:
    """A two-column FIELD/VALUE table; a value wraps at its spaces."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
    table.add_column("FIELD", style="bold", no_wrap=True)
    table.add_column("VALUE", overflow="fold")
    for field, value in rows.items():
        table.add_row(field, "-" if value is None else str(value))
    return table


_STYLE_CODE = re.compile(r"\x1b\[[0-9;]*m")
_TRAILING = re.compile(r"(?: |\x1b\[[0-9;]*m)+$")


def print_table(table: Table) -> None:
    """Print ``table`` on stdout without the spaces rich pads its lines with."""
    with out.capture() as captured:
        out.print(table)
    # Spaces before the end of a line go, also when a style's closing code follows them.
    text = "\n".join(
        _TRAILING.sub(lambda end: "".join(_STYLE_CODE.findall(end.group())), line)
        for line in captured.get().splitlines()
    )
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
