#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark's own packages, only those missing: wrk (load generator) and
# nginx (the anchor that serves the same bytes as static files). Called by
# `make bench` / `make bench-quick`, never by scripts/install-deps.sh: the
# build and the tests do not need them.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	missing+=(nginx-light)
fi
command -v perf >/dev/null 2>&1 || true   # optional, for profiles; not installed here
((${#missing[@]})) || exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "bench: installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
# --no-install-recommends and policy-rc.d: the package's own nginx service is
# not wanted (the bench runs its own on a loopback port); 101 = "do not start".
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	made_policy=1
fi
NEEDRESTART_SUSPEND=1 DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ "$made_policy" = 0 ] || $sudo rm -f "$policy"
