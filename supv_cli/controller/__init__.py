"""The controller of ``supv run-plan --watch``: automatic start and failover, level-triggered.

* :mod:`.membership`: which instances answer, which are lost, what each answered last, who leads;
* :mod:`.recovery`: the running failure strategies applied to lost and crashed programs;
* :mod:`.conciliation`: programs running on several instances;
* :mod:`.jobs`: what the controller does (staged runs) and why;
* :mod:`.events`: the kinds of events it logs;
* :mod:`.core`: the pure state machine (one :meth:`~.core.Controller.cycle` per snapshot);
* :mod:`.loop`: :func:`~.loop.watch`, the driver (snapshot, cycle, send, sleep).

Nothing is imported here: :mod:`.conciliation` is light and used outside the controller (``supv
conciliate``, ``supv_cli.plan.operate``); importing it must not load the controller itself.
"""
