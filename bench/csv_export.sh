#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The CSV export in bounded memory (issue 13, point 1): builds a database of
# N cases for ONE tenant with bench/gen, starts bin/inkasso on it, exports
# every case with
#   curl -H 'Accept: text/csv' .../v1/collection-cases
# and samples the service's memory every 50 ms meanwhile: VmRSS
# (/proc/PID/status) and its private anonymous memory (/proc/PID/smaps_rollup:
# Private_Dirty and Anonymous; the database file's pages SQLite reads are
# file-backed and shared, not the service's own). Prints rows, bytes,
# seconds, and the memory before and at its peak during the export.
#
#   bench/csv_export.sh [N]          N defaults to 1000000
#   CSV_BENCH_DB=FILE bench/csv_export.sh N   reuse a database gen built for N
#                                    cases with --tenants 1 (it is kept)
# The generated database lives in a temporary directory removed at the end
# (1M cases: about 1.7 GB, some 45 s to build on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
ROOT=$PWD
BUILD=${BUILD:-build/release}
BIN=$ROOT/bin/inkasso
SECRET=csv-bench-secret-0123456789abcdef-0123456789
LOG_LEVEL=warn
RUN=$(mktemp -d /tmp/inkasso-csv-bench.XXXXXX)
# shellcheck source=bench/lib.sh
. bench/lib.sh

make -s -j2 bin/inkasso "$BUILD/bench/gen"
DB=${CSV_BENCH_DB:-$RUN/cases.db}
if [ -z "${CSV_BENCH_DB:-}" ]; then
	t0=$(date +%s.%N)
	"$BUILD/bench/gen" "$DB" "$N" --tenants 1 2>"$RUN/gen.log" || { cat "$RUN/gen.log" >&2; exit 1; }
	echo "csv bench: generated $N cases in $(echo "$(date +%s.%N) - $t0" | bc) s," \
		"$(du -m "$DB" | cut -f1) MB"
fi
start_inkasso csv "$DB" INKASSO_THREADS=2
TOKEN=$(INKASSO_JWT_SECRET=$SECRET "$BIN" token --tenant bench-t01 --scope cases:read --ttl 7200)

# kB of one process: VmRSS, then Private_Dirty and Anonymous of smaps_rollup.
mem() { # pid
	local rss
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status")
	echo "$rss $(awk '/^Private_Dirty:/ {d = $2} /^Anonymous:/ {a = $2} END {print d, a}' "/proc/$1/smaps_rollup")"
}
# A warm-up request, so that the baseline has the threads and connections.
curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$INK_PORT/v1/collection-cases?limit=1"
read -r RSS0 DIRTY0 ANON0 < <(mem "$INK_PID")

sample() { # pid file: the peaks of mem's three figures until killed
	local pr=0 pd=0 pa=0 r d a
	trap 'echo "$pr $pd $pa" >"$2"; exit 0' TERM
	while true; do
		read -r r d a < <(mem "$1") || break
		[ "$r" -gt "$pr" ] && pr=$r
		[ "$d" -gt "$pd" ] && pd=$d
		[ "$a" -gt "$pa" ] && pa=$a
		sleep 0.05
	done
}
sample "$INK_PID" "$RUN/peak" &
SAMPLER=$!
PIDS+=("$SAMPLER")
t0=$(date +%s.%N)
LINES=$(curl -sS -H 'Accept: text/csv' -H "Authorization: Bearer $TOKEN" \
	-w '%{stderr}%{http_code} %{size_download}\n' "http://127.0.0.1:$INK_PORT/v1/collection-cases" \
	2>"$RUN/curl.txt" | wc -l)
SECS=$(echo "$(date +%s.%N) - $t0" | bc)
kill -TERM "$SAMPLER"
wait "$SAMPLER" 2>/dev/null || true
read -r CODE BYTES <"$RUN/curl.txt"
read -r RSSP DIRTYP ANONP <"$RUN/peak"
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$INK_PID/status")
stop_inkasso csv
[ "$CODE" = 200 ] || { echo "csv bench: HTTP $CODE" >&2; exit 1; }
mb() { echo "scale=1; $1 / 1024" | bc; }
echo "csv bench: $N cases, one tenant; curl -H 'Accept: text/csv' /v1/collection-cases"
echo "  rows $((LINES - 1)) (+ header), bytes $BYTES, seconds $SECS," \
	"$(echo "scale=0; ($LINES - 1) / $SECS" | bc) rows/s"
echo "  VmRSS before $(mb "$RSS0") MB, peak during the export $(mb "$RSSP") MB (VmHWM $(mb "$HWM") MB)"
echo "  smaps_rollup Private_Dirty before $(mb "$DIRTY0") MB, peak $(mb "$DIRTYP") MB;" \
	"Anonymous before $(mb "$ANON0") MB, peak $(mb "$ANONP") MB"
[ "$((LINES - 1))" = "$N" ] || { echo "csv bench: $((LINES - 1)) rows for $N cases" >&2; exit 1; }
