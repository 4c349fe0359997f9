"""Rules identifiers resolved once (issue 19): ``InstanceList.resolve`` keeps each list's instances, and an
application's ``#`` keeps the instance it picked, which placement takes as it is (table-driven, no network)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.rules import load_rules

from .rules_helpers import write_rules

#: three servers and two consoles, each its own node
CLUSTER = InstanceList(
    replace(instance, stereotypes=(role,)) for instance, role in zip(
        InstanceList.parse([f"<{nick}>10.0.0.{n}:{61000 + n}" for n, nick in enumerate(
            ["server_1", "server_2", "server_3", "console_1", "console_2"], 1)]),
        ["@SERVER", "@SERVER", "@SERVER", "@CONSOLE", "@CONSOLE"]))

RULES = """
    <application pattern="hci_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,@CONSOLE</identifiers><start_sequence>1</start_sequence></application>
    <application pattern="named_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,10.0.0.2:61002,server_1</identifiers><start_sequence>1</start_sequence></application>
    <application pattern="nobody_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,@NOBODY</identifiers><start_sequence>1</start_sequence></application>
    <application pattern="plain_"><distribution>SINGLE_NODE</distribution>
        <identifiers>server_3,@CONSOLE</identifiers><start_sequence>1</start_sequence></application>"""


@pytest.mark.parametrize(("names", "expected"), [
    (("*",), ["server_1", "server_2", "server_3", "console_1", "console_2"]),
    (("console_2", "*"), ["server_1", "server_2", "server_3", "console_1", "console_2"]),  # '*' anywhere
    (("@CONSOLE", "server_2", "console_1"), ["console_1", "console_2", "server_2"]),
    (("10.0.0.3:61003", "ghost"), ["server_3"]),
    (("ghost",), []),
    ((), []),
])
def test_resolve_is_kept_per_list(names, expected):
    first = CLUSTER.resolve(names)
    assert [i.nick for i in first] == expected
    assert CLUSTER.resolve(list(names)) is first            # the same list of names: resolved once
    other = InstanceList(CLUSTER)                            # another instance list resolves its own
    assert [i.nick for i in other.resolve(names)] == expected


@pytest.mark.parametrize(("application", "picked"), [
    ("hci_01", "console_1"), ("hci_02", "console_2"), ("hci_03", "console_1"),    # roll-over
    ("named_01", "server_2"), ("named_02", "server_1"),                           # host:port, then nick
])
def test_hash_keeps_the_instance_it_picked(tmp_path, application, picked):
    rules = load_rules([str(write_rules(tmp_path, RULES))], CLUSTER).application_rules(application)
    assert rules.identifiers == (picked,)                    # what supv rules / Supvisors show
    assert rules.hash_instance is CLUSTER.find(picked)       # the instance itself, not its nick
    assert rules.candidates(CLUSTER) == (CLUSTER.find(picked),)
    assert rules.to_dict()["identifiers"] == [picked]


@pytest.mark.parametrize(("application", "expected"), [
    ("hci_02", []),                                           # its instance is not in this list
    ("plain_1", ["server_3"]),                                # no '#': the identifiers resolved
    ("nobody_1", []),                                         # '#' over a stereotype nobody carries
])
def test_candidates_among_another_list(tmp_path, application, expected):
    rules = load_rules([str(write_rules(tmp_path, RULES))], CLUSTER).application_rules(application)
    servers = InstanceList(i for i in CLUSTER if i.nick.startswith("server"))
    assert [i.nick for i in rules.candidates(servers)] == expected


def test_without_an_instance_list_the_name_picked_is_kept_and_resolved_by_placement(tmp_path):
    rules = load_rules([str(write_rules(tmp_path, RULES))]).application_rules("named_02")
    assert rules.identifiers == ("server_1",) and rules.hash_instance is None
    assert [i.nick for i in rules.candidates(CLUSTER)] == ["server_1"]
