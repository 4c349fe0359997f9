"""One selection of names for every command (cli.md "Names"). Pure: no network, no click.

The grammar is supervisor's ``split_namespec``: ``APP:PROC`` is one process, ``APP:*`` (or ``APP:``)
every process of the application, and a bare ``NAME`` is ``NAME:NAME``. Commands that say so take
shell globs in either part (``sstatus 'web*:*'``). ``all`` is everything, and the words after it are
still checked. Commands that take applications (``application-info``, the plans, ``wait``) read each
word as an application name.

Each word is **found** (what it selects, in argument order, without repeats), **unknown** (exit 2,
with a hint such as ``did you mean NAME:*`` when NAME is an application), or **maybe** on an instance
that did not answer (exit 3): known only from such an instance (listed from what is known), or known
by none but possibly there. :attr:`Selection.exit_code` is the one place that decides it; the commands
say what they found, then raise :meth:`Selection.error`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from supv_cli.errors import ClusterError, CommandFailed, ExitCode, SupvError, UsageError, unknown_names

if TYPE_CHECKING:
    from supv_cli.model.instances import InstanceList
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.rules import Rules

#: application -> its process names, in discovery order
Catalogue = Mapping[str, Sequence[str]]
#: the word that selects every application
ALL = "all"
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class Name:
    """One word parsed: ``process`` None means every process of the application."""

    word: str
    application: str
    process: str | None


def split_namespec(word: str) -> Name:
    """``APP:PROC`` -> (APP, PROC); ``APP:*`` and ``APP:`` -> (APP, None); ``NAME`` -> (NAME, NAME)."""
    application, colon, process = word.partition(":")
    if not colon:
        return Name(word, word, word)
    return Name(word, application, None if process in ("", "*") else process)


def is_glob(text: str) -> bool:
    return any(char in _GLOB for char in text)


@dataclass(frozen=True)
class Unknown:
    """A word that names nothing (exit 2). ``application_known``: the application exists, not the
    process."""

    word: str
    application: str
    process: str | None
    application_known: bool
    hint: str = ""

    @property
    def namespec(self) -> str:
        return f"{self.application}:{self.process if self.process is not None else '*'}"

    def hinted(self, text: str) -> str:
        return f"{text}; did you mean {self.hint}?" if self.hint else text


@dataclass(frozen=True)
class Maybe:
    """A word that may name something on instances that did not answer (exit 3): ``listed`` when what is
    known of it is shown (it was found only there), else nothing answering knows it."""

    word: str
    hosts: tuple[str, ...]
    listed: bool
    #: the rules place it on ``hosts`` (else: any silent instance may have it)
    placed: bool = False

    def line(self, reasons: Mapping[str, str]) -> str:
        """The warning that says why the command will exit 3."""
        if not self.listed and not self.placed:
            return f"{self.word}: not known by any answering instance; {', '.join(self.hosts)} did not answer " \
                   "and may have it"
        why = "; ".join(f"{nick}: {reasons.get(nick, 'no answer')}" for nick in self.hosts)
        what = "known only from" if self.listed else "not known by any answering instance; the rules place it on"
        return f"{self.word}: {what} {', '.join(self.hosts)}, which did not answer ({why})"


@dataclass(frozen=True)
class Silence:
    """What the selection needs to know of the instances that did not answer."""

    #: nick -> why it did not answer
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: namespec known only from silent instances (filled in from what is known) -> their nicks
    listed_by: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: application -> the silent nicks where the rules place it (a managed application nobody knows)
    placed: Callable[[str], Sequence[str]] = field(default=lambda application: ())


@dataclass(frozen=True)
class Selection:
    """What the words of one command select, and the exit code they deserve."""

    words: tuple[str, ...]
    #: the namespecs selected (process commands), argument order, no repeats
    processes: tuple[str, ...]
    #: the applications selected (the applications of ``processes`` for process commands)
    applications: tuple[str, ...]
    unknown: tuple[Unknown, ...] = ()
    maybe: tuple[Maybe, ...] = ()
    #: no word, or ``all``: everything was selected
    everything: bool = False
    #: the catalogue the words were looked up in (for the "known:" of messages)
    catalogue: Catalogue = field(default_factory=dict, repr=False, compare=False)
    reasons: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def by_application(self) -> dict[str, list[str]]:
        """application -> process names selected (argument order)."""
        grouped: dict[str, list[str]] = {}
        for namespec in self.processes:
            application, _, process = namespec.partition(":")
            grouped.setdefault(application, []).append(process)
        return grouped

    @property
    def exit_code(self) -> ExitCode:
        """2 when a word names nothing (and no silent instance may have it), else 3 when a word may name
        something on an instance that did not answer, else 0."""
        if self.unknown:
            return ExitCode.USAGE
        if self.maybe:
            return ExitCode.UNREACHABLE
        return ExitCode.OK

    def warnings(self) -> list[str]:
        """One line per word that may be on a silent instance (say them before :meth:`error`)."""
        return [maybe.line(self.reasons) for maybe in self.maybe if maybe.listed or maybe.placed]

    def unknown_lines(self, kind: str = "process") -> list[str]:
        """One line per unknown word (``kind`` application: one line for every unknown application)."""
        lines: list[str] = []
        if kind == "application":
            plain = [u.word for u in self.unknown if not u.hint]
            if plain:
                lines.append(str(unknown_names("application", plain, list(self.catalogue))))
            return lines + [u.hinted(str(unknown_names("application", [u.word], list(self.catalogue))))
                            for u in self.unknown if u.hint]
        for unknown in self.unknown:
            if unknown.application_known:
                known = [f"{unknown.application}:{name}" for name in self.catalogue.get(unknown.application, ())]
                lines.append(unknown.hinted(str(unknown_names("process", [unknown.namespec], known))))
            else:
                lines.append(unknown.hinted(str(unknown_names("application", [unknown.application],
                                                              list(self.catalogue)))))
        return lines

    def error(self, kind: str = "process", said: bool = False) -> SupvError | None:
        """The error to raise once what was found is shown: exit 2 naming each unknown word (``said``:
        the command printed its own lines, only the code is left), exit 3 for the words that may be on
        a silent instance (their warnings said first), None when every word was found."""
        if self.unknown:
            if said:
                return CommandFailed(ExitCode.USAGE)
            lines = self.unknown_lines(kind)
            error: SupvError = UsageError(lines[0])
            error.errors = lines  # type: ignore[attr-defined]  # the error boundary prints each line
            return error
        if not self.maybe:
            return None
        listed = [maybe.word for maybe in self.maybe if maybe.listed or maybe.placed]
        hidden = [maybe.word for maybe in self.maybe if not (maybe.listed or maybe.placed)]
        lines = []
        if listed:
            lines.append(f"{', '.join(listed)}: an instance it needs did not answer; what is shown comes from the "
                         "rules, the other instances or its last answer")
        if hidden:
            what = "application" if kind == "application" else "name"
            lines.append(str(unknown_names(what, hidden, list(self.catalogue), len(self.reasons))))
        error = ClusterError(lines[0])
        error.errors = lines  # type: ignore[attr-defined]
        return error


# ----------------------------------------------------------------------------------- process words
def select_processes(words: Sequence[str], catalogue: Catalogue, silence: Silence | None = None,
                     globs: bool = False, empty_is_all: bool = True) -> Selection:
    """The processes ``words`` name (NAMESPEC grammar; ``globs``: fnmatch patterns in either part).
    No word (with ``empty_is_all``) or ``all`` selects every process."""
    silence = silence or Silence()
    everything = (not words and empty_is_all) or ALL in words
    found: dict[str, None] = {}
    if everything:
        found.update((f"{app}:{proc}", None) for app, procs in catalogue.items() for proc in procs)
    unknown: list[Unknown] = []
    maybe: list[Maybe] = []
    for word in words:
        if word == ALL:
            continue
        name = split_namespec(word)
        matches = _match_processes(name, catalogue, globs)
        if matches:
            found.update(dict.fromkeys(matches))
            hosts = sorted({nick for namespec in matches for nick in silence.listed_by.get(namespec, ())})
            if hosts:
                maybe.append(Maybe(word, tuple(hosts), listed=True))
            continue
        missing = _missing(name, catalogue, globs, silence)
        if isinstance(missing, Maybe):
            maybe.append(missing)
        else:
            unknown.append(missing)
    if everything:  # what is listed only from silent instances makes "everything" incomplete
        hosts_of: dict[str, set[str]] = {}
        for namespec in found:
            for nick in silence.listed_by.get(namespec, ()):
                hosts_of.setdefault(namespec.partition(":")[0], set()).add(nick)
        named = {m.word.partition(":")[0] for m in maybe}
        maybe += [Maybe(app, tuple(sorted(nicks)), listed=True) for app, nicks in hosts_of.items() if app not in named]
    applications = tuple(dict.fromkeys(namespec.partition(":")[0] for namespec in found))
    return Selection(tuple(words), tuple(found), applications, tuple(unknown), tuple(maybe), everything,
                     catalogue, silence.reasons)


def _match_processes(name: Name, catalogue: Catalogue, globs: bool) -> list[str]:
    if globs and is_glob(name.application):
        applications = [app for app in catalogue if fnmatchcase(app, name.application)]
    else:
        applications = [name.application] if name.application in catalogue else []
    found = []
    for application in applications:
        for process in catalogue[application]:
            if name.process is None or process == name.process or (
                    globs and is_glob(name.process) and fnmatchcase(process, name.process)):
                found.append(f"{application}:{process}")
    return found


def _missing(name: Name, catalogue: Catalogue, globs: bool, silence: Silence) -> Unknown | Maybe:
    """A word that matched nothing: may it be on a silent instance (Maybe), or is it unknown? A bare
    application name is unknown whatever answered: what was meant is clear (``did you mean APP:*?``)."""
    if silence.reasons and not (":" not in name.word and name.word in catalogue):
        placed = tuple(silence.placed(name.application)) if not is_glob(name.application) else ()
        if placed:
            return Maybe(name.word, placed, listed=False, placed=True)
        return Maybe(name.word, tuple(silence.reasons), listed=False)
    application_known = name.application in catalogue
    return Unknown(name.word, name.application, name.process, application_known, _process_hint(name, catalogue))


def _process_hint(name: Name, catalogue: Catalogue) -> str:
    """``did you mean`` for a word that names nothing: the application's ``NAME:*`` for a bare name that
    is an application, the processes of that name in other applications."""
    if ":" in name.word:
        return ""
    if name.word in catalogue:
        return f"{name.word}:*"
    others = [f"{app}:{name.word}" for app, procs in catalogue.items() if name.word in procs]
    return " or ".join(others[:3])


# ----------------------------------------------------------------------------------- application words
def select_applications(words: Sequence[str], catalogue: Catalogue, silence: Silence | None = None,
                        globs: bool = False, anywhere: bool = True, empty_is_all: bool = True) -> Selection:
    """The applications ``words`` name, each an application name (``globs``: fnmatch patterns). No word
    (with ``empty_is_all``) or ``all`` selects every application. ``anywhere``: an unknown name may be on
    any silent instance (a command that takes any group); else only where the rules place it."""
    silence = silence or Silence()
    everything = (not words and empty_is_all) or ALL in words
    found: dict[str, None] = dict.fromkeys(catalogue) if everything else {}
    unknown: list[Unknown] = []
    maybe: list[Maybe] = []
    listed_hosts: dict[str, set[str]] = {}
    for namespec, nicks in silence.listed_by.items():
        listed_hosts.setdefault(namespec.partition(":")[0], set()).update(nicks)
    for word in words:
        if word == ALL:
            continue
        if globs and is_glob(word):
            matches = [app for app in catalogue if fnmatchcase(app, word)]
        else:
            matches = [word] if word in catalogue else []
        if matches:
            found.update(dict.fromkeys(matches))
            continue
        placed = tuple(silence.placed(word)) if silence.reasons and not is_glob(word) else ()
        if placed:
            maybe.append(Maybe(word, placed, listed=False, placed=True))
        elif silence.reasons and anywhere:
            maybe.append(Maybe(word, tuple(silence.reasons), listed=False))
        else:
            unknown.append(Unknown(word, word, None, False, _application_hint(word, catalogue)))
    maybe += [Maybe(app, tuple(sorted(listed_hosts[app])), listed=True) for app in found if app in listed_hosts]
    processes = tuple(f"{app}:{proc}" for app in found for proc in catalogue[app])
    return Selection(tuple(words), processes, tuple(found), tuple(unknown), tuple(maybe), everything,
                     catalogue, silence.reasons)


def _application_hint(word: str, catalogue: Catalogue) -> str:
    """An application word that is a process (``APP:PROC`` or a process name): its application."""
    application, colon, _ = word.partition(":")
    if colon and application in catalogue:
        return application
    owners = [app for app, procs in catalogue.items() if word in procs]
    return " or ".join(owners[:3])


# ----------------------------------------------------------------------------------- from a snapshot
def catalogue_of(snapshot: Snapshot) -> dict[str, list[str]]:
    """application -> process names of a snapshot (silent instances' filled-in processes included), in
    discovery order (the order of :func:`supv_cli.status.evaluate`)."""
    catalogue: dict[str, dict[str, None]] = {}
    for snap in snapshot.instances:
        for info in snap.processes:
            catalogue.setdefault(info.group, {})[info.name] = None
    return {application: list(names) for application, names in catalogue.items()}


def silence_of(snapshot: Snapshot, rules: Rules | None = None, instances: InstanceList | None = None) -> Silence:
    """What the instances of ``snapshot`` that did not answer leave open: why each did not, what is known
    only from them, where the rules place an application nobody answering knows."""
    from supv_cli.unanswered import silent_hosts

    reasons = {snap.instance.nick: snap.reason or snap.state for snap in snapshot.unreachable}
    if not reasons:
        return Silence()
    answered = {info.namespec for snap in snapshot.reachable for info in snap.processes}
    listed_by: dict[str, list[str]] = {}
    for snap in snapshot.unreachable:
        for info in snap.processes:
            if info.namespec not in answered:
                listed_by.setdefault(info.namespec, []).append(snap.instance.nick)
    if instances is None:
        from supv_cli.model.instances import InstanceList

        instances = InstanceList(snap.instance for snap in snapshot.instances)
    return Silence(reasons, listed_by, lambda application: silent_hosts(snapshot, rules, instances, application))
