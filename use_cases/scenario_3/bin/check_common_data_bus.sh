#!/bin/sh
# Scenario 3 check: exits 0 once common_data_bus is RUNNING on the local supervisord,
# 1 if it is not RUNNING within SCEN3_CHECK_TIMEOUT seconds (default 60).
. "$(dirname -- "$0")/common.sh"
scen3_check common_data_bus
