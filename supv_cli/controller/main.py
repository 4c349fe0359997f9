"""The controller's process: ``supv run-plan --watch`` once its options are read, lean.

``supv run-plan --watch`` parses its options with click and loads the rules with lxml, then re-executes
itself (``os.execve``: the same pid, the same stdout and stderr, so supervisord and the state-line
channel see the same process) into ``python -m supv_cli.controller FD`` (``controller/__main__.py``).
What the command computed (the settings, the rules, the controller's options) is handed over pickled
through an inherited file descriptor (a memfd, else an unlinked temporary file), never through the
command line or the environment (the settings hold the password). The lean process imports only what
the loop needs: no click, lxml, rich, tabulate, nor ``xmlrpc.client``/``http.client``/``ssl``
(``cluster/rpc.py``): 10 MB less (docs/decisions.md, issue 18). When the re-execution fails the
controller runs in place, said in its log (:func:`serve` is the same code either way).

The loop's logs go to stderr (one line per event, JSON lines with ``--json``) and its state lines to
stdout (one JSON line each time what it knows changes, and every :data:`HEARTBEAT` seconds).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence

from supv_cli.errors import CommandFailed, ExitCode
from supv_cli.model.text import iso_time, visible
from supv_cli.streams import silence, stream_gone

if TYPE_CHECKING:
    from supv_cli.cluster.session import ClusterSession
    from supv_cli.cluster.settings import ClusterSettings
    from supv_cli.controller.core import Controller, ControllerState
    from supv_cli.controller.options import ControllerOptions
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.plan.run_types import Event
    from supv_cli.rules import Rules

#: seconds between two "alive" lines in the controller's log (and state lines on stdout)
HEARTBEAT = 60.0
#: seconds between two returns of freed memory to the system after an evaluation (a new status: answers
#: parsed, statuses made anew, the previous ones freed), besides the one at each heartbeat
TRIM_EVERY = 10.0
#: set to 0 to keep the controller in the command's process (no re-execution)
ENV_LEAN = "SUPV_CONTROLLER_LEAN"
#: glibc's malloc arenas of the lean process: one per thread by default (8 poll threads, each keeping
#: freed memory of its own); two are enough for a process whose threads mostly wait on sockets
MALLOC_ARENAS = "2"


@dataclass
class Handover:
    """What ``run-plan --watch`` computed, for the controller's process."""

    settings: ClusterSettings
    rules: Rules
    options: ControllerOptions
    local: Instance | None
    applications: tuple[str, ...]
    json_lines: bool
    #: stderr is a terminal: names' control characters are written visibly (as ``Terminal.err``)
    err_tty: bool = False


# ------------------------------------------------------------------------------------------ text

def stamp() -> str:
    """Local time with milliseconds, for log lines."""
    return iso_time(time.time())


# ------------------------------------------------------------------------------------------ streams

def outputs_gone() -> None:
    """stderr is gone too: nothing can be logged any more, and the supervisord whose pipes these were is
    gone (a restarted one starts a new controller beside this one): exit 1 rather than act unseen."""
    silence(sys.stdout)
    silence(sys.stderr)
    raise SystemExit(int(ExitCode.FAILED))


def write_line(stream: Any, line: str) -> None:
    """One line, flushed (as ``click.echo``)."""
    stream.write(line + "\n")
    stream.flush()


# ------------------------------------------------------------------------------------------ memory

_TRIM: list[Any] = []


def release_freed_memory() -> bool:
    """Give the pages of memory freed since back to the system (glibc's ``malloc_trim``: a burst of
    answers parsed together, 80 instances back at once, leaves freed heaps the allocator keeps); a few
    milliseconds, once a minute. False where there is no such call (another C library)."""
    if not _TRIM:
        try:
            import ctypes

            _TRIM.append(ctypes.CDLL(None).malloc_trim)
        except (OSError, AttributeError, ImportError):
            _TRIM.append(None)
    if _TRIM[0] is None:
        return False
    _TRIM[0](0)
    return True


# ------------------------------------------------------------------------------------------ the loop

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
                 json_lines: bool, err_tty: bool = False) -> None:
        self.controller = controller
        self.session = session
        self.local = local
        self.json_lines = json_lines
        self.err_tty = err_tty
        self.stdout_open = True
        self.cycles = 0
        self._interval = controller.options.interval
        self._rested = 0.0
        self._last_state = ""
        self._last_beat = time.monotonic()
        #: the id of the status at the last trim (not the status: it would stay alive), and when
        self._trimmed = (id(None), self._last_beat)

    def skipped(self, seconds: float) -> None:
        """A cycle skipped at rest is a cycle with nothing due: counted (the log's and state line's cycles)."""
        self._rested += seconds
        whole = int(self._rested / self._interval + 1e-6)
        self.cycles += whole
        self._rested -= whole * self._interval

    def log(self, event: Event) -> None:
        try:
            if self.json_lines:
                write_line(sys.stderr, json.dumps({"time": stamp(), **event.to_dict()}))
            else:
                line = f"{stamp()} {event.line()}"
                write_line(sys.stderr, visible(line) if self.err_tty else line)
        except (OSError, ValueError):  # stderr closed too: see outputs_gone
            outputs_gone()

    def stdout_closed(self, why: str) -> None:
        """stdout's reader has gone: say it on stderr once, and go on deciding without state lines."""
        from supv_cli.controller.events import EventKind
        from supv_cli.plan.run_types import Event

        self.stdout_open = False
        silence(sys.stdout)
        self.log(Event(EventKind.ERROR, "controller", f"stdout closed ({why}): no more state lines (supv "
                       "instances and supv controller status no longer see this controller's role); still deciding"))

    def on_events(self, events: Sequence[Event]) -> None:
        """After each cycle: its events logged, then the state line when it changed (or a heartbeat)."""
        from supv_cli.controller.events import EventKind
        from supv_cli.plan.run_types import Event

        self.cycles += 1
        if stream_gone(sys.stderr):
            outputs_gone()
        if self.stdout_open and stream_gone(sys.stdout):  # noticed within a cycle, not at the next state line
            self.stdout_closed("its reader has gone")
        for event in events:
            self.log(event)
        known = self.known()
        beat = time.monotonic() - self._last_beat >= HEARTBEAT
        if beat:  # proof of life, also in the state line that `supv instances` reads
            self._last_beat = time.monotonic()
            role = "acting" if known["acting"] else "standby"
            self.log(Event(EventKind.ALIVE, "controller", f"{self.cycles} cycles, {role}"))
        self.trim(beat)
        state = json.dumps(known, sort_keys=True)
        if (state != self._last_state or beat) and self.stdout_open:  # one line each time what it knows changes
            self._last_state = state
            self.write_state_line(known)

    def trim(self, beat: bool) -> None:
        """Freed memory back to the system (:func:`release_freed_memory`, about a millisecond at 300 x 40):
        at each heartbeat, and at most every :data:`TRIM_EVERY` seconds after an evaluation made a new
        status (the old answers and statuses freed leave heaps the allocator keeps: 7 MB at 300 x 40)."""
        status, when = self._trimmed
        now = time.monotonic()
        if beat or (id(self.controller.status) != status and now - when >= TRIM_EVERY):
            self._trimmed = (id(self.controller.status), now)
            release_freed_memory()

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
            write_line(sys.stdout, state_line.encode(stamp(), self.local.nick if self.local else None, self.cycles,
                                                     known))
        except (OSError, ValueError) as error:  # EPIPE, or a closed file
            self.stdout_closed(getattr(error, "strerror", None) or str(error) or type(error).__name__)


def serve(handover: Handover, session: ClusterSession | None = None, note: str | None = None) -> None:
    """Run the controller until SIGTERM / Ctrl-C (:class:`CommandFailed` 130 on Ctrl-C); ``note``: a line
    for the log before the start (why it runs in place)."""
    from supv_cli.cluster.session import ClusterSession
    from supv_cli.controller.core import Controller
    from supv_cli.controller.events import EventKind
    from supv_cli.controller.loop import GracefulStop, Stopped, resting, watch
    from supv_cli.controller.pacing import at_rest, paced_snapshots
    from supv_cli.plan.run_types import Event

    options, local = handover.options, handover.local
    session = session if session is not None else ClusterSession(handover.settings)
    instances = handover.settings.instances
    controller = Controller(handover.rules, instances, local, options, only=frozenset(handover.applications))
    output = ControllerOutput(controller, session, local, handover.json_lines, handover.err_tty)
    log = output.log

    snapshots = with_leader_state(controller, session, paced_snapshots(controller, session.poller))
    # SIGTERM (supervisord stopping the controller): the cycle in progress ends, then exit 0; at rest,
    # cycles that would ask nothing are skipped, a closed connection ends the wait (loop.py)
    stop = GracefulStop(sleep=resting(session.poller.rest, at_rest(controller, session.poller, options.interval),
                                      skipped=output.skipped))
    signal.signal(signal.SIGTERM, stop.request)
    if note:
        log(Event(EventKind.ERROR, "controller", note))
    where = f"on {local.nick}" if local else "alone (not started by a supervisord of the list)"
    log(Event(EventKind.START, "controller", f"{where}: watching {len(instances)} instances every "
              f"{options.interval:g}s"))
    try:
        # an instance the session would skip after a timeout is asked anyway: a missed poll is a poll
        # made and not answered (--lost-after), never one skipped
        session.poller.ask_all = True
        watch(controller, snapshots, session.send, output.on_events, sleep=stop.sleep)
    except Stopped:
        log(Event(EventKind.STOP, "controller", f"SIGTERM: stopped after {output.cycles} cycles"))
    except KeyboardInterrupt:
        raise CommandFailed(ExitCode.INTERRUPTED) from None


# ------------------------------------------------------------------------------------------ re-execution

def can_reexecute() -> bool:
    """Whether this process may become the lean controller: it is a process of its own (its stdout and
    stderr are the real file descriptors 1 and 2, not a test's capture), ``python -m`` with PYTHONPATH
    can start it, and ``SUPV_CONTROLLER_LEAN`` is not 0."""
    if os.environ.get(ENV_LEAN, "1").strip() in ("0", "no", "false"):
        return False
    if getattr(sys, "frozen", False) or sys.flags.isolated or sys.flags.ignore_environment:
        return False  # no ``python -m`` (a frozen program), or PYTHONPATH would not be read
    try:
        return sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2 and bool(sys.executable)
    except (AttributeError, OSError, ValueError):
        return False


def handover_fd(handover: Handover) -> int:
    """A readable, inheritable file descriptor holding ``handover`` pickled: a memfd, else an unlinked
    temporary file (only this process and its new program can read either)."""
    data = pickle.dumps(handover, protocol=pickle.HIGHEST_PROTOCOL)
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("supv-controller")  # not inheritable until said so
    else:
        import tempfile

        handle, path = tempfile.mkstemp(prefix="supv-controller-")  # mode 0600
        os.unlink(path)
        fd = handle
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def reexecute(handover: Handover) -> str:
    """Become ``python -m supv_cli.controller FD`` (never returns when that works); else the reason
    it failed, for the log, and the controller runs in place."""
    try:
        fd = handover_fd(handover)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as error:
        return f"not re-executed into the lean controller ({type(error).__name__}: {error}): running in place"
    import supv_cli

    root = os.path.dirname(os.path.dirname(os.path.abspath(supv_cli.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    env.setdefault("MALLOC_ARENA_MAX", MALLOC_ARENAS)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        os.execve(sys.executable, [sys.executable, "-m", "supv_cli.controller", str(fd)], env)
    except OSError as error:
        os.close(fd)
        return f"not re-executed into the lean controller ({error.strerror or error}): running in place"
    raise AssertionError("unreachable")  # pragma: no cover


def read_handover(fd: int) -> Handover:
    """The handover pickled on ``fd`` (read to its end, then closed)."""
    chunks = []
    try:
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:  # not seekable (a pipe given by hand)
        pass
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    handover = pickle.loads(b"".join(chunks))
    if not isinstance(handover, Handover):
        raise TypeError(f"not a controller handover: {type(handover).__name__}")
    return handover


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m supv_cli.controller FD``: the controller, from what ``run-plan --watch`` handed over."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0].isdigit():
        write_line(sys.stderr, "supv: error: python -m supv_cli.controller FD is started by "
                               "`supv run-plan --watch`, not by hand")
        return int(ExitCode.USAGE)
    try:
        handover = read_handover(int(args[0]))
    except Exception as error:  # nothing of it is usable: say why in one line
        write_line(sys.stderr, f"supv: error: the controller's handover could not be read "
                               f"({type(error).__name__}: {error})")
        return int(ExitCode.FAILED)
    try:
        serve(handover)
    except CommandFailed as failed:
        return int(failed.exit_code)
    except BrokenPipeError:
        silence(sys.stdout)
    return int(ExitCode.OK)

