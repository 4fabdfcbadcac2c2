#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Lints the tree, the contract and the container files, offline, with the
# pinned tools in .tools/ (scripts/install-deps.sh) and Debian's docker-compose:
#   the product tree    scripts/check-tree.sh (includes point down the layers,
#                       files within 600 lines and 120 columns)
#   openapi.yaml        Redocly CLI, rules in redocly.yaml (errors fail)
#   the typed client    scripts/check-client.sh (openapi-typescript generates a
#                       client, tsc compiles a typed use of every operation)
#   Dockerfile          dockerfile-utils (any reported problem fails, warnings too)
#   docker-compose.yml  docker-compose config -q (no Docker engine needed), with
#                       its PostgreSQL profile, and deploy/haproxy.cfg (haproxy -c)
#   the image's build   scripts/check-docker-context.sh (the Dockerfile's make
#                       line, run on what .dockerignore lets into the context)
# Prints one line per check; exits non-zero on the first failing check.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/check-tree.sh

bin=.tools/node_modules/.bin
for tool in redocly dockerfile-utils; do
	if [ ! -x "$bin/$tool" ]; then
		echo "lint: $bin/$tool missing; run scripts/install-deps.sh" >&2
		exit 2
	fi
done
if ! command -v docker-compose >/dev/null 2>&1; then
	echo "lint: docker-compose missing; run scripts/install-deps.sh" >&2
	exit 2
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Redocly prints a Node 20 deprecation banner on every run; it is not a finding.
if ! REDOCLY_TELEMETRY=off "$bin/redocly" lint --config redocly.yaml openapi.yaml >"$out" 2>&1; then
	cat "$out" >&2
	echo "lint: openapi FAILED" >&2
	exit 1
fi
echo "lint: openapi ok"

if ! scripts/check-client.sh >"$out" 2>&1; then
	cat "$out" >&2
	echo "lint: typed client FAILED" >&2
	exit 1
fi
echo "lint: typed client ok"

# dockerfile-utils exits 0 on warnings: any output at all is a failure.
rc=0
"$bin/dockerfile-utils" lint Dockerfile >"$out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] || [ -s "$out" ]; then
	cat "$out" >&2
	echo "lint: dockerfile FAILED" >&2
	exit 1
fi
echo "lint: dockerfile ok"

if ! docker-compose -f docker-compose.yml config -q >"$out" 2>&1 ||
	! docker-compose -f docker-compose.yml --profile postgres config -q >"$out" 2>&1; then
	cat "$out" >&2
	echo "lint: compose FAILED" >&2
	exit 1
fi
echo "lint: compose ok"

# The replicas' names resolve only on the compose network: those warnings
# are expected, anything else fails.
if ! haproxy -c -q -f deploy/haproxy.cfg >"$out" 2>&1; then
	cat "$out" >&2
	echo "lint: haproxy.cfg FAILED" >&2
	exit 1
fi
echo "lint: haproxy.cfg ok"

scripts/check-docker-context.sh
