"""Instance specs in Supvisors' supvisors_list syntax, and instance identity (nick == host:port)."""

from __future__ import annotations

import pytest

from supv_cli.errors import ConfigError, ExitCode
from supv_cli.model.instances import (
    LOCAL_NODE,
    Instance,
    InstanceList,
    parse_instance,
    split_instance_specs,
)

# item -> (nick, url, identifier, node, port)
VALID = [
    ("<server_1>127.0.0.1:61001", ("server_1", "http://127.0.0.1:61001", "127.0.0.1:61001", "127.0.0.1",
                                   61001)),
    ("<server_1>http://127.0.0.1:61001", ("server_1", "http://127.0.0.1:61001", "127.0.0.1:61001",
                                          "127.0.0.1", 61001)),
    ("<server_1>http://127.0.0.1:61001/", ("server_1", "http://127.0.0.1:61001", "127.0.0.1:61001",
                                           "127.0.0.1", 61001)),
    ("127.0.0.1:61001", ("127.0.0.1:61001", "http://127.0.0.1:61001", "127.0.0.1:61001", "127.0.0.1", 61001)),
    ("http://supv01:62000", ("supv01:62000", "http://supv01:62000", "supv01:62000", "supv01", 62000)),
    # Supvisors' host:http_port:internal_port: the internal port is ignored
    ("<console_1>supv01:62000:62001", ("console_1", "http://supv01:62000", "supv01:62000", "supv01", 62000)),
    ("<c>[::1]:9001", ("c", "http://[::1]:9001", "[::1]:9001", "::1", 9001)),
    ("<local>unix:///run/supervisor.sock", ("local", "unix:///run/supervisor.sock",
                                            "unix:///run/supervisor.sock", LOCAL_NODE, None)),
    ("unix:///tmp/s.sock", ("unix:///tmp/s.sock", "unix:///tmp/s.sock", "unix:///tmp/s.sock", LOCAL_NODE,
                            None)),
    ("  < spaced >h:1  ", ("spaced", "http://h:1", "h:1", "h", 1)),
]


@pytest.mark.parametrize(("item", "expected"), VALID, ids=[item for item, _ in VALID])
def test_parse_instance(item: str, expected: tuple[object, ...]) -> None:
    instance = parse_instance(item)
    assert (instance.nick, instance.url, instance.identifier, instance.node, instance.port) == expected


# item -> a fragment of the error message
INVALID = [
    ("<>127.0.0.1:61000", "empty nick"),
    ("<a>unix://relative.sock", "absolute path"),
    ("<a>http://host:80/RPC2", "no path"),
    ("<a>ftp://host:21", "unknown URL scheme"),
    ("<a>host", "expected host:port"),
    ("<a>host:", "expected host:port"),
    ("<a>host:port", "expected host:port"),
    ("<a>host:0", "out of range"),
    ("<a>host:70000", "out of range"),
    ("<a", "expected host:port"),
    ("<a:1", "expected host:port"),
    ("<a>b>c:1", "expected host:port"),
]


@pytest.mark.parametrize(("item", "message"), INVALID, ids=[item for item, _ in INVALID])
def test_parse_instance_errors(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_instance(item)
    assert caught.value.exit_code == ExitCode.USAGE
    assert item.strip() in str(caught.value)


SPLITS = [
    (["a:1,b:2"], ["a:1", "b:2"]),
    (["a:1 b:2", "c:3"], ["a:1", "b:2", "c:3"]),
    (["a:1,\n  b:2 ,, c:3 "], ["a:1", "b:2", "c:3"]),
    ([""], []),
    ([], []),
]


@pytest.mark.parametrize(("specs", "items"), SPLITS)
def test_split_instance_specs(specs: list[str], items: list[str]) -> None:
    assert split_instance_specs(specs) == items


DUPLICATES = [
    (["<a>h:1", "<a>h:2"], "'a' is used twice"),
    # the same address under two nicks is one supervisord listed twice, not a nick problem (issue 9)
    (["<a>h:1", "<b>h:1"], r"<a> and <b> are the same supervisord \(http://h:1\); list each supervisord once"),
    (["h:1", "<b>h:1"], "<h:1> and <b> are the same supervisord"),
    (["h:1", "h:1"], "are the same supervisord"),
    # a nick may not be another instance's host:port
    (["<h:2>h:1", "h:2"], "'h:2' is used twice"),
    (["unix:///s.sock", "<x>unix:///s.sock"], "are the same supervisord"),
]


@pytest.mark.parametrize(("specs", "message"), DUPLICATES)
def test_duplicates_are_errors(specs: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        InstanceList.parse(specs)


CLUSTER = InstanceList.parse(["<s1>10.0.0.1:61000,<s2>10.0.0.2:61000", "10.0.0.3:61000 <s4>unix:///tmp/s4.sock"])

FILTERS = [
    (["s1"], ["s1"]),
    (["10.0.0.1:61000"], ["s1"]),
    # a nick and its host:port are the same instance: once, at its first place
    (["s2", "10.0.0.1:61000", "s1", "10.0.0.2:61000"], ["s2", "s1"]),
    (["unknown", "s2", "10.9.9.9:1"], ["s2"]),
    (["*"], ["s1", "s2", "10.0.0.3:61000", "s4"]),
    (["s4", "*"], ["s4", "s1", "s2", "10.0.0.3:61000"]),
    (["unix:///tmp/s4.sock"], ["s4"]),
    ([], []),
    (["@nothing"], []),
]


@pytest.mark.parametrize(("names", "nicks"), FILTERS)
def test_filter(names: list[str], nicks: list[str]) -> None:
    assert [i.nick for i in CLUSTER.filter(names)] == nicks


def test_instance_list_order_and_find() -> None:
    assert [i.nick for i in CLUSTER] == ["s1", "s2", "10.0.0.3:61000", "s4"]
    assert CLUSTER[1].nick == "s2"
    assert len(CLUSTER) == 4
    assert CLUSTER.find("s1") is CLUSTER.find("10.0.0.1:61000") is CLUSTER[0]
    assert CLUSTER.find("nope") is None
    assert CLUSTER.nodes == ["10.0.0.1", "10.0.0.2", "10.0.0.3", LOCAL_NODE]
    assert not InstanceList()


def test_password_never_in_repr() -> None:
    instance = Instance(nick="a", url="http://h:1", identifier="h:1", node="h", port=1, username="bob",
                        password="s3cret")
    assert "s3cret" not in repr(instance)
    assert "s3cret" not in repr(InstanceList([instance]))
