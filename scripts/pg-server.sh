#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for the tests, never the system service: a
# fresh cluster in a directory the caller chose, on 127.0.0.1 and a unix
# socket in that directory, removed again by `stop`.
#   scripts/pg-server.sh start DIR [PORT]  initdb DIR/data, start, create the
#                                          database inkasso; prints the libpq
#                                          URI (also written to DIR/uri)
#   scripts/pg-server.sh stop DIR          stop that server, rm -rf DIR; quiet
#                                          when it is already gone
#   scripts/pg-server.sh down DIR          crash it (-m immediate), data kept
#   scripts/pg-server.sh up DIR            start it again: same data and port
#   scripts/pg-server.sh restart DIR       down, then up
#   scripts/pg-server.sh standby DIR PRIMARY_DIR
#                                          a streaming standby of that server
#                                          (application_name standby1); its URI
#   scripts/pg-server.sh promote DIR       the standby becomes a primary
#   scripts/pg-server.sh kill DIR          SIGKILL to its postmaster
#   scripts/pg-server.sh run CMD ARGS...   a server in a fresh mktemp -d for
#                                          CMD, whose environment has
#                                          INKASSO_TEST_PG=<uri> and
#                                          INKASSO_TEST_PG_DIR=<its DIR>; exits with
#                                          CMD's status (`make check`)
# stdout carries the URI only (start); everything else goes to stderr.
# initdb and postgres refuse to run as root: as root, the cluster belongs to
# the unprivileged `postgres` user (runuser), else to the caller.
set -euo pipefail

# DIR/data of a cluster this script created holds this file, so that stop
# never removes a directory that is not one of ours.
marker=.inkasso-pg-server

usage() {
	echo "usage: $0 start DIR [PORT] | stop DIR | down DIR | up DIR | restart DIR | standby DIR PRIMARY_DIR" \
	     "| promote DIR | kill DIR | run CMD [ARGS...]" >&2
	exit 2
}

die() {
	echo "pg-server: $*" >&2
	exit 1
}

bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
	elif [ -x /usr/lib/postgresql/15/bin/initdb ]; then
		echo /usr/lib/postgresql/15/bin
	else
		die "no initdb (pg_config --bindir, /usr/lib/postgresql/15/bin): install postgresql-15"
	fi
}

# Runs a command as the cluster's owner, from DIR: the caller's working
# directory may be one the postgres user cannot enter.
as_owner() {
	local dir=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

free_port() {
	local py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
	if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
	local dir=$1 port=${2:-} bin
	bin=$(bindir)
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
		die "$dir exists and is not empty: start wants a fresh directory"
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	# pg_ctl -o goes through a shell; the unix socket's path must fit
	# sun_path (107 bytes with ".s.PGSQL.<port>").
	case $dir in *"'"* | *[[:space:]]*) die "$dir: no quotes or spaces in DIR, please" ;; esac
	[ ${#dir} -le 80 ] || die "$dir: too long for the unix socket path (80 characters at most)"
	if [ -n "$port" ]; then
		case $port in '' | *[!0-9]*) die "PORT must be a number: $port" ;; esac
	fi
	touch "$dir/$marker"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		chmod 0700 "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "$dir: the postgres user cannot write here (a parent directory it cannot enter?)"
	fi

	# The tools' progress chatter is dropped; their errors reach stderr.
	echo "pg-server: initdb $dir/data" >&2
	as_owner "$dir" "$bin/initdb" -D "$dir/data" -A trust -U inkasso --encoding=UTF8 --locale=C >/dev/null

	# A port picked free may be taken before postgres binds it (another
	# server starting beside this one): then try again with a new one.
	local tries=1 ok=0 opts
	[ -n "$port" ] || tries=5
	for ((i = 1; i <= tries; i++)); do
		[ -n "${2:-}" ] || port=$(free_port)
		echo "pg-server: starting on 127.0.0.1:$port" >&2
		opts="-k '$dir' -p $port -c listen_addresses=127.0.0.1 -c max_connections=200"
		opts+=" -c fsync=on -c synchronous_commit=on -c shared_buffers=64MB"
		if as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -s -w -t 60 start -o "$opts" >&2; then
			ok=1
			break
		fi
		# A server that did not come up within -t may still be starting:
		# stop it before trying again (it is ours, by its data directory).
		as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
		grep -q "could not bind\|could not create any TCP/IP sockets" "$dir/log" 2>/dev/null || break
	done
	if [ "$ok" != 1 ]; then
		tail -n 20 "$dir/log" >&2 2>/dev/null || true
		die "the server in $dir did not start"
	fi

	if ! PGCONNECT_TIMEOUT=10 "$bin/createdb" -h "$dir" -p "$port" -U inkasso inkasso >&2; then
		as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
		die "createdb inkasso failed"
	fi
	local uri="postgresql://inkasso@127.0.0.1:$port/inkasso"
	echo "$opts" >"$dir/opts"
	echo "$uri" >"$dir/uri"
	echo "$uri"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir=$1 bin
	[ -e "$dir" ] || return 0
	[ -f "$dir/$marker" ] || die "$dir was not made by $0 start: not removing it"
	bin=$(bindir)
	dir=$(cd "$dir" && pwd -P)
	# pg_ctl status: 0 running, 3 not running, 4 no data directory.
	if [ -f "$dir/data/postmaster.pid" ] &&
		as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		if ! as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1; then
			echo "pg-server: fast stop failed, stopping $dir/data immediately" >&2
			as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >&2 || true
		fi
	fi
	rm -rf "$dir"
}

# down: a crash of the server, its data kept (`-m immediate`: recovery
# replays the WAL at the next start); up: started again on the same data,
# port and settings; restart: both.
cmd_down() {
	[ $# -eq 1 ] || usage
	local dir=$1
	[ -f "$dir/$marker" ] || die "$dir was not made by $0 start"
	dir=$(cd "$dir" && pwd -P)
	as_owner "$dir" "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
}

cmd_up() {
	[ $# -eq 1 ] || usage
	local dir=$1
	[ -f "$dir/$marker" ] || die "$dir was not made by $0 start"
	dir=$(cd "$dir" && pwd -P)
	as_owner "$dir" "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/log" -s -w -t 60 start -o "$(cat "$dir/opts")" >&2
}

# standby DIR PRIMARY_DIR: a streaming standby of the server of PRIMARY_DIR
# (pg_basebackup -R: standby.signal and primary_conninfo with
# application_name=standby1, for synchronous_standby_names), started on a
# port of its own; prints its URI. promote DIR: the standby becomes a
# primary. kill DIR: SIGKILL to the server's postmaster (a crash of the
# machine as far as clients see).
cmd_standby() {
	[ $# -eq 2 ] || usage
	local dir=$1 primary=$2 bin port opts
	[ -f "$primary/$marker" ] || die "$primary was not made by $0 start"
	bin=$(bindir)
	primary=$(cd "$primary" && pwd -P)
	local pport
	pport=$(sed -n 's|.*127.0.0.1:\([0-9]*\)/.*|\1|p' "$primary/uri")
	[ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	touch "$dir/$marker"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		chmod 0700 "$dir"
	fi
	echo "pg-server: base backup of 127.0.0.1:$pport into $dir/data" >&2
	as_owner "$dir" "$bin/pg_basebackup" -d "host=127.0.0.1 port=$pport user=inkasso application_name=standby1" \
		-D "$dir/data" -R -X stream -c fast >/dev/null
	port=$(free_port)
	opts="-k '$dir' -p $port -c listen_addresses=127.0.0.1 -c max_connections=200"
	opts+=" -c fsync=on -c synchronous_commit=on -c shared_buffers=64MB"
	as_owner "$dir" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -s -w -t 60 start -o "$opts" >&2 ||
		die "the standby in $dir did not start"
	local uri="postgresql://inkasso@127.0.0.1:$port/inkasso"
	echo "$opts" >"$dir/opts"
	echo "$uri" >"$dir/uri"
	echo "$uri"
}

cmd_promote() {
	[ $# -eq 1 ] || usage
	local dir=$1
	[ -f "$dir/$marker" ] || die "$dir was not made by $0 start"
	dir=$(cd "$dir" && pwd -P)
	as_owner "$dir" "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
}

cmd_kill() {
	[ $# -eq 1 ] || usage
	local dir=$1 pid
	[ -f "$dir/$marker" ] || die "$dir was not made by $0 start"
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || die "no server runs in $dir"
	kill -KILL "$pid"
}

cmd_run() {
	[ $# -ge 1 ] || usage
	local uri rc
	run_dir=$(mktemp -d "${TMPDIR:-/tmp}/inkasso-pg.XXXXXX")
	# The trap stops the server whatever ends this script: CMD's exit, a
	# failed start, Ctrl-C or a TERM (the server, started by pg_ctl in its
	# own session, would not see those signals). A subshell, so that a
	# failing stop cannot replace CMD's status.
	trap '(cmd_stop "$run_dir") || true' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	uri=$(cmd_start "$run_dir")
	set +e
	INKASSO_TEST_PG=$uri INKASSO_TEST_PG_DIR=$run_dir "$@"
	rc=$?
	set -e
	exit "$rc"
}

[ $# -ge 1 ] || usage
what=$1
shift
case $what in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
down) cmd_down "$@" ;;
up) cmd_up "$@" ;;
restart) cmd_down "$@" && cmd_up "$@" ;;
standby) cmd_standby "$@" ;;
promote) cmd_promote "$@" ;;
kill) cmd_kill "$@" ;;
run) cmd_run "$@" ;;
*) usage ;;
esac
