"""Every supvisorsctl 0.19.1 name answers (issue 20 item 4), offline: help for all 39, the one-line
refusal of the names that need the plugin, supvisorsctl's strategy-first shapes, the root help line."""

from __future__ import annotations

import re

import pytest

from supv_cli.cli import ALIASES, COMMANDS, cli
from supv_cli.cli.supvisors_names import SUPVISORSCTL_NAMES, UNSUPPORTED, reshape
from tests.support.cli import run_supv

#: the ``do_*`` methods of supvisors/supvisorsctl.py at 0.19.1, written out here so that a name dropped
#: from the package's own list is noticed
NAMES_0_19_1 = (
    "sversion", "sstate", "master", "strategies", "stats_status", "instance_status", "application_info",
    "application_rules", "sstatus", "local_status", "process_rules", "conflicts", "start_application",
    "test_start_application", "restart_application", "stop_application", "all_start", "start_args",
    "all_start_args", "start_process", "test_start_process", "start_any_process", "start_process_args",
    "start_any_process_args", "stop_process", "restart_process", "update_numprocs", "lazy_update_numprocs",
    "enable", "disable", "conciliate", "restart_sequence", "sreload", "sshutdown", "end_sync", "loglevel",
    "enable_stats", "disable_stats", "stats_period",
)


def test_the_list_is_supvisorsctl_0_19_1():
    assert len(NAMES_0_19_1) == len(set(NAMES_0_19_1)) == 39
    assert SUPVISORSCTL_NAMES == NAMES_0_19_1


@pytest.mark.parametrize("name", NAMES_0_19_1)
def test_every_supvisorsctl_name_has_help(name):
    # the stats names (stats_status, enable_stats, disable_stats, stats_period) come with the sampler
    result = run_supv(name, "--help")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split()[:3] == ["Usage:", "cli", name]          # CliRunner names the group cli
    assert re.search(r"\n *Examples:\n", result.stdout), result.stdout    # cli.md: every help has Examples


@pytest.mark.parametrize("name", NAMES_0_19_1)
def test_every_supvisorsctl_name_is_on_the_supvisors_names_line(name):
    (line,) = [line for line in run_supv("--help").stdout.split("\n\n") if "Supvisors names" in line]
    assert f" {name}" in " ".join(line.split()).replace(",", " ").replace(";", " ")


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_names_that_need_the_plugin_exit_2_with_one_line(name):
    result = run_supv(name, "some:thing", "--flag", "3")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"supv: error: {name}: not available in supv: ") and "; instead, " in lines[0]
    assert "No such command" not in result.stderr
    assert "Instead:" in run_supv(name, "--help").stdout


@pytest.mark.parametrize("name, hint", [("frobnicate", None), ("start_aplication", "start_application"),
                                        ("sreloda", "sreload"), ("update_numproc", "update_numprocs")])
def test_an_unknown_name_is_one_line_with_the_closest_names(name, hint):
    result = run_supv(name, "x", "--json")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"supv: error: No such command '{name}'")
    assert (f"did you mean {hint}" in line) if hint else "did you mean" not in line


@pytest.mark.parametrize("name, args, expected", [
    ("start_application", ["CONFIG", "app"], ["--strategy", "CONFIG", "app"]),
    ("start_application", ["-c", "etc/supv.conf", "LESS_LOADED", "a", "b"],
     ["-c", "etc/supv.conf", "--strategy", "LESS_LOADED", "a", "b"]),
    ("start_application", ["--config=x.conf", "MOST_LOADED_NODE"],
     ["--config=x.conf", "--strategy", "MOST_LOADED_NODE"]),
    ("start_application", ["--dry-run", "LOCAL", "app"], ["--dry-run", "--strategy", "LOCAL", "app"]),
    ("start_application", ["app", "CONFIG"], ["app", "CONFIG"]),            # only the first argument
    ("start_application", ["config", "app"], ["config", "app"]),            # upper case, as supvisorsctl
    ("start_application", ["app"], ["app"]),
    ("start_application", ["--", "CONFIG"], ["--", "CONFIG"]),
    ("restart_process", ["LESS_LOADED", "app:proc"], ["--strategy", "LESS_LOADED", "app:proc"]),
    ("test_start_process", ["CONFIG", "app:proc"], ["--strategy", "CONFIG", "app:proc"]),
    ("start_any_process", ["LOCAL", "worker"], ["--strategy", "LOCAL", "worker"]),
    ("conciliate", ["SENICIDE"], ["--strategy", "senicide"]),
    ("conciliate", ["USER"], ["USER"]),                                     # no supv equivalent: left as is
    ("stop_application", ["CONFIG"], ["CONFIG"]),                           # takes no strategy
    ("instance_status", ["all"], []),                                       # every instance, as supv shows
    ("instance_status", ["-c", "all", "all", "--json"], ["-c", "all", "--json"]),
    ("sstate", [], []),
])
def test_supvisorsctl_shapes(name, args, expected):
    words = ALIASES.get(name, name).split()
    command = cli.get_command(None, words[0])  # type: ignore[arg-type]
    for word in words[1:]:
        if not word.startswith("-"):
            command = command.commands[word]
    assert reshape(command, name, args) == expected


@pytest.mark.parametrize("name", ["instance_status", "sstate"])
def test_identifiers_are_refused_in_one_line_where_supv_shows_every_instance(name):
    result = run_supv(name, "-i", "127.0.0.1:1", "server_1")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"supv: error: {name}: supv shows every instance") and "server_1" in line


@pytest.mark.parametrize("alias, command", [("test_start_application", "run-plan"), ("master", "controller status"),
                                            ("application_rules", "rules show"), ("sreload", "reload")])
def test_aliases_show_the_help_of_their_command(alias, command):
    help_text = run_supv(*command.split(), "--help").stdout
    assert run_supv(alias, "--help").stdout.splitlines()[2:] == help_text.splitlines()[2:]


def test_a_strategy_first_on_the_command_line_reaches_the_option():
    # LOCAL without a local instance is refused by --local's check only once the strategy is parsed:
    # an unknown application is the error, not "CONFIG" taken as an application name
    result = run_supv("start_application", "-i", "127.0.0.1:1", "--timeout", "0.2", "CONFIG", "web")
    assert "CONFIG" not in result.stderr
    bad = run_supv("start_application", "-i", "127.0.0.1:1", "--strategy", "NOPE")
    assert bad.exit_code == 2 and "CONFIG, LESS_LOADED" in bad.stderr


def test_new_commands_are_registered_once():
    own = {"reload", "shutdown", "start_any_process", "all_start", "sversion", "strategies", "local_status"}
    assert own <= set(COMMANDS)
    assert {"sreload": "reload", "sshutdown": "shutdown"}.items() <= ALIASES.items()
