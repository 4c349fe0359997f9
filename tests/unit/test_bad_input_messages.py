"""Messages that must say what is wrong and where, without misleading (issue 9, items 5, 8 and 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from supv_cli.cluster.settings import ClusterOptions, resolve_settings
from supv_cli.errors import ConfigError, ExitCode
from supv_cli.model.instances import InstanceList, redact_url
from supv_cli.rules import load_rules
from supv_cli.rules.xmlload import regex_problem

from .rules_helpers import rules_from, write_rules

SECRET = "s3cret-Vb81"

# ------------------------------------------------------------------ item 5: credentials in an -i URL

URL_CREDENTIALS = [
    (f"<m>http://ops:{SECRET}@127.0.2.1:61001", "'<m>http://***@127.0.2.1:61001'"),
    (f"http://ops:{SECRET}@127.0.2.1:61001", "'http://***@127.0.2.1:61001'"),
    (f"ops:{SECRET}@127.0.2.1:61001", "'***@127.0.2.1:61001'"),
    (f"<m>https://{SECRET}@host:1", "'<m>https://***@host:1'"),
    # issue 17 item 6: a password holding @ (and /) is masked up to the last @
    (f"http://ops:{SECRET}@x@127.0.2.1:61001", "'http://***@127.0.2.1:61001'"),
    (f"ops:{SECRET}@@x@127.0.2.1:61001", "'***@127.0.2.1:61001'"),
    (f"http://ops:{SECRET}/x@y@host:1/", "'http://***@host:1/'"),
]


@pytest.mark.parametrize(("spec", "shown"), URL_CREDENTIALS)
def test_credentials_in_an_instance_url_are_refused_and_not_echoed(spec: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        InstanceList.parse([spec])
    message = str(caught.value)
    assert SECRET not in message and "ops" not in message
    assert message.startswith(f"instance {shown}: credentials in the URL are not supported")
    assert "-u/--password" in message
    assert caught.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(("url", "shown"), [
    ("http://a:b@h:1", "http://***@h:1"), ("a@h:1", "***@h:1"), ("http://h:1", "http://h:1"),
    ("unix:///run/a@b.sock", "unix:///run/a@b.sock"),     # an @ in a socket path is no credential
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize("debug", [(), ("--debug",)])
def test_a_password_with_an_at_sign_is_not_printed_even_with_debug(debug: tuple[str, ...]) -> None:
    from tests.support.cli import run_supv

    result = run_supv("instances", *debug, "-i", f"http://ops:{SECRET}@x@127.0.2.1:61001")
    assert result.exit_code == ExitCode.USAGE
    assert "instance 'http://***@127.0.2.1:61001'" in result.stderr
    assert SECRET not in result.output and "@x@" not in result.output and "ops" not in result.stderr


def test_a_socket_path_with_an_at_sign_is_accepted() -> None:
    assert InstanceList.parse(["<c>unix:///run/a@b.sock"])[0].url == "unix:///run/a@b.sock"


# ------------------------------------------------------------------ item 8: the same URL under two nicks

def test_one_url_under_two_nicks_is_not_a_nick_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        InstanceList.parse(["<a>127.0.2.1:61001 <b>http://127.0.2.1:61001/"])
    assert str(caught.value) == ("instances <a> and <b> are the same supervisord (http://127.0.2.1:61001); "
                                 "list each supervisord once")


# ------------------------------------------------------------------ item 8: regex positions as written

REGEXES = [
    # pattern, Python's own message for the pattern as written
    ("scen3_(", "missing ), unterminated subpattern at position 6"),
    ("[a", "unterminated character set at position 0"),
    ("a{2,1}", "min repeat greater than max repeat at position 2"),
    ("*x", "nothing to repeat at position 0"),
    # valid alone, invalid in Supvisors' '(' + pattern + ')': \1 is then the open wrapper group
    (r"(a)\1", "cannot refer to an open group at position 3"),
]


@pytest.mark.parametrize(("pattern", "expected"), REGEXES)
def test_regex_problem_counts_positions_in_the_pattern_as_written(pattern: str, expected: str) -> None:
    with pytest.raises(re.error) as wrapped:
        re.compile(f"({pattern})")
    assert regex_problem(pattern, wrapped.value) == expected


def test_rules_file_error_gives_the_position_in_the_pattern(tmp_path: Path) -> None:
    path = write_rules(tmp_path, '<application pattern="scen3_("/>')
    with pytest.raises(Exception) as caught:
        load_rules([str(path)])
    assert "'scen3_(': missing ), unterminated subpattern at position 6;" in str(caught.value)


def test_a_pattern_that_only_compiles_wrapped_is_accepted_as_supvisors_does(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, '<application pattern="a)(b"/>')      # '(a)(b)' is what Supvisors compiles
    assert rules.application_rules("xaby").managed


# ------------------------------------------------------------------ item 8: nothing found, said where

@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_rules_option_matching_nothing_names_the_option_not_give_r(work: Path) -> None:
    settings = resolve_settings(ClusterOptions(instances=("127.0.2.1:1",), rules=("nothing*.xml",)))
    with pytest.raises(ConfigError) as caught:
        settings.require_rules()
    message = str(caught.value)
    assert message.startswith("no rules file: -r 'nothing*.xml' matches no file")
    assert "give -r" not in message
    env = resolve_settings(ClusterOptions(instances=("127.0.2.1:1",), rules=("nothing*.xml",),
                                          origins={"rules": "environment"}))
    with pytest.raises(ConfigError, match="no rules file: SUPV_RULES 'nothing\\*.xml' matches no file"):
        env.require_rules()


def test_rules_files_of_a_file_matching_nothing_is_located(work: Path) -> None:
    conf = work / "inv.conf"
    conf.write_text("[supv]\nrules_files = none/*.xml\n[instance:a]\nserverurl = http://127.0.2.1:1\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    with pytest.raises(ConfigError) as caught:
        settings.require_rules()
    assert str(caught.value).startswith(f"{conf}:2: no rules file: rules_files matches no file")


def test_no_rules_at_all_says_how_to_give_them(work: Path) -> None:
    with pytest.raises(ConfigError, match="no rules file: give -r FILE, SUPV_RULES or -c FILE"):
        resolve_settings(ClusterOptions(instances=("127.0.2.1:1",))).require_rules()


@pytest.mark.parametrize(("text", "line", "hint"), [
    ("; a cluster to come\n[supv]\ntimeout = 2\n", 2,
     "add an [instance:NICK] section with serverurl = http://host:port per supervisord"),
    ("[supervisord]\n\n[rpcinterface:supvisors]\nsupervisor.rpcinterface_factory = x\n", 3,
     "add supvisors_list = <nick>host:port,... to [rpcinterface:supvisors]"),
])
def test_a_file_without_instances_is_located(work: Path, text: str, line: int, hint: str) -> None:
    conf = work / "empty.conf"
    conf.write_text(text)
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    with pytest.raises(ConfigError) as caught:
        settings.require_instances()
    assert str(caught.value) == f"{conf}:{line}: no instance: {hint}, or give -i SPEC"


# ------------------------------------------------------------------ item 9: a reference to no model

def test_a_reference_to_no_model_is_a_located_warning_naming_it(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, '<model name="model_services"/>'
                                 '<application name="a"><programs>'
                                 '<program name="p">\n<reference>model_servics</reference></program>'
                                 '<program pattern="q">\n\n<reference>nowhere</reference></program>'
                                 '</programs></application>')
    path = rules.files[0]
    expected_p = (f"{path}:4: <reference> 'model_servics' of program p names no model: ignored, as Supvisors "
                  "does; did you mean 'model_services'?")
    expected_q = (f"{path}:6: <reference> 'nowhere' of program pattern 'q' names no model: ignored, as "
                  "Supvisors does; declare <model name=\"nowhere\">")
    assert rules.unknown_references() == [expected_p, expected_q]
    assert rules.process_rules("a", "p").start_sequence == 0       # ignored: the defaults apply
    assert expected_p in rules.warnings                          # every command resolving p reports it


# ------------------------------------------------------------------ item 8: "no instance answered" names the source

@pytest.mark.parametrize(("given", "where"), [("option", "check -i,"), ("environment", "check SUPV_INSTANCES,"),
                                              ("inventory", "check the instances of INVENTORY,")])
def test_no_instance_answered_points_at_where_the_instances_came_from(tmp_path: Path, given: str,
                                                                       where: str) -> None:
    """Nothing listens on 127.0.0.1:1 (refused at once): the hint names -i, SUPV_INSTANCES or the file
    the instances came from, not always "-i / SUPV_INSTANCES"."""
    from tests.support.cli import run_supv

    inventory = tmp_path / "supv.conf"
    inventory.write_text("[supv]\n\n[instance:s1]\nserverurl = http://127.0.0.1:1\n")
    args = {"option": ["-i", "127.0.0.1:1"], "environment": [], "inventory": ["-c", str(inventory)]}[given]
    env = {"SUPV_INSTANCES": "127.0.0.1:1"} if given == "environment" else {}
    result = run_supv("instances", *args, env=env)
    assert result.exit_code == ExitCode.UNREACHABLE, result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("supv: error: no instance answered (1 unreachable): ")
    assert where.replace("INVENTORY", str(inventory)) in error, error


# ------------------------------------------------------------------ issue 17 (minor): messages

def test_rules_check_of_a_missing_file_speaks_of_the_path_given(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.cli import run_supv

    monkeypatch.chdir(tmp_path)
    result = run_supv("rules", "check", "missing.xml")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "missing.xml: no such file; check the path\n"


def test_a_time_option_that_is_no_number_says_so() -> None:
    from tests.support.cli import run_supv

    result = run_supv("top", "--interval", "abc", "-i", "127.0.4.1:1")
    assert result.exit_code == ExitCode.USAGE
    assert "Invalid value for '--interval': 'abc' is not a number of seconds." in result.stderr
    assert "float range" not in result.stderr
