#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the HTTP tests (pytest) against the real binaries on loopback ports,
# through a Prism proxy that checks every response against openapi.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
export INKASSO_BIN="${INKASSO_BIN:-bin/inkasso}" AGENCY_SIM_BIN="${AGENCY_SIM_BIN:-bin/agency-sim}"
export PRISM_BIN="${PRISM_BIN:-$PWD/.tools/node_modules/.bin/prism}"
# Debian's pytest lives with /usr/bin/python3; another python3 first on PATH may not see it.
# Arguments naming tests (tests/http/test_x.py[::name]) run those alone.
where=(tests/http)
for a in "$@"; do
	case $a in tests/*) where=() ;; esac
done
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "${where[@]}" "$@"
