"""``supv run-plan --watch``: the controller loop, its logs (stderr) and its state lines (stdout)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Callable, Sequence

import click

from supv_cli.cli.terminal import current_terminal
from supv_cli.errors import CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.cluster.session import ClusterSession
    from supv_cli.controller.core import Controller, ControllerOptions, ControllerState
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.plan.run_types import Event
    from supv_cli.rules import Rules

#: seconds between two "alive" lines in the controller's log (and state lines on stdout)
HEARTBEAT = 60.0


def stamp() -> str:
    """Local time with milliseconds, for log lines."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def stderr_gone() -> bool:
    """True when stderr is a pipe whose reader has gone (its supervisord died): see :func:`outputs_gone`."""
    from supv_cli.cli.output import stream_gone

    return stream_gone(sys.stderr)


def outputs_gone() -> None:
    """stderr is gone too: nothing can be logged any more, and the supervisord whose pipes these were is
    gone (a restarted one starts a new controller beside this one): exit 1 rather than act unseen."""
    from supv_cli.cli.output import silence_stdout

    silence_stdout()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stderr.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass
    raise SystemExit(int(ExitCode.FAILED))


def with_leader_state(controller: Controller, session: ClusterSession,
                      snapshot_fn: Callable[[], Snapshot]) -> Callable[[], Snapshot]:
    """The snapshot function, and on a standby, while something happens, the acting controller's last
    state line (what it sent and has not seen confirmed), read from its stdout log (issue 16)."""
    from supv_cli.model.snapshot import Snapshot as Snap

    def snapshot() -> Snapshot:
        taken = snapshot_fn()
        leader = controller.leader_to_read()
        if leader is not None:
            snaps = tuple(s for s in taken.instances if s.instance.nick == leader and s.reachable)
            states = session.controller_states(Snap(snaps), controller.options.controller_program)
            controller.take_leader_state(states.get(leader))
        return taken

    return snapshot


class ControllerOutput:
    """What the controller writes: its events on stderr (text or JSON lines), and on stdout, while it is
    open, one state line each time what it knows changes (and at each heartbeat)."""

    def __init__(self, controller: Controller, session: ClusterSession, local: Instance | None,
                 json_lines: bool) -> None:
        self.controller = controller
        self.session = session
        self.local = local
        self.json_lines = json_lines
        self.stdout_open = True
        self.cycles = 0
        self._last_state = ""
        self._last_beat = time.monotonic()

    def log(self, event: Event) -> None:
        try:
            if self.json_lines:
                click.echo(json.dumps({"time": stamp(), **event.to_dict()}), err=True)
            else:
                click.echo(current_terminal().err(f"{stamp()} {event.line()}"), err=True, color=True)
        except (OSError, ValueError):  # stderr closed too: see outputs_gone
            outputs_gone()

    def stdout_closed(self, why: str) -> None:
        """stdout's reader has gone: say it on stderr once, and go on deciding without state lines."""
        from supv_cli.cli.output import silence_stdout
        from supv_cli.controller.events import EventKind
        from supv_cli.plan.run_types import Event

        self.stdout_open = False
        silence_stdout()
        self.log(Event(EventKind.ERROR, "controller", f"stdout closed ({why}): no more state lines (supv "
                       "instances and supv controller status no longer see this controller's role); still deciding"))

    def on_events(self, events: Sequence[Event]) -> None:
        """After each cycle: its events logged, then the state line when it changed (or a heartbeat)."""
        from supv_cli.cli.output import stdout_gone
        from supv_cli.controller.events import EventKind
        from supv_cli.plan.run_types import Event

        self.cycles += 1
        if stderr_gone():
            outputs_gone()
        if self.stdout_open and stdout_gone():  # noticed within a cycle, not at the next state line
            self.stdout_closed("its reader has gone")
        for event in events:
            self.log(event)
        known = self.known()
        beat = time.monotonic() - self._last_beat >= HEARTBEAT
        if beat:  # proof of life, also in the state line that `supv instances` reads
            self._last_beat = time.monotonic()
            role = "acting" if known["acting"] else "standby"
            self.log(Event(EventKind.ALIVE, "controller", f"{self.cycles} cycles, {role}"))
        state = json.dumps(known, sort_keys=True)
        if (state != self._last_state or beat) and self.stdout_open:  # one line each time what it knows changes
            self._last_state = state
            self.write_state_line(known)

    def known(self) -> ControllerState:
        """The controller's state, with what the instances that stopped answering last said: a later
        command (application-info with a server frozen) keeps their last known state from it
        (unanswered.py)."""
        from supv_cli.unanswered import last_known_records

        known = self.controller.state()
        last = self.session.last_answers()
        known["last_known"] = {nick: last_known_records(last[nick]) for nick in [*known["missed"], *known["lost"]]
                               if nick in last}
        return known

    def write_state_line(self, known: ControllerState) -> None:
        from supv_cli.cluster import state_line

        try:
            click.echo(state_line.encode(stamp(), self.local.nick if self.local else None, self.cycles, known))
            sys.stdout.flush()
        except (OSError, ValueError) as error:  # EPIPE, or a closed file
            self.stdout_closed(getattr(error, "strerror", None) or str(error) or type(error).__name__)


def check_controller_arguments(app: App, rules: Rules, options: ControllerOptions,
                               applications: Sequence[str]) -> None:
    """The applications named have rules, the quorum is at most the instances: else a usage error."""
    unmanaged = [name for name in applications if not rules.application_rules(name).managed]
    if unmanaged:
        raise click.BadParameter(f"no rules element matches {', '.join(unmanaged)}: supv cannot start it",
                                 param_hint="APP")
    if options.quorum is not None and options.quorum > len(app.instances):
        raise click.BadParameter(f"{options.quorum} is more than the {len(app.instances)} instances of the "
                                 "list: give at most that many", param_hint="--quorum")


def run_controller(app: App, options: ControllerOptions, local_nick: str | None, applications: Sequence[str]) -> None:
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
    local = local_instance(app.instances, local_nick)
    check_controller_arguments(app, rules, options, applications)
    controller = Controller(rules, app.instances, local, options, only=frozenset(applications))
    output = ControllerOutput(controller, session, local, app.fmt == "json")
    log, on_events = output.log, output.on_events

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
        log(Event(EventKind.STOP, "controller", f"SIGTERM: stopped after {output.cycles} cycles"))
    except KeyboardInterrupt:
        raise CommandFailed(ExitCode.INTERRUPTED) from None
