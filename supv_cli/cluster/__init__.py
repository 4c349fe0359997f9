"""Everything that talks to supervisord: instance lists, the XML-RPC client and snapshots.

This is the only package of supv that touches the network.
"""

#: the group/program name of the supv controllers in supervisord (``run-plan --watch``): the default of
#: ``--controller-program`` wherever a command looks for them (light here: read by option definitions)
CONTROLLER_PROGRAM = "supv_controller"
#: the group/program name of the supv samplers (``supv sampler``: CPU and memory statistics): the default of
#: ``--sampler-program``
SAMPLER_PROGRAM = "supv_sampler"
