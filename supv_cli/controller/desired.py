"""Recovery from the desired state, not only from the last answer of a lost instance (issue 16).

The last answer a controller has of an instance may predate a move onto it: a paced controller asks each
instance in full every 2 s (5 s on a standby), and an operator's ``supv restart --strategy`` or a
controller's restart may put a program there in between. So, besides the programs the last answer of a
lost instance shows active (and the starts sent there and never confirmed), a program is an orphan of
the lost instance ``L`` when:

* its application is managed, it is not ``wait_exit`` (a program that exits on its own), and it runs on
  no instance that answers;
* ``L`` is among its candidates (its rules' identifiers);
* it was stopped on another instance (an answering one, or one lost too: its last answer) after the last
  *real* answer of ``L`` (supervisord's stop times are whole seconds: within the second before it
  counts) and no later than the first poll ``L`` missed: it may have moved onto ``L`` in between (a move
  is a stop here, a start there), and nothing this controller saw says it did not.

A program stopped before the last real answer of ``L`` was not on ``L`` then (else that answer shows it:
the recovery takes it from there), and nothing moved it since: it stays stopped. A program stopped after
``L`` began missing polls was stopped after the loss: on purpose. The price: a program stopped by hand a
few seconds before an unrelated loss of one of its candidates (within the pacing period) is restarted;
the controller says so when it does (docs/failover.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from supv_cli.model.snapshot import ProcessState

if TYPE_CHECKING:
    from supv_cli.model.instances import Instance
    from supv_cli.status import ClusterStatus, ProcessStatus


#: supervisord gives start and stop times in whole seconds (rounded down): a stop at ``t`` happened
#: before ``t + CLOCK_GRAIN``
CLOCK_GRAIN = 1.0


def last_stop(process: ProcessStatus, other_than: str) -> tuple[float, str]:
    """The latest stop of ``process`` (STOPPED) on an instance other than ``other_than``, and where
    (0.0, ""). The last answer of another lost instance counts: a move off a server that died since
    (the acting controller's, in a double failure) is still a move."""
    best = (0.0, "")
    for instance, info in process.infos:
        if instance.nick != other_than and info.state is ProcessState.STOPPED and info.stop > best[0]:
            best = (info.stop, instance.nick)
    return best


def maybe_moved(status: ClusterStatus, lost_nick: str, lost_instance: Instance,
                candidates_of: Callable[[ProcessStatus], Sequence[Instance]], real_answer: float,
                loss_began: float) -> Iterator[tuple[ProcessStatus, float, str]]:
    """(process, its last stop, where) for each program that may have moved onto ``lost_nick`` between
    its last real answer (epoch ``real_answer``) and its first missed poll (epoch ``loss_began``; none
    when it is not later than the last real answer: no clock to compare with)."""
    if loss_began <= real_answer:
        return
    for application in status.applications.values():
        if not application.rules.managed:
            continue
        for process in application.processes:
            if process.running_on or process.rules.wait_exit:
                continue
            stop, where = last_stop(process, lost_nick)
            if not real_answer < stop + CLOCK_GRAIN or stop > loss_began or stop == 0.0:
                continue
            if lost_instance in candidates_of(process):
                yield process, stop, where
