# The server a harness script runs, sourced by scripts/api-fuzz and
# scripts/web-e2e. A server that never becomes ready, or dies while we wait,
# stops the run at once with a message and the end of its log, so a failure
# says why instead of surfacing later as a refused connection; stopping it is
# bounded too.

# show_log LOG: the last 80 lines of LOG on stderr, between markers.
show_log() {
    echo "--- last 80 lines of $1" >&2
    tail -n 80 "$1" >&2 || true
    echo "--- end of $1" >&2
}

# wait_ready URL PID LOG [SECONDS]: returns once URL answers 2xx; exits 1 with
# LOG's tail if process PID exits first or SECONDS (default 90) pass.
wait_ready() {
    local url=$1 pid=$2 log=$3 limit=${4:-90}
    local deadline=$((SECONDS + limit)) status=0
    until curl -sf --max-time 2 -o /dev/null "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" || status=$?
            echo "error: the server (pid $pid) exited with status $status before $url was ready" >&2
            show_log "$log"
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            echo "error: $url was not ready after ${limit}s (server pid $pid still running)" >&2
            show_log "$log"
            exit 1
        fi
        sleep 0.2
    done
}

# stop_server PID DATA_DIR: SIGTERM, which stops the embedded PostgreSQL too;
# a server still there after 30s (hung) is killed, and the postmaster it left
# in DATA_DIR's cluster is told to shut down at once, so cleanup stays bounded.
stop_server() {
    local pid=$1 data=$2 deadline=$((SECONDS + 30)) cluster postmaster
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "warning: the server (pid $pid) did not stop within 30s of SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            cluster=$(cat "$data/pg.location" 2>/dev/null || echo "$data/pg")
            postmaster=$(head -n 1 "$cluster/postmaster.pid" 2>/dev/null || true)
            if [ -n "$postmaster" ] && kill -QUIT "$postmaster" 2>/dev/null; then
                for _ in $(seq 50); do kill -0 "$postmaster" 2>/dev/null || break; sleep 0.2; done
            fi
            break
        fi
        sleep 0.2
    done
    wait "$pid" 2>/dev/null || true
}
