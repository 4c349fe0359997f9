"""Rendering for every command: rich tables for people, plain text for awk, JSON for scripts.

stdout carries data only; ``echo_err`` / ``warn`` carry talk to stderr.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import click

from supv_cli.cli.terminal import Terminal, current_terminal
from supv_cli.streams import silence, stream_gone

if TYPE_CHECKING:  # rich is imported when a table is shown
    from rich.console import Console

#: a row of a table: each cell shown as ``str(cell)``
Row = Sequence[object]

#: a message located in a file, ``FILE:LINE: text`` (groups: the location, the text)
LOCATED_RE = re.compile(r"^([^\s:][^:]*:\d+): (.*)$", re.S)


def no_color() -> bool:
    """True when colour must not be used (NO_COLOR set, or stdout not a terminal)."""
    return not current_terminal().color


def stdout_gone() -> bool:
    """True when stdout is a pipe (or socket) whose reader has gone (``supv events | head -1``): a
    stream that writes rarely would otherwise only notice it at its next line, maybe never."""
    return stream_gone(sys.stdout)


def silence_stdout() -> None:
    """Send what is still to be written on stdout to /dev/null (its reader has gone)."""
    silence(sys.stdout)


def echo_err(message: str) -> None:
    """A line of talk on stderr (control characters of names shown visibly on a terminal)."""
    click.echo(current_terminal().err(message), err=True, color=True)  # the Terminal decided: click strips nothing


def warn(message: str) -> None:
    """A warning on stderr, in the same shape as errors."""
    echo_err(f"supv: warning: {message}")


def print_json(data: object) -> None:
    """Machine output: indented, keys in the documented order."""
    click.echo(json.dumps(data, indent=2))


def make_console(stderr: bool = False, **options: Any) -> Console:  # Any: rich Console's keyword arguments
    """A rich console that honours NO_COLOR: plain text then, no escape sequence at all (rich's own
    ``no_color`` keeps bold and dim)."""
    return current_terminal().console(stderr=stderr, **options)


def stdout_console() -> Console:
    """A rich console on stdout that honours NO_COLOR and the terminal width (COLUMNS)."""
    return make_console(soft_wrap=False)


#: the narrowest a column of prose (reason, detail) is made before a name is cut
PROSE_MIN = 12


_NAME_PIECE_RE = re.compile(r"[^_:.\-]*[_:.\-]*")


def break_name(name: str, width: int | None) -> str:
    """``name`` on lines of at most ``width``, broken after ``_``, ``:``, ``.`` or ``-`` (a piece longer
    than the width is left to the table to fold). Markup (a ``[`` in it) is left as it is."""
    if width is None or len(name) <= width or "[" in name:
        return name
    lines = [""]
    for piece in filter(None, _NAME_PIECE_RE.findall(name)):
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)


def fit_widths(natural: Sequence[int], floors: Sequence[int], room: int) -> list[int | None]:
    """Column widths of a table ``room`` columns wide (borders taken off): None each when the natural
    widths fit. Otherwise the widest column is narrowed one column at a time, down to its floor (its
    header, its longest piece of name, PROSE_MIN for prose), then, only when the floors do not fit
    either, below it: short names, states and headers stay whole."""
    if sum(natural) <= room:
        return [None] * len(natural)
    widths = list(natural)
    for floor_of in (lambda index: min(natural[index], floors[index]), lambda index: 1):
        while sum(widths) > room:
            shrinkable = [index for index in range(len(widths)) if widths[index] > floor_of(index)]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda index: widths[index])] -= 1
    return list(widths)


def print_rich_table(headers: Sequence[str], rows: Sequence[Row], title: str | None = None,
                     justify: Sequence[str] | None = None) -> None:
    """A rich table; cells may carry rich markup (``[green]RUNNING[/]``). A column of single words
    (names, states) is never split inside a word: on a narrow terminal the columns of prose (reasons,
    details) wrap between their words first; a name is cut with an ellipsis only when even that is not
    enough."""
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    cells = [[Terminal.cell(str(cell)) for cell in row] for row in rows]
    columns = []  # (is a column of single words, its widest cell or header, the narrowest it should be)
    for index, header in enumerate(headers):
        texts = [Text.from_markup(row[index]).plain for row in cells if index < len(row)]
        words = all(len(text.split()) <= 1 for text in texts)
        pieces = [len(piece) for text in texts for piece in (_NAME_PIECE_RE.findall(text) if words else [])]
        columns.append((words, max([len(header)] + [len(t) for t in texts]),
                        max([len(header)] + pieces) if words else PROSE_MIN))
    floors = [floor for _, _, floor in columns]
    # one blank each side of a cell; none when even the floors would not fit so
    padding = 1 if sum(floors) <= console.width - (3 * len(headers) + 1) else 0
    widths = fit_widths([widest for _, widest, _ in columns], floors,
                        console.width - ((1 + 2 * padding) * len(headers) + 1))
    table = Table(title=title, show_edge=True, header_style="bold", padding=(0, padding))
    for index, header in enumerate(headers):
        table.add_column(header, justify=(justify[index] if justify else "left"),  # type: ignore[arg-type]
                         overflow="fold", width=widths[index])
    for row in cells:
        # a name too wide for its column is broken after a _ : . or - (rich would cut it anywhere)
        table.add_row(*(break_name(cell, widths[index]) if widths[index] and columns[index][0] else cell
                        for index, cell in enumerate(row)))
    console.print(table)


def plain_table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    """Plain columns, stable for awk: a header line then one line per row."""
    from tabulate import tabulate

    if not rows:
        return "  ".join(headers)
    return tabulate([[str(c) for c in row] for row in rows], headers=list(headers), tablefmt="plain",
                    disable_numparse=True)


# --------------------------------------------------------------------------------------------- views

@dataclass
class Table:
    """One table of a view. Cells may carry rich markup only when the view gives its own plain lines."""

    headers: Sequence[str]
    rows: Sequence[Row]
    justify: Sequence[str] | None = None


@dataclass
class View:
    """What a command shows, in every format; built lazily (only the format asked for is computed).

    ``data`` gives the JSON value; ``tables`` the rich tables; ``plain`` the plain lines (supvisorsctl's
    layouts), by default the tables as plain columns, separated by a blank line.
    """

    data: Callable[[], object]
    tables: Callable[[], Sequence[Table]]
    plain: Callable[[], Sequence[str]] | None = field(default=None)


def render(view: View, fmt: str, terminal: Terminal | None = None) -> None:
    """The one output path of every view: ``fmt`` is json, plain or table. Text from the cluster is
    escaped as ``terminal`` says (cli/terminal.py): JSON as JSON does, plain lines visibly on a
    terminal and raw in a pipe, table cells always visibly."""
    terminal = terminal or current_terminal()
    if fmt == "json":
        print_json(view.data())
    elif fmt == "plain":
        if view.plain is not None:
            for line in view.plain():
                click.echo(terminal.out(line), color=True)  # the Terminal decided: click strips nothing
        else:
            click.echo(terminal.out("\n\n".join(plain_table(t.headers, t.rows) for t in view.tables())), color=True)
    else:
        for index, table in enumerate(view.tables()):
            if index:
                click.echo()
            print_rich_table(table.headers, table.rows, justify=table.justify)
