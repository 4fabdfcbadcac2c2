#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What limits durable creates on PostgreSQL with two replicas (issue 11):
# bench/pg.sh's setup (the 100k-case database moved by migrate-db, two
# replicas behind HAProxy), wrk's create.lua at 64 connections for
# BENCH_SECONDS (default 10), and meanwhile, every 50 ms, what each of
# inkasso's PostgreSQL sessions is doing (pg_stat_activity: running, waiting
# for the write lock, waiting for inkasso's next statement, flushing WAL),
# and the CPU time of postgres, inkasso and wrk over the run. Prints the
# shares. Loopback only; every process it starts is stopped by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/bin/inkasso
WORK=$ROOT/bench/work
ROUNDS=1; SECS=${BENCH_SECONDS:-10}; WARM=2
SECRET="bench-jwt-secret-0123456789abcdef-0123456789"
SCOPE="cases:read cases:write settings:write"
WRK_THREADS=2
LOG_LEVEL=info
NGINX=/usr/sbin/nginx
export BENCH_DIR=$ROOT/bench
bench/run.sh --gen-only --quick >/dev/null
DB=$WORK/cases-100000.db; DATA=$WORK/cases-100000.lua
RUN=$(mktemp -d "$WORK/pgprof.XXXXXX")
chmod 755 "$RUN"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
PGDIR=$(mktemp -u "${TMPDIR:-/tmp}/inkasso-pg-prof.XXXXXX")
trap 'rc=$?; set +e; scripts/pg-server.sh stop "$PGDIR" >/dev/null 2>&1; (exit $rc); cleanup' EXIT
URI=$(scripts/pg-server.sh start "$PGDIR")
cp "$DB" "$RUN/source.db"
"$BIN" migrate-db --from "$RUN/source.db" --to "$URI" >/dev/null
rm -f "$RUN"/source.db*
write_run_lua
start_inkasso a "$URI"; A_PID=$INK_PID; A_PORT=$INK_PORT
start_inkasso b "$URI"; B_PID=$INK_PID; B_PORT=$INK_PORT
HA_PORT=$(free_port)
printf 'global\n\tmaxconn 4096\ndefaults\n\tmode http\n\ttimeout connect 2s\n\ttimeout client 60s\n\ttimeout server 60s\nfrontend api\n\tbind 127.0.0.1:%s\n\tdefault_backend inkasso\nbackend inkasso\n\tbalance roundrobin\n\tserver a 127.0.0.1:%s\n\tserver b 127.0.0.1:%s\n' \
	"$HA_PORT" "$A_PORT" "$B_PORT" >"$RUN/haproxy.cfg"
haproxy -f "$RUN/haproxy.cfg" -db >"$RUN/haproxy.log" 2>&1 &
HA_PID=$!; PIDS+=("$HA_PID")
wait_http "http://127.0.0.1:$HA_PORT/healthz" "$HA_PID" 20
target create-pg2 "http://127.0.0.1:$HA_PORT" create.lua 64 "$DATA"

cpu() { # total utime+stime ticks of the processes named
	ps -C "$1" -o times= 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
( while :; do
	psql "$URI" -XAtq -c "SELECT CASE WHEN state = 'active' AND wait_event IS NULL THEN 'running'
		WHEN wait_event_type = 'Lock' AND wait_event = 'advisory' THEN 'waiting for the write lock'
		WHEN state LIKE 'idle in transaction%' THEN 'in a transaction, waiting for inkasso'
		WHEN state = 'idle' THEN 'idle'
		ELSE coalesce(wait_event_type || ':' || wait_event, state) END
		FROM pg_stat_activity WHERE application_name = 'inkasso' AND backend_type = 'client backend'" 2>/dev/null
	sleep 0.05
done ) >"$RUN/samples.txt" &
SAMPLER=$!; PIDS+=("$SAMPLER")
C0_PG=$(cpu postgres); C0_INK=$(cpu inkasso); T0=$(date +%s.%N)
measure create-pg2
C1_PG=$(cpu postgres); C1_INK=$(cpu inkasso); T1=$(date +%s.%N)
stop_pid "$SAMPLER"
echo
echo "What inkasso's PostgreSQL sessions were doing during the creates ($(wc -l <"$RUN/samples.txt") samples over 2 replicas, each with its writer and readers; idle readers left out):"
grep -v '^idle$' "$RUN/samples.txt" | sort | uniq -c | sort -rn | awk '{n[NR] = $1; $1 = ""; l[NR] = $0; s += n[NR]} END {for (i = 1; i <= NR; i++) printf "  %5.1f%%%s\n", 100 * n[i] / s, l[i]}'
echo "CPU seconds over $(awk -v a="$T0" -v b="$T1" 'BEGIN {printf "%.1f", b - a}') s of wall time on $(nproc) cores (ps cumulative times, whole seconds): postgres $((C1_PG - C0_PG)), inkasso $((C1_INK - C0_INK))"
