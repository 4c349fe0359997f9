"""supervisord for bench/supvisors_side.py, run by the Python of a venv with Supvisors: supervisord's own
``main`` after one change to what Supvisors sees of this machine's network.

Supvisors 0.19.1 finds which ``supvisors_list`` item it is by matching the item's host against the names
and addresses of the machine's network interfaces, loopback excepted, each resolved by a reverse DNS
lookup. Here the only other interface (eth0) has an address without a reverse name, so no item can
match and the plugin refuses to start ("could not find the Supvisors in supvisors_list"). This wrapper
lists the loopback interface (127.0.0.1, which resolves to localhost) among them, so that six instances
on 127.0.0.1 with ports of their own identify themselves by host and port. Nothing else is changed.

Usage: PYTHON bench/supvisors_loopback.py -n -c supervisord.conf
"""

import sys

from supervisor import supervisord
from supvisors.internal_com import mapper

_interfaces = mapper.get_network_info


def _with_loopback():  # type: ignore[no-untyped-def,unused-ignore]
    yield mapper.NicInformation("lo", "127.0.0.1", "255.0.0.0")
    yield from _interfaces()


mapper.get_network_info = _with_loopback

if __name__ == "__main__":
    sys.argv[0] = "supervisord"
    supervisord.main()
