"""The supv inventory against real supervisord: per-instance passwords and URLs (http and unix) in one
cluster, and Scenario 3's two variants (aliases with -i, stereotypes with -c) reaching the same end state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from supv_cli.cluster.settings import ClusterOptions, resolve_settings
from supv_cli.model.instances import InstanceList
from tests.conftest import SupervisordFactory
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.scenario3 import CONSOLES, SERVERS, SOURCE, Scenario3, prepare, supv_env

pytestmark = pytest.mark.integration

PASSWORD_1 = "first-Qw9p"
PASSWORD_2 = "second-Lm4t"
SLEEPER = {"command": "sleep 1000", "autostart": False}


def write_inventory(path: Path, sections: dict[str, dict[str, str]], rules: str | None = None) -> Path:
    lines = ["[supv]"] + ([f"rules_files = {rules}"] if rules else []) + [""]
    for nick, keys in sections.items():
        lines.append(f"[instance:{nick}]")
        lines += [f"{key} = {value}" for key, value in keys.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


# ================================================================================ credentials per instance

@pytest.fixture
def two_passwords(tmp_path: Path, supervisord: SupervisordFactory) -> tuple[Path, Any, Any]:
    """Two supervisord, each with its own user and password (one on http, one on a unix socket), and an
    inventory that reads the passwords from environment variables."""
    server = supervisord(nick="server_1", username="ops", password=PASSWORD_1, programs={"svc": SLEEPER})
    console = supervisord(nick="console_1", unix=True, username="hci", password=PASSWORD_2,
                          programs={"gui": SLEEPER})
    rules = tmp_path / "rules.xml"
    program = '<program name="{0}"><identifiers>{1}</identifiers><start_sequence>1</start_sequence></program>'
    rules.write_text("<root>" + "".join(
        f'<application name="{name}"><start_sequence>{seq}</start_sequence><programs>'
        f"{program.format(name, stereotype)}</programs></application>"
        for name, seq, stereotype in (("svc", 1, "@SERVER"), ("gui", 2, "@CONSOLE"))) + "</root>")
    inventory = write_inventory(tmp_path / "supv.conf", {
        "server_1": {"serverurl": server.url, "stereotypes": "@SERVER", "username": "ops",
                     "password": "%(ENV_SUPV_TEST_PASSWORD_1)s"},
        "console_1": {"serverurl": console.url, "stereotypes": "@CONSOLE", "username": "hci",
                      "password": "%(ENV_SUPV_TEST_PASSWORD_2)s"},
    }, rules="rules.xml")
    return inventory, server, console


def test_two_instances_with_different_passwords(two_passwords: tuple[Path, Any, Any]) -> None:
    inventory, server, console = two_passwords
    env = {"SUPV_TEST_PASSWORD_1": PASSWORD_1, "SUPV_TEST_PASSWORD_2": PASSWORD_2}
    result = run_supv("instances", "--json", "-c", str(inventory), env=env)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["nick"], r["url"], r["state"], r["stereotypes"]) for r in rows] == [
        ("server_1", server.url, "RUNNING", ["@SERVER"]), ("console_1", console.url, "RUNNING", ["@CONSOLE"])]
    # placement by stereotype over both, each reached with its own password
    report = run_supv("run-plan", "--json", "-c", str(inventory), env=env)
    assert report.exit_code == 0, report.stderr
    assert server.proxy().supervisor.getProcessInfo("svc")["statename"] == "RUNNING"
    assert console.proxy().supervisor.getProcessInfo("gui")["statename"] == "RUNNING"
    outputs = [result, report]
    for args in (["instances", "--format", "plain"], ["instances", "--format", "table"], ["sstatus"],
                 ["application-info", "--json"], ["rules", "show", "--format", "plain"]):
        outputs.append(run_supv(*args, "-c", str(inventory), env=env))
        assert outputs[-1].exit_code == 0, (args, outputs[-1].stderr)
    text = "".join(o.stdout + o.stderr for o in outputs)
    assert PASSWORD_1 not in text and PASSWORD_2 not in text


def test_one_wrong_password_fails_that_instance_only(two_passwords: tuple[Path, Any, Any]) -> None:
    inventory, server, console = two_passwords
    # the server's password given for the console too: only the console refuses
    env = {"SUPV_TEST_PASSWORD_1": PASSWORD_1, "SUPV_TEST_PASSWORD_2": PASSWORD_1}
    result = run_supv("instances", "--json", "-c", str(inventory), env=env)
    assert result.exit_code == 0
    rows = {r["nick"]: r for r in json.loads(result.stdout)}
    assert (rows["server_1"]["state"], rows["console_1"]["state"]) == ("RUNNING", "UNREACHABLE")
    assert rows["console_1"]["error_kind"] == "AUTH"
    assert f"console_1 ({console.url}): authentication failed (HTTP 401)" in result.stderr
    assert PASSWORD_1 not in result.stdout + result.stderr
    # issue 17 item 8: --password goes only to instances without credentials of their own: here none
    result = run_supv("instances", "--json", "-c", str(inventory), "--password", PASSWORD_2, env=env)
    rows = {r["nick"]: r for r in json.loads(result.stdout)}
    assert (rows["server_1"]["state"], rows["console_1"]["state"]) == ("RUNNING", "UNREACHABLE")
    assert "--password: not used, every instance has credentials of its own" in result.stderr
    assert PASSWORD_2 not in result.stdout + result.stderr


def test_unset_password_variable_is_a_clear_error(two_passwords: tuple[Path, Any, Any]) -> None:
    inventory, _, _ = two_passwords
    result = run_supv("instances", "-c", str(inventory), env={"SUPV_TEST_PASSWORD_1": PASSWORD_1,
                                                              "SUPV_TEST_PASSWORD_2": None})
    assert result.exit_code == 2
    assert result.stderr == (f"{inventory}:14: [instance:console_1] password: cannot expand "
                             "%(ENV_SUPV_TEST_PASSWORD_2)s: environment variable SUPV_TEST_PASSWORD_2 "
                             "is not set\n")


# ================================================================================ Scenario 3, both variants

SRV = "scen3_srv"
HCI = [f"scen3_hci_0{n}" for n in (1, 2, 3)]
#: the end state of both variants: LESS_LOADED spreads scen3_srv over the servers, scen3_hci_0N on console_N
END_STATE = {
    ("server_1", f"{SRV}:scen3_item_manager"), ("server_2", f"{SRV}:scen3_system_health"),
    ("server_3", f"{SRV}:scen3_track_manager"), ("server_1", f"{SRV}:scen3_common_bus_interface"),
    *{(f"console_{n}", f"scen3_hci_0{n}:{name}") for n in (1, 2, 3) for name in ("scen3_chart_view",
                                                                                 "scen3_item_control")},
}


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("scen3_variants") / "scenario_3")


@pytest.fixture
def scenario3(scenario_dir: Path) -> Iterator[Scenario3]:
    """A fresh Scenario 3 cluster (free ports) for each test."""
    scenario = Scenario3(scenario_dir)
    scenario.start()
    try:
        yield scenario
    finally:
        scenario.stop()


def stereotype_inventory(scenario: Scenario3, path: Path, consoles_carry: bool = True) -> Path:
    """The scenario's etc/supv.conf with this cluster's addresses."""
    sections = {}
    for nick, server in scenario.servers.items():
        role = "@SERVER" if nick in SERVERS else ("@CONSOLE" if consoles_carry else "")
        sections[nick] = {"serverurl": server.url, **({"stereotypes": role} if role else {})}
    return write_inventory(path, sections, rules=str(scenario.dir / "etc" / "supvisors_rules_mc.xml"))


def variant_args(scenario: Scenario3, variant: str) -> list[str]:
    if variant == "aliases":
        return ["-i", scenario.instance_list, "-r", scenario.rules]
    return ["-c", str(stereotype_inventory(scenario, scenario.dir / "run" / f"supv-{id(scenario)}.conf"))]


def running(scenario: Scenario3) -> set[tuple[str, str]]:
    snapshot = take_snapshot(InstanceList.parse([scenario.instance_list]), timeout=5)
    assert not snapshot.unreachable
    return {(snap.instance.nick, info.namespec) for snap in snapshot for info in snap.processes
            if info.state.name == "RUNNING" and (info.group == SRV or info.group in HCI)}


@pytest.mark.parametrize("variant", ["aliases", "stereotypes"])
def test_scenario3_variants_reach_the_same_end_state(scenario3: Scenario3, variant: str) -> None:
    args = variant_args(scenario3, variant)
    dry = run_supv("run-plan", "--dry-run", "--json", *args)
    assert dry.exit_code == 0, dry.stderr
    planned = {(p["instance"], f"{p['application_name']}:{p['process_name']}")
               for stage in json.loads(dry.stdout)["stages"] for app in stage["applications"]
               for program_stage in app["stages"] for p in program_stage["processes"]
               if not p["process_name"].startswith("scen3_check")}
    assert planned == END_STATE
    result = run_supv("run-plan", "--format", "plain", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert running(scenario3) == END_STATE


def test_scenario3_rules_show_with_the_shipped_inventory() -> None:
    # with NAMESPECs, rules show contacts nothing: the scenario's own etc/supv.conf is enough
    inventory = SOURCE / "etc" / "supv.conf"
    result = run_supv("rules", "show", "--json", "-c", str(inventory), *HCI, "scen3_hci_04",
                      f"{SRV}:scen3_item_manager")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert [r["identifiers"] for r in shown] == [["console_1"], ["console_2"], ["console_3"], ["console_1"],
                                                 ["@SERVER"]]
    # the alias variant resolves to the same instances
    instances = " ".join(f"<{i.nick}>{i.identifier}"
                         for i in resolve_settings(ClusterOptions(config=str(inventory))).instances)
    alias_rules = str(SOURCE / "etc" / "supvisors_rules.xml")
    aliases = run_supv("rules", "show", "--json", "-i", instances, "-r", alias_rules, *HCI, "scen3_hci_04")
    assert [r["identifiers"] for r in json.loads(aliases.stdout)] == [r["identifiers"] for r in shown[:4]]
    table = run_supv("rules", "show", "--format", "plain", "-c", str(inventory), f"{SRV}:scen3_item_manager")
    assert "@SERVER(server_1,server_2,server_3)" in table.stdout.splitlines()[1].split()


def test_scenario3_stereotype_nobody_carries(scenario3: Scenario3, tmp_path: Path) -> None:
    inventory = stereotype_inventory(scenario3, tmp_path / "supv.conf", consoles_carry=False)
    dry = run_supv("run-plan", "--dry-run", "--json", "-c", str(inventory))
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    hci = {f"{p['application_name']}:{p['process_name']}": p
           for stage in plan["stages"] for app in stage["applications"] if app["application_name"] in HCI
           for program_stage in app["stages"] for p in program_stage["processes"]}
    assert hci and {p["action"] for p in hci.values()} == {"no_resource"}
    assert all(p["reason"].endswith("stereotype @CONSOLE: no instance carries it") for p in hci.values())
    plain = run_supv("run-plan", "--dry-run", "--format", "plain", "-c", str(inventory))
    assert "stereotype @CONSOLE: no instance carries it" in plain.stdout + plain.stderr
    shown = run_supv("rules", "show", "--format", "plain", "-c", str(inventory), "scen3_hci_01")
    assert "#,@CONSOLE(none)" in shown.stdout
    assert "supv: warning: stereotype @CONSOLE: no instance carries it" in shown.stderr


# ================================================================================ the launcher

def test_launcher_env_for_each_variant(tmp_path: Path) -> None:
    def env_lines(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, str(SOURCE / "scenario"), "env", "--run-dir", str(tmp_path),
                               *args], env=supv_env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert env_lines()[0].startswith("export SUPV_INSTANCES='<server_1>127.0.0.11:61001 ")
    assert env_lines("--variant", "stereotypes") == ["unset SUPV_INSTANCES SUPV_RULES",
                                                     f"export SUPV_CONFIG={SOURCE / 'etc' / 'supv.conf'}"]
    # another base port: an inventory of its own in the run folder, with the same stereotypes
    assert env_lines("--variant", "stereotypes", "--base-port", "62000")[1] == \
        f"export SUPV_CONFIG={tmp_path / 'supv.conf'}"
    for path, port in ((SOURCE / "etc" / "supv.conf", 61001), (tmp_path / "supv.conf", 62001)):
        settings = resolve_settings(ClusterOptions(config=str(path)))
        assert [(i.nick, i.stereotypes) for i in settings.instances] == \
            [(nick, ("@SERVER",)) for nick in SERVERS] + [(nick, ("@CONSOLE",)) for nick in CONSOLES]
        assert settings.instances[0].url == f"http://127.0.0.11:{port}"
        assert settings.rules_files == [str(SOURCE / "etc" / "supvisors_rules_mc.xml")]
    assert os.path.isfile(SOURCE / "etc" / "supvisors_rules_mc.xml")
