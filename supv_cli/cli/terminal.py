"""The one Terminal: what supv knows about where its output goes (a terminal or a pipe), its colour,
its width, NO_COLOR, and how text that came from the cluster is shown.

Program names, log lines and reasons come from supervisord, that is from anyone who can write a
configuration file or a log line. On a terminal their control characters would be obeyed (an OSC that
sets the title or swallows the line, ``CSI 1A 2K`` that forges the line above, BEL, clear screen): there
they are shown visibly instead, ``\\x1b``. In a pipe the bytes stay as they are (``supv logs | grep``
gets the line as logged); JSON escapes them as JSON does. A rich table (a layout for people, whatever
the stream) always shows them visibly: a raw control character would also break its column widths.

Every renderer asks the App's Terminal (``app.terminal``); tests give the App a Terminal of their own.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, TextIO

from supv_cli.model.text import visible

if TYPE_CHECKING:  # rich is imported when a table is shown
    from rich.console import Console

def _isatty(stream: TextIO | None) -> bool:
    if stream is None:  # Python started without that stream
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, or not a file
        return False


@dataclass(frozen=True)
class Terminal:
    """Where stdout and stderr go, and what that means for colour, width and escaping."""

    #: stdout / stderr are terminals
    out_tty: bool = False
    err_tty: bool = False
    #: NO_COLOR is set (https://no-color.org): no colour and no other attribute (bold, dim, underline)
    no_color: bool = False
    #: COLUMNS when set (rich reads it too), else None: the terminal's own width
    columns: int | None = None

    @classmethod
    def detect(cls, environ: Mapping[str, str] | None = None, stdout: TextIO | None = None,
               stderr: TextIO | None = None) -> Terminal:
        """The terminal of this process (its streams and environment)."""
        env = os.environ if environ is None else environ
        columns = env.get("COLUMNS", "")
        return cls(out_tty=_isatty(sys.stdout if stdout is None else stdout),
                   err_tty=_isatty(sys.stderr if stderr is None else stderr),
                   no_color=bool(env.get("NO_COLOR")),
                   columns=int(columns) if columns.isdigit() and int(columns) > 0 else None)

    # ------------------------------------------------------------------------------ decisions
    @property
    def color(self) -> bool:
        """Colour (and bold, dim...) on stdout: a terminal, and NO_COLOR not set."""
        return self.out_tty and not self.no_color

    @property
    def default_format(self) -> str:
        """table on a terminal, plain otherwise."""
        return "table" if self.out_tty else "plain"

    def out(self, text: str) -> str:
        """``text`` (from the cluster) as written on stdout: visible control characters on a terminal,
        the bytes as they are in a pipe."""
        return visible(text) if self.out_tty else text

    def err(self, text: str) -> str:
        """The same for stderr."""
        return visible(text) if self.err_tty else text

    @staticmethod
    def cell(text: str) -> str:
        """``text`` in a rich layout (table, live frame): always visible (see the module docstring)."""
        return visible(text)

    # ------------------------------------------------------------------------------ rich
    def console(self, stderr: bool = False, **options: Any) -> Console:  # Any: rich Console's keyword arguments
        """A rich console honouring NO_COLOR fully (rich's own ``no_color`` keeps bold and dim) and, on
        stdout in a pipe without COLUMNS, a wide width (a table asked for in a pipe is not squeezed
        into 80 columns)."""
        from rich.console import Console

        if self.no_color:
            options["color_system"] = None
        if not stderr and not self.out_tty and self.columns is None:
            options.setdefault("width", 250)
        return Console(stderr=stderr, highlight=False, **options)


def current_terminal() -> Terminal:
    """The Terminal of the running command's App, or this process's when there is none."""
    import click

    ctx = click.get_current_context(silent=True)
    terminal = getattr(ctx.find_root().obj, "terminal", None) if ctx is not None else None
    return terminal if isinstance(terminal, Terminal) else Terminal.detect()
