#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# inkasso on PostgreSQL (issue 11), with the harness of bench/run.sh
# (bench/lib.sh): the same wrk scripts, the same alternating rounds, nginx
# on the same bytes as the anchor, on the same 100k-case database, moved
# into a PostgreSQL server of its own with `inkasso migrate-db`.
#
#   bench/pg.sh        (make bench-pg)
#
# Durable creates at 64 connections, side by side: the SQLite default (its
# own copy of the database), PostgreSQL with one replica, and with two
# replicas behind HAProxy on loopback (deploy/haproxy.cfg's settings). Reads
# on PostgreSQL: one case by id and the listing page, against nginx serving
# the bytes inkasso answered. Environment as bench/run.sh (BENCH_ROUNDS,
# BENCH_SECONDS, BENCH_WARMUP, BENCH_SMALL); prints the table, writes
# nothing into the repository. Loopback only; every process it starts is
# stopped by its pid (the PostgreSQL server by scripts/pg-server.sh stop).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/bin/inkasso
WORK=$ROOT/bench/work
ROUNDS=${BENCH_ROUNDS:-3}; SECS=${BENCH_SECONDS:-5}; WARM=${BENCH_WARMUP:-2}
SMALL=${BENCH_SMALL:-100000}
SECRET="bench-jwt-secret-0123456789abcdef-0123456789"
SCOPE="cases:read cases:write settings:write"
WRK_THREADS=2
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
export BENCH_DIR=$ROOT/bench
command -v haproxy >/dev/null || { echo "bench: haproxy is missing (scripts/install-deps.sh)" >&2; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx is missing (bench/install-deps.sh)" >&2; exit 2; }

# The database of bench/run.sh, made or found there.
bench/run.sh --gen-only --quick >/dev/null
DB=$WORK/cases-$SMALL.db
DATA=$WORK/cases-$SMALL.lua
RUN=$(mktemp -d "$WORK/pg.XXXXXX")
chmod 755 "$RUN"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
PGDIR=$(mktemp -u "${TMPDIR:-/tmp}/inkasso-pg-bench.XXXXXX")
# (exit $rc) hands cleanup the script's status: it keeps a failed run's logs.
trap 'rc=$?; set +e; scripts/pg-server.sh stop "$PGDIR" >/dev/null 2>&1; (exit $rc); cleanup' EXIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

URI=$(scripts/pg-server.sh start "$PGDIR")
cp "$DB" "$RUN/source.db"
t0=$(date +%s.%N)
"$BIN" migrate-db --from "$RUN/source.db" --to "$URI" >"$RUN/migrate.txt"
MIGRATE_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
rm -f "$RUN"/source.db*
echo "bench: $SMALL cases moved to PostgreSQL in $MIGRATE_S s"
write_run_lua
TOKEN1=$(INKASSO_JWT_SECRET=$SECRET "$BIN" token --tenant bench-t03 --scope "$SCOPE" --ttl 7200)

# ---- reads on PostgreSQL against nginx on the same bytes ----
start_inkasso pg-read "$URI"
READ_PID=$INK_PID; URL=http://127.0.0.1:$INK_PORT
WWW=$RUN/www; mkdir -p "$WWW"
SEQ=$(( (RANDOM * 32768 + RANDOM) % (SMALL / 10 - 60) + 60 ))
CURSOR=$(printf 'v1.%d' "$SEQ" | base64 -w0 | tr '+/' '-_' | tr -d '=')
fetch() { # path file
	local code
	code=$(curl -sS -o "$WWW/$2" -w '%{http_code}' -H "Authorization: Bearer $TOKEN1" "$URL$1")
	[ "$code" = 200 ] || { echo "bench: GET $1 answered $code" >&2; exit 1; }
}
fetch "/v1/collection-cases?cursor=$CURSOR" list.json
fetch "/v1/collection-cases/$(grep -m1 -o 'cc_[0-9A-Z]*' <(sed -n '/bench-t03/,$p' "$DATA"))" case.json
fetch "/v1/agency-settings" settings.json
fetch "/healthz" healthz.json
declare -A BYTES
for f in list case settings healthz; do BYTES[$f]=$(stat -c %s "$WWW/$f.json"); done
chmod -R a+rX "$WWW"
start_nginx "$WWW"
target list-pg "$URL" list.lua 50 "$DATA"
target list-ngx "$NGX_URL" list.lua 50 "$DATA"
target get-pg "$URL" get.lua 50 "$DATA"
target get-ngx "$NGX_URL" get.lua 50 "$DATA"
measure list-pg list-ngx
measure get-pg get-ngx
INK_PID=$READ_PID; stop_inkasso pg-read
stop_pid "$NGX_PID"

# ---- durable creates: SQLite default, PostgreSQL with 1 and with 2 replicas ----
cp "$DB" "$RUN/create-sqlite.db"
start_inkasso create-sqlite "$RUN/create-sqlite.db"
SQ_PID=$INK_PID; target create-sqlite "http://127.0.0.1:$INK_PORT" create.lua 64 "$DATA"
start_inkasso create-pg-a "$URI"
A_PID=$INK_PID; A_PORT=$INK_PORT
target create-pg1 "http://127.0.0.1:$A_PORT" create.lua 64 "$DATA"
start_inkasso create-pg-b "$URI"
B_PID=$INK_PID; B_PORT=$INK_PORT
HA_PORT=$(free_port)
cat >"$RUN/haproxy.cfg" <<CFG
global
	maxconn 4096
defaults
	mode http
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	retries 2
	retry-on conn-failure empty-response
frontend api
	bind 127.0.0.1:$HA_PORT
	default_backend inkasso
backend inkasso
	balance roundrobin
	option httpchk GET /readyz
	server a 127.0.0.1:$A_PORT check inter 2s
	server b 127.0.0.1:$B_PORT check inter 2s
CFG
haproxy -f "$RUN/haproxy.cfg" -db >"$RUN/haproxy.log" 2>&1 &
HA_PID=$!
PIDS+=("$HA_PID")
wait_http "http://127.0.0.1:$HA_PORT/healthz" "$HA_PID" 20
target create-pg2 "http://127.0.0.1:$HA_PORT" create.lua 64 "$DATA"
measure create-sqlite create-pg1 create-pg2
stop_pid "$HA_PID"
INK_PID=$B_PID; stop_inkasso create-pg-b
INK_PID=$A_PID; stop_inkasso create-pg-a
INK_PID=$SQ_PID; stop_inkasso create-sqlite
rm -f "$RUN"/create-*.db*

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "inkasso on PostgreSQL 15 ($SMALL cases, moved by migrate-db in $MIGRATE_S s); wrk -t$WRK_THREADS, $ROUNDS alternating rounds of ${SECS} s; load average before: $LOAD_START; $(nproc) cores shared by wrk, the servers and PostgreSQL"
echo
echo "| request | inkasso req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | inkasso/nginx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for r in "listing 50 at a random cursor (${BYTES[list]} B):list" "one case by id (${BYTES[case]} B):get"; do
	l=${r%%:*}; k=${r##*:}
	echo "| $l | ${RPS[$k-pg]} | ${P50[$k-pg]} | ${P99[$k-pg]} | ${RPS[$k-ngx]} | ${P50[$k-ngx]} | ${P99[$k-ngx]} | $(pct "${RPS[$k-pg]}" "${RPS[$k-ngx]}") |"
done
echo
echo "| durable creates, 64 connections | req/s | p50 ms | p99 ms | non-2xx | vs SQLite |"
echo "|---|---:|---:|---:|---:|---:|"
for k in create-sqlite create-pg1 create-pg2; do
	echo "| $k | ${RPS[$k]} | ${P50[$k]} | ${P99[$k]} | ${BAD[$k]} | $(ratio "${RPS[$k]}" "${RPS[create-sqlite]}")x |"
done
echo
echo "2 replicas / 1 replica: $(ratio "${RPS[create-pg2]}" "${RPS[create-pg1]}")x; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
