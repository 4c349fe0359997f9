"""What a session knows of each instance's health: answering, slow or unreachable, and why.

A :class:`~supv_cli.cluster.session.ClusterSession` updates one :class:`InstanceHealth` per instance
after every call and consults it before the next one. The policy that matters for a command that polls
(run-plan, stop-plan, the controller) is about unresponsive instances: an instance that let a call run
into ``--timeout`` (a frozen supervisord, a host gone without a reset) is not waited for again by the
same session. Later calls to it fail at once with the reason it had, while a background probe
(``supervisor.getState``, one at a time, a short pause between two) watches for its return; once the
probe answers, the instance is asked normally again. An instance that refuses connections is not
skipped: asking it again costs nothing.

An instance that answers something no supervisord sends (PROTOCOL: a web server, an answer too large,
a DOCTYPE, values nested too deep) is backed off: not asked again for 1 s, then 2, 4... up to
:data:`BACKOFF_MAX` seconds while it goes on, even by the controller, which otherwise asks every
instance each poll. Meanwhile its calls fail at once with the reason it had. Reading and refusing a
hostile answer costs up to ``MAX_ANSWER`` bytes and their transfer: at most once per back-off period.

Pure bookkeeping: no network here (the session owns the calls).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import InstanceSnapshot, Unreachable

#: an answer that took more than this fraction of the timeout makes the instance SLOW
SLOW_FRACTION = 0.5
#: seconds between the end of a background probe of an unresponsive instance and the next one
PROBE_PAUSE = 0.5
#: seconds an instance that is not a supervisord is not asked, after its first such answer; doubled on
#: each one after, up to BACKOFF_MAX
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0


class Health(str, Enum):
    """How an instance behaved on its last call in this session."""

    UNKNOWN = "unknown"          # not asked yet
    ANSWERING = "answering"
    SLOW = "slow"                # answered, but after more than SLOW_FRACTION of the timeout
    UNREACHABLE = "unreachable"  # refused, timed out, wrong credentials, not a supervisord...


@dataclass
class InstanceHealth:
    """One instance's health in a session (updated under the session's lock)."""

    instance: Instance
    health: Health = Health.UNKNOWN
    kind: Unreachable | None = None
    reason: str = ""
    #: seconds the last call took
    elapsed: float = 0.0
    #: the last snapshot this instance answered in this session (what may still run there when it stops
    #: answering)
    last_answer: InstanceSnapshot | None = field(default=None, repr=False)
    #: it ran into the timeout: not waited for again until a background probe answers
    unresponsive: bool = False
    probing: bool = False
    probe_ended: float = 0.0
    #: already reported to the user (an unreachable instance is reported once per command)
    reported: bool = False
    #: not a supervisord: not asked before ``not_before`` (the session's clock); the current period
    backoff: float = 0.0
    not_before: float = float("-inf")

    @property
    def answering(self) -> bool:
        return self.health in (Health.ANSWERING, Health.SLOW)

    def answered(self, elapsed: float, timeout: float) -> None:
        """A call returned (a FAULT is an answer too)."""
        self.health = Health.SLOW if elapsed > timeout * SLOW_FRACTION else Health.ANSWERING
        self.kind, self.reason, self.elapsed = None, "", elapsed
        self.unresponsive = False
        self.reported = False
        self.backoff, self.not_before = 0.0, float("-inf")

    def failed(self, kind: Unreachable, reason: str, elapsed: float) -> None:
        """A call failed without an answer."""
        self.health, self.kind, self.reason, self.elapsed = Health.UNREACHABLE, kind, reason, elapsed
        self.unresponsive = kind is Unreachable.TIMEOUT

    def back_off(self, now: float) -> None:
        """It answered what no supervisord sends: not asked again for a while, longer each time."""
        self.backoff = min(BACKOFF_MAX, max(BACKOFF_FIRST, self.backoff * 2))
        self.not_before = now + self.backoff

    def backed_off(self, now: float) -> bool:
        """Whether it must not be asked at ``now`` (see :meth:`back_off`)."""
        return now < self.not_before

    def should_probe(self, now: float) -> bool:
        """Whether to start a background probe now (one at a time, PROBE_PAUSE apart)."""
        return self.unresponsive and not self.probing and now - self.probe_ended >= PROBE_PAUSE


class HealthBoard:
    """The health of every instance of a session, with the lock that guards it."""

    def __init__(self, instances: Any) -> None:
        self.lock = threading.Lock()
        self._by_nick = {instance.nick: InstanceHealth(instance) for instance in instances}

    def __getitem__(self, instance: Instance) -> InstanceHealth:
        found = self._by_nick.get(instance.nick)
        if found is None:  # an instance outside the list (a test, a --local given by URL): tracked too
            found = self._by_nick[instance.nick] = InstanceHealth(instance)
        return found

    def __iter__(self) -> Any:
        return iter(list(self._by_nick.values()))

    def unreported(self) -> list[InstanceHealth]:
        """Unreachable instances not reported yet; marks them reported (each is reported once)."""
        with self.lock:
            found = [h for h in self._by_nick.values() if h.health is Health.UNREACHABLE and not h.reported]
            for health in found:
                health.reported = True
            return found
