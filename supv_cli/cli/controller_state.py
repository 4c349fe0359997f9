"""What the supv controllers say about themselves, read from their stdout through supervisord.

``supv run-plan --watch`` prints one JSON line on stdout each time its state changes (acting or
standing by, the leader, lost instances, current jobs, recent decisions). Run by supervisord, that line
is in the program's stdout log, which any supv command can read with ``tailProcessStdoutLog``: no
shared file, no extra service.
"""

from __future__ import annotations

import json
from typing import Any

#: how much of the end of a controller's stdout log to read
TAIL_BYTES = 16384


def controller_namespec(snap: Any, program: str) -> str | None:
    """The namespec of the controller program RUNNING on an instance, if any."""
    for info in snap.processes:
        if program in (info.group, info.name) and info.running:
            return info.namespec
    return None


def read_states(snapshot: Any, settings: Any, program: str = "supv_controller") -> dict[str, dict[str, Any]]:
    """nick -> the last state line of the controller running there (instances without one are left out)."""
    from supv_cli.cluster.client import call, fan_out

    targets = [(snap.instance, ns) for snap in snapshot.instances if snap.reachable
               for ns in [controller_namespec(snap, program)] if ns]

    def tail(target: tuple[Any, str]) -> Any:
        instance, namespec = target
        text, _, _ = call(instance, "supervisor.tailProcessStdoutLog", namespec, 0, TAIL_BYTES,
                          timeout=settings.timeout, username=settings.username, password=settings.password)
        for line in reversed(str(text).splitlines()):
            try:
                state = json.loads(line)
            except ValueError:
                continue
            if isinstance(state, dict) and "acting" in state:
                return state
        return None

    answers = fan_out(tail, targets, settings.timeout) if targets else []
    return {instance.nick: answer for (instance, _), answer in zip(targets, answers) if isinstance(answer, dict)}


def report_acting(states: dict[str, dict[str, Any]], recent: bool = True) -> None:
    """On stderr: which controller acts, the instances it declared lost and its recent decisions."""
    from supv_cli.cli.output import echo_err

    for nick, state in states.items():
        if state.get("acting"):
            lost = ", ".join(state.get("lost") or []) or "none"
            echo_err(f"controller on {nick}: acting; lost instances: {lost}")
            for line in (state.get("recent") or []) if recent else []:
                echo_err(f"  {line}")
