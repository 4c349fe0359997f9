"""Looking at a cluster (``supv logs``, ``supv events``, ``supv top``): the pure parts.

``changes`` turns consecutive snapshots into events, ``logtail`` follows log files through
``tailProcess*Log`` answers, ``dashboard`` builds what one frame of ``top`` shows. No network, no
click, no rich here: the commands in ``supv_cli.cli`` poll and render.
"""
