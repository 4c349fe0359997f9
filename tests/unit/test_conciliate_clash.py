"""``supv conciliate`` against the controllers' state lines: which acting controller would race it."""

from __future__ import annotations

from typing import Any

import pytest

from supv_cli.cli.conciliate import strategy_clash

ACTING_SENICIDE = {"acting": True, "conciliate": "senicide"}


@pytest.mark.parametrize(("states", "strategy", "clash"), [
    ({"s1": ACTING_SENICIDE}, "infanticide", [("s1", "senicide")]),
    ({"s1": ACTING_SENICIDE}, "stop", [("s1", "senicide")]),
    ({"s1": ACTING_SENICIDE}, "senicide", []),                                      # the same strategy
    ({"s1": {"acting": False, "conciliate": "senicide"}}, "infanticide", []),      # a standby does not act
    ({"s1": {"acting": True, "conciliate": "user"}}, "infanticide", []),           # only reports
    ({"s1": {"acting": True}}, "infanticide", []),                                 # too old to say
    ({"s1": {"acting": False, "conciliate": "stop"}, "s2": ACTING_SENICIDE}, "stop", [("s2", "senicide")]),
    ({}, "infanticide", []),                                                       # held, or none
])
def test_strategy_clash(states: dict[str, dict[str, Any]], strategy: str, clash: list[tuple[str, str]]) -> None:
    assert strategy_clash(states, strategy) == clash
