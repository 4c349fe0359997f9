"""The application object: what one run of ``supv`` knows, passed to every command with ``click.pass_obj``.

The root group creates one :class:`App`; ``cluster_options`` and ``output_options`` (cli/options.py)
fill its ``cluster`` and ``fmt``. Everything else is computed on first use: the settings (``-c`` file
merged with the command line), the rules, the :class:`~supv_cli.cluster.session.ClusterSession`. Their
warnings go to stderr once. A new command::

    @click.command("top")
    @cluster_options
    @output_options
    @click.pass_obj
    def top(app: App, ...) -> None:
        status = app.status()                    # snapshot + evaluate; unreachable reported once;
                                                 # exit 3 when no instance answered
        rules = app.require_rules()              # ConfigError (exit 2) without -r/-c rules
        results = app.session.send(requests)     # every call goes through the session
        app.emit(View(data=..., tables=...))     # the one output path (json / plain / table)
        raise CommandFailed(ExitCode.FAILED)     # an exit code without a message; never sys.exit

Exit codes come only from exceptions (``SupvError`` subclasses), turned into a line and a code by the
one error boundary in cli/__init__.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from supv_cli.cli.output import View, render, warn
from supv_cli.cli.terminal import Terminal
from supv_cli.errors import ClusterError

if TYPE_CHECKING:
    from supv_cli.cluster.session import ClusterSession
    from supv_cli.cluster.settings import ClusterOptions, ClusterSettings
    from supv_cli.model.instances import InstanceList
    from supv_cli.model.snapshot import InstanceSnapshot, Snapshot
    from supv_cli.rules import Rules
    from supv_cli.selection import Selection
    from supv_cli.status import ClusterStatus

@dataclass
class App:
    """Settings, rules (lazily), the cluster session and the output format of one command run."""

    #: set by ``cluster_options``; None for a command without them (the defaults then apply)
    cluster: ClusterOptions | None = None
    fmt: str = "plain"
    #: where the output goes: colour, width, NO_COLOR and the escaping of text from the cluster
    terminal: Terminal = field(default_factory=Terminal.detect)
    _settings: ClusterSettings | None = field(default=None, repr=False)
    _rules: Rules | None = field(default=None, repr=False)
    _rules_loaded: bool = field(default=False, repr=False)
    _session: ClusterSession | None = field(default=None, repr=False)
    #: nick -> what the controllers kept of an instance that stopped answering (read once per command):
    #: JSON records from a state line, checked by ``answer_of_records``
    _kept: dict[str, object] | None = field(default=None, repr=False)

    # ------------------------------------------------------------------------------ what it knows
    @property
    def settings(self) -> ClusterSettings:
        """The cluster settings (``-c`` file and command line merged); their warnings printed once."""
        if self._settings is None:
            from supv_cli.cluster.settings import ClusterOptions, resolve_settings

            self._settings = resolve_settings(self.cluster or ClusterOptions())
            for line in self._settings.warnings:
                warn(line)
        return self._settings

    def replace_settings(self, **changes: Any) -> None:  # Any: fields of ClusterSettings, each its own type
        """Change resolved settings before the session is made (``run-plan --watch``'s own timeout)."""
        from dataclasses import replace

        self._settings = replace(self.settings, **changes)

    @property
    def instances(self) -> InstanceList:
        return self.settings.instances

    @property
    def rules(self) -> Rules | None:
        """The rules, bound to the instances, loaded on first use; None when no rules file is given."""
        if not self._rules_loaded:
            from supv_cli.rules import StartingStrategy, load_rules

            settings = self.settings
            self._rules_loaded = True
            if settings.rules_files:
                strategy = StartingStrategy(settings.default_starting_strategy or "CONFIG")
                self._rules = load_rules(settings.rules_files, settings.instances or None, strategy)
        return self._rules

    def require_rules(self) -> Rules:
        """The rules, or a ConfigError (exit 2) saying why there are none: no rules file given, or what
        was given (``-r``, ``SUPV_RULES``, a file's ``rules_files``) matched no file."""
        if self.rules is None:
            self.settings.require_rules()  # raises: without rules there are no rules files
        assert self.rules is not None
        return self.rules

    @property
    def session(self) -> ClusterSession:
        """The one cluster session of this command (a ConfigError when there are no instances)."""
        if self._session is None:
            from supv_cli.cluster.session import ClusterSession

            self.settings.require_instances()
            self._session = ClusterSession(self.settings)
        return self._session

    # ------------------------------------------------------------------------------ what it does
    def snapshot(self, with_config: bool = True, need_answer: bool = True) -> Snapshot:
        """A new snapshot; unreachable instances reported (once each); exit 3 when none answered and
        ``need_answer``."""
        snapshot = self.session.snapshot(with_config=with_config)
        self.report_unreachable(snapshot)
        if need_answer:
            require_an_answer(snapshot, self.settings.instances_source)
        return snapshot

    def status(self, with_config: bool = False, need_answer: bool = True) -> ClusterStatus:
        """A new snapshot evaluated with the rules (when any); notes of the evaluation on stderr."""
        from supv_cli.status import evaluate

        self.settings.require_instances()  # "no instances" comes before anything about the rules
        rules = self.rules
        snapshot = self.fill(self.snapshot(with_config=with_config, need_answer=need_answer))
        status = evaluate(rules, snapshot)
        for note in status.notes:
            warn(note)
        return status

    def fill(self, snapshot: Snapshot) -> Snapshot:
        """``snapshot`` with what is known of the instances that did not answer (``unanswered.py``):
        an application whose only instance is down is still listed."""
        from supv_cli.unanswered import fill_unanswered

        return fill_unanswered(snapshot, self.rules, self.instances, self.last_answers(snapshot))

    def last_answers(self, snapshot: Snapshot) -> dict[str, InstanceSnapshot]:
        """nick -> what each instance last answered: in this command, else (for an instance silent since
        the command began) what a running supv controller kept of it in its state line."""
        from supv_cli.unanswered import answer_of_records

        last = dict(self.session.last_answers())
        missing = [snap.instance for snap in snapshot.unreachable if snap.instance.nick not in last]
        if not missing:
            return last
        if self._kept is None:  # asked once per command: the controllers' log tails
            self._kept = {}
            for state in self.session.controller_states(snapshot).values():
                for nick, records in (state.get("last_known") or {}).items():
                    self._kept.setdefault(nick, records)
        for instance in missing:
            answer = answer_of_records(instance, self._kept.get(instance.nick))
            if answer is not None:
                last[instance.nick] = answer
        return last

    def select(self, words: Sequence[str], snapshot: Snapshot, applications: bool = False,
               **options: bool) -> Selection:
        """What ``words`` name in ``snapshot`` (filled in: see :meth:`fill`), by the one grammar of every
        command (``supv_cli/selection.py``): process words, or application words with ``applications``;
        ``options``: ``globs``, ``empty_is_all``, ``anywhere``."""
        from supv_cli.selection import catalogue_of, select_applications, select_processes, silence_of

        silence = silence_of(snapshot, self.rules if snapshot.unreachable else None, self.instances)
        select = select_applications if applications else select_processes
        return select(words, catalogue_of(snapshot), silence, **options)

    def conclude(self, selection: Selection, kind: str = "process", said: bool = False) -> None:
        """After what was found is shown: warn about the words that may be on silent instances, then
        raise the selection's error (exit 2 unknown, 3 maybe on a silent instance); nothing when every
        word was found."""
        for line in selection.warnings():
            warn(line)
        error = selection.error(kind, said)
        if error is not None:
            raise error

    def report_unreachable(self, snapshot: Snapshot, not_running: bool = True) -> None:
        """One warning per instance that did not answer (once per command: call it after every poll)
        and, with ``not_running``, per instance that answered but is not RUNNING."""
        from supv_cli.cluster.client import instance_label
        from supv_cli.model.snapshot import SupervisorState

        for health in self.session.unreported():
            warn(self.session.line(health))
        for snap in snapshot.instances if not_running else ():
            if snap.reachable and snap.state != SupervisorState.RUNNING:
                warn(f"{instance_label(snap.instance)}: {snap.reason or snap.state}")

    def emit(self, view: View) -> None:
        """Print a view on stdout in the command's format."""
        render(view, self.fmt, self.terminal)


def unanswered_reasons(snapshot: Snapshot) -> dict[str, str]:
    """Why each instance of ``snapshot`` that did not answer did not (nick -> reason)."""
    return {snap.instance.nick: snap.reason or snap.state for snap in snapshot.unreachable}


def require_an_answer(snapshot: Snapshot, source: str = "-i / SUPV_INSTANCES") -> None:
    """Exit 3 when no instance answered at all: there is nothing to show or act on. ``source``: where
    the instances came from (-i, SUPV_INSTANCES, an inventory), the place to check first."""
    if snapshot.instances and not snapshot.reachable:
        count = len(snapshot.instances)
        raise ClusterError(f"no instance answered ({count} unreachable): check {source}, the "
                           "credentials and that supervisord is running")
