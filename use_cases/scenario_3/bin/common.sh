# Shared helpers of the Scenario 3 stand-in programs (POSIX sh). Sourced, never run directly.
#
# Every program takes its name from SUPERVISOR_PROCESS_NAME, set by supervisord for its children
# (the script name is used when it is run by hand).
#
# Environment read here (all optional):
#   SCEN3_HEARTBEAT      seconds between two "alive" lines (default 5)
#   SCEN3_CHECK_TIMEOUT  seconds a check program waits for its bus before giving up (default 60)
#   SUPV_SUPERVISORCTL   the supervisorctl command line (split on spaces), e.g.
#                        "/path/to/venv/bin/python -m supervisor.supervisorctl"
#   SUPV_USERNAME, SUPV_PASSWORD  credentials of the local supervisord, when it asks for some

SCEN3_NAME=${SUPERVISOR_PROCESS_NAME:-$(basename -- "$0" .sh)}
scen3_sleep_pid=

# scen3_log MESSAGE...: one time-stamped line on stdout (supervisord sends it to the program's log)
scen3_log() {
    printf '%s %s %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$SCEN3_NAME" "$*"
}

# scen3_pause SECONDS: sleep, but let a trapped signal through at once. sh runs a trap only when
# the foreground command returns, so the sleep runs in the background and the shell waits for it.
scen3_pause() {
    sleep "$1" &
    scen3_sleep_pid=$!
    wait "$scen3_sleep_pid"
    scen3_sleep_pid=
}

# scen3_stop CODE: trap handler; stop the pending sleep and exit with CODE
scen3_stop() {
    if [ -n "$scen3_sleep_pid" ]; then
        kill "$scen3_sleep_pid" 2>/dev/null
    fi
    scen3_log "stopping"
    exit "$1"
}

# scen3_heartbeat: the body of every long-running stand-in; exits 0 on SIGTERM, SIGINT or SIGHUP
scen3_heartbeat() {
    trap 'scen3_stop 0' TERM INT HUP
    scen3_log "started (pid $$)"
    while :; do
        scen3_log alive
        scen3_pause "${SCEN3_HEARTBEAT:-5}"
    done
}

# scen3_supervisorctl: print the supervisorctl command line to use, first found of:
#   $SUPV_SUPERVISORCTL; the Python interpreter running our supervisord (its supervisor package is
#   the right one; Linux /proc only); supervisorctl on PATH; python3 -m supervisor.supervisorctl
scen3_supervisorctl() {
    if [ -n "${SUPV_SUPERVISORCTL:-}" ]; then
        printf '%s\n' "$SUPV_SUPERVISORCTL"
        return
    fi
    if [ -r "/proc/$PPID/cmdline" ]; then
        scen3_python=$(tr '\000' '\n' < "/proc/$PPID/cmdline" | head -n 1)
        case $scen3_python in
            /*python*)
                if [ -x "$scen3_python" ]; then
                    printf '%s -m supervisor.supervisorctl\n' "$scen3_python"
                    return
                fi
                ;;
        esac
    fi
    if command -v supervisorctl >/dev/null 2>&1; then
        printf 'supervisorctl\n'
        return
    fi
    printf 'python3 -m supervisor.supervisorctl\n'
}

# scen3_wait_running PROGRAM: wait until PROGRAM is RUNNING on the local supervisord (the one that
# started us, at SUPERVISOR_SERVER_URL), polling every 0.2 s.
# Returns 0 once RUNNING, 1 after SCEN3_CHECK_TIMEOUT seconds, 2 when not started by supervisord.
scen3_wait_running() {
    scen3_program=$1
    scen3_timeout=${SCEN3_CHECK_TIMEOUT:-60}
    if [ -z "${SUPERVISOR_SERVER_URL:-}" ]; then
        scen3_log "error: SUPERVISOR_SERVER_URL is not set: start me from supervisord"
        return 2
    fi
    scen3_ctl=$(scen3_supervisorctl)
    # the credentials go through the positional parameters so that they are never word-split
    set -- -s "$SUPERVISOR_SERVER_URL"
    if [ -n "${SUPV_USERNAME:-}" ]; then
        set -- "$@" -u "$SUPV_USERNAME"
    fi
    if [ -n "${SUPV_PASSWORD:-}" ]; then
        set -- "$@" -p "$SUPV_PASSWORD"
    fi
    scen3_log "waiting for $scen3_program to be RUNNING on $SUPERVISOR_SERVER_URL (at most ${scen3_timeout} s)"
    scen3_start=$(date +%s)
    scen3_last=
    while :; do
        # $scen3_ctl is split on purpose: it may be "python -m supervisor.supervisorctl"
        # shellcheck disable=SC2086
        scen3_state=$($scen3_ctl "$@" status "$scen3_program" 2>&1 | awk 'NR == 1 { print $2 }')
        if [ "$scen3_state" = RUNNING ]; then
            scen3_log "$scen3_program is RUNNING"
            return 0
        fi
        if [ "$scen3_state" != "$scen3_last" ]; then
            scen3_log "$scen3_program is ${scen3_state:-unknown}"
            scen3_last=$scen3_state
        fi
        if [ $(( $(date +%s) - scen3_start )) -ge "$scen3_timeout" ]; then
            scen3_log "error: $scen3_program is not RUNNING after ${scen3_timeout} s, giving up"
            return 1
        fi
        scen3_pause 0.2
    done
}

# scen3_check PROGRAM: the body of a check program; exits 0 once PROGRAM is RUNNING, else non-zero
scen3_check() {
    trap 'scen3_stop 1' TERM INT HUP
    scen3_wait_running "$1"
    exit $?
}
