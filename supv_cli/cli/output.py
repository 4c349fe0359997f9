"""Rendering for every command: rich tables for people, plain text for awk, JSON for scripts.

stdout carries data only; ``echo_err`` / ``warn`` carry talk to stderr.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import click

from supv_cli.cli.terminal import Terminal, current_terminal

Row = Sequence[Any]

#: a message located in a file, ``FILE:LINE: text`` (groups: the location, the text)
LOCATED_RE = re.compile(r"^([^\s:][^:]*:\d+): (.*)$", re.S)


def no_color() -> bool:
    """True when colour must not be used (NO_COLOR set, or stdout not a terminal)."""
    return not current_terminal().color


def stdout_gone() -> bool:
    """True when stdout is a pipe (or socket) whose reader has gone (``supv events | head -1``): a
    stream that writes rarely would otherwise only notice it at its next line, maybe never."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (tests capture it)
        return False
    poller = select.poll()
    poller.register(fd, 0)  # nothing asked: only what is always reported, an error or a hang-up
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def silence_stdout() -> None:
    """Send what is still to be written on stdout to /dev/null (its reader has gone)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def echo_err(message: str) -> None:
    """A line of talk on stderr (control characters of names shown visibly on a terminal)."""
    click.echo(current_terminal().err(message), err=True, color=True)  # the Terminal decided: click strips nothing


def warn(message: str) -> None:
    """A warning on stderr, in the same shape as errors."""
    echo_err(f"supv: warning: {message}")


def print_json(data: Any) -> None:
    """Machine output: indented, keys in the documented order."""
    click.echo(json.dumps(data, indent=2))


def make_console(stderr: bool = False, **options: Any) -> Any:
    """A rich console that honours NO_COLOR: plain text then, no escape sequence at all (rich's own
    ``no_color`` keeps bold and dim)."""
    return current_terminal().console(stderr=stderr, **options)


def stdout_console() -> Any:
    """A rich console on stdout that honours NO_COLOR and the terminal width (COLUMNS)."""
    return make_console(soft_wrap=False)


def print_rich_table(headers: Sequence[str], rows: Sequence[Row], title: str | None = None,
                     justify: Sequence[str] | None = None) -> None:
    """A rich table; cells may carry rich markup (``[green]RUNNING[/]``)."""
    from rich.table import Table

    table = Table(title=title, show_edge=True, header_style="bold")
    for index, header in enumerate(headers):
        table.add_column(header, justify=(justify[index] if justify else "left"),  # type: ignore[arg-type]
                         overflow="fold")
    for row in rows:
        table.add_row(*(Terminal.cell(str(cell)) for cell in row))
    stdout_console().print(table)


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

    data: Callable[[], Any]
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
