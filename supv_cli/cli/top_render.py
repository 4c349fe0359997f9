"""Rendering one frame of ``supv top`` with rich (the frame itself is built in supv_cli.look.dashboard)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # rich is imported when a frame is drawn
    from rich.console import Console, ConsoleOptions, Group, RenderableType
    from rich.table import Table
    from rich.text import Text

from supv_cli.cli.status_render import LED, LED_STYLES, STATE_STYLES
from supv_cli.cli.terminal import visible
from supv_cli.look.dashboard import Frame, load_bar
from supv_cli.model.snapshot import SupervisorState

#: the style of a load bar: green up to 70 %, then orange, red at and above the 100 % cap
_LOAD_STYLES = ((100, "red"), (70, "dark_orange"), (0, "green"))


def _load_style(load: int) -> str:
    return next(style for limit, style in _LOAD_STYLES if load >= limit)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _table(*columns: tuple[str, dict[str, Any]]) -> Table:  # Any: rich add_column's keyword arguments
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 1))
    for title, options in columns:
        table.add_column(title, no_wrap=True, overflow="ellipsis", **options)
    return table


def header(frame: Frame, live: bool, width: int | None = None) -> Text:
    """The first line: whole parts only, as many as fit in ``width - 1`` columns. The last column is
    never written (a terminal may wrap there, onto the title below) and nothing is cut with an ellipsis
    (a terminal may draw it two columns wide)."""
    from rich.text import Text

    parts = [("supv top", "bold"), (f"  {time.strftime('%H:%M:%S', time.localtime(frame.taken_at))}", ""),
             (f"  {_count(frame.instance_count, 'instance')}, {frame.running_count} running", ""),
             (f"  {_count(frame.application_count, 'application')}", "")]
    if live:
        parts += [(f"  every {frame.interval:g}s", "dim"), ("  q: quit", "dim")]
    text = Text(no_wrap=True, overflow="crop")
    room = (width - 1) if width else None
    for part, style in parts:
        if room is not None and len(text) + len(part) > room:
            break
        text.append(part, style=style)
    return text


class _Header:
    """The header, made for the width it is drawn in."""

    def __init__(self, frame: Frame, live: bool) -> None:
        self.frame, self.live = frame, live

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield header(self.frame, self.live, options.max_width)


class HeaderLine:
    """Writes only the header line of a live frame (top left of rich's alternate screen), for its clock:
    a few hundred microseconds where a full redraw costs rich ~10 ms."""

    def __init__(self, console: Console) -> None:
        import io

        from rich.console import Console

        self.console = console
        self._buffer = io.StringIO()
        # rich's color_system property gives one of the names its parameter takes (typed str there)
        self._renderer = Console(file=self._buffer, color_system=console.color_system,  # type: ignore[arg-type]
                                 no_color=console.no_color, force_terminal=True, highlight=False,
                                 legacy_windows=False)

    def draw(self, frame: Frame) -> None:
        self._renderer.width = self.console.width
        self._buffer.seek(0)
        self._buffer.truncate()
        self._renderer.print(header(frame, live=True, width=self.console.width), end="")
        # save the cursor, home, the line, erase the rest of it, restore the cursor
        self.console.file.write(f"\x1b7\x1b[H{self._buffer.getvalue()}\x1b[K\x1b8")
        self.console.file.flush()


def applications(frame: Frame) -> Table:
    from rich.text import Text

    name = min(30, max([11] + [len(row.name) for row in frame.applications]))
    table = _table(("Application", {"min_width": name}), ("State", {"min_width": 8}),
                   ("Operational", {"min_width": 17}), ("Major", {}), ("Minor", {}))
    for row in frame.applications:
        led = Text()
        if row.operational_status:
            led.append(LED, style=LED_STYLES.get(row.operational_status, "default"))
            led.append(f" {row.operational_status}")
        table.add_row(Text(visible(row.name)), Text(row.state, style=STATE_STYLES.get(row.state, "")), led,
                      Text(str(row.major_failure), style="red" if row.major_failure else ""),
                      Text(str(row.minor_failure), style="dark_orange" if row.minor_failure else ""))
    return table


def instances(frame: Frame) -> Table:
    from rich.text import Text

    # the reason column only when an instance has one: the other columns keep the width
    reasons = any(row.state != SupervisorState.RUNNING and row.reason for row in frame.instances)
    # every column but the reason keeps its width: the reason is what an 80-column terminal cuts
    nick = min(20, max([8] + [len(row.nick) for row in frame.instances]))
    procs = max([5] + [len(f"{row.running}/{row.total}") for row in frame.instances if row.total is not None])
    # the host's measured CPU and memory, where a sampler runs (supv sampler)
    measured = any(row.cpu_percent is not None or row.memory_percent is not None for row in frame.instances)
    columns: list[tuple[str, dict[str, Any]]] = [  # Any: rich add_column's keyword arguments
        ("Instance", {"min_width": nick}), ("State", {"min_width": 11}), ("Load", {"min_width": 15}),
        *([("CPU", {"justify": "right", "min_width": 6}), ("Mem", {"justify": "right", "min_width": 6})]
          if measured else []),
        ("Procs", {"justify": "right", "min_width": procs}), ("Controller", {"min_width": 10})]
    table = _table(*columns, *([("Reason", {})] if reasons else []))
    for row in frame.instances:
        load = Text()
        if row.load is not None:
            load.append(load_bar(row.load), style=_load_style(row.load))
            load.append(f" {row.load:>3}%")
        count = "" if row.total is None else f"{row.running}/{row.total}"
        figures = [Text("-" if value is None else f"{value:.1f}%") for value in (row.cpu_percent, row.memory_percent)]
        cells: list[RenderableType] = [
            Text(visible(row.nick)), Text(row.state, style=STATE_STYLES.get(row.state, "")), load,
            *(figures if measured else []), count,
            Text(row.role or "-", style="bold" if row.role == "acting" else "dim")]
        if reasons:
            cells.append(Text(visible(row.reason) if row.state != SupervisorState.RUNNING else "", style="dim"))
        table.add_row(*cells)
    return table


def text_lines(frame: Frame, width: int, color: bool = False) -> list[str]:
    """The frame as lines of text ``width`` columns wide (trailing blanks removed), as printed once."""
    from rich.console import Console

    console = Console(width=width, no_color=not color, color_system="standard" if color else None,
                      highlight=False, force_terminal=color, legacy_windows=False)
    with console.capture() as capture:
        console.print(render(frame))
    return [line.rstrip() for line in capture.get().splitlines()]


def render(frame: Frame, live: bool = False) -> Group:
    """The whole frame as one rich renderable (``live``: with the refresh and quit hint)."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = [_Header(frame, live), Text("Applications", style="bold underline"),
                                   applications(frame)]
    if frame.more_applications:
        parts.append(Text(frame.more_applications, style="dim"))
    parts += [Text("Instances", style="bold underline"), instances(frame)]
    if frame.more_instances:
        parts.append(Text(frame.more_instances, style="dim"))
    if frame.conflicts:
        parts.append(Text("Conflicts", style="bold red"))
        parts += [Text(visible(f"  {namespec} on {', '.join(nicks)}"), style="red")
                  for namespec, nicks in frame.conflicts]
    else:
        parts.append(Text("Conflicts: none", style="bold"))
    title = "Last events" + (f" ({frame.more_events} earlier not shown)" if frame.more_events else "")
    parts.append(Text(title if frame.events else "Last events: none yet", style="bold"))
    for change in frame.events:
        parts.append(Text(visible(change.line(when=time.strftime("%H:%M:%S", time.localtime(change.time)))),
                          style=STATE_STYLES.get(change.to_state, "")))
    # one line per item whatever the width: fit() counts on it
    for part in parts:
        if isinstance(part, Text):
            part.no_wrap, part.overflow = True, "ellipsis"
    return Group(*parts)
