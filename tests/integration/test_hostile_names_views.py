"""A program named with control bytes (ESC, OSC, CSI, BEL, a quote, a backslash) through the views of
issues 17 and 20 on real supervisord: JSON stays JSON with the name exact, and `metrics --once` is the
exposition the endpoint serves, parsed by prometheus-client with the label values exact (escaped as the
text format requires, nothing stripped)."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

EVIL = 'evil\x1b]0;PWN\x07\x1b[2J\x1b[1A"q\\b'


def test_a_hostile_program_name_in_json_views_and_metrics(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs={EVIL: {"command": "sleep 1000", "autostart": True, "startsecs": 0}})
    args = ("-i", server.spec, "--timeout", "3")
    # (getProcessInfo of such a name is a 400 from supervisord: ask for every process, as the views do)
    wait_for("the program RUNNING", lambda: run_supv("sstatus", *args, "--json").stdout,
             lambda out: '"statename": "RUNNING"' in out)
    for command in ("sstatus", "application-info", "stats"):
        result = run_supv(command, *args, "--json")
        assert result.exit_code == 0, (command, result.stderr)
        rows = json.loads(result.stdout)
        assert EVIL in {row["application_name"] for row in rows}, (command, rows)
    result = run_supv("metrics", *args, "--once")
    assert result.exit_code == 0, result.stderr
    labels = [sample.labels for family in text_string_to_metric_families(result.stdout) for sample in family.samples
              if sample.name == "supv_process_state" and sample.labels["state"] == "RUNNING"]
    assert [(label["application"], label["process"]) for label in labels] == [(EVIL, EVIL)], labels
