"""The controller of ``supv run-plan --watch``: automatic start and failover, level-triggered.

* :mod:`.membership`: which instances answer, which are lost, what each answered last, who leads;
* :mod:`.recovery`: the running failure strategies applied to lost and crashed programs;
* :mod:`.conciliation`: programs running on several instances;
* :mod:`.jobs`: what the controller does (staged runs) and why;
* :mod:`.events`: the kinds of events it logs;
* :mod:`.core`: the pure state machine (one :meth:`~.core.Controller.cycle` per snapshot);
* :mod:`.loop`: :func:`~.loop.watch`, the driver (snapshot, cycle, send, sleep).
"""

from supv_cli.controller.conciliation import Conciliation
from supv_cli.controller.core import AUTOSTART_RETRY, Controller, ControllerOptions
from supv_cli.controller.jobs import JobKind
from supv_cli.controller.loop import watch

__all__ = ["AUTOSTART_RETRY", "Conciliation", "Controller", "ControllerOptions", "JobKind", "watch"]
