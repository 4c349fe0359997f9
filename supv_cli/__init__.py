"""supv: Supvisors-style staged start, status and failover for plain Supervisor clusters."""

__version__ = "0.1.0"
