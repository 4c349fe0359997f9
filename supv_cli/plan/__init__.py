"""Placement, planning and execution of staged starts and stops. Pure: no network here.

``stages`` (what a plan is), ``placement`` / ``placer`` (where a process goes) and ``planner`` (rules
and snapshot -> Plan) are deterministic: same rules and snapshot, same plan. ``run_types`` is the
vocabulary of runs (options, commands, requests, events, outcomes); ``executor`` is the run state
machine and ``verdicts`` what an answer or a process state means for one command; ``operate`` plans
the by-hand operations. The requests are sent by ``supv_cli.cluster.session``; the failover loop is
``supv_cli.controller``.
"""
