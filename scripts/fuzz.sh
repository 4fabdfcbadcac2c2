#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the libFuzzer targets built by `make fuzz-build` (build/fuzz/fuzz_*):
# each for SECONDS, JOBS targets at a time, on a working copy of its committed
# seeds (tests/fuzz/corpus/T is copied into build/fuzz/corpus/T, which keeps
# what the fuzzer finds between runs; the committed seeds stay small), with the
# target's dictionary when tests/fuzz/T.dict exists. Prints executions, speed,
# corpus and coverage per target, and fails if any target stopped on a crash,
# a leak, undefined behaviour, a timeout (FUZZ_TIMEOUT s per input, default 10)
# or running out of memory; the input is left in build/fuzz/artifacts/T/.
# Usage: scripts/fuzz.sh SECONDS JOBS TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?seconds} jobs=${2:?jobs}
shift 2
out=build/fuzz
export secs out FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}

run_one() {
	local t=$1 rc=0
	local dict=()
	mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
	cp -n tests/fuzz/corpus/"$t"/* "$out/corpus/$t/"
	[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	echo "fuzz $t: ${secs} s ..."
	ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$out/fuzz_$t" -max_len=65536 -max_total_time="$secs" -timeout="$FUZZ_TIMEOUT" \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
		"${dict[@]}" "$out/corpus/$t" >"$out/$t.log" 2>&1 || rc=$?
	echo "$rc" >"$out/$t.rc"
}
export -f run_one

printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}

failed=0
for t in "$@"; do
	log=$out/$t.log rc=$(cat "$out/$t.rc")
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	seeds=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
	corpus=$(find "$out/corpus/$t" -type f | wc -l)
	if [ "$rc" = 0 ]; then
		verdict="0 crashes"
	else
		failed=1
		verdict="FAILED (exit $rc): $(grep -m1 -E '^SUMMARY|ERROR: libFuzzer|ERROR: AddressSanitizer|runtime error' "$log" || echo 'see log')"
		verdict+="; input: $(ls -t "$out/artifacts/$t" | head -1 | sed "s|^|$out/artifacts/$t/|")"
	fi
	printf 'fuzz %-17s %12s executions in %s s (%s/s), %s, corpus %s (seeds %s): %s\n' \
		"$t" "${execs:-0}" "$secs" "$(( ${execs:-0} / (secs > 0 ? secs : 1) ))" "${cov:-cov: ?}" \
		"$corpus" "$seeds" "$verdict"
done
[ "$failed" = 0 ] || { echo "fuzz: a target failed; logs in $out/*.log"; exit 1; }
