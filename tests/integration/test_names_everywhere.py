"""The one NAMESPEC grammar (cli.md "Names") in the commands of issue 20, on real supervisord: `stats`,
`all_start` and `local_status` select with the shared Selection, as `sstatus` and `start` do: the same
hints, `all` followed by an unknown name is exit 2, a process known only from a silent instance is exit 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv

pytestmark = pytest.mark.integration

SLEEPER = {"command": "sleep 1000", "startsecs": 0, "autostart": True, "autorestart": False}

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app"><programs><program name="worker"><identifiers>s1</identifiers></program></programs>
  </application>
  <application name="solo"><programs><program name="solo"><identifiers>s2</identifiers></program></programs>
  </application>
</root>
"""


def cluster(supervisord: SupervisordFactory, tmp_path: Path, silent: bool = False) -> list[str]:
    """s1 (app:worker, other) and s2 (solo, where the rules place it); ``silent``: s2 has stopped."""
    s1 = supervisord(nick="s1", programs={"worker": SLEEPER, "other": SLEEPER}, groups={"app": ["worker"]})
    s2 = supervisord(nick="s2", programs={"solo": SLEEPER})
    s1.wait_process("app:worker", ["RUNNING"])
    s2.wait_process("solo:solo", ["RUNNING"])
    if silent:
        s2.stop()
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    return ["-i", f"{s1.spec} {s2.spec}", "-r", str(rules), "--timeout", "2"]


@pytest.mark.parametrize("command", [("stats",), ("sstatus",), ("all_start", "--dry-run"),
                                     ("local_status", "--local", "s1"), ("start", "--dry-run")])
def test_the_same_words_give_the_same_answers(supervisord: SupervisordFactory, tmp_path: Path,
                                              command: tuple[str, ...]) -> None:
    args = cluster(supervisord, tmp_path)
    for words, code, says in [
        (["app"], 2, "app:*"),                       # a bare NAME is NAME:NAME; the application hinted
        (["worker"], 2, "app:worker"),               # a process of another application hinted
        (["all", "nope"], 2, "nope"),                # names after `all` are still checked
        (["app:nope"], 2, "app:nope"),
    ]:
        result = run_supv(*command, *args, *words)
        assert result.exit_code == code, (command, words, result.exit_code, result.stdout, result.stderr)
        assert says in result.stderr and "Traceback" not in result.stderr, (command, words, result.stderr)
        assert "unknown application all" not in result.stderr
    result = run_supv(*command, *args, "app:worker", "app:worker")
    assert result.exit_code == 0, (command, result.stderr)


def test_stats_of_a_process_known_only_from_a_silent_instance_is_exit_3(supervisord: SupervisordFactory,
                                                                        tmp_path: Path) -> None:
    args = cluster(supervisord, tmp_path, silent=True)
    for words in (["solo:*"], []):  # as sstatus: listed from the rules, exit 3 with the reason
        for command in ("stats", "sstatus"):
            result = run_supv(command, *args, *words)
            assert result.exit_code == 3, (command, words, result.exit_code, result.stderr)
            assert "s2" in result.stderr and "did not answer" in result.stderr


def test_all_start_reports_an_allowed_instance_that_did_not_answer(supervisord: SupervisordFactory,
                                                                   tmp_path: Path) -> None:
    args = cluster(supervisord, tmp_path, silent=True)
    for dry in (("--dry-run",), ()):  # solo's rules allow s2 only: nothing can be started, nor known
        result = run_supv("all_start", *args, "solo:solo", "--json", *dry)
        assert result.exit_code == 3, (dry, result.exit_code, result.stdout, result.stderr)
        rows = json.loads(result.stdout)["processes"]
        assert [(r["instance"], r["outcome"]) for r in rows] == [("s2", "UNREACHABLE")], rows
    result = run_supv("all_start", *args, "app:worker", "--dry-run", "--json")   # s1 only: s2 is not its business
    assert result.exit_code == 0, result.stderr
    assert [(r["instance"], r["outcome"]) for r in json.loads(result.stdout)["processes"]] == [("s1", "ALREADY")]
