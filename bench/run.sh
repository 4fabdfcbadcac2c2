#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The inkasso benchmark (issues 4 and 12): inkasso and nginx serving the very
# same bytes, side by side, measured with wrk on loopback; the whole
# comparison runs N times and RESULTS.md gives the medians and each run.
#
#   bench/run.sh            full: 1M and 100k cases, 3 runs       (make bench, about 12 min)
#   bench/run.sh --quick    100k cases only, 1 run                (make bench-quick, under 2 min)
#   bench/run.sh [--quick] --runs N     N runs of the whole comparison
#   bench/run.sh --gen-only [--quick]   only generate (or find) the databases
#
# One run: the servers up, reads (and the scale), durable creates, the
# in-process floors, the memory of each inkasso; measurements in alternating
# rounds (full: 3 of 5 s; quick: 2 of 2 s), so that load from elsewhere on the
# machine hits both sides of a comparison alike. Each run writes its figures
# to a plain file; bench/report.py writes RESULTS.md from them: medians, the
# goals' verdicts from the medians, each run's figures with the load average
# before it and nginx's req/s (the anchor of every ratio).
#
# Environment: BENCH_BUILD (build tree, default build/release), BENCH_RUNS,
# BENCH_ROUNDS, BENCH_SECONDS (per round), BENCH_WARMUP (seconds),
# BENCH_CASES (big database), BENCH_SMALL (small one), BENCH_REGEN=1
# (generate the databases even if bench/work has them), BENCH_LOG_LEVEL
# (inkasso's, default info as in production), BENCH_RESULTS (default
# bench/RESULTS.md). Everything runs on 127.0.0.1; every process started here
# is stopped by its pid on exit (trap). Nothing here asserts timing: it
# measures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

usage() { echo "usage: bench/run.sh [--quick] [--runs N] [--gen-only]" >&2; exit 2; }
QUICK=0; GEN_ONLY=0; RUNS=${BENCH_RUNS:-}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--gen-only) GEN_ONLY=1 ;; # only make (or check) the databases
	--runs) [ $# -ge 2 ] || usage; RUNS=$2; shift ;;
	--runs=*) RUNS=${1#--runs=} ;;
	*) usage ;;
	esac
	shift
done
BUILD=${BENCH_BUILD:-build/release}
BIN=$ROOT/bin/inkasso
GEN=$ROOT/$BUILD/bench/gen
FLOOR=$ROOT/$BUILD/bench/floor
WORK=$ROOT/bench/work
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}
export BENCH_DIR=$ROOT/bench
if [ "$QUICK" = 1 ]; then
	DEF_RUNS=1; ROUNDS=${BENCH_ROUNDS:-2}; SECS=${BENCH_SECONDS:-2}; WARM=${BENCH_WARMUP:-1}; BIG=0
	SMALL=${BENCH_SMALL:-100000}; FLOOR_SECS=1.5
	CMD="make bench-quick"; ARGS="--quick"
else
	DEF_RUNS=3; ROUNDS=${BENCH_ROUNDS:-3}; SECS=${BENCH_SECONDS:-5}; WARM=${BENCH_WARMUP:-2}
	BIG=${BENCH_CASES:-1000000}; SMALL=${BENCH_SMALL:-100000}; FLOOR_SECS=4
	CMD="make bench"; ARGS=""
fi
RUNS=${RUNS:-$DEF_RUNS}
case $RUNS in '' | *[!0-9]* | 0*) echo "bench: --runs wants a whole number >= 1, not '$RUNS'" >&2; exit 2 ;; esac
# The command that reproduces this run, knobs included.
[ "$RUNS" = "$DEF_RUNS" ] || CMD="bench/run.sh${ARGS:+ $ARGS} --runs $RUNS"
for v in BENCH_ROUNDS BENCH_SECONDS BENCH_WARMUP BENCH_CASES BENCH_SMALL BENCH_LOG_LEVEL; do
	[ -z "${!v:-}" ] || CMD="$v=${!v} $CMD"
done
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

# ---- 1. the databases, once per invocation ----
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
DBS="$SMALL"
[ "$BIG" = 0 ] || DBS="$SMALL $BIG"
HAS_BATCH=0
"$BIN" --help 2>&1 | grep -q INKASSO_COMMIT_BATCH && HAS_BATCH=1

# ---- what does not change from run to run ----
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
DIRTY=""
git diff --quiet HEAD -- server handlers store lib agency webhooks 2>/dev/null || DIRTY=" (with uncommitted changes)"
{
	echo "cmd $CMD"
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "runs $RUNS"
	echo "rounds $ROUNDS"
	echo "secs $SECS"
	echo "warm $WARM"
	echo "wrk_threads $WRK_THREADS"
	echo "main $MAIN"
	echo "small $SMALL"
	echo "big $BIG"
	echo "has_batch $HAS_BATCH"
	echo "log_level $LOG_LEVEL"
	echo "cores $(nproc)"
	echo "machine $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)," \
		"$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "versions libmicrohttpd $(ver libmicrohttpd12), json-c $(ver libjson-c5)," \
		"$("$NGINX" -v 2>&1 | sed 's|nginx version: ||'), $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')," \
		"inkasso $(git rev-parse --short HEAD 2>/dev/null || echo '?')$DIRTY"
	for n in $DBS; do echo "db $n ${GEN_NOTE[$n]}"; done
} >"$RUN/header.txt"

# ---- the CPU of the machine during a run: ours, the others', the hypervisor's ----
# Ticks of the whole machine (/proc/stat: user nice system irq softirq, and
# steal) against those of this script and every child it has waited for
# (/proc/$$/stat utime stime cutime cstime): wrk, inkasso, nginx, floor.
# With tick accounting a softirq tick counts for the task it interrupted.
cpu_ticks() { # -> "busy steal ours"
	local ours
	ours=$(sed 's/^.*) //' "/proc/$$/stat" | awk '{print $12 + $13 + $14 + $15}')
	awk -v ours="$ours" '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8, $9, ours; exit}' /proc/stat
}

busy_ps() { # processes above 20% CPU (over their lifetime, as ps counts)
	ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 >= 20 && $2 != "ps" {printf "%s%s (%s%%)", sep, $2, $1; sep=", "}'
}

declare -A BYTES
fetch() { # path file: an answer of inkasso, kept for nginx
	local code
	code=$(curl -sS -o "$WWW/$2" -w '%{http_code}' -H "Authorization: Bearer $TOKEN1" "$URL$1")
	[ "$code" = 200 ] || { echo "bench: GET $1 answered $code: $(head -c 300 "$WWW/$2")" >&2; exit 1; }
}

# ---- one run: everything measured once, its figures in $RUN/run-R.txt ----
LABELS="list-ink list-ngx list-small get-ink get-ngx settings-ink settings-ngx health-ink health-ngx"
LABELS+=" create-b1 create-def"
one_run() { # r
	local r=$1 out=$RUN/run-$1.txt c0 c1 w0 w1 l n
	echo "bench: ---- run $r of $RUNS ----"
	RPS=(); MEM=()
	{
		echo "run $r"
		echo "start $(date -u +%FT%TZ)"
		echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "busy $(busy_ps)"
	} >"$out"
	w0=$(date +%s.%N); c0=$(cpu_ticks)

	# Both sizes are measured with the file in the OS page cache (the 1M
	# file fits this machine's memory): the comparison is of the work per
	# request, not of the disk. Cheap when the file is already cached.
	for n in $DBS; do cat "$WORK/cases-$n.db" >/dev/null; done
	write_run_lua
	TOKEN1=$(INKASSO_JWT_SECRET=$SECRET "$BIN" token --tenant bench-t03 --scope "$SCOPE" --ttl 7200)

	# -- the servers: inkasso on the main database (and the small one), nginx on the same bytes --
	local data_main=$WORK/cases-$MAIN.lua main_pid small_pid small_url
	start_inkasso main "$WORK/cases-$MAIN.db"
	main_pid=$INK_PID
	URL=http://127.0.0.1:$INK_PORT
	if [ "$BIG" != 0 ]; then
		start_inkasso small "$WORK/cases-$SMALL.db"
		small_pid=$INK_PID; small_url=http://127.0.0.1:$INK_PORT
	fi
	# The exact bytes nginx will serve: a page of 50 at a random cursor, one case, small answers.
	WWW=$RUN/www-$r; mkdir -p "$WWW"
	local seq cursor
	seq=$(( (RANDOM * 32768 + RANDOM) % (MAIN / 10 - 60) + 60 ))
	cursor=$(printf 'v1.%d' "$seq" | base64 -w0 | tr '+/' '-_' | tr -d '=')
	fetch "/v1/collection-cases?cursor=$cursor" list.json
	fetch "/v1/collection-cases/$(grep -m1 -o 'cc_[0-9A-Z]*' <(sed -n '/bench-t03/,$p' "$data_main"))" case.json
	fetch "/v1/agency-settings" settings.json
	fetch "/healthz" healthz.json
	grep -q '"has_more":true' "$WWW/list.json" || { echo "bench: the listing page is not a full page" >&2; exit 1; }
	n=$(grep -o '"id":"cc_' "$WWW/list.json" | wc -l)
	[ "$n" = 50 ] || { echo "bench: the listing page has $n cases, not 50" >&2; exit 1; }
	for l in list case settings healthz; do
		BYTES[$l]=$(stat -c %s "$WWW/$l.json")
		echo "bytes $l ${BYTES[$l]}" >>"$out"
	done
	chmod -R a+rX "$WWW"
	start_nginx "$WWW"

	# -- reads, and the scale: each pair (trio) in alternating rounds --
	target list-ink "$URL" list.lua 50 "$data_main"
	target list-ngx "$NGX_URL" list.lua 50 "$data_main"
	target get-ink "$URL" get.lua 50 "$data_main"
	target get-ngx "$NGX_URL" get.lua 50 "$data_main"
	target settings-ink "$URL" small.lua 50 "$data_main" /v1/agency-settings
	target settings-ngx "$NGX_URL" small.lua 50 "$data_main" /v1/agency-settings
	target health-ink "$URL" small.lua 50 "$data_main" /healthz
	target health-ngx "$NGX_URL" small.lua 50 "$data_main" /healthz
	if [ "$BIG" != 0 ]; then
		target list-small "$small_url" list.lua 50 "$WORK/cases-$SMALL.lua"
		measure list-ink list-ngx list-small
	else
		measure list-ink list-ngx
	fi
	measure get-ink get-ngx
	measure settings-ink settings-ngx
	measure health-ink health-ngx
	INK_PID=$main_pid; stop_inkasso main
	if [ "$BIG" != 0 ]; then INK_PID=$small_pid; stop_inkasso small; fi
	stop_pid "$NGX_PID"

	# -- durable creates: one commit per request vs the default, both at once, each on a fresh copy --
	local data_small=$WORK/cases-$SMALL.lua b1_pid def_pid
	cp "$WORK/cases-$SMALL.db" "$RUN/create-b1.db"
	cp "$WORK/cases-$SMALL.db" "$RUN/create-def.db"
	start_inkasso create-b1 "$RUN/create-b1.db" INKASSO_COMMIT_BATCH=1
	b1_pid=$INK_PID; target create-b1 "http://127.0.0.1:$INK_PORT" create.lua 64 "$data_small"
	start_inkasso create-def "$RUN/create-def.db"
	def_pid=$INK_PID; target create-def "http://127.0.0.1:$INK_PORT" create.lua 64 "$data_small"
	measure create-b1 create-def
	INK_PID=$b1_pid; stop_inkasso create-b1
	INK_PID=$def_pid; stop_inkasso create-def
	rm -f "$RUN"/create-*.db*

	# -- in-process floors --
	"$FLOOR" "$RUN" "$FLOOR_SECS" >>"$out"

	# -- the figures --
	w1=$(date +%s.%N); c1=$(cpu_ticks)
	{
		for l in $LABELS; do
			[ -n "${RPS[$l]:-}" ] || continue
			local conns=${CONNS[$l]% } p99s=${P99S[$l]% }
			echo "wrk $l ${RPS[$l]} ${P50[$l]} ${P99[$l]} ${BAD[$l]} ${ERRS[$l]}" \
				"${conns// /,} ${p99s// /,} ${REQS[$l]} ${TIME[$l]}"
		done
		for l in main small create-b1 create-def; do
			[ -z "${MEM[$l]:-}" ] || echo "mem $l ${MEM[$l]}"
		done
		echo "cpu $(awk -v w0="$w0" -v w1="$w1" -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
			split(c0, a, " "); split(c1, b, " "); w = w1 - w0
			printf "%.1f %.2f %.2f %.2f", w, (b[3] - a[3]) / hz / w,
				(b[1] - a[1] - (b[3] - a[3])) / hz / w, (b[2] - a[2]) / hz / w }')"
		echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)"
	} >>"$out"
	rm -rf "$WWW"
}

for r in $(seq 1 "$RUNS"); do one_run "$r"; done

# ---- the report: medians, verdicts, each run (bench/report.py) ----
echo "elapsed $(( $(date +%s) - T_START ))" >>"$RUN/header.txt"
/usr/bin/python3 "$ROOT/bench/report.py" "$RUN/header.txt" "$RUN"/run-*.txt --out "$RESULTS"
# The figures stay in bench/work/last/ (the run's directory goes): report.py
# can write the report again from them.
rm -rf "$WORK/last"; mkdir "$WORK/last"
cp "$RUN/header.txt" "$RUN"/run-*.txt "$WORK/last/"
echo "bench: wrote $RESULTS ($(( $(date +%s) - T_START )) s)"
