"""The kinds of events the controller logs (one line each on stderr, ``event`` in JSON lines)."""

from __future__ import annotations

from supv_cli.compat import StrEnum


class EventKind(StrEnum):
    """What a controller event is about (the runs it drives add their own: stage, ok, failed...)."""

    START = "start"            # the controller starts
    STOP = "stop"              # the controller stops (SIGTERM), after its cycle
    ALIVE = "alive"            # proof of life, every minute
    LEADER = "leader"          # acting / standing by, and who leads
    QUORUM = "quorum"          # the controller sees too few instances to act, or sees enough again
    RIVAL = "rival"            # another controller is seen acting while this one acts
    LOST = "lost"              # an instance missed --lost-after polls
    BACK = "back"              # a lost instance answers again
    DERIVE = "derive"          # what ran on an instance never seen, from the rules
    CRASH = "crash"            # a process crashed on a live instance
    DECISION = "decision"      # a running failure strategy applied, or why nothing is done
    BUDGET = "budget"          # the restart budget is spent
    CONFLICT = "conflict"      # a program runs on several instances
    CONCILIATE = "conciliate"  # a copy of a program in conflict is stopped
    FAILED = "failed"          # a request of the controller itself failed
    ERROR = "error"            # a cycle failed on an unexpected error


#: the events kept in the state line's ``recent`` decisions
RECENT = frozenset({EventKind.LOST, EventKind.BACK, EventKind.DECISION, EventKind.BUDGET, EventKind.CONCILIATE,
                    EventKind.DERIVE, EventKind.QUORUM, EventKind.RIVAL})
