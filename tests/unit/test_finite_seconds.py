"""The seconds of the statistics commands refuse nan and inf (exit 2, one usage error, nothing contacted):
click's FloatRange lets nan through (its comparisons are false), and `metrics --interval nan` polled in a
busy loop."""

from __future__ import annotations

import pytest

from tests.support.cli import run_supv

NOWHERE = ("-i", "127.0.0.1:1", "--timeout", "0.5")


@pytest.mark.parametrize("args", [
    ("stats", *NOWHERE, "--interval", "nan"),
    ("stats", *NOWHERE, "--watch", "--interval", "inf"),
    ("stats_status", *NOWHERE, "--interval", "-inf"),
    ("metrics", *NOWHERE, "--once", "--interval", "nan"),
    ("metrics", *NOWHERE, "--once", "--interval", "inf"),
    ("stats_period", *NOWHERE, "nan"),
    ("stats_period", *NOWHERE, "NaN"),
    ("sampler", "--server-url", "http://127.0.0.1:1", "--count", "1", "--stats-interval", "nan"),
])
def test_nan_and_inf_seconds_are_usage_errors(args: tuple[str, ...]) -> None:
    result = run_supv(*args)
    assert result.exit_code == 2, (args, result.exit_code, result.stderr)
    assert "finite" in result.stderr or "range" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("args", [("stats_period", *NOWHERE, "2.5"),
                                  ("metrics", *NOWHERE, "--once", "--interval", "1")])
def test_finite_seconds_pass(args: tuple[str, ...]) -> None:
    assert run_supv(*args).exit_code != 2  # 3 or 0: nobody answers at 127.0.0.1:1, the value was taken
