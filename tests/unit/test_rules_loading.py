"""Loading rules files: schema acceptance (§1.2), errors as file:line, hardening, globs and merging."""

from __future__ import annotations

import os

import pytest

from supv_cli.cluster.ini import expand_rules_patterns
from supv_cli.errors import ExitCode, RulesError
from supv_cli.rules import load_rules, rules_paths
from supv_cli.rules.xmlload import MAX_RULES_SIZE

from .rules_helpers import write_rules

VALID = [
    "",
    '<alias name="a">x,y</alias>',
    '<model name="m"><start_sequence>-1</start_sequence></model>',          # xs:byte accepts -1
    '<model name="m"><start_sequence>+4</start_sequence><stop_sequence>007</stop_sequence></model>',
    '<model name="m"><required>1</required><wait_exit>0</wait_exit></model>',
    '<model name="m"><required> true </required></model>',                   # whitespace collapsed by XSD
    '<application/>',                                                        # neither name nor pattern
    '<application name="a"><programs/></application>',
    '<application name="a"><programs><program pattern=""/></programs><distribution>SINGLE_NODE</distribution>'
    '</application>',                                                        # any order
    '<application name="a"><starting_strategy>LESS_LOADED_NODE</starting_strategy>'
    '<running_failure_strategy>SHUTDOWN</running_failure_strategy><operational_status>x</operational_status>'
    '</application>',
    '<model name="m"><expected_loading>100</expected_loading><expected_loading_x/></model>'.replace(
        "<expected_loading_x/>", ""),
    '<!-- comment --><application pattern="a"><identifiers></identifiers></application>',
]

INVALID = [
    ('<model name="m"><start_sequence>200</start_sequence></model>', "start_sequence"),
    ('<model name="m"><required>yes</required></model>', "true, false, 1 or 0"),
    ('<model name="m"><start_sequence></start_sequence></model>', "start_sequence"),
    ('<application name="a"><distributed>true</distributed></application>', "<distribution>"),
    ('<application name="a"><reference>m</reference></application>', "reference"),
    ('<application name="a"><program name="p"/></application>', "inside <programs>"),
    ('<application name="a"><start_sequence>1</start_sequence><start_sequence>1</start_sequence>'
     '</application>', "more than once"),
    ("<alias>x</alias>", "'name' is required"),
    ('<application name="a"><starting_strategy>config</starting_strategy></application>', "CONFIG"),
    ('<application name="a"><distribution>true</distribution></application>', "ALL_INSTANCES"),
    ('<model name="m"><expected_loading>101</expected_loading></model>', "at most 100"),
    ('<application name="a" other="1"/>', "not allowed"),
    ('<unknown/>', "<alias>, <model>, <application>"),
    ('<application pattern="a("/>', "invalid regular expression"),
    ('<application name="a"><programs><program pattern="[x"/></programs></application>', "invalid regular"),
]


@pytest.mark.parametrize("body", VALID)
def test_schema_accepts(tmp_path, body):
    load_rules([str(write_rules(tmp_path, body))])


@pytest.mark.parametrize("body, fragment", INVALID)
def test_schema_rejects_with_file_and_line(tmp_path, body, fragment):
    path = write_rules(tmp_path, body)
    with pytest.raises(RulesError) as info:
        load_rules([str(path)])
    assert info.value.exit_code == ExitCode.USAGE
    first = info.value.errors[0]
    assert first.startswith(f"{path}:3: "), first      # the body is on line 3 of the file
    assert fragment in first


def test_root_must_be_root(tmp_path):
    path = tmp_path / "x.xml"
    path.write_text("<rules/>")
    with pytest.raises(RulesError, match=r"x.xml:1: <rules>: the top element .* must be <root>"):
        load_rules([str(path)])


def test_syntax_error_has_line(tmp_path):
    path = tmp_path / "x.xml"
    path.write_text("<root>\n<application name='a'>\n</root>\n")
    with pytest.raises(RulesError, match=r"x.xml:3: not well-formed XML"):
        load_rules([str(path)])


def test_all_problems_of_all_files_reported(tmp_path):
    bad1 = write_rules(tmp_path, "<x/>", "a.xml")
    bad2 = write_rules(tmp_path, '<application pattern="("/>', "b.xml")
    with pytest.raises(RulesError) as info:
        load_rules([str(bad1), str(bad2)])
    assert [line.split(":")[0] for line in info.value.errors] == [str(bad1), str(bad2)]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<root><alias name="a">&lol9;</alias></root>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<root><alias name="a">&xxe;</alias></root>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE root SYSTEM "http://127.0.0.1:9/evil.dtd">
<root/>
"""


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL, EXTERNAL_DTD])
def test_entities_and_dtds_are_refused(tmp_path, content):
    path = tmp_path / "evil.xml"
    path.write_text(content)
    with pytest.raises(RulesError, match=r"evil.xml:2: a DOCTYPE is not allowed"):
        load_rules([str(path)])


def test_undefined_entity_is_a_syntax_error(tmp_path):
    path = tmp_path / "e.xml"
    path.write_text('<root><alias name="a">&nope;</alias></root>')
    with pytest.raises(RulesError, match="not well-formed"):
        load_rules([str(path)])


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.xml"
    with open(path, "wb") as handle:
        handle.write(b"<root>")
        handle.truncate(MAX_RULES_SIZE + 10)
    with pytest.raises(RulesError, match="MiB limit"):
        load_rules([str(path)])


@pytest.mark.parametrize("make, fragment", [
    (lambda d: str(d / "missing.xml"), "no such rules file"),
    (lambda d: str(d / "*.nothing"), "no rules file found"),
    (lambda d: str(d), "is a directory"),
])
def test_file_errors(tmp_path, make, fragment):
    paths, _ = expand_rules_patterns([make(tmp_path)], str(tmp_path), keep_order=True)  # as -r does
    with pytest.raises(RulesError, match=fragment):
        load_rules(paths)


def test_globs_are_sorted_by_absolute_path_and_deduplicated(tmp_path):
    for name in ("b.xml", "a.xml", "c.txt"):
        (tmp_path / name).write_text("<root/>")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "z.xml").write_text("<root/>")
    paths, warnings = expand_rules_patterns([str(tmp_path / "*.xml"), str(tmp_path / "a.xml"),
                                             str(tmp_path / "**" / "*.xml"), str(tmp_path / "none*.xml")],
                                            str(tmp_path), keep_order=True)
    assert [os.path.basename(p) for p in rules_paths(paths)] == ["a.xml", "b.xml", "z.xml"]
    assert warnings == [f"no rules file matches {str(tmp_path / 'none*.xml')!r}"]


def test_relative_paths_use_base_dir(tmp_path):
    (tmp_path / "r.xml").write_text("<root/>")
    paths, _ = expand_rules_patterns(["r.xml"], str(tmp_path), keep_order=False)
    assert rules_paths(paths) == [str(tmp_path / "r.xml")]


def test_globs_are_expanded_once(tmp_path):
    """Issue 19: the loader takes the files a glob matched and does not expand them again: a matched
    file whose name holds glob characters loads (expanded again, ``r[1].xml`` matched ``r1.xml``)."""
    (tmp_path / "r[1].xml").write_text('<root><application name="a"><start_sequence>3</start_sequence>'
                                       "</application></root>")
    paths, warnings = expand_rules_patterns(["r*.xml"], str(tmp_path), keep_order=True)
    assert [os.path.basename(p) for p in paths] == ["r[1].xml"] and not warnings
    assert load_rules(paths).application_rules("a").start_sequence == 3


def test_many_applications_resolve_by_name(tmp_path):
    body = "".join(f'<application name="app_{i}"><start_sequence>{i % 100 + 1}</start_sequence><programs>'
                   f'<program name="p"><expected_loading>{i % 100}</expected_loading></program></programs>'
                   "</application>" for i in range(2000))
    rules = load_rules([str(write_rules(tmp_path, body))])
    assert rules.process_rules("app_1999", "p").expected_loading == 99
    assert rules.application_rules("app_250").start_sequence == 51
