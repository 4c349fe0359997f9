"""What the status views (``application-info``, ``sstatus``, ``instances``) share: what the controllers
say, state colours, supvisorsctl widths."""

from __future__ import annotations

from typing import Any, Iterable

from supv_cli.cli.output import echo_err

#: rich styles of process and application states (the Supvisors web UI's colours, roughly)
STATE_STYLES = {
    "RUNNING": "green",
    "STARTING": "yellow",
    "BACKOFF": "yellow",
    "STOPPING": "yellow",
    "STOPPED": "dim",
    "EXITED": "dim",
    "FATAL": "bold red",
    "UNKNOWN": "bold red",
    "UNREACHABLE": "bold red",
}
#: the operational status LED of the table view
LED_STYLES = {"Operational": "green", "Degraded": "dark_orange", "Not Operational": "red"}
LED = "\u25cf"


def report_acting(states: dict[str, dict[str, Any]], recent: bool = True) -> None:  # Any: JSON state lines
    """On stderr: which controller acts (from ``ClusterSession.controller_states``), the instances it
    declared lost and its recent decisions."""
    for nick, state in states.items():
        if state.get("acting"):
            lost = ", ".join(state.get("lost") or []) or "none"
            echo_err(f"controller on {nick}: acting; lost instances: {lost}")
            for line in (state.get("recent") or []) if recent else []:
                echo_err(f"  {line}")


def styled(text: str, style: str | None) -> str:
    """Rich markup for one cell, the text escaped (names may hold ``[``)."""
    from rich.markup import escape

    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def state_cell(statename: str) -> str:
    return styled(statename, STATE_STYLES.get(statename))


def led_cell(operational_status: str) -> str:
    """``● Operational`` in green / orange / red; empty when the application is not RUNNING."""
    if not operational_status:
        return ""
    return f"[{LED_STYLES.get(operational_status, 'default')}]{LED}[/] {operational_status}"


def column_width(values: Iterable[object], title: str) -> int:
    """supvisorsctl's ``max_template``: the longest of the title and the values, plus 2."""
    return max([len(title)] + [len(str(value)) for value in values]) + 2
