"""Conciliation rules: which copies of a program active on several instances (a partition that healed, a
frozen server that woke up) are stopped, so that it is kept on one instance (behaviour spec §3.9).

Pure, and the one implementation: ``supv conciliate`` and ``supv_cli.plan.operate`` (by hand) and the
controller (:mod:`supv_cli.controller.conciliation`, which reports the conflicts, sends the stops and
paces them) all ask :func:`victims`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from supv_cli.compat import StrEnum
from supv_cli.model.instances import Instance

if TYPE_CHECKING:
    from supv_cli.status import ProcessStatus

class Conciliation(StrEnum):
    """``--conciliate``: which copies of a program running on several instances are stopped."""

    INFANTICIDE = "infanticide"   # keep the oldest
    SENICIDE = "senicide"         # keep the youngest
    STOP = "stop"                 # stop them all
    USER = "user"                 # only report


#: the rules ``supv conciliate`` accepts (the controller's, without "only report")
CONCILIATE_STRATEGIES = tuple(rule.value for rule in Conciliation if rule is not Conciliation.USER)


def victims(process: ProcessStatus, rule: Conciliation, index: Callable[[str], int]) -> list[Instance]:
    """The instances where ``process`` must be stopped under ``rule`` (ties on the start time go by
    instance-list ``index``, so that every controller picks the same ones)."""
    if rule is Conciliation.USER or len(process.running_on) < 2:
        return []

    def started(instance: Instance) -> float:
        info = process.info_on(instance)
        return info.start if info is not None else 0.0

    ordered = sorted(process.running_on, key=lambda i: (started(i), index(i.nick)))
    if rule is Conciliation.INFANTICIDE:
        return ordered[1:]
    if rule is Conciliation.SENICIDE:
        return ordered[:-1]
    return ordered
