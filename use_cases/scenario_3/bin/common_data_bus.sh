#!/bin/sh
# Scenario 3 stand-in: a headless long-running program that logs a heartbeat until SIGTERM.
. "$(dirname -- "$0")/common.sh"
scen3_heartbeat
