#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The inkasso benchmark (issue 4): inkasso and nginx serving the very same
# bytes, side by side in one run, measured with wrk on loopback.
#
#   bench/run.sh            full: 1M and 100k cases, 3 rounds of 5 s per measurement  (make bench, < 10 min)
#   bench/run.sh --quick    100k cases only, 2 rounds of 2 s per measurement          (make bench-quick, < 2 min)
#   bench/run.sh --gen-only [--quick]   only generate (or find) the databases
#
# What is compared (inkasso and nginx, 1M and 100k, the two create settings)
# runs at the same time and is measured in alternating rounds, so that load
# from elsewhere on the machine hits both sides alike.
#
# Environment: BENCH_BUILD (build tree, default build/release), BENCH_ROUNDS,
# BENCH_SECONDS (per round), BENCH_WARMUP (seconds), BENCH_CASES (big database), BENCH_SMALL (small one),
# BENCH_REGEN=1 (generate the databases even if bench/work has them),
# BENCH_LOG_LEVEL (inkasso's, default info as in production),
# BENCH_RESULTS (default bench/RESULTS.md).
# Everything runs on 127.0.0.1; every process started here is stopped by its
# pid on exit (trap). Nothing here asserts timing: it measures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0; GEN_ONLY=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--gen-only) GEN_ONLY=1 ;; # only make (or check) the databases
	*) echo "usage: bench/run.sh [--quick] [--gen-only]" >&2; exit 2 ;;
	esac
done
BUILD=${BENCH_BUILD:-build/release}
BIN=$ROOT/bin/inkasso
GEN=$ROOT/$BUILD/bench/gen
FLOOR=$ROOT/$BUILD/bench/floor
WORK=$ROOT/bench/work
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
export BENCH_DIR=$ROOT/bench
if [ "$QUICK" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-2}; SECS=${BENCH_SECONDS:-2}; WARM=${BENCH_WARMUP:-1}; BIG=0
	SMALL=${BENCH_SMALL:-100000}; FLOOR_SECS=1.5
	CMD="make bench-quick"
else
	ROUNDS=${BENCH_ROUNDS:-3}; SECS=${BENCH_SECONDS:-5}; WARM=${BENCH_WARMUP:-2}; BIG=${BENCH_CASES:-1000000}
	SMALL=${BENCH_SMALL:-100000}; FLOOR_SECS=4
	CMD="make bench"
fi
SECRET="bench-jwt-secret-0123456789abcdef-0123456789"
SCOPE="cases:read cases:write settings:write"
WRK_THREADS=2
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}

for f in "$BIN" "$GEN" "$FLOOR"; do
	[ -x "$f" ] || { echo "bench: $f is missing; run it through make bench" >&2; exit 2; }
done
for t in wrk curl; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing (bench/install-deps.sh)" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench: nginx is missing (bench/install-deps.sh)" >&2; exit 2; }

mkdir -p "$WORK"
RUN=$(mktemp -d "$WORK/run.XXXXXX")
chmod 755 "$RUN"
T_START=$(date +%s)

# ---- the helpers (bench/lib.sh) ----
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# ---- machine ----
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY=$(ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 >= 20 && $2 != "ps" {printf "%s%s (%s%%)", sep, $2, $1; sep=", "}')

# ---- 1. the databases ----
GEN_SUM=$(sha256sum "$GEN" | cut -c1-16)
declare -A GEN_NOTE
make_db() { # cases -> $WORK/cases-N.db and $WORK/cases-N.lua
	local n=$1 db=$WORK/cases-$1.db
	local stamp="$db.stamp" want="n=$n seed=1 gen=$GEN_SUM"
	if [ "${BENCH_REGEN:-0}" != 1 ] && [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$want" ] && [ -f "$db" ]; then
		GEN_NOTE[$n]="reused from $(sed -n 2p "$stamp")"
		echo "bench: $n cases: $(basename "$db") ${GEN_NOTE[$n]}"
		return
	fi
	rm -f "$stamp"
	echo "bench: generating $n cases ..."
	local t0 t1
	t0=$(date +%s.%N)
	"$GEN" "$db" "$n" --sample "$WORK/cases-$n.lua" --sample-per-tenant 2000 2>"$RUN/gen-$n.log" ||
		{ cat "$RUN/gen-$n.log" >&2; exit 1; }
	t1=$(date +%s.%N)
	local took; took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}')
	local size; size=$(du -m "$db" | cut -f1)
	tail -1 "$RUN/gen-$n.log"
	printf '%s\n%s: generated in %s s, %s MB\n' "$want" "$(date -u +%FT%TZ)" "$took" "$size" >"$stamp"
	GEN_NOTE[$n]="generated in this run in $took s, $size MB"
}
make_db "$SMALL"
[ "$BIG" = 0 ] || make_db "$BIG"
MAIN=$SMALL
[ "$BIG" = 0 ] || MAIN=$BIG
[ "$GEN_ONLY" = 0 ] || exit 0
# Both sizes are measured with the file in the OS page cache (a 3.3 GB file
# fits this machine's memory): the comparison is of the work per request,
# not of the disk. Cheap when the file is already cached.
for n in $SMALL $([ "$BIG" = 0 ] || echo "$BIG"); do cat "$WORK/cases-$n.db" >/dev/null; done

write_run_lua
TOKEN1=$(INKASSO_JWT_SECRET=$SECRET "$BIN" token --tenant bench-t03 --scope "$SCOPE" --ttl 7200)


# ---- 2. the servers: inkasso on the main database (and the small one), nginx on the same bytes ----
DATA_MAIN=$WORK/cases-$MAIN.lua
start_inkasso main "$WORK/cases-$MAIN.db"
MAIN_PID=$INK_PID
URL=http://127.0.0.1:$INK_PORT
if [ "$BIG" != 0 ]; then
	start_inkasso small "$WORK/cases-$SMALL.db"
	SMALL_PID=$INK_PID; SMALL_URL=http://127.0.0.1:$INK_PORT
fi

# The exact bytes nginx will serve: a page of 50 at a random cursor, one case, small answers.
WWW=$RUN/www; mkdir -p "$WWW"
SEQ=$(( (RANDOM * 32768 + RANDOM) % (MAIN / 10 - 60) + 60 ))
CURSOR=$(printf 'v1.%d' "$SEQ" | base64 -w0 | tr '+/' '-_' | tr -d '=')
fetch() { # path file
	local code
	code=$(curl -sS -o "$WWW/$2" -w '%{http_code}' -H "Authorization: Bearer $TOKEN1" "$URL$1")
	[ "$code" = 200 ] || { echo "bench: GET $1 answered $code: $(head -c 300 "$WWW/$2")" >&2; exit 1; }
}
fetch "/v1/collection-cases?cursor=$CURSOR" list.json
fetch "/v1/collection-cases/$(grep -m1 -o 'cc_[0-9A-Z]*' <(sed -n '/bench-t03/,$p' "$DATA_MAIN"))" case.json
fetch "/v1/agency-settings" settings.json
fetch "/healthz" healthz.json
grep -q '"has_more":true' "$WWW/list.json" || { echo "bench: the listing page is not a full page" >&2; exit 1; }
N_LISTED=$(grep -o '"id":"cc_' "$WWW/list.json" | wc -l)
[ "$N_LISTED" = 50 ] || { echo "bench: the listing page has $N_LISTED cases, not 50" >&2; exit 1; }
declare -A BYTES
for f in list case settings healthz; do BYTES[$f]=$(stat -c %s "$WWW/$f.json"); done
chmod -R a+rX "$WWW"

start_nginx "$WWW"

# ---- 3. reads, and the scale: each pair (trio) in alternating rounds ----
target list-ink "$URL" list.lua 50 "$DATA_MAIN"
target list-ngx "$NGX_URL" list.lua 50 "$DATA_MAIN"
target get-ink "$URL" get.lua 50 "$DATA_MAIN"
target get-ngx "$NGX_URL" get.lua 50 "$DATA_MAIN"
target settings-ink "$URL" small.lua 50 "$DATA_MAIN" /v1/agency-settings
target settings-ngx "$NGX_URL" small.lua 50 "$DATA_MAIN" /v1/agency-settings
target health-ink "$URL" small.lua 50 "$DATA_MAIN" /healthz
target health-ngx "$NGX_URL" small.lua 50 "$DATA_MAIN" /healthz
if [ "$BIG" != 0 ]; then
	target list-small "$SMALL_URL" list.lua 50 "$WORK/cases-$SMALL.lua"
	measure list-ink list-ngx list-small
else
	measure list-ink list-ngx
fi
measure get-ink get-ngx
measure settings-ink settings-ngx
measure health-ink health-ngx
INK_PID=$MAIN_PID; stop_inkasso main
if [ "$BIG" != 0 ]; then INK_PID=$SMALL_PID; stop_inkasso small; fi
stop_pid "$NGX_PID"

# ---- 4. durable creates: one commit per request vs the default, both at once, each on a fresh copy ----
HAS_BATCH=0
"$BIN" --help 2>&1 | grep -q INKASSO_COMMIT_BATCH && HAS_BATCH=1
DATA_SMALL=$WORK/cases-$SMALL.lua
cp "$WORK/cases-$SMALL.db" "$RUN/create-b1.db"
cp "$WORK/cases-$SMALL.db" "$RUN/create-def.db"
start_inkasso create-b1 "$RUN/create-b1.db" INKASSO_COMMIT_BATCH=1
B1_PID=$INK_PID; target create-b1 "http://127.0.0.1:$INK_PORT" create.lua 64 "$DATA_SMALL"
start_inkasso create-def "$RUN/create-def.db"
DEF_PID=$INK_PID; target create-def "http://127.0.0.1:$INK_PORT" create.lua 64 "$DATA_SMALL"
measure create-b1 create-def
INK_PID=$B1_PID; stop_inkasso create-b1
INK_PID=$DEF_PID; stop_inkasso create-def
rm -f "$RUN"/create-*.db*

# ---- 5. in-process floors ----
"$FLOOR" "$RUN" "$FLOOR_SECS" >"$RUN/floor.txt"
floor() { awk -v m="$1" -v f="$2" '$1 == "floor" && $2 == m {print $f}' "$RUN/floor.txt"; }

# ---- 6. the table ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
verdict() { # awk condition over numbers; "-" or "" in it: not measured
	case "$1" in *" - "*|"- "*|*"  "*) echo "not measured"; return ;; esac
	if awk "BEGIN {exit !($1)}" 2>/dev/null; then echo met; else echo "NOT met"; fi
}

MAXHWM=0
for k in "${!HWM[@]}"; do [ "${HWM[$k]}" -gt "$MAXHWM" ] && MAXHWM=${HWM[$k]}; done
L_RATIO=$(ratio "${RPS[list-ink]}" "${RPS[list-ngx]}")
G_RATIO=$(ratio "${RPS[get-ink]}" "${RPS[get-ngx]}")
C_RATIO=$(ratio "${RPS[create-def]}" "${RPS[create-b1]}")
if [ "$BIG" != 0 ]; then S_RATIO=$(ratio "${RPS[list-small]}" "${RPS[list-ink]}"); else S_RATIO="-"; fi

row() { # label name ink ngx
	local ink=$2 ngx=$3
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" \
		"${RPS[$ink]}" "${P50[$ink]}" "${P99[$ink]}" "${RPS[$ngx]}" "${P50[$ngx]}" "${P99[$ngx]}" \
		"$(pct "${RPS[$ink]}" "${RPS[$ngx]}")"
}
TABLE=$RUN/table.md
{
	echo "Reads: inkasso on $MAIN cases vs nginx serving the same bytes (wrk -t$WRK_THREADS -c50, keep-alive, $ROUNDS alternating rounds of ${SECS} s)"
	echo
	echo "| request | inkasso req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | inkasso/nginx |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	row "listing 50 at a random cursor (${BYTES[list]} B)" list-ink list-ngx
	row "one case by id (${BYTES[case]} B)" get-ink get-ngx
	row "GET /v1/agency-settings (${BYTES[settings]} B)" settings-ink settings-ngx
	row "GET /healthz (${BYTES[healthz]} B, no auth, no database)" health-ink health-ngx
	echo
	echo "Durable creates (POST /v1/collection-cases, synchronous=FULL, 201 after COMMIT; wrk -t$WRK_THREADS -c64, $ROUNDS alternating rounds of ${SECS} s; each server on its own copy of the $SMALL-case database)"
	echo
	echo "| inkasso | req/s | p50 ms | p99 ms | non-2xx |"
	echo "|---|---:|---:|---:|---:|"
	echo "| INKASSO_COMMIT_BATCH=1 | ${RPS[create-b1]} | ${P50[create-b1]} | ${P99[create-b1]} | ${BAD[create-b1]} |"
	echo "| default | ${RPS[create-def]} | ${P50[create-def]} | ${P99[create-def]} | ${BAD[create-def]} |"
	echo
	if [ "$HAS_BATCH" = 1 ]; then
		echo "Ratio default / INKASSO_COMMIT_BATCH=1: ${C_RATIO}x."
	else
		echo "This build has no INKASSO_COMMIT_BATCH ('inkasso --help' does not list it) and no group commit: both rows are the same binary with one commit per request, so their ratio (${C_RATIO}x) only shows run-to-run noise."
	fi
	echo
	echo "In-process floors (bench/floor, same disk, WAL, synchronous=FULL; rows: case + event + outbox + idempotency)"
	echo
	echo "| floor | cases/s | commits/s |"
	echo "|---|---:|---:|"
	echo "| store_case_create(), one commit per case | $(floor store-1 3) | $(floor store-1 4) |"
	echo "| store_case_create_async(), group commit, 64 in flight | $(floor store-64 3) | |"
	echo "| raw inserts, one commit per case | $(floor raw-1 3) | $(floor raw-1 4) |"
	echo "| raw inserts, 32 cases per commit | $(floor raw-32 3) | $(floor raw-32 4) |"
	echo
	echo "Scale and memory"
	echo
	echo "| measure | value |"
	echo "|---|---:|"
	if [ "$BIG" != 0 ]; then
		echo "| listing on $SMALL cases, req/s (p50 / p99 ms) | ${RPS[list-small]} (${P50[list-small]} / ${P99[list-small]}) |"
		echo "| listing on $BIG cases, req/s (p50 / p99 ms) | ${RPS[list-ink]} (${P50[list-ink]} / ${P99[list-ink]}) |"
		echo "| listing $SMALL / $BIG (goal <= 1.25) | $S_RATIO |"
	else
		echo "| listing on 1M vs 100k | skipped (quick run: 100k only) |"
	fi
	for k in main small create-b1 create-def; do
		[ -n "${HWM[$k]:-}" ] && echo "| inkasso ($k) peak RSS VmHWM / VmRSS at end, MB | ${HWM[$k]} / ${RSS[$k]} |"
	done
	echo
	echo "Goals of issue 4 (same run)"
	echo
	echo "| goal | measured | |"
	echo "|---|---:|---|"
	echo "| listing >= 25% of nginx, p99 <= 15 ms | $(pct "${RPS[list-ink]}" "${RPS[list-ngx]}"), p99 ${P99[list-ink]} ms | $(verdict "${L_RATIO} >= 0.25 && ${P99[list-ink]} <= 15") |"
	echo "| one case >= 70% of nginx | $(pct "${RPS[get-ink]}" "${RPS[get-ngx]}") | $(verdict "${G_RATIO} >= 0.70") |"
	echo "| creates >= 5x one-commit-per-request, p99 <= 20 ms | ${C_RATIO}x, p99 ${P99[create-def]} ms | $(verdict "${C_RATIO} >= 5 && ${P99[create-def]} <= 20")$([ "$HAS_BATCH" = 1 ] || echo " (no group commit in this build)") |"
	if [ "$BIG" != 0 ]; then
		echo "| listing 1M within 1.25x of 100k | $S_RATIO | $(verdict "$S_RATIO <= 1.25") |"
	else
		echo "| listing 1M within 1.25x of 100k | not measured (quick) | - |"
	fi
	echo "| RSS <= 100 MB | $MAXHWM MB | $(verdict "$MAXHWM <= 100") |"
	echo
	echo "Checks"
	echo
	echo "| measurement | non-2xx | socket errors | new TCP connections per round | p99 per round, ms |"
	echo "|---|---:|---:|---|---|"
	for k in list-ink list-ngx list-small get-ink get-ngx settings-ink settings-ngx health-ink health-ngx create-b1 create-def; do
		[ -n "${RPS[$k]:-}" ] && echo "| $k | ${BAD[$k]} | ${ERRS[$k]} | ${CONNS[$k]% } | ${P99S[$k]% } |"
	done
	echo
	echo "New TCP connections: accepted on the whole machine during the round (/proc/net/snmp PassiveOpens); with keep-alive about wrk's 50 or 64 plus other processes' traffic."
} >"$TABLE"

ELAPSED=$(( $(date +%s) - T_START ))
MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
	echo "# inkasso benchmark results"
	echo
	echo "Written by \`bench/run.sh\` ($CMD) on $(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took ${ELAPSED} s."
	echo "Reproduce: \`$CMD\` from the repository root (bench/README.md explains each figure)."
	echo
	echo "- machine: $(nproc) cores, $MODEL, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "- load average at start: $LOAD_START${BUSY:+; processes busy at start: $BUSY}"
	echo "- versions: SQLite $(sed -n 's/^sqlite //p' "$RUN/floor.txt"), libmicrohttpd $(ver libmicrohttpd12), json-c $(ver libjson-c5), $("$NGINX" -v 2>&1 | sed 's|nginx version: ||'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'), inkasso $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- server handlers store agency 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "- databases: $SMALL cases (${GEN_NOTE[$SMALL]})$([ "$BIG" = 0 ] || echo "; $BIG cases (${GEN_NOTE[$BIG]})"); 10 tenants, built by bench/gen"
	echo "- inkasso: default INKASSO_THREADS (cores), INKASSO_LOG_LEVEL=$LOG_LEVEL (a log line per request, to a file)"
	echo "- wrk and the servers share the same $(nproc) cores; the servers compared run at the same time and are measured in $ROUNDS alternating rounds of ${SECS} s each, after ${WARM} s of warm-up each; req/s = requests / seconds over the rounds, p50 = mean of the rounds', p99 = the worst round's"
	echo
	cat "$TABLE"
} >"$RESULTS"
echo
cat "$TABLE"
echo
echo "bench: wrote $RESULTS (${ELAPSED} s)"
