"""The controller's state line (cluster/state_line.py): what the controller writes is what readers read,
byte for byte as before, and a line of another shape (another version, another program, hostile bytes)
is no state line: never an error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from supv_cli.cluster.state_line import VERSION, decode, encode, last_in

#: what a controller knows (Controller.state() and the last answers of silent instances)
KNOWN: dict[str, Any] = {
    "acting": True, "leader": "server_1", "lost": ["server_3"], "missed": [], "quorum": {"seen": 2, "needed": 2},
    "jobs": [{"purpose": "recover", "applications": ["srv"]}], "conciliate": "user",
    "in_flight": [["srv:svc", "server_2"]], "recent": ["12:00:01 started srv:svc on server_2"],
    "last_known": {"server_3": [{"group": "srv", "name": "svc", "state": "RUNNING"}]},
}
STANDBY: dict[str, Any] = {**KNOWN, "acting": False, "lost": [], "in_flight": [], "last_known": {}}


@pytest.mark.parametrize("time, controller, cycles, known", [
    ("2026-12-07T16:55:01.123", "server_1", 42, KNOWN),
    ("2026-12-07T16:55:01.123", None, 0, STANDBY),
    ("t", "c", 1, {"acting": False}),  # an older controller's few keys
])
def test_what_is_written_is_read_back(time: str, controller: str | None, cycles: int, known: dict[str, Any]) -> None:
    line = encode(time, controller, cycles, known)
    assert "\n" not in line
    assert decode(line) == {"time": time, "controller": controller, "cycles": cycles, **known}


def test_the_line_is_the_one_controllers_wrote_before() -> None:
    """Version 1 carries no version key: the bytes (and `supv instances --json`) stay what they were."""
    line = encode("T", "server_1", 3, KNOWN)
    assert line == json.dumps({"time": "T", "controller": "server_1", "cycles": 3, **KNOWN})
    assert list(json.loads(line))[:4] == ["time", "controller", "cycles", "acting"]
    assert VERSION == 1 and "version" not in json.loads(line)


GOOD = encode("T", "server_1", 3, KNOWN)


@pytest.mark.parametrize("line, why", [
    ("", "empty"),
    ("2026-12-07 started srv:svc", "a log line"),
    ("not json {", "not JSON"),
    ('{"acting": true', "cut in the middle (a tail starts anywhere)"),
    ("[1, 2, 3]", "not an object"),
    ('"acting"', "a string"),
    ("{}", "no acting"),
    ('{"leader": "server_1"}', "no acting"),
    ('{"acting": "yes"}', "acting not a boolean"),
    ('{"acting": 1}', "acting a number"),
    ('{"acting": null}', "acting null"),
    ('{"acting": true, "version": 2}', "a later version"),
    ('{"acting": true, "version": "1"}', "a version that is not a number"),
    ('{"acting": true, "version": true}', "a version that is a boolean"),
    ('{"acting": true, "lost": "server_3"}', "lost not a list"),
    ('{"acting": true, "lost": [3]}', "lost not names"),
    ('{"acting": true, "missed": {"a": 1}}', "missed not a list"),
    ('{"acting": true, "recent": [null]}', "recent not lines"),
    ('{"acting": true, "leader": 7}', "leader not a name"),
    ('{"acting": true, "controller": ["x"]}', "controller not a name"),
    ('{"acting": true, "cycles": "many"}', "cycles not a number"),
    ('{"acting": true, "cycles": true}', "cycles a boolean"),
    ('{"acting": true, "cycles": 1.5}', "cycles not whole"),
    ('{"acting": true, "quorum": [2, 2]}', "quorum not an object"),
    ('{"acting": true, "jobs": ["recover"]}', "jobs not objects"),
    ('{"acting": true, "jobs": {}}', "jobs not a list"),
    ('{"acting": true, "conciliate": 3}', "conciliate not a name"),
    ('{"acting": true, "in_flight": "srv:svc"}', "in_flight not a list"),
    ('{"acting": true, "last_known": []}', "last_known not an object"),
    ('{"acting": true, "time": 12}', "time not a stamp"),
    ('{"acting": true, "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than the parser goes"),
    ('{"a":' * 3000 + '{"acting": true}' + "}" * 3000, "acting deep inside"),
    ('{"acting": NaN}', "NaN"),
    ("\x00\x1b[2J{\"acting\": true}", "control characters before the object"),
    ('{"acting": true}\udcff', "a lone surrogate after it (bytes that were not UTF-8)"),
])
def test_what_is_not_a_state_line(line: str, why: str) -> None:
    assert decode(line) is None, why


@pytest.mark.parametrize("line", [
    '{"acting": false}',
    '  {"acting": true, "leader": null}  ',
    '{"acting": true, "version": 1}',
    '{"acting": true, "something_new": [1, {"x": 2}]}',  # a key a later controller adds: kept, not checked
    '{"acting": true, "acting": false}',  # JSON's last duplicate wins
])
def test_what_is_a_state_line(line: str) -> None:
    state = decode(line)
    assert state is not None and isinstance(state["acting"], bool)


@pytest.mark.parametrize("text, expected", [
    ("", None),
    ("started\nalive\n", None),
    (GOOD, KNOWN),
    (f"{GOOD}\n", KNOWN),
    (f"{encode('T', 's', 1, STANDBY)}\n{GOOD}\n", KNOWN),  # the last one
    (f"{GOOD}\n{encode('T', 's', 1, STANDBY)}", STANDBY),
    (f"{GOOD}\n{{\"acting\": \"yes\"}}\nnot json\n", KNOWN),  # hostile lines after it: the last good one
    (f"{GOOD}\n{{\"acting\": true, \"version\": 2}}", KNOWN),  # a later version: skipped
    (f"{GOOD}\r\n{{{{{{\r\n", KNOWN),
    (f"ng\": true}}\n{GOOD[5:]}", None),  # a tail cut inside lines: nothing whole
])
def test_the_last_state_line_of_a_log_tail(text: str, expected: dict[str, Any] | None) -> None:
    state = last_in(text)
    if expected is None:
        assert state is None
    else:
        assert state is not None and {key: state[key] for key in expected} == expected
