"""What the controller keeps per process, compactly (issue 18, the controller's memory at 300 x 40):
the configuration as shared entries, change keys derived from the last answer rather than kept, the
trim of freed memory after evaluations, and no OpenSSL mapped by the lean process.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from supv_cli.cluster.client import instance_snapshot
from supv_cli.cluster.infos import DEFAULT_CONFIG, change_key, compact_configs, process_info, process_key
from supv_cli.cluster.known import (
    DERIVED,
    Known,
    answer_key,
    compact,
    config_names,
    key_of,
    note_tail,
    same_names,
)
from supv_cli.controller import main
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessState
from supv_cli.rules import load_rules
from tests.unit.test_controller_lean import start_watch, stop, wait_for_line

INSTANCE = InstanceList.parse(["<s1>127.0.0.1:1"])[0]
STATE = {"statecode": 1, "statename": "RUNNING"}
INFO = {"group": "g", "name": "p", "state": 20, "start": 10, "stop": 0, "now": 30, "pid": 4321,
        "exitstatus": 0, "spawnerr": "", "description": "pid 4321, uptime 0:00:20"}
CONFIG = {"group": "g", "name": "p", "startsecs": 4, "stopwaitsecs": 7, "exitcodes": [0, 3],
          "autostart": False, "command": "/bin/p", "priority": 999}


@pytest.mark.parametrize("info", [
    INFO,
    {**INFO, "state": 0, "pid": 0, "start": 0, "description": "Not started"},
    {**INFO, "state": 100, "stop": 40, "exitstatus": 3, "spawnerr": ""},
    {**INFO, "state": 999},                                   # a state Supervisor does not have: UNKNOWN
    {**INFO, "state": "20", "pid": "4321", "start": "10"},    # numbers as strings: converted alike
    {**INFO, "group": 7},                                     # a name that is not a string
])
def test_a_change_key_is_the_same_from_the_struct_and_from_its_processinfo(info: dict[str, Any]) -> None:
    assert change_key(info) == process_key(process_info(info, None))


@pytest.mark.parametrize("infos", [
    [{key: value for key, value in INFO.items() if key != "pid"}],   # a member missing
    [{**INFO, "pid": "x"}],                                          # not a number
    [None],
    "not a list of structs",
])
def test_an_unusual_answer_has_no_change_key(infos: Any) -> None:
    assert answer_key(infos) is None


def test_the_configuration_is_kept_as_shared_entries() -> None:
    one = compact([CONFIG, {**CONFIG, "name": "q"}, "not a struct"])
    other = compact([{**CONFIG, "group": "h"}])
    assert one == {"g": {"p": (4, 7, (0, 3), False), "q": (4, 7, (0, 3), False)}}
    assert one["g"]["p"] is one["g"]["q"] is other["h"]["p"]  # one tuple for the processes configured alike
    assert compact_configs([{"group": "g", "name": "p"}]) == {"g": {"p": DEFAULT_CONFIG}}
    assert compact([CONFIG, {**CONFIG, "name": "q"}])["g"]["q"] is compact([CONFIG])["g"]["p"]
    assert compact([CONFIG, {**CONFIG, "startsecs": 9}]) == {"g": {"p": (9, 7, (0, 3), False)}}  # the last wins


@pytest.mark.parametrize("configs", [
    [{**CONFIG, "startsecs": "soon"}],        # a value of another type: kept as it came
    [{**CONFIG, "exitcodes": ["x"]}],
])
def test_an_unusual_configuration_is_kept_as_it_came(configs: list[Any]) -> None:
    assert compact(configs) is configs


def test_processes_are_the_same_from_the_compact_configuration() -> None:
    infos = [INFO, {**INFO, "name": "other", "state": 0, "pid": 0, "start": 0, "description": "Not started"}]
    configs = [CONFIG, {**CONFIG, "group": "elsewhere"}]
    from_list = instance_snapshot(INSTANCE, [STATE, infos, configs])
    from_compact = instance_snapshot(INSTANCE, [STATE, infos, compact(configs)])
    assert from_compact == from_list
    first, second = from_compact.processes
    assert (first.startsecs, first.exitcodes, first.autostart, second.startsecs) == (4, (0, 3), False, 1)
    assert first.now is second.now  # one float per answer


@pytest.mark.parametrize(("configs", "listed", "kept"), [
    ({"g": {"p": DEFAULT_CONFIG, "q": DEFAULT_CONFIG}}, {("g", "p"), ("g", "q")}, None),
    ({"g": {"p": DEFAULT_CONFIG, "q": DEFAULT_CONFIG}}, {("g", "p")}, {("g", "p")}),
    ({"g": {"p": DEFAULT_CONFIG}}, {("g", "p"), ("h", "p")}, {("g", "p"), ("h", "p")}),
    ([CONFIG], {("g", "p")}, {("g", "p")}),                 # kept as it came: the list is kept
])
def test_the_process_list_is_kept_only_when_it_is_not_the_configurations(
        configs: Any, listed: set[tuple[str, str]], kept: set[tuple[str, str]] | None) -> None:
    names = frozenset(listed)
    assert config_names(configs, names) == (None if kept is None else frozenset(kept))
    known = Known(configs=configs, config_names=config_names(configs, names))
    infos = [{"group": group, "name": name} for group, name in sorted(listed)]
    assert same_names(known, infos)
    assert not same_names(known, [*infos, {"group": "new", "name": "one"}])
    assert not same_names(known, infos[:-1])


def test_the_change_keys_of_the_last_answer_are_derived_not_kept() -> None:
    snap = instance_snapshot(INSTANCE, [STATE, [INFO], [CONFIG]])
    known = Known(answer=snap, key=DERIVED)
    assert key_of(known) == answer_key([INFO]) == ((("g", "p", ProcessState.RUNNING, 10.0, 0.0, 4321, 0, ""),))
    assert key_of(Known(key=DERIVED)) == () and key_of(Known(answer=snap, key=None)) is None
    # a logged move seen while the tail did not move: the derived key tells it as the kept one did
    tail = "2026-12-07 10:00:00,000 INFO success: p entered RUNNING state\n"
    known = Known(answer=snap, key=DERIVED, tail=tail, connection=1)
    note_tail(known, tail, answer_key([{**INFO, "state": 100, "pid": 0, "stop": 40}]), 1)
    assert known.blind is not None and known.tail is None


def test_freed_memory_is_trimmed_after_new_statuses_at_most_every_ten_seconds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    trims: list[float] = []
    monkeypatch.setattr(main.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(main, "release_freed_memory", lambda: trims.append(clock[0]) or True)
    controller = SimpleNamespace(status=object(), options=SimpleNamespace(interval=0.5))
    output = main.ControllerOutput(controller, None, None, False)  # type: ignore[arg-type]
    steps = [(5.0, True, False), (6.0, False, False), (10.0, False, False), (12.0, True, False),
             (15.0, False, True), (16.0, True, False), (30.0, False, False), (40.0, False, True)]
    for at, new_status, beat in steps:
        clock[0] = 1000.0 + at
        if new_status:
            controller.status = object()
        output.trim(beat)
    # at 5 s a new status, but the last trim (at start) is under 10 s old; at 10 s it is 10 s old and the
    # status is new; at 12 s too early; the heartbeats trim whatever; at 30 s the status of 16 s is new
    assert trims == [1010.0, 1015.0, 1030.0, 1040.0]


def test_the_lean_controller_maps_no_openssl(tmp_path: Path) -> None:
    """The answer digest is the interpreter's own BLAKE2: libcrypto (3.7 MB of RSS) is not mapped."""
    process, out, _err = start_watch(tmp_path)
    try:
        wait_for_line(out, process)
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert "libcrypto" not in maps and "_hashlib" not in maps
    finally:
        stop(process)


def test_process_rules_are_cached_per_application_with_their_warnings_in_order(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.xml"
    rules_file.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<root>
    <application pattern="app"><programs>
        <program pattern="p"><required>true</required></program>
    </programs></application>
</root>
""")
    rules = load_rules([str(rules_file)], InstanceList.parse(["<s1>127.0.0.1:1"]))
    first = rules.process_rules("app1", "p1")
    other = rules.process_rules("app2", "p1")
    assert rules.process_rules("app1", "p1") is first and first is not other
    assert first.identifiers is other.identifiers == ("*",)
    assert first.source is other.source  # one string for the element both come from
    assert rules.warnings == [f"{first.source}: required forced to false because start_sequence is 0"]
