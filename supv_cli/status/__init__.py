"""The status core: what the cluster looks like, as Supvisors would show it. Pure: no network, no click.

* :mod:`.processes`: the synthetic state of one process across instances (behaviour spec §2.1);
* :mod:`.applications`: application state, major / minor failures, operational status (§2.3-§2.6);
* :mod:`.formula`: the ``operational_status`` formula, evaluated by a small AST walker (§2.5);
* :mod:`.loads`: instance and node loads (§3.2), per-instance process counts;
* :mod:`.cluster`: :func:`evaluate`, all of the above from one snapshot and the rules.

The names most callers need are exposed here; the rest is imported from its module.
"""

from __future__ import annotations

from supv_cli.status.applications import ApplicationState, ApplicationStatus
from supv_cli.status.cluster import ClusterStatus, evaluate
from supv_cli.status.processes import ProcessStatus

__all__ = ["ApplicationState", "ApplicationStatus", "ClusterStatus", "ProcessStatus", "evaluate"]
