"""``supv run-plan --watch``: the controller loop, its logs (stderr) and its state lines (stdout)."""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, Sequence

import click

from supv_cli.errors import CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App

#: timeout of one XML-RPC call in --watch mode when --timeout is not given: a hung instance must not
#: slow the cycle down much more than the cycle itself
WATCH_TIMEOUT = 1.0
#: seconds between two "alive" lines in the controller's log (and state lines on stdout)
HEARTBEAT = 60.0


def stamp() -> str:
    """Local time with milliseconds, for log lines."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def with_leader_state(controller: Any, session: Any, snapshot_fn: Any) -> Any:
    """The snapshot function, and on a standby, while something happens, the acting controller's last
    state line (what it sent and has not seen confirmed), read from its stdout log (issue 16)."""
    from supv_cli.cluster.snapshot import Snapshot

    def snapshot() -> Snapshot:
        taken = snapshot_fn()
        leader = controller.leader_to_read()
        if leader is not None:
            snaps = tuple(s for s in taken.instances if s.instance.nick == leader and s.reachable)
            states = session.controller_states(Snapshot(snaps), controller.options.controller_program)
            controller.take_leader_state(states.get(leader))
        return taken

    return snapshot


def run_controller(app: App, options: Any, local_nick: str | None, applications: Sequence[str]) -> None:
    """Run the controller until SIGTERM / Ctrl-C."""
    from supv_cli.cli.actions import local_instance
    from supv_cli.cli.polling import use_watch_timeout
    from supv_cli.controller.core import Controller
    from supv_cli.controller.events import EventKind
    from supv_cli.controller.loop import GracefulStop, Stopped, watch
    from supv_cli.controller.pacing import paced_snapshots
    from supv_cli.plan.run_types import Event

    use_watch_timeout(app)  # the controller's own default beats the -c file's: not a user's override
    session = app.session
    rules = app.require_rules()
    json_lines = app.fmt == "json"
    local = local_instance(app.instances, local_nick)
    unmanaged = [name for name in applications if not rules.application_rules(name).managed]
    if unmanaged:
        raise click.BadParameter(f"no rules element matches {', '.join(unmanaged)}: supv cannot start it",
                                 param_hint="APP")
    if options.quorum is not None and options.quorum > len(app.instances):
        raise click.BadParameter(f"{options.quorum} is more than the {len(app.instances)} instances of the "
                                 "list: give at most that many", param_hint="--quorum")
    controller = Controller(rules, app.instances, local, options, only=frozenset(applications))
    last_state: list[str] = [""]
    last_beat = [time.monotonic()]
    cycles = [0]

    def log(event: Any) -> None:
        if json_lines:
            click.echo(json.dumps({"time": stamp(), **event.to_dict()}), err=True)
        else:
            click.echo(f"{stamp()} {event.line()}", err=True)

    def on_events(events: Sequence[Any]) -> None:
        cycles[0] += 1
        for event in events:
            log(event)
        known = controller.state()
        beat = time.monotonic() - last_beat[0] >= HEARTBEAT
        if beat:  # proof of life, also in the state line that `supv instances` reads
            last_beat[0] = time.monotonic()
            role = "acting" if known["acting"] else "standby"
            log(Event(EventKind.ALIVE, "controller", f"{cycles[0]} cycles, {role}"))
        state = json.dumps(known, sort_keys=True)
        if state != last_state[0] or beat:  # one line on stdout each time what the controller knows changes
            last_state[0] = state
            click.echo(json.dumps({"time": stamp(), "controller": local.nick if local else None,
                                   "cycles": cycles[0], **known}))
            sys.stdout.flush()

    # SIGTERM (supervisord stopping the controller): the cycle in progress ends, then exit 0
    stop = GracefulStop()
    signal.signal(signal.SIGTERM, stop.request)
    where = f"on {local.nick}" if local else "alone (not started by a supervisord of the list)"
    log(Event(EventKind.START, "controller", f"{where}: watching {len(app.instances)} instances every "
              f"{options.interval:g}s"))
    try:
        # an instance the session would skip after a timeout is asked anyway: a missed poll is a poll
        # made and not answered (--lost-after), never one skipped
        session.poller.ask_all = True
        watch(controller, with_leader_state(controller, session, paced_snapshots(controller, session.poller)),
              session.send, on_events, sleep=stop.sleep)
    except Stopped:
        log(Event(EventKind.STOP, "controller", f"SIGTERM: stopped after {cycles[0]} cycles"))
    except KeyboardInterrupt:
        raise CommandFailed(ExitCode.INTERRUPTED) from None
