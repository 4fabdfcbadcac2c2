#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The typed-client check of make lint: generates a TypeScript client from
# openapi.yaml with openapi-typescript's default options, as an integrator
# would, into build/client/schema.d.ts, and compiles tests/client/use.ts (a
# typed use of every operation: requests with only what the service requires,
# reads of what answers always carry) with tsc --noEmit, strict. use.ts keys
# its uses by every operationId, so tsc fails when one is missing; this script
# also checks that the generated `operations` has every operationId of
# openapi.yaml. Tools pinned in .tools/ (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$PWD/.tools/node_modules/.bin
for tool in openapi-typescript tsc; do
	if [ ! -x "$bin/$tool" ]; then
		echo "check-client: $bin/$tool missing; run scripts/install-deps.sh" >&2
		exit 2
	fi
done

mkdir -p build/client
# Run where there is no redocly.yaml: openapi-typescript would otherwise lint
# with ours through its own, older Redocly core, whose problem-details rule
# does not see through allOf. An integrator's project has none either.
(cd build/client && "$bin/openapi-typescript" ../../openapi.yaml -o schema.d.ts >/dev/null)

want=$(grep -E '^[[:space:]]+operationId:' openapi.yaml | awk '{print $2}' | sort)
got=$(awk '/^export interface operations \{/ {on = 1; next}
	on && /^\}/ {on = 0}
	on && /^    [A-Za-z0-9_]+: \{$/ {sub(/:.*/, ""); gsub(/ /, ""); print}' build/client/schema.d.ts | sort)
if [ "$want" != "$got" ]; then
	echo "check-client: the generated operations differ from openapi.yaml's operationIds:" >&2
	diff <(echo "$want") <(echo "$got") >&2 || true
	exit 1
fi

"$bin/tsc" -p tests/client
