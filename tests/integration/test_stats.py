"""Statistics against real supervisord: the sampler runs under it as an ordinary program.

``supv stats`` reads the samplers' last lines over XML-RPC; ``enable_stats`` / ``disable_stats`` /
``stats_period`` act on the sampler program; ``supv metrics`` serves them to Prometheus.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sys
import time
from typing import Any

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.scenario3 import ROOT
from tests.support.supervisord import Supervisord
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

#: the sampler's period in these tests (seconds)
PERIOD = 0.5
SLEEPER = {"command": "sleep 1000", "autostart": True, "autorestart": False, "startsecs": 0}


def sampler_program(period: float = PERIOD) -> dict[str, Any]:
    """``[program:supv_sampler]`` as docs/metrics.md gives it, with this checkout's supv."""
    command = shlex.join([sys.executable, "-m", "supv_cli", "sampler", "--stats-interval", str(period)])
    return {"command": command, "autostart": True, "autorestart": True, "startsecs": 0,
            "environment": f'PYTHONPATH="{ROOT}"'}


def two_hosts(supervisord: SupervisordFactory) -> tuple[Supervisord, Supervisord]:
    """s1 with a sampler and two sleepers (one in group app), s2 with a sleeper and no sampler."""
    s1 = supervisord(nick="s1", programs={"supv_sampler": sampler_program(), "worker": SLEEPER, "other": SLEEPER},
                     groups={"app": ["worker"]})
    s2 = supervisord(nick="s2", programs={"lonely": SLEEPER})
    return s1, s2


def stats_json(spec: str, *args: str) -> tuple[list[dict[str, Any]], str, int]:
    result = run_supv("stats", "-i", spec, "--json", *args)
    return (json.loads(result.stdout) if result.stdout.strip() else []), result.stderr, result.exit_code


def test_stats_of_a_sampled_host_and_of_one_without_sampler(supervisord: SupervisordFactory) -> None:
    s1, s2 = two_hosts(supervisord)
    spec = f"{s1.spec} {s2.spec}"
    started = time.monotonic()
    rows, stderr, code = wait_for("s1's worker measured", lambda: stats_json(spec),
                                  lambda got: any(r["process_name"] == "worker" and r["rss_bytes"] for r in got[0]),
                                  deadline=20.0)[0]
    # a sample every PERIOD, a process's first CPU figure one period later: within two periods (+ the
    # sampler's own start, a Python interpreter on a shared machine)
    assert time.monotonic() - started < 2 * PERIOD + 10
    assert code == 0, stderr
    by_key = {(r["instance"], r["kind"], r["process_name"]): r for r in rows}
    host = by_key[("s1", "host", None)]
    assert host["sampler"] == "sampling" and 0 <= host["cpu_percent"] <= 100 and 0 < host["memory_percent"] < 100
    assert host["rss_bytes"] > 0 and len(host["load_average"]) == 3 and host["time"]
    worker = by_key[("s1", "process", "worker")]
    assert worker["application_name"] == "app"
    assert worker["pid"] == s1.proxy().supervisor.getProcessInfo("app:worker")["pid"]
    assert worker["rss_bytes"] > 100_000 and worker["memory_percent"] > 0
    sampler = by_key[("s1", "process", "supv_sampler")]
    assert 1_000_000 < sampler["rss_bytes"] < 60_000_000  # the sampler measures itself too
    # the host without a sampler: listed as such, with one hint, and its process with null figures
    lonely_host = by_key[("s2", "host", None)]
    assert lonely_host["sampler"] == "none" and lonely_host["cpu_percent"] is None
    lonely = by_key[("s2", "process", "lonely")]
    assert lonely["pid"] > 0 and lonely["cpu_percent"] is None and lonely["rss_bytes"] is None
    assert stderr.count("no sampler") == 1 and "s2" in stderr and "supv_sampler" in stderr

    # a selection: the worker and its host only
    rows, _, code = stats_json(spec, "app:*")
    assert code == 0 and [(r["instance"], r["kind"], r["process_name"]) for r in rows] == [
        ("s1", "host", None), ("s1", "process", "worker")]
    assert stats_json(spec, "nope:*")[2] == 2

    # a killed process disappears; the others stay
    os.kill(worker["pid"], signal.SIGKILL)
    s1.wait_process("app:worker", ["EXITED"])
    rows, _, _ = stats_json(spec)
    names = {r["process_name"] for r in rows if r["instance"] == "s1"}
    assert "worker" not in names and {"other", "supv_sampler"} <= names

    # plain columns, numbers as they are
    result = run_supv("stats", "-i", spec, "--format", "plain")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Instance", "Kind", "Namespec", "Pid", "CPU%", "RSS", "Mem%", "Sampler"]
    s2_host = next((line.split() for line in lines if line.startswith("s2") and " host " in line), lines)
    assert s2_host == ["s2", "host", "-", "-", "-", "-", "-", "none"]
    assert run_supv("stats_status", "-i", spec, "--format", "plain").stdout.splitlines()[0] == lines[0]

    # instances: the host's measured CPU and memory beside the rules' load
    result = run_supv("instances", "-i", spec, "--json")
    measured = {row["nick"]: (row["cpu_percent"], row["memory_percent"]) for row in json.loads(result.stdout)}
    assert measured["s1"][0] is not None and 0 < measured["s1"][1] < 100 and measured["s2"] == (None, None)
    lines = run_supv("instances", "-i", spec, "--format", "plain").stdout.splitlines()
    assert lines[0].split()[3:6] == ["Load", "CPU", "Mem"]
    assert lines[1].split()[4].endswith("%") and lines[2].split()[3:6] == ["0%", "-", "-"]


def test_disable_enable_and_period_of_the_samplers(supervisord: SupervisordFactory) -> None:
    s1, s2 = two_hosts(supervisord)
    spec = f"{s1.spec} {s2.spec}"
    wait_for("a sample", lambda: stats_json(spec)[0],
             lambda rows: any(r["kind"] == "host" and r["sampler"] == "sampling" for r in rows), deadline=20.0)

    result = run_supv("disable_stats", "-i", spec, "--json")
    assert result.exit_code == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["result"] == "success"
    assert [(r["instance"], r["namespec"], r["outcome"]) for r in done["samplers"]] == [
        ("s1", "supv_sampler:supv_sampler", "STOPPED")]
    rows, stderr, code = stats_json(spec)
    assert code == 0 and rows[0]["sampler"] == "stopped" and "enable_stats" in stderr

    result = run_supv("enable_stats", "-i", spec, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["samplers"][0]["outcome"] == "RUNNING"
    assert json.loads(run_supv("enable_stats", "-i", spec, "--json").stdout)["samplers"][0]["outcome"] == "ALREADY"

    wait_for("sampling again", lambda: stats_json(spec)[0],
             lambda rows: rows[0]["sampler"] == "sampling", deadline=20.0)
    result = run_supv("stats_period", "-i", spec, "--json", "0.7")
    assert result.exit_code == 0, result.stderr
    assert [(r["instance"], r["outcome"], r["period"]) for r in json.loads(result.stdout)] == [
        ("s1", "SENT", 0.7), ("s2", None, None)]
    wait_for("the new period reported", lambda: json.loads(run_supv("stats_period", "-i", spec, "--json").stdout),
             lambda rows: rows[0]["period"] == 0.7 and rows[1]["sampler"] == "none", deadline=20.0)
    assert "period 0.5s -> 0.7s" in s1.proxy().supervisor.tailProcessStderrLog("supv_sampler", 0, 4096)[0]

    # --watch: one JSON list per line and per refresh, until interrupted
    from tests.integration.test_look import Stream

    watch = Stream("stats", "-i", spec, "--watch", "--interval", "0.5", "--json")
    try:
        watch.wait_for(lambda seen: sum(1 for name, _ in seen if name == "out") >= 3)
    finally:
        watch.stop()
    refreshes = [json.loads(line) for line in watch.out()]
    assert all([row["instance"] for row in rows if row["kind"] == "host"] == ["s1", "s2"] for rows in refreshes)
    assert watch.process.returncode == 130


RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app">
    <start_sequence>1</start_sequence>
    <programs>
      <program name="worker"><start_sequence>1</start_sequence><required>true</required></program>
    </programs>
  </application>
</root>
"""


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed by prometheus-client's own parser: (name, labels) -> value."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_endpoint_scraped_over_http(tmp_path: Any, supervisord: SupervisordFactory) -> None:
    from tests.integration.test_look import Stream
    from tests.support.supervisord import free_port

    s1, s2 = two_hosts(supervisord)
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    spec = f"{s1.spec} {s2.spec}"
    port = free_port()
    endpoint = Stream("metrics", "-i", spec, "-r", str(rules), "--listen", f"127.0.0.1:{port}", "--interval", "0.5")
    try:
        endpoint.wait_for(lambda seen: any("serving http://127.0.0.1:" in line for _, line in seen))
        worker = (("application", "app"), ("instance", "s1"), ("process", "worker"))
        metrics, _ = wait_for("the worker's RSS scraped", lambda: scrape(port),
                              lambda got: ("supv_process_rss_bytes", worker) in got, deadline=20.0)
        assert metrics[("supv_instance_up", (("instance", "s1"),))] == 1.0
        assert metrics[("supv_instance_up", (("instance", "s2"),))] == 1.0
        assert metrics[("supv_process_state", (*worker, ("state", "RUNNING")))] == 1.0
        assert metrics[("supv_process_state", (*worker, ("state", "EXITED")))] == 0.0
        assert metrics[("supv_application_state", (("application", "app"), ("state", "RUNNING")))] == 1.0
        assert metrics[("supv_application_operational", (("application", "app"),))] == 1.0
        assert metrics[("supv_application_major_failure", (("application", "app"),))] == 0.0
        assert metrics[("supv_sampler_up", (("instance", "s1"),))] == 1.0
        assert metrics[("supv_sampler_up", (("instance", "s2"),))] == 0.0
        assert 0 <= metrics[("supv_host_cpu_percent", (("instance", "s1"),))] <= 100
        assert ("supv_host_cpu_percent", (("instance", "s2"),)) not in metrics
        assert metrics[("supv_process_rss_bytes", worker)] > 100_000

        s1.proxy().supervisor.stopProcess("app:worker")     # the states change with the program
        metrics, _ = wait_for("the worker STOPPED", lambda: scrape(port),
                              lambda got: got.get(("supv_process_state", (*worker, ("state", "STOPPED")))) == 1.0,
                              deadline=20.0)
        assert metrics[("supv_process_state", (*worker, ("state", "RUNNING")))] == 0.0
        assert metrics[("supv_application_state", (("application", "app"), ("state", "STOPPED")))] == 1.0
        assert metrics[("supv_application_operational", (("application", "app"),))] == 0.0
        assert ("supv_process_rss_bytes", worker) not in metrics

        s1.proxy().supervisor.startProcess("app:worker")
        s2.kill9()                                          # an instance lost: up 0, its programs not served
        metrics, _ = wait_for("s2 down", lambda: scrape(port),
                              lambda got: got.get(("supv_instance_up", (("instance", "s2"),))) == 0.0, deadline=20.0)
        assert metrics[("supv_instance_state", (("instance", "s2"), ("state", "UNREACHABLE")))] == 1.0
        lonely = (("application", "lonely"), ("instance", "s2"), ("process", "lonely"))
        assert metrics[("supv_process_lost", lonely)] == 1.0
    finally:
        endpoint.stop()
    assert endpoint.process.returncode == 130

    result = run_supv("metrics", "-i", f"{s1.spec}", "--once")
    assert result.exit_code == 0, result.stderr
    assert 'supv_instance_up{instance="s1"} 1.0' in result.stdout
    assert run_supv("metrics", "-i", s1.spec, "--listen", "nowhere").exit_code == 2
    with socket.socket() as busy:                           # an address in use: one line, exit 2
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = f"127.0.0.1:{busy.getsockname()[1]}"
        result = run_supv("metrics", "-i", s1.spec, "--listen", taken)
    assert result.exit_code == 2 and f"--listen {taken}: " in result.stderr and "Traceback" not in result.stderr


def test_scenario_3_with_its_samplers(tmp_path: Any) -> None:
    """The launcher's sampler, included by both confs of Scenario 3: every instance is measured."""
    from tests.support.scenario3 import Scenario3, prepare, write_sampler

    scenario_dir = prepare(tmp_path / "scenario_3")
    write_sampler(scenario_dir, period=1.0)
    scenario = Scenario3(scenario_dir).start()
    try:
        def measured(got: list[dict[str, Any]]) -> set[tuple[str, str]]:
            return {(r["instance"], r["process_name"]) for r in got if r["kind"] == "process" and r["rss_bytes"]}

        rows, _ = wait_for("every instance sampling, its sampler measured",
                           lambda: stats_json(scenario.instance_list)[0],
                           lambda got: [r["sampler"] for r in got if r["kind"] == "host"] == ["sampling"] * 6
                           and {(nick, "supv_sampler") for nick in scenario.servers} <= measured(got), deadline=40.0)
        hosts = [r for r in rows if r["kind"] == "host"]
        assert [r["instance"] for r in hosts] == list(scenario.servers)
        assert all(0 < r["memory_percent"] < 100 and r["rss_bytes"] > 0 for r in hosts)
    finally:
        scenario.stop()


def test_a_sampler_under_a_supervisord_on_a_unix_socket_with_credentials(supervisord: SupervisordFactory) -> None:
    """SUPERVISOR_SERVER_URL is then unix:///...; the sampler's credentials come from its environment."""
    program = sampler_program()
    program["environment"] += ',SUPV_USERNAME="ops",SUPV_PASSWORD="s3cret"'
    server = supervisord(nick="u1", unix=True, username="ops", password="s3cret",
                         programs={"supv_sampler": program, "worker": SLEEPER})
    env = {"SUPV_USERNAME": "ops", "SUPV_PASSWORD": "s3cret"}

    def rows() -> list[dict[str, Any]]:
        return json.loads(run_supv("stats", "-i", server.spec, "--json", env=env).stdout)

    got, _ = wait_for("the worker measured", rows,
                      lambda got: any(r["process_name"] == "worker" and r["rss_bytes"] for r in got), deadline=20.0)
    assert got[0]["sampler"] == "sampling"
    assert "s3cret" not in server.proxy().supervisor.tailProcessStderrLog("supv_sampler", 0, 4096)[0]
