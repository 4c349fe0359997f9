"""A seconds option of the statistics commands: a float range that refuses ``nan`` and ``inf``.

click's FloatRange compares with ``<``/``>``, which are false for ``nan``: ``--interval nan`` passed and
made ``supv metrics`` poll in a busy loop ("every nans"). Exit 2, as a usage error, like every bad value.
"""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteSeconds(click.FloatRange):
    """``click.FloatRange`` for a number of seconds that must be finite."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number
