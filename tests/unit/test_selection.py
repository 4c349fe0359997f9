"""The one selection of names (supv_cli/selection.py), table-driven, and every command resolving the same
words to the same processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supv_cli.errors import ClusterError, CommandFailed, ExitCode, UsageError
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.selection import (
    Maybe,
    Name,
    Silence,
    Unknown,
    catalogue_of,
    select_applications,
    select_processes,
    silence_of,
    split_namespec,
)
from supv_cli.status import evaluate

from .rules_helpers import rules_from

CATALOGUE = {"web": ["web", "worker_1", "worker_2"], "db": ["db"], "tools": ["report"], "web_ui": ["view"]}


@pytest.mark.parametrize(("word", "name"), [
    ("web:worker_1", Name("web:worker_1", "web", "worker_1")),
    ("web:*", Name("web:*", "web", None)),
    ("web:", Name("web:", "web", None)),
    ("web", Name("web", "web", "web")),          # supervisor's split_namespec: NAME is NAME:NAME
    ("a:b:c", Name("a:b:c", "a", "b:c")),
])
def test_split_namespec(word: str, name: Name) -> None:
    assert split_namespec(word) == name


# (words, globs, processes selected, unknown (word, hint), exit code)
PROCESS_CASES = [
    ([], False, "web:web web:worker_1 web:worker_2 db:db tools:report web_ui:view", [], ExitCode.OK),
    (["web:*"], False, "web:web web:worker_1 web:worker_2", [], ExitCode.OK),
    (["web:"], False, "web:web web:worker_1 web:worker_2", [], ExitCode.OK),
    (["web"], False, "web:web", [], ExitCode.OK),
    (["db", "web:worker_2", "db:db"], False, "db:db web:worker_2", [], ExitCode.OK),   # argument order, once
    (["tools"], False, "", [("tools", "tools:*")], ExitCode.USAGE),                   # an application: hinted
    (["report"], False, "", [("report", "tools:report")], ExitCode.USAGE),            # a process elsewhere
    (["web:nope"], False, "", [("web:nope", "")], ExitCode.USAGE),
    (["nope:*", "db"], False, "db:db", [("nope:*", "")], ExitCode.USAGE),              # the found ones kept
    (["all"], False, "web:web web:worker_1 web:worker_2 db:db tools:report web_ui:view", [], ExitCode.OK),
    (["all", "nope"], False, "web:web web:worker_1 web:worker_2 db:db tools:report web_ui:view",
     [("nope", "")], ExitCode.USAGE),                                                 # names after all: checked
    (["web*:*"], True, "web:web web:worker_1 web:worker_2 web_ui:view", [], ExitCode.OK),
    (["web:worker_*"], True, "web:worker_1 web:worker_2", [], ExitCode.OK),
    (["web:worker_*"], False, "", [("web:worker_*", "")], ExitCode.USAGE),             # no globs: literal
    (["x*:*"], True, "", [("x*:*", "")], ExitCode.USAGE),                             # a glob matching nothing
]


@pytest.mark.parametrize(("words", "globs", "processes", "unknown", "code"), PROCESS_CASES)
def test_select_processes(words: list[str], globs: bool, processes: str, unknown: list[tuple[str, str]],
                          code: ExitCode) -> None:
    selection = select_processes(words, CATALOGUE, globs=globs)
    assert list(selection.processes) == processes.split()
    assert [(u.word, u.hint) for u in selection.unknown] == unknown
    assert selection.maybe == ()
    assert selection.exit_code is code
    assert selection.everything == (not words or "all" in words)


SILENCE = Silence(reasons={"s2": "connection refused"}, listed_by={"web_ui:view": ["s2"]},
                  placed=lambda application: ["s2"] if application == "gui_02" else [])


@pytest.mark.parametrize(("words", "processes", "maybe", "code"), [
    (["db"], "db:db", [], ExitCode.OK),                                        # found where it answered
    (["web_ui:*"], "web_ui:view", [Maybe("web_ui:*", ("s2",), listed=True)], ExitCode.UNREACHABLE),
    (["nope"], "", [Maybe("nope", ("s2",), listed=False)], ExitCode.UNREACHABLE),   # s2 may have it
    (["web_ui"], "", [], ExitCode.USAGE),            # a bare application name: unknown, hinted, whatever answered
    (["gui_02:*"], "", [Maybe("gui_02:*", ("s2",), listed=False, placed=True)], ExitCode.UNREACHABLE),
    ([], None, [Maybe("web_ui", ("s2",), listed=True)], ExitCode.UNREACHABLE),  # everything is incomplete
])
def test_select_processes_with_a_silent_instance(words: list[str], processes: str | None, maybe: list[Maybe],
                                                 code: ExitCode) -> None:
    selection = select_processes(words, CATALOGUE, SILENCE)
    if processes is not None:
        assert list(selection.processes) == processes.split()
    assert list(selection.maybe) == maybe
    assert [u.hint for u in selection.unknown] == (["web_ui:*"] if words == ["web_ui"] else [])
    assert selection.exit_code is code


@pytest.mark.parametrize(("words", "anywhere", "applications", "unknown", "maybe", "code"), [
    ([], True, ["web", "db", "tools", "web_ui"], [], [], ExitCode.OK),
    (["db", "web"], True, ["db", "web"], [], [], ExitCode.OK),
    (["all", "nope"], True, ["web", "db", "tools", "web_ui"], ["nope"], [], ExitCode.USAGE),
    (["report"], True, [], ["report"], [], ExitCode.USAGE),
    (["web*"], True, [], ["web*"], [], ExitCode.USAGE),                       # globs only where allowed
])
def test_select_applications(words: list[str], anywhere: bool, applications: list[str], unknown: list[str],
                             maybe: list[str], code: ExitCode) -> None:
    selection = select_applications(words, CATALOGUE, anywhere=anywhere)
    assert list(selection.applications) == applications
    assert [u.word for u in selection.unknown] == unknown
    assert [m.word for m in selection.maybe] == maybe
    assert selection.exit_code is code


def test_select_applications_hints_and_globs_and_silence() -> None:
    assert [u.hint for u in select_applications(["report", "web:web"], CATALOGUE).unknown] == ["tools", "web"]
    assert list(select_applications(["web*"], CATALOGUE, globs=True).applications) == ["web", "web_ui"]
    # a command that takes any group: an unknown name may be on the silent instance; a start: only where
    # the rules place it
    assert [m.word for m in select_applications(["nope"], CATALOGUE, SILENCE).maybe] == ["nope"]
    start = select_applications(["nope", "gui_02"], CATALOGUE, SILENCE, anywhere=False)
    assert [u.word for u in start.unknown] == ["nope"] and [m.word for m in start.maybe] == ["gui_02"]
    # application-info all nope: every application, and nope named (exit 2)
    error = select_applications(["all", "nope"], CATALOGUE).error("application")
    assert isinstance(error, UsageError) and "unknown application nope" in str(error)


def test_errors_name_each_word_and_carry_the_code() -> None:
    unknown = select_processes(["tools", "web:nope", "x:y"], CATALOGUE).error()
    assert isinstance(unknown, UsageError) and unknown.exit_code is ExitCode.USAGE
    assert unknown.errors == [  # type: ignore[attr-defined]
        "unknown process tools:tools: no reachable instance has it; known: tools:report; did you mean tools:*?",
        "unknown process web:nope: no reachable instance has it; known: web:web, web:worker_1, web:worker_2",
        "unknown application x: no reachable instance has it; known: web, db, tools, web_ui"]
    said = select_processes(["nope"], CATALOGUE).error(said=True)
    assert isinstance(said, CommandFailed) and said.exit_code is ExitCode.USAGE and str(said) == ""
    maybe = select_processes(["web_ui:view", "nope"], CATALOGUE, SILENCE)
    assert maybe.warnings() == ["web_ui:view: known only from s2, which did not answer (s2: connection refused)"]
    error = maybe.error()
    assert isinstance(error, ClusterError) and error.exit_code is ExitCode.UNREACHABLE
    assert error.errors[-1].endswith("1 instance(s) did not answer and may have it")  # type: ignore[attr-defined]
    assert select_processes(["db"], CATALOGUE, SILENCE).error() is None


def test_unknown_namespec() -> None:
    assert Unknown("web", "web", None, True).namespec == "web:*"
    assert Unknown("web:x", "web", "x", True, "web:*").hinted("no") == "no; did you mean web:*?"


def test_catalogue_and_silence_of_a_snapshot(tmp_path: Path) -> None:
    spec = "<s1>127.0.0.1:1 <s2>127.0.0.1:2"
    instances = InstanceList.parse([spec])
    s1, s2 = list(instances)
    rules = rules_from(tmp_path, '<application name="gui"><distribution>SINGLE_INSTANCE</distribution>'
                       '<identifiers>s2</identifiers></application>', instances=spec)
    snapshot = Snapshot((
        InstanceSnapshot(s1, "RUNNING", processes=(ProcessInfo("web", "a", ProcessState.RUNNING),
                                                   ProcessInfo("db", "db", ProcessState.STOPPED))),
        InstanceSnapshot(s2, "UNREACHABLE", reason="timeout", error_kind=Unreachable.TIMEOUT,
                         processes=(ProcessInfo("web", "a", ProcessState.UNKNOWN),
                                    ProcessInfo("ui", "v", ProcessState.UNKNOWN)))))
    assert catalogue_of(snapshot) == {"web": ["a"], "db": ["db"], "ui": ["v"]}
    silence = silence_of(snapshot, rules, instances)
    assert silence.reasons == {"s2": "timeout"} and silence.listed_by == {"ui:v": ["s2"]}
    assert list(silence.placed("gui")) == ["s2"] and list(silence.placed("other")) == []


# ----------------------------------------------------------------------------------- every command
SPEC = "<a>127.0.0.1:1 <b>127.0.0.1:2"
RULES = '<application name="web"><programs><program pattern=""><required>true</required></program></programs>' \
        '</application><application name="db"/><application name="tools"/>'
#: words every process command takes, and what they must select (the same in every command)
WORDS = [["web:*"], ["web"], ["web:worker_1", "db"], ["db:*", "web:worker_2"], ["tools:report", "db:db"]]


@pytest.fixture
def conflicting(tmp_path: Path) -> Any:
    """Every process of three managed applications RUNNING on both instances (every one in conflict)."""
    instances = InstanceList.parse([SPEC])
    rules = rules_from(tmp_path, RULES, instances=SPEC)
    infos = tuple(ProcessInfo(app, name, ProcessState.RUNNING, start=1.0, pid=1)
                  for app, names in (("web", ["web", "worker_1", "worker_2"]), ("db", ["db"]), ("tools", ["report"]))
                  for name in names)
    snapshot = Snapshot(tuple(InstanceSnapshot(instance, "RUNNING", processes=infos) for instance in instances))
    return rules, instances, snapshot, evaluate(rules, snapshot)


@pytest.mark.parametrize("words", WORDS)
def test_every_command_resolves_the_same_words_to_the_same_processes(conflicting: Any, words: list[str]) -> None:
    from supv_cli.cli import sstatus
    from supv_cli.cli.app import App
    from supv_cli.plan import operate

    rules, instances, snapshot, status = conflicting
    expected = list(select_processes(words, catalogue_of(snapshot)).processes)
    assert expected  # every word names something
    shown, errors = sstatus.select_processes(status, words)                       # sstatus
    assert ([p.namespec for p in shown], errors) == (expected, [])
    acted = operate.select_processes(status, words)                                # start, stop, restart
    assert [f"{app}:{name}" for app, names in acted.items() for name in names] == expected
    conciliated = operate.conflicts(status, words)                                 # conflicts, conciliate
    assert sorted(p.namespec for p in conciliated) == sorted(expected)
    app = App(_rules=rules)
    app._settings = type("Settings", (), {"instances": instances})()
    assert list(app.select(words, snapshot).processes) == expected                # logs
    # the applications of those processes, for the commands that take applications
    applications = list(dict.fromkeys(namespec.partition(":")[0] for namespec in expected))
    from supv_cli.cli.application_info import select_applications as info_applications
    from supv_cli.plan.planner import select_applications as plan_applications

    shown_apps, unknown = info_applications(status, applications)
    assert sorted(a.application_name for a in shown_apps) == sorted(applications) and unknown == []
    assert [a.application_name for a in plan_applications(rules, status, applications, "stop")] == applications


@pytest.mark.parametrize("words", [["nope"], ["web:nope"], ["tools"], ["all", "nope"]])
def test_every_command_refuses_the_same_words_with_exit_2(conflicting: Any, words: list[str]) -> None:
    from supv_cli.cli import sstatus
    from supv_cli.plan import operate

    _, _, snapshot, status = conflicting
    assert select_processes(words, catalogue_of(snapshot)).exit_code is ExitCode.USAGE
    assert sstatus.select_processes(status, words)[1]
    for attempt in (lambda: operate.select_processes(status, words), lambda: operate.conflicts(status, words)):
        with pytest.raises(UsageError):
            attempt()
