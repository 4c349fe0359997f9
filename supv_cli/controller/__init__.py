"""The controller of ``supv run-plan --watch``: automatic start and failover, level-triggered.

:mod:`.core` holds the parts, each an object with a typed interface (no mixin):

* :mod:`.membership`: which instances answer, which are lost, what each answered last, who leads;
* :mod:`.evidence`: how fresh each instance's answer is, and which instances a decision waits for;
* :mod:`.pacing`: what each instance is asked at each cycle (it reads the controller through a Protocol,
  ``Paced``), and the status evaluated again only when an answer changed;
* :mod:`.recovery`: the running failure strategies applied to lost and crashed programs (with
  :mod:`.desired`, programs that may have moved onto a lost instance, and :mod:`.inflight`, the starts
  sent and not confirmed);
* :mod:`.conciliation`: programs running on several instances (the pure rule of which copies to stop is
  :mod:`supv_cli.plan.conciliation`, shared with ``supv conciliate``);
* :mod:`.jobs`: what the controller does (staged runs) and why, and the ``Board`` its parts ask it through;
* :mod:`.events`: the kinds of events it logs;
* :mod:`.core`: the pure state machine (one :meth:`~.core.Controller.cycle` per snapshot);
* :mod:`.loop`: :func:`~.loop.watch`, the driver (snapshot, cycle, send, sleep).

Nothing is imported here: importing one part must not load the controller itself.
"""
