#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages and npm tools that build, run and test inkasso,
# only those missing. Idempotent: a second run does nothing and is quick.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(build-essential pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libcurl4-openssl-dev libjson-c-dev libsqlite3-dev libjwt-dev libssl-dev
      libpq-dev postgresql-15
      libcriterion-dev sqlite3 curl python3 python3-pytest python3-requests python3-psycopg2
      nodejs npm docker-compose haproxy)
missing=()
for p in "${debs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. nvm); accept any working npm.
if command -v npm >/dev/null 2>&1; then
	missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "installing Debian packages: ${missing[*]}"
	# The tests start their own PostgreSQL in a temporary directory
	# (scripts/pg-server.sh); the package must not create and start the
	# system's cluster.
	if [[ " ${missing[*]} " == *" postgresql-15 "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		$sudo mkdir -p /etc/postgresql-common
		echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Contract tools, pinned (see shared/TOOLING.md), kept out of git in .tools/.
# standardwebhooks is the reference implementation of webhook signatures: the
# webhook-listen tests sign and verify with it (tests/http/test_webhook_listen.py).
# openapi-typescript and typescript: the typed-client check of make lint
# (scripts/check-client.sh) generates a client from openapi.yaml and compiles
# tests/client/use.ts against it.
tools=("@redocly/cli@2.77.0" "@stoplight/prism-cli@5.14.2" "dockerfile-utils@0.16.3" "standardwebhooks@1.1.1"
       "openapi-typescript@7.9.1" "typescript@5.9.3")
if [ ! -x .tools/node_modules/.bin/prism ] || [ ! -x .tools/node_modules/.bin/redocly ] ||
   [ ! -x .tools/node_modules/.bin/dockerfile-utils ] ||
   [ ! -x .tools/node_modules/.bin/openapi-typescript ] || [ ! -x .tools/node_modules/.bin/tsc ] ||
   [ ! -f .tools/node_modules/standardwebhooks/package.json ]; then
	echo "installing npm tools into .tools/: ${tools[*]}"
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --loglevel=error "${tools[@]}" >/dev/null
fi

# promtool checks the /metrics exposition in the HTTP tests. Only the binary is
# taken from Debian's prometheus package (unpacked, not installed: no server).
if [ ! -x .tools/promtool ]; then
	echo "unpacking promtool from Debian's prometheus package into .tools/"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; })
	dpkg -x "$tmp"/prometheus_*.deb "$tmp/x"
	cp "$tmp/x/usr/bin/promtool" .tools/promtool
	rm -rf "$tmp"
fi
