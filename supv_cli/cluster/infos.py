"""ProcessInfo from supervisord's answers, and what the poller keeps of them, compactly (issue 18).

A controller keeps the last answer of every process of every instance (12,000 at 300 x 40) and the
configuration of each: what it keeps per process is counted in hundreds of bytes. So:

* the configuration of a process (``getAllConfigInfo``: 29 members) is kept as a :data:`ConfigEntry`,
  the four values a ProcessInfo takes of it, one shared tuple for every process configured alike
  (almost all of a cluster: a few distinct entries), in a per-instance map group -> name -> entry
  (:func:`compact_configs`): 0.4 MB at 300 x 40 against 5.6 MB as dicts;
* the values repeated in an answer (``now``, a start or stop of 0) are one float object per answer;
* a process's *change key* (what tells a change, not the clock: ``mainlog.py``, ``known.py``) is the
  same whether read from the struct (:func:`change_key`) or from the ProcessInfo made of it
  (:func:`process_key`): the poller keeps no key beside its last answer, it derives it.
"""

from __future__ import annotations

from sys import intern
from typing import Any, Dict, Tuple

from supv_cli.model.snapshot import ProcessInfo, ProcessState

__all__ = ["ConfigEntry", "ConfigMap", "DEFAULT_CONFIG", "change_key", "compact_configs", "config_entry",
           "process_info", "process_key"]

#: what a ProcessInfo takes of a getAllConfigInfo struct: startsecs, stopwaitsecs, exitcodes, autostart
ConfigEntry = Tuple[int, int, Tuple[int, ...], bool]
#: a compact configuration: group -> process name -> its entry
ConfigMap = Dict[str, Dict[str, ConfigEntry]]
#: Supervisor's defaults (a snapshot without the configuration, or a process it does not list)
DEFAULT_CONFIG: ConfigEntry = (1, 10, (0,), True)

#: the entries and exit codes tuples seen, one object each; started over beyond :data:`_SHARED_MAX`
#: (a hostile peer's endless variety must not grow them)
_ENTRIES: dict[ConfigEntry, ConfigEntry] = {DEFAULT_CONFIG: DEFAULT_CONFIG}
_EXITCODES: dict[tuple[int, ...], tuple[int, ...]] = {(0,): (0,)}
_SHARED_MAX = 1024
_ZERO = 0.0
_STATES = {int(state): state for state in ProcessState}


def _shared(table: dict[Any, Any], value: Any) -> Any:
    if len(table) > _SHARED_MAX:
        table.clear()
    return table.setdefault(value, value)


def exitcodes(codes: Any) -> tuple[int, ...]:
    """The exit codes of a configuration struct, one tuple object per distinct list."""
    return _shared(_EXITCODES, tuple(int(code) for code in codes) if isinstance(codes, list) else (0,))


def config_entry(config: dict[str, Any]) -> ConfigEntry:
    """A getAllConfigInfo struct's :data:`ConfigEntry` (ValueError / TypeError on a value of another type)."""
    return _shared(_ENTRIES, (int(config.get("startsecs", 1)), int(config.get("stopwaitsecs", 10)),
                              exitcodes(config.get("exitcodes", [0])), bool(config.get("autostart", True))))


def compact_configs(configs: list[Any]) -> ConfigMap | None:
    """A getAllConfigInfo answer as a :data:`ConfigMap` (the last struct of a process wins, as in a dict
    built from the list; a struct that is not a dict is ignored); None when a value has another type
    than supervisord's (the answer is then kept as it came, to fail where it is used, as before)."""
    found: ConfigMap = {}
    try:
        for config in configs:
            if isinstance(config, dict):
                group = found.setdefault(intern(str(config.get("group"))), {})
                group[intern(str(config.get("name")))] = config_entry(config)
    except (TypeError, ValueError):
        return None
    return found


def index_configs(configs: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A getAllConfigInfo answer (a list of structs) indexed as a :data:`ConfigMap`, the structs kept."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for config in configs:
        if isinstance(config, dict):
            found.setdefault(str(config.get("group")), {})[str(config.get("name"))] = config
    return found


def process_info(info: dict[str, Any], config: ConfigEntry | dict[str, Any] | None, config_known: bool = True,
                 floats: dict[Any, float] | None = None) -> ProcessInfo:
    """One getAllProcessInfo struct merged with its configuration (an entry, a struct, or None:
    Supervisor's defaults); ``floats``: the float objects made so far for this answer, shared."""
    if config is None:
        config = DEFAULT_CONFIG
    elif isinstance(config, dict):
        config = config_entry(config)
    startsecs, stopwaitsecs, codes, autostart = config
    memo = floats if floats is not None else {}
    start, stop, now = info.get("start", 0), info.get("stop", 0), info.get("now", 0)
    return ProcessInfo(
        group=intern(str(info["group"])),
        name=intern(str(info["name"])),
        state=_STATES.get(int(info["state"]), ProcessState.UNKNOWN),
        start=memo.get(start) or memo.setdefault(start, float(start) or _ZERO),
        stop=memo.get(stop) or memo.setdefault(stop, float(stop) or _ZERO),
        now=memo.get(now) or memo.setdefault(now, float(now) or _ZERO),
        pid=int(info.get("pid", 0)),
        exitstatus=int(info.get("exitstatus", 0)),
        spawnerr=str(info.get("spawnerr", "")),
        description=str(info.get("description", "")),
        startsecs=startsecs,
        stopwaitsecs=stopwaitsecs,
        exitcodes=codes,
        autostart=autostart,
        config_known=config_known,
    )


#: the type of a change key: group, name, state, start, stop, pid, exitstatus, spawnerr
ChangeKey = Tuple[str, str, ProcessState, float, float, int, int, str]


def change_key(info: dict[str, Any]) -> ChangeKey:
    """What tells a change of a getAllProcessInfo struct (not ``now`` nor the uptime), as the ProcessInfo
    made of it holds it (:func:`process_key`). KeyError when a member is missing, ValueError or TypeError
    when one is not of its type: then the answer has no key (never taken for unchanged)."""
    return (str(info["group"]), str(info["name"]), _STATES.get(int(info["state"]), ProcessState.UNKNOWN),
            float(info["start"]), float(info["stop"]), int(info["pid"]), int(info["exitstatus"]),
            str(info["spawnerr"]))


def process_key(info: ProcessInfo) -> ChangeKey:
    """The change key of a ProcessInfo: :func:`change_key` of the struct it was made of."""
    return (info.group, info.name, info.state, info.start, info.stop, info.pid, info.exitstatus, info.spawnerr)
