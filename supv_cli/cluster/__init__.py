"""Everything that talks to supervisord: instance lists, the XML-RPC client and snapshots.

This is the only package of supv that touches the network.
"""
