#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every Criterion unit-test binary given, then prints one closing line.
set -uo pipefail
passed=0 failed=0 rc=0
for t in "$@"; do
	out=$("$t" --jobs 2 2>&1); code=$?
	line=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line"); f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${c:-0}))
	# Criterion counts a test as passing even when a sanitizer reported in
	# its child process: the report itself must fail the run.
	if grep -qE 'LeakSanitizer|AddressSanitizer|runtime error:' <<<"$out"; then
		code=1; failed=$((failed + 1))
	fi
	if [ "$code" -ne 0 ] || [ -z "$line" ]; then
		rc=1
		printf '%s\n' "$out" | tail -n 40
		[ -z "$line" ] && failed=$((failed + 1))
	fi
	echo "unit: $(basename "$t"): ${line:-no result}"
done
echo "unit: $passed passed, $failed failed"
exit $rc
