#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every Criterion unit-test binary given, then prints one closing line.
# A store test whose source opens its database with test_db_create
# (tests/unit/store_backend.h) runs twice: on SQLite, then on PostgreSQL
# (INKASSO_TEST_STORE=pg, on the server of INKASSO_TEST_PG).
set -uo pipefail
passed=0 failed=0 rc=0
runs=()
for t in "$@"; do
	runs+=("$t")
	src="tests/unit/$(basename "$t").c"
	if [ -f "$src" ] && grep -q 'test_db_create(' "$src"; then runs+=("pg:$t"); fi
done
for t in "${runs[@]}"; do
	label=$(basename "${t#pg:}")
	if [[ $t == pg:* ]]; then
		t=${t#pg:}; label="$label (postgres)"
		out=$(INKASSO_TEST_STORE=pg "$t" --jobs 2 2>&1); code=$?
	else
		out=$("$t" --jobs 2 2>&1); code=$?
	fi
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
	echo "unit: $label: ${line:-no result}"
done
echo "unit: $passed passed, $failed failed"
exit $rc
