"""``supv run-plan --watch``: the controller loop, its logs (stderr) and its state lines (stdout)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, Sequence

import click

from supv_cli.cli.terminal import current_terminal
from supv_cli.errors import CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App

#: seconds between two "alive" lines in the controller's log (and state lines on stdout)
HEARTBEAT = 60.0


def stamp() -> str:
    """Local time with milliseconds, for log lines."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


class Outputs:
    """Where the controller still writes: its state lines go to stdout while it is open."""

    stdout_open = True


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


def with_leader_state(controller: Any, session: Any, snapshot_fn: Any) -> Any:
    """The snapshot function, and on a standby, while something happens, the acting controller's last
    state line (what it sent and has not seen confirmed), read from its stdout log (issue 16)."""
    from supv_cli.model.snapshot import Snapshot

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
    from supv_cli.cli.output import silence_stdout, stdout_gone
    from supv_cli.cli.polling import use_watch_timeout
    from supv_cli.cluster import state_line
    from supv_cli.controller.core import Controller
    from supv_cli.controller.events import EventKind
    from supv_cli.controller.loop import GracefulStop, Stopped, resting, watch
    from supv_cli.controller.pacing import at_rest, paced_snapshots
    from supv_cli.plan.run_types import Event
    from supv_cli.unanswered import last_known_records

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
    output = Outputs()
    last_state: list[str] = [""]
    last_beat = [time.monotonic()]
    cycles = [0]

    def log(event: Any) -> None:
        try:
            if json_lines:
                click.echo(json.dumps({"time": stamp(), **event.to_dict()}), err=True)
            else:
                click.echo(current_terminal().err(f"{stamp()} {event.line()}"), err=True, color=True)
        except (OSError, ValueError):  # stderr closed too: see outputs_gone
            outputs_gone()

    def stdout_closed(why: str) -> None:
        """stdout's reader has gone: say it on stderr once, and go on deciding without state lines."""
        output.stdout_open = False
        silence_stdout()
        log(Event(EventKind.ERROR, "controller", f"stdout closed ({why}): no more state lines (supv instances "
                  "and supv controller status no longer see this controller's role); still deciding"))

    def on_events(events: Sequence[Any]) -> None:
        cycles[0] += 1
        if stderr_gone():
            outputs_gone()
        if output.stdout_open and stdout_gone():  # noticed within a cycle, not at the next state line
            stdout_closed("its reader has gone")
        for event in events:
            log(event)
        known = controller.state()
        # what the instances that stopped answering last said: a later command (application-info with a
        # server frozen) keeps their last known state from it (unanswered.py)
        last = session.last_answers()
        known["last_known"] = {nick: last_known_records(last[nick]) for nick in [*known["missed"], *known["lost"]]
                               if nick in last}
        beat = time.monotonic() - last_beat[0] >= HEARTBEAT
        if beat:  # proof of life, also in the state line that `supv instances` reads
            last_beat[0] = time.monotonic()
            role = "acting" if known["acting"] else "standby"
            log(Event(EventKind.ALIVE, "controller", f"{cycles[0]} cycles, {role}"))
        state = json.dumps(known, sort_keys=True)
        if (state != last_state[0] or beat) and output.stdout_open:  # one line each time what it knows changes
            last_state[0] = state
            try:
                click.echo(state_line.encode(stamp(), local.nick if local else None, cycles[0], known))
                sys.stdout.flush()
            except (OSError, ValueError) as error:  # EPIPE, or a closed file
                stdout_closed(getattr(error, "strerror", None) or str(error) or type(error).__name__)

    # SIGTERM (supervisord stopping the controller): the cycle in progress ends, then exit 0
    snapshots = with_leader_state(controller, session, paced_snapshots(controller, session.poller))
    # at rest, cycles that would ask nothing are skipped, a closed connection ends the wait (loop.py)
    rested = [0.0]

    def skipped(seconds: float) -> None:  # a cycle skipped at rest is a cycle with nothing due: counted
        rested[0] += seconds
        whole = int(rested[0] / options.interval + 1e-6)
        cycles[0] += whole
        rested[0] -= whole * options.interval

    stop = GracefulStop(sleep=resting(session.poller.rest, at_rest(controller, session.poller, options.interval),
                                      skipped=skipped))
    signal.signal(signal.SIGTERM, stop.request)
    where = f"on {local.nick}" if local else "alone (not started by a supervisord of the list)"
    log(Event(EventKind.START, "controller", f"{where}: watching {len(app.instances)} instances every "
              f"{options.interval:g}s"))
    try:
        # an instance the session would skip after a timeout is asked anyway: a missed poll is a poll
        # made and not answered (--lost-after), never one skipped
        session.poller.ask_all = True
        watch(controller, snapshots, session.send, on_events, sleep=stop.sleep)
    except Stopped:
        log(Event(EventKind.STOP, "controller", f"SIGTERM: stopped after {cycles[0]} cycles"))
    except KeyboardInterrupt:
        raise CommandFailed(ExitCode.INTERRUPTED) from None
