"""Progress of a run on stderr: a rich live view on a terminal, one plain line per event otherwise."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.terminal import current_terminal, visible

if TYPE_CHECKING:  # rich is imported only when a live view is shown
    from types import TracebackType

    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from supv_cli.plan.run_types import Event, Runner

_STYLE = {"RUNNING": "green", "EXITED": "green", "STOPPED": "green", "ALREADY": "dim",
          "FAILED": "red", "TIMEOUT": "red", "NO_RESOURCE": "red", "LOST": "red", "NOT_STARTED": "yellow",
          "INTERRUPTED": "yellow", "IN_PROGRESS": "cyan", "PENDING": "dim"}


class Progress:
    """Receives the run's events; shows them as a live table (TTY) or as lines (CI logs, JSON lines)."""

    def __init__(self, run: Runner, live: bool, json_lines: bool = False, quiet: bool = False,
                 console: Console | None = None) -> None:
        self.run = run
        self.json_lines = json_lines
        self.quiet = quiet
        self.started = time.monotonic()
        self._live: Live | None = None
        if live and not json_lines and not quiet:
            from rich.live import Live

            from supv_cli.cli.output import make_console

            # transient: the live view is for the wait only; the report printed after it on the same
            # terminal (live implies stdout is one) says the same, so the table is not shown twice
            self._live = Live(self._table(), console=console or make_console(stderr=True), refresh_per_second=8,
                              transient=True)

    @staticmethod
    def wanted(fmt: str) -> bool:
        """The live view: only when both stderr and stdout are terminals and output is for people."""
        terminal = current_terminal()
        return fmt == "table" and terminal.err_tty and terminal.out_tty

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(kind, error, traceback)

    def events(self, events: Sequence[Event]) -> None:
        if self._live is not None:
            self._live.update(self._table())
            return
        if self.quiet:
            return
        for event in events:
            elapsed = time.monotonic() - self.started
            if self.json_lines:
                click.echo(json.dumps({"time": round(elapsed, 3), **event.to_dict()}), err=True)
            else:
                click.echo(current_terminal().err(f"[{elapsed:7.2f}s] {event.line()}"), err=True, color=True)

    def _table(self) -> Table:
        from rich.table import Table

        table = Table(title=f"supv {self.run.kind} ({time.monotonic() - self.started:.1f}s)", expand=False)
        for header in ("Stage", "Application", "Program", "Instance", "State", "Elapsed", "Detail"):
            table.add_column(header, overflow="fold")
        for row in self.run.report():
            outcome = row["outcome"]
            style = _STYLE.get(outcome, "")
            table.add_row(str(row["sequence"]), *(visible(str(cell)) for cell in (
                row["application_name"], row["process_name"], row["instance"] or "-")),
                f"[{style}]{outcome}[/]" if style else outcome, f"{row['elapsed']:.1f}s", visible(row["detail"]))
        return table
