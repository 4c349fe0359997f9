"""Placement, planning, execution and the controller: staged start/stop and failover.

``placement`` and ``planner`` are pure and deterministic (same rules and snapshot, same plan);
``executor`` and ``controller`` drive them against the cluster through ``supv_cli.cluster.client``.
"""
