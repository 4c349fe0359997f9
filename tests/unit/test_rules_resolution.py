"""Resolution rules of Supvisors rules files (behaviour spec §1 and §8), table-driven."""

from __future__ import annotations

import pytest

from supv_cli.errors import RulesError
from supv_cli.model.identifiers import expand_aliases, hash_index, parse_identifiers, program_name_and_index

from .rules_helpers import rules_from

# ---------------------------------------------------------------- aliases (§1.3)
ALIASES = {"all_ok": ["servers", "consoles"], "consoles": ["c1", "c2"], "servers": ["s1", "s2"],
           "all_ko": ["servers", "consoles"], "dup": ["c1", "", "c1", "s1", "*"]}


@pytest.mark.parametrize("text, expected", [
    ("all_ok", ["s1", "s2", "c1", "c2"]),          # aliases declared after are expanded
    ("all_ko", ["servers", "consoles"]),           # declared before: left unresolved
    ("consoles,consoles", ["c1", "c2", "consoles"]),  # only the first occurrence is replaced
    ("c1,consoles,c2", ["c1", "c2"]),              # duplicates dropped, first kept
    ("s2,servers,servers", ["s2", "s1", "servers"]),
    ("dup", ["c1", "s1", "*"]),
    (" a , ,b,a", ["a", "b"]),
])
def test_expand_aliases(text, expected):
    assert expand_aliases(text, ALIASES) == expected


@pytest.mark.parametrize("text, identifiers, at, hashtag", [
    ("dup", ("*",), False, False),                 # '*' with anything is '*'
    ("#", ("*",), False, True),
    ("@", ("*",), True, False),
    ("#,consoles", ("c1", "c2"), False, True),
    ("@,#,servers", ("s1", "s2"), True, True),
    ("#,*,c1", ("*",), False, True),
    ("s1,@SERVER", ("s1", "@SERVER"), False, False),  # '@X' is a stereotype, not the sign
])
def test_parse_identifiers(text, identifiers, at, hashtag):
    rule = parse_identifiers(text, ALIASES)
    assert (rule.identifiers, rule.has_at, rule.has_hash) == (identifiers, at, hashtag)


def test_alias_examples_from_supvisors_tests(tmp_path):
    rules = rules_from(tmp_path, """
        <alias name="nodes_appli_D">10.0.0.1, 10.0.0.5</alias>
        <alias name="not used">10.0.0.2, nodes_appli_D</alias>
        <alias name="blank"> </alias>
        <application name="app"><programs>
          <program name="p1"><identifiers>10.0.0.5,nodes_appli_D,10.0.0.1</identifiers></program>
          <program name="p2"><identifiers>not used,10.0.0.3</identifiers></program>
          <program name="p3"><identifiers>blank</identifiers></program>
        </programs></application>""")
    assert rules.process_rules("app", "p1").identifiers == ("10.0.0.5", "10.0.0.1")
    assert rules.process_rules("app", "p2").identifiers == ("10.0.0.2", "nodes_appli_D", "10.0.0.3")
    assert rules.process_rules("app", "p3").identifiers == ()   # a blank alias expands to nothing


def test_alias_redefined_in_later_file_keeps_rank_and_takes_value(tmp_path):
    first = """<alias name="a">b</alias><alias name="b">x1</alias>
               <application name="app"><programs><program name="p"><identifiers>a</identifiers></program>
               </programs></application>"""
    second = '<alias name="a">b,y</alias>'
    rules = rules_from(tmp_path, first, second)
    # 'a' is still expanded before 'b', with its last value
    assert rules.process_rules("app", "p").identifiers == ("x1", "y")


def test_empty_alias_is_not_an_alias(tmp_path):
    rules = rules_from(tmp_path, """<alias name="e"></alias>
        <application name="app"><programs><program name="p"><identifiers>e,x</identifiers></program>
        </programs></application>""")
    assert rules.process_rules("app", "p").identifiers == ("e", "x")


# ---------------------------------------------------------------- application matching (§1.4, §8)
APP_PATTERNS = """
    <application pattern="B"><start_sequence>1</start_sequence></application>
    <application pattern="B_1"><start_sequence>2</start_sequence></application>
    <application pattern=""><start_sequence>3</start_sequence></application>
    <application name="B_12x"><start_sequence>4</start_sequence></application>
"""


@pytest.mark.parametrize("name, start_sequence", [
    ("B_12", 2), ("xB_1", 2), ("B", 1), ("C", 3), ("B_12x", 4),
])
def test_application_pattern_scoring(tmp_path, name, start_sequence):
    rules = rules_from(tmp_path, APP_PATTERNS)
    assert rules.application_rules(name).start_sequence == start_sequence
    assert rules.application_rules(name).managed


@pytest.mark.parametrize("patterns, name, winner", [
    (["a|abc", "ab"], "abc_tool", 1),     # leftmost match: 'a|abc' scores 1, 'ab' scores 2
    (["z*", ""], "abc", 0),               # both score 0: first declared
    (["", "z*"], "abc", 0),
    (["^d.*s_01_", "dummies_", "dum+ies_02_"], "dummies_01_any", 0),
    (["dummies_", "^d.*s_01_", "dum+ies_02_"], "any_dummies_02_", 2),
    (["dummies_", "^d.*s_01_", "dum+ies_02_"], "dummies_any", 0),
    (["hci$", "^scen3"], "scen3_hci", 1),  # anchors work; tie 3 vs 5 -> longest
])
def test_pattern_leftmost_match_and_ties(tmp_path, patterns, name, winner):
    body = "".join(f'<application pattern="{p}"><start_sequence>{i + 1}</start_sequence></application>'
                   for i, p in enumerate(patterns))
    rules = rules_from(tmp_path, body)
    assert rules.application_rules(name).start_sequence == winner + 1


def test_unmatched_application_is_unmanaged_with_defaults(tmp_path):
    rules = rules_from(tmp_path, '<application name="x"/>')
    app = rules.application_rules("other")
    assert app.to_dict() == {"application_name": "other", "managed": False}
    assert (app.start_sequence, app.stop_sequence, app.identifiers) == (0, 0, ("*",))
    proc = rules.process_rules("other", "p")
    assert proc.to_dict() == {"application_name": "other", "process_name": "p", "identifiers": ["*"],
                              "start_sequence": 0, "stop_sequence": 0, "required": False,
                              "wait_exit": False, "expected_loading": 0, "starting_failure_strategy": "ABORT",
                              "running_failure_strategy": "CONTINUE"}


def test_application_without_name_nor_pattern_never_matches(tmp_path):
    rules = rules_from(tmp_path, "<application><start_sequence>1</start_sequence></application>")
    assert not rules.application_rules("anything").managed


def test_first_file_wins_for_exact_names_and_later_pattern_replaces(tmp_path):
    rules = rules_from(tmp_path,
                       '<application name="a"><start_sequence>1</start_sequence></application>'
                       '<application pattern="p"><start_sequence>1</start_sequence></application>'
                       '<application pattern="q"><start_sequence>5</start_sequence></application>',
                       '<application name="a"><start_sequence>2</start_sequence></application>'
                       '<application pattern="p"><start_sequence>2</start_sequence></application>')
    assert rules.application_rules("a").start_sequence == 1
    assert rules.application_rules("xp").start_sequence == 2
    # 'p' (replaced) keeps its rank before 'q': tie on 'pq' goes to 'p'
    assert rules.application_rules("pq").start_sequence == 2


# ---------------------------------------------------------------- program matching (§1.5, §8)
PROGRAM_PATTERNS = """<application name="app"><programs>
    <program pattern="ab"><expected_loading>1</expected_loading></program>
    <program pattern="b"><expected_loading>2</expected_loading></program>
    <program pattern="a.c"><expected_loading>3</expected_loading></program>
    <program pattern="xyz"><expected_loading>4</expected_loading></program>
    <program pattern="zyx"><expected_loading>5</expected_loading></program>
    <program name="bbb_exact"><expected_loading>6</expected_loading></program>
</programs></application>"""


@pytest.mark.parametrize("process, loading, matched_by", [
    ("abc", 3, "pattern"), ("xabc", 3, "pattern"), ("bbb", 2, "pattern"), ("aXc", 3, "pattern"),
    ("xyzzyx", 4, "pattern"), ("zyxxyz", 4, "pattern"), ("bbb_exact", 6, "name"), ("qqq", 0, None),
])
def test_program_pattern_scoring(tmp_path, process, loading, matched_by):
    rules = rules_from(tmp_path, PROGRAM_PATTERNS)
    proc = rules.process_rules("app", process)
    assert (proc.expected_loading, proc.matched_by) == (loading, matched_by)


def test_name_beats_pattern_whatever_the_order(tmp_path):
    rules = rules_from(tmp_path, """<application name="app"><programs>
        <program pattern="prog"><expected_loading>1</expected_loading></program>
        <program name="prog_1"><expected_loading>2</expected_loading></program>
        <program name="prog_1"><expected_loading>3</expected_loading></program>
        </programs></application>""")
    assert rules.process_rules("app", "prog_1").expected_loading == 2   # first by name
    assert rules.process_rules("app", "prog_2").expected_loading == 1


def test_program_patterns_are_scoped_to_the_matched_application(tmp_path):
    rules = rules_from(tmp_path, """
        <application name="app_1"><programs><program name="x"/></programs></application>
        <application pattern="app_"><programs>
            <program pattern="p"><expected_loading>7</expected_loading></program></programs></application>""")
    assert rules.process_rules("app_1", "p1").expected_loading == 0
    assert rules.process_rules("app_2", "p1").expected_loading == 7


def test_duplicated_program_pattern_last_wins(tmp_path):
    rules = rules_from(tmp_path, """<application name="a"><programs>
        <program pattern="p"><expected_loading>1</expected_loading></program>
        <program pattern="q"><expected_loading>2</expected_loading></program>
        <program pattern="p"><expected_loading>3</expected_loading></program></programs></application>""")
    assert rules.process_rules("a", "p").expected_loading == 3
    assert rules.process_rules("a", "pq").expected_loading == 3  # tie: 'p' keeps its first rank


# ---------------------------------------------------------------- models (§1.6)
MODELS = """
    <model name="m3"><expected_loading>3</expected_loading><wait_exit>true</wait_exit></model>
    <model name="m2"><reference>m3</reference><expected_loading>2</expected_loading>
        <start_sequence>2</start_sequence></model>
    <model name="m1"><reference>m2</reference><expected_loading>1</expected_loading></model>
    <model name="loop"><reference>loop</reference><expected_loading>9</expected_loading></model>
    <model><expected_loading>50</expected_loading></model>
    <application name="app"><programs>
        <program name="p1"><reference>m1</reference></program>
        <program name="p2"><reference>m2</reference></program>
        <program name="p3"><reference>m2</reference><expected_loading>20</expected_loading></program>
        <program name="p4"><reference>unknown</reference><start_sequence>4</start_sequence></program>
        <program name="p5"><reference>loop</reference></program>
        <program name="p6"><reference></reference><start_sequence>6</start_sequence></program>
    </programs></application>
"""


@pytest.mark.parametrize("process, loading, start, wait_exit", [
    ("p1", 1, 2, False),   # program <- m1 <- m2; m3 is the third level: dropped
    ("p2", 2, 2, True),    # program <- m2 <- m3
    ("p3", 20, 2, True),   # the program's own fields override its models
    ("p4", 0, 4, False),   # unknown reference ignored
    ("p5", 9, 0, False),   # a self reference is harmless
    ("p6", 0, 6, False),   # empty reference ignored
])
def test_model_references_two_levels(tmp_path, process, loading, start, wait_exit):
    rules = rules_from(tmp_path, MODELS)
    proc = rules.process_rules("app", process)
    assert (proc.expected_loading, proc.start_sequence, proc.wait_exit) == (loading, start, wait_exit)


def test_reference_cut_off_is_reported(tmp_path):
    rules = rules_from(tmp_path, MODELS)
    assert any("m3" in note and "not applied" in note for note in rules.process_rules("app", "p1").notes)


def test_later_file_model_wins(tmp_path):
    rules = rules_from(tmp_path, '<model name="m"><expected_loading>1</expected_loading></model>'
                       '<application name="a"><programs><program name="p"><reference>m</reference></program>'
                       '</programs></application>',
                       '<model name="m"><expected_loading>2</expected_loading></model>')
    assert rules.process_rules("a", "p").expected_loading == 2


# ---------------------------------------------------------------- defaults, inheritance, checks (§1.8, §1.12)
INHERIT = """<application name="app">
    <start_sequence>2</start_sequence>
    <starting_failure_strategy>STOP</starting_failure_strategy>
    <running_failure_strategy>RESTART_APPLICATION</running_failure_strategy>
    <programs>
        <program name="inherit"><start_sequence>1</start_sequence></program>
        <program name="override"><starting_failure_strategy>CONTINUE</starting_failure_strategy>
            <running_failure_strategy>STOP_APPLICATION</running_failure_strategy></program>
        <program name="req0"><required>true</required></program>
        <program name="req1"><required>1</required><start_sequence>3</start_sequence></program>
        <program name="stop"><start_sequence>3</start_sequence><stop_sequence>0</stop_sequence></program>
        <program name="spaced"><required> true </required><start_sequence> 60 </start_sequence></program>
        <program name="signs"><start_sequence>+4</start_sequence><stop_sequence>007</stop_sequence></program>
        <program name="negative"><start_sequence>5</start_sequence><stop_sequence>-1</stop_sequence></program>
    </programs></application>"""


@pytest.mark.parametrize("process, field, value", [
    ("inherit", "starting_failure_strategy", "STOP"),
    ("inherit", "running_failure_strategy", "RESTART_APPLICATION"),
    ("inherit", "stop_sequence", 1),               # defaults to start_sequence
    ("override", "starting_failure_strategy", "CONTINUE"),
    ("override", "running_failure_strategy", "STOP_APPLICATION"),
    ("req0", "required", False),                   # required with start_sequence 0 is forced false
    ("req1", "required", True),
    ("stop", "stop_sequence", 0),
    ("spaced", "required", False),                 # ' true ' ignored as Supvisors 0.19.1 does
    ("spaced", "start_sequence", 60),              # integers are stripped
    ("signs", "start_sequence", 4),
    ("signs", "stop_sequence", 7),
    ("negative", "stop_sequence", 5),              # negative ignored -> defaulted from start
])
def test_defaults_inheritance_and_checks(tmp_path, process, field, value):
    rules = rules_from(tmp_path, INHERIT)
    assert rules.process_rules("app", process).to_dict()[field] == value


def test_application_fields_and_stop_default(tmp_path):
    rules = rules_from(tmp_path, """<application name="app">
        <distribution>SINGLE_NODE</distribution><identifiers>a,b</identifiers><start_sequence>3</start_sequence>
        <starting_strategy>MOST_LOADED_NODE</starting_strategy>
        <operational_status>all('x.*')</operational_status></application>
        <application name="bad_formula"><operational_status> any('x')</operational_status></application>
        <application name="two"><operational_status>a = 1; b = 2</operational_status></application>""")
    assert rules.application_rules("app").to_dict() == {
        "application_name": "app", "managed": True, "distribution": "SINGLE_NODE", "identifiers": ["a", "b"],
        "start_sequence": 3, "stop_sequence": 3, "starting_strategy": "MOST_LOADED_NODE",
        "starting_failure_strategy": "ABORT", "running_failure_strategy": "CONTINUE",
        "status_formula": "all('x.*')"}
    assert rules.application_rules("bad_formula").status_formula == ""   # leading space: indent error
    assert rules.application_rules("two").status_formula == ""


# ---------------------------------------------------------------- program '#' and '@' (§1.8, §1.10)
SIGNS = """<model name="hash_model"><identifiers>#,s1,s2</identifiers></model>
<application name="app"><programs>
    <program name="by_name_at"><identifiers>@,s1</identifiers></program>
    <program name="by_name_hash"><reference>hash_model</reference></program>
    <program pattern="pat_at_"><identifiers>@,s1,s2</identifiers></program>
    <program pattern="pat_hash_"><identifiers>#</identifiers></program>
    <program pattern="pat_both_"><identifiers>#,@,s2</identifiers></program>
    <program pattern="pat_model_"><reference>hash_model</reference></program>
</programs></application>"""


@pytest.mark.parametrize("process, identifiers, at, hashtag", [
    ("by_name_at", ("*",), (), ()),          # '@' only valid by pattern: reset to '*'
    ("by_name_hash", ("*",), (), ()),
    ("pat_at_01", (), ("s1", "s2"), ()),
    ("pat_hash_01", (), (), ("*",)),
    ("pat_both_01", (), ("s2",), ()),        # both signs: '#' dropped
    ("pat_model_01", (), (), ("s1", "s2")),
])
def test_program_signs(tmp_path, process, identifiers, at, hashtag):
    proc = rules_from(tmp_path, SIGNS).process_rules("app", process)
    assert (proc.identifiers, proc.at_identifiers, proc.hash_identifiers) == (identifiers, at, hashtag)
    assert proc.to_dict()["identifiers"] == list(identifiers)


@pytest.mark.parametrize("name, program, index", [
    ("yeux_00", "yeux", 0), ("yeux_01", "yeux", 1), ("movie-12", "movie", 12), ("app1", "app", 1),
    ("manager", "manager", 0), ("007", "007", 0),
])
def test_program_name_and_index(name, program, index):
    assert program_name_and_index(name) == (program, index)


# ---------------------------------------------------------------- application '#' (§1.9, §8)
HCI = """<alias name="consoles">console_1,console_2,console_3</alias>
<application pattern="scen3_hci_"><distribution>SINGLE_INSTANCE</distribution>
    <identifiers>#,consoles</identifiers><start_sequence>3</start_sequence></application>
<application pattern="star_"><identifiers>#</identifiers><start_sequence>1</start_sequence></application>
<application pattern="mixed_"><identifiers>#,127.0.0.1:2,nobody,c</identifiers></application>
<application pattern="at_"><identifiers>@,#,a</identifiers></application>"""


@pytest.mark.parametrize("name, identifiers, start, stop", [
    ("scen3_hci_01", ("console_1",), 3, 3), ("scen3_hci_02", ("console_2",), 3, 3),
    ("scen3_hci_03", ("console_3",), 3, 3), ("scen3_hci_04", ("console_1",), 3, 3),
    ("my_scen3_hci_07", ("console_1",), 3, 3),
    ("scen3_hci_0", (), 0, 3), ("scen3_hci_x", (), 0, 3),     # no N: start 0, stop kept
])
def test_application_hash_offline(tmp_path, name, identifiers, start, stop):
    app = rules_from(tmp_path, HCI).application_rules(name)
    assert (app.identifiers, app.start_sequence, app.stop_sequence) == (identifiers, start, stop)


@pytest.mark.parametrize("name, identifiers", [
    ("star_1", ("a",)), ("star_2", ("b",)), ("star_4", ("a",)),
    ("mixed_1", ("b",)),        # host:port and nick are the same instance; unknown dropped
    ("mixed_2", ("c",)), ("mixed_3", ("b",)),
    ("at_2", ("a",)),           # '@' and '#': '#' still resolved
])
def test_application_hash_with_instances(tmp_path, name, identifiers):
    rules = rules_from(tmp_path, HCI, instances="<a>127.0.0.1:1 <b>127.0.0.1:2 <c>unix:///tmp/c.sock")
    assert rules.application_rules(name).identifiers == identifiers


def test_application_hash_with_no_known_instance_is_an_error(tmp_path):
    rules = rules_from(tmp_path, HCI, instances="<a>127.0.0.1:1")
    with pytest.raises(RulesError, match="scen3_hci_01.*none of the '#' identifiers"):
        rules.application_rules("scen3_hci_01")


def test_application_hash_over_star_needs_instances(tmp_path):
    with pytest.raises(RulesError, match="needs the instance list"):
        rules_from(tmp_path, HCI).application_rules("star_1")


@pytest.mark.parametrize("name, index", [("scen3_hci_02", 2), ("a-10", 10), ("app1", None), ("x_0", 0)])
def test_hash_index(name, index):
    assert hash_index(name) == index


def test_program_identifiers_are_not_filtered(tmp_path):
    rules = rules_from(tmp_path, '<application name="a"><programs><program name="p">'
                       '<identifiers>nobody,b</identifiers></program></programs></application>',
                       instances="<b>127.0.0.1:2")
    assert rules.process_rules("a", "p").identifiers == ("nobody", "b")


def test_resolution_is_cached_and_immutable(tmp_path):
    rules = rules_from(tmp_path, PROGRAM_PATTERNS)
    first = rules.process_rules("app", "abc")
    assert rules.process_rules("app", "abc") is first
    with pytest.raises(AttributeError):
        first.expected_loading = 5  # type: ignore[misc]
