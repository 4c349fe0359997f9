"""The pure domain of supv, at the bottom of the layers: it imports nothing of supv_cli but ``errors`` and
``compat``, and every other package may import it.

- ``identifiers``: identifier lists of rules files (aliases, ``*`` / ``@`` / ``#``, stereotypes) and the
  indexes in names;
- ``instances``: an instance (nick, ``host:port`` or socket, node, stereotypes), the ordered
  ``InstanceList`` and the one resolution of identifiers to instances;
- ``snapshot``: what every instance answered at one moment (pure data; ``cluster/`` takes it).
"""
