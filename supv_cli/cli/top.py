"""``supv top``: a live dashboard of the cluster (rich), or one frame printed when not on a terminal."""

from __future__ import annotations

import errno
import os
import select
import sys
import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.options import Seconds, cluster_options
from supv_cli.cluster import SAMPLER_PROGRAM

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.status import ClusterStatus

#: seconds between two reads of the controllers' state lines (a 16 KiB log tail each)
ROLES_EVERY = 5.0
#: how many events a dashboard keeps
EVENTS_KEPT = 100
#: the width of a frame printed in a pipe when COLUMNS does not say
PIPE_WIDTH = 80
#: seconds between two full redraws of a frame that did not change (meanwhile only its header line is
#: written again, for its clock): a full redraw costs rich ~10 ms, more than a poll
REDRAW_EVERY = 60.0


#: what writing to, reading from or setting a terminal that went away raises (its window closed, the
#: ssh connection dropped without a SIGHUP reaching us)
TERMINAL_GONE = (errno.EIO, errno.ENXIO, errno.EPIPE, errno.EBADF)


class TerminalGone(Exception):
    """The terminal top draws on went away (EIO, EOF on its keyboard): top quits."""


class Keys:
    """Single key presses on a terminal's stdin (cbreak mode, restored by :meth:`close`); on anything
    else, a plain sleep."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.saved: Any = None  # Any: termios attributes (a list of ints and of a list of bytes)
        if sys.stdin.isatty():
            import termios
            import tty

            self.fd = sys.stdin.fileno()
            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def wait(self, seconds: float) -> bool:
        """Wait ``seconds``; True as soon as ``q`` is pressed."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if self.fd is None:
                time.sleep(max(0.0, remaining))
                return False
            if remaining <= 0:
                return False
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            try:
                pressed = os.read(self.fd, 64)
            except OSError as error:
                raise TerminalGone(error.strerror or str(error)) from None
            if not pressed:  # end of file in cbreak mode: the terminal hung up
                raise TerminalGone("its keyboard closed")
            if b"q" in pressed.lower():
                return True

    def close(self) -> None:
        if self.fd is not None:
            import termios

            fd, self.fd = self.fd, None
            try:
                termios.tcsetattr(fd, termios.TCSADRAIN, self.saved)
            except (termios.error, OSError):  # the terminal went away: nothing to restore
                pass


def roles_of(app: App, snapshot: Snapshot) -> dict[str, str]:
    """nick -> ``acting`` / ``standby`` for the instances running a supv controller."""
    states = app.session.controller_states(snapshot)
    return {nick: "acting" if state.get("acting") else "standby" for nick, state in states.items()}


@click.command("top", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@click.option("--interval", type=Seconds(min=0.1), default=1.0, show_default=True, metavar="SECONDS",
              help="Seconds between two refreshes.")
@click.option("--once", is_flag=True, help="Print one frame and exit (also when stdout is not a terminal).")
@click.pass_obj
def top(app: App, interval: float, once: bool) -> None:
    """Live dashboard of the cluster: applications, instances, conflicts and the last events.

    Refreshed every --interval seconds from the same polls as the controller (run-plan --watch):
    the applications (state, operational status LED, major and minor failure, from the rules -r), the
    instances (state, load as a bar against the 100 % cap, the host's measured CPU and memory where a
    sampler runs (supv sampler), running/total processes, the role of the supv controller running
    there: acting or standby; both read every 5 s), the conflicts (managed processes
    active on several instances) and the last changes seen (as supv events prints them). The frame is
    redrawn when something in it changes; otherwise only its header line is, for its clock.
    Press q or Ctrl-C to quit; the terminal is restored.

    On a terminal shorter than the frame, the rows that need attention are kept (an application not
    RUNNING or failing, an instance not RUNNING or running a controller) and the others are summarised
    in one line, e.g. '+ 22 more instances: 22 RUNNING, load 0-45 %'; the events get the rest (3 at
    least). With --once, or when stdout is not a terminal, one whole frame is printed (nothing cut,
    80 columns unless COLUMNS says otherwise) and top exits.

    \b
    Exit status: 0 quit with q or printed once; 2 usage or configuration error; 3 no instance
    answered (--once); 130 interrupted (Ctrl-C).

    \b
    Examples:
      supv top -c etc/supv.conf
      supv top -c etc/supv.conf --once > frame.txt
      watch -n 5 'COLUMNS=100 supv top -c etc/supv.conf --once'
    """
    from supv_cli.cli.polling import use_watch_timeout

    use_watch_timeout(app)
    if once or not app.terminal.out_tty:
        print_once(app, interval)
        return
    try:
        run_live(app, interval)
    except TerminalGone as gone:  # nobody looks any more: quit quietly, exit 0 (as a closed pipe)
        from supv_cli.cli.output import silence_stdout

        silence_stdout()
        try:
            click.echo(f"supv: top: the terminal went away ({gone}); quit", err=True)
        except (OSError, ValueError):
            pass


def print_once(app: App, interval: float) -> None:
    """One whole frame on stdout (warnings on stderr); exit 3 when no instance answered."""
    import shutil

    from supv_cli.cli.instances import measured_hosts
    from supv_cli.cli.top_render import text_lines
    from supv_cli.look.dashboard import build_frame

    status = app.status(with_config=False)
    width = shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    measured = measured_hosts(app, status.snapshot, SAMPLER_PROGRAM)
    frame = build_frame(status, roles_of(app, status.snapshot), (), interval, measured)
    for line in text_lines(frame, width, color=app.terminal.color):
        click.echo(line)


class Board:
    """What the live frame is built from, kept from one poll to the next: the status (evaluated again
    only when the answers changed), the last events, the controllers' roles and the hosts' figures (read
    every ROLES_EVERY), and the frame (built again only when one of them changed)."""

    def __init__(self, app: App, rules: Any, interval: float) -> None:
        from supv_cli.cluster.stats import StatsReader
        from supv_cli.look.changes import ChangeDetector

        self.app = app
        self.rules = rules
        self.interval = interval
        self.detector = ChangeDetector()
        self.events: deque[Any] = deque(maxlen=EVENTS_KEPT)
        self.roles: dict[str, str] = {}
        self.stats = StatsReader(app.session, SAMPLER_PROGRAM)  # the hosts' CPU and memory, read with the roles
        self.measured: dict[str, tuple[float | None, float | None]] = {}
        self.roles_read = -ROLES_EVERY
        self.previous: Snapshot | None = None
        self.status: ClusterStatus | None = None
        self.conflicts: dict[str, tuple[str, ...]] | None = None  # of status
        self.seen = 0  # events seen so far (the deque keeps the last ones)
        self.built: tuple[Any, ...] = ()  # what the frame was built from
        self.built_frame: Any = None

    def frame(self, snapshot: Snapshot, height: int) -> Any:
        """The frame of ``snapshot`` for a screen ``height`` lines high."""
        from supv_cli.cluster.polling import same_answers
        from supv_cli.look.changes import conflicts_in
        from supv_cli.look.dashboard import build_frame, fit
        from supv_cli.look.stats import host_figures
        from supv_cli.status import evaluate

        if self.status is None or not same_answers(snapshot, self.previous):  # the answers changed
            self.status = evaluate(self.rules, self.app.fill(snapshot))
            self.conflicts = conflicts_in(self.status) if self.rules is not None else None
        self.previous = snapshot
        changes = self.detector.feed(snapshot, self.conflicts)
        self.events.extend(changes)
        self.seen += len(changes)
        if time.monotonic() - self.roles_read >= ROLES_EVERY:
            self.roles, self.roles_read = roles_of(self.app, snapshot), time.monotonic()
            self.measured = {nick: host_figures(report) for nick, report in self.stats.read(snapshot).items()
                             if report.sample is not None}
        # a quiet cluster gives the same status object: its frame is not built again
        key = (self.roles, self.seen, height, self.measured)
        if not self.built or self.built[0] is not self.status or self.built[1:] != key:
            self.built_frame = fit(build_frame(self.status, self.roles, list(self.events), self.interval,
                                               self.measured), height)
            self.built = (self.status, *key)
        return self.built_frame


def run_live(app: App, interval: float) -> None:
    """Refresh a full-screen frame until q (or Ctrl-C); the screen and the terminal are restored.
    Nothing is written on stderr meanwhile (it would tear the frame): unreachable instances are in it."""
    from rich.live import Live

    from supv_cli.cli.polling import snapshots
    from supv_cli.cli.top_render import HeaderLine, render

    app.session  # noqa: B018  ("no instances" is an error before the screen is taken)
    rules = app.rules  # loaded, and its warnings said, before the screen is taken
    console = app.terminal.console()  # NO_COLOR: no colour, and no bold, dim or underline either
    board = Board(app, rules, interval)
    keys = Keys()
    header = HeaderLine(console)
    drawn: tuple[Any, ...] | None = None  # the frame drawn in full (without its time), and the size
    drawn_at = float("-inf")
    try:
        with Live(console=console, screen=True, auto_refresh=False, transient=True) as live:
            for snapshot in snapshots(app, interval, wait=keys.wait):
                frame = board.frame(snapshot, console.height)
                # a full redraw costs rich more than a poll: only when the frame changed (or every
                # REDRAW_EVERY); otherwise only the header line, whose clock says the frame is current
                timed = replace(frame, taken_at=snapshot.taken_at)
                key = (replace(frame, taken_at=0.0), console.width, console.height)  # resized: in full
                if key != drawn or time.monotonic() - drawn_at >= REDRAW_EVERY:
                    live.update(render(timed, live=True), refresh=True)
                    drawn, drawn_at = key, time.monotonic()
                else:
                    header.draw(timed)
    except OSError as error:  # writing to a terminal that went away (rich restoring it on the way out too)
        if error.errno not in TERMINAL_GONE:
            raise
        raise TerminalGone(error.strerror or str(error)) from None
    finally:
        keys.close()
