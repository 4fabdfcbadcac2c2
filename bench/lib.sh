#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What bench/run.sh and bench/pg.sh share: the processes they start (each
# stopped by its pid on exit), inkasso on a database, nginx serving files,
# wrk in alternating rounds with the figures per label, the run file of
# tokens, the memory of each inkasso sampled while it runs. Sourced, with
# these set: ROOT BIN RUN SECRET SCOPE LOG_LEVEL WRK_THREADS ROUNDS SECS WARM
# NGINX (and BYTES before start_nginx).

# ---- processes: every one we start is recorded and stopped by pid ----
PIDS=()
stop_pid() { # pid [signal]
	local pid=$1 sig=${2:-TERM}
	kill -0 "$pid" 2>/dev/null || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
	wait "$pid" 2>/dev/null || true
	# forgotten once stopped: a pid the kernel hands out again is not ours
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
cleanup() {
	local rc=$?
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	# keep a failed run's logs; a good run's temp dir goes (its files are big)
	if [ "$rc" = 0 ]; then rm -rf "$RUN"; else echo "bench: failed ($rc); logs in $RUN" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url pid seconds
	local url=$1 pid=$2 secs=$3 i
	for i in $(seq 1 $((secs * 10))); do
		curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { echo "bench: process $pid exited before $url answered" >&2; return 1; }
		sleep 0.1
	done
	echo "bench: $url did not answer in ${secs}s" >&2
	return 1
}

INK_PID=""; INK_PORT=""
# sample_mem pid file: every 0.5 s a line "RssAnon RssFile RssShmem" (kB) of
# the process, until stopped by its pid or the process is gone. /proc has the
# peak of the whole RSS (VmHWM) but not of its parts: this is their peak.
sample_mem() {
	local pid=$1 out=$2 k v a f s
	while [ -d "/proc/$pid" ]; do
		a=""; f=""; s=""
		while read -r k v _; do
			case $k in RssAnon:) a=$v ;; RssFile:) f=$v ;; RssShmem:) s=$v ;; esac
		done 2>/dev/null <"/proc/$pid/status" || break
		[ -z "$a" ] || echo "$a $f $s" >>"$out"
		sleep 0.5
	done
}
# MEM[name]: "VmHWM VmRSS-at-end RssAnon-peak RssFile-peak RssShmem-peak samples", kB;
# HWM and RSS: VmHWM and VmRSS in MB.
declare -A HWM RSS MEM SAMPLER
start_inkasso() { # name db [VAR=value ...]
	local name=$1 db=$2; shift 2
	INK_PORT=$(free_port)
	env INKASSO_LISTEN="127.0.0.1:$INK_PORT" INKASSO_DB="$db" INKASSO_JWT_SECRET="$SECRET" \
		INKASSO_LOG_LEVEL="$LOG_LEVEL" "$@" "$BIN" serve >"$RUN/inkasso-$name.log" 2>&1 &
	INK_PID=$!
	PIDS+=("$INK_PID")
	: >"$RUN/mem-$name.txt"
	sample_mem "$INK_PID" "$RUN/mem-$name.txt" &
	SAMPLER[$name]=$!
	PIDS+=("$!")
	local t0=$SECONDS
	wait_http "http://127.0.0.1:$INK_PORT/healthz" "$INK_PID" 300 ||
		{ tail -5 "$RUN/inkasso-$name.log" >&2; exit 1; }
	echo "bench: inkasso ($name) up on :$INK_PORT, pid $INK_PID, started in $((SECONDS - t0)) s"
}
stop_inkasso() { # name: stops $INK_PID and its sampler, after a last sample
	local name=$1 hwm rss anon file shm
	stop_pid "${SAMPLER[$name]}"
	[ -r "/proc/$INK_PID/status" ] || { echo "bench: inkasso ($name) is gone" >&2; exit 1; }
	read -r hwm rss anon file shm < <(awk '{v[$1] = $2} END {
		print v["VmHWM:"], v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["RssShmem:"]}' "/proc/$INK_PID/status")
	echo "$anon $file $shm" >>"$RUN/mem-$name.txt"
	MEM[$name]="$hwm $rss $(awk '$1 + 0 > a {a = $1} $2 + 0 > f {f = $2} $3 + 0 > s {s = $3}
		END {printf "%d %d %d %d", a, f, s, NR}' "$RUN/mem-$name.txt")"
	HWM[$name]=$((hwm / 1024)); RSS[$name]=$((rss / 1024))
	stop_pid "$INK_PID"
	INK_PID=""
}


# write_run_lua: the run file ($RUN/run.lua): a token per tenant, dates that
# make a create sendable today.
write_run_lua() {
	{
		echo "return {"
		echo "  tokens = {"
		for i in $(seq -w 1 10); do
			tok=$(INKASSO_JWT_SECRET=$SECRET "$BIN" token --tenant "bench-t$i" --scope "$SCOPE" --ttl 7200)
			echo "    [\"bench-t$i\"] = \"$tok\","
		done
		echo "  },"
		echo "  issued_on = \"$(date -u -d '-90 days' +%F)\","
		echo "  due_on = \"$(date -u -d '-60 days' +%F)\","
		echo "  reminder_on = \"$(date -u -d '-30 days' +%F)\","
		echo "}"
	} >"$RUN/run.lua"
}

# ---- wrk ----
# Per label: requests and seconds summed over the rounds (req/s = their
# quotient), p50 the mean of the rounds', p99 the worst round's.
declare -A REQS TIME P50S P99S BAD CONNS ERRS RPS P50 P99 URLS TDATA SCRIPT PATHS
passive_opens() {
	awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "PassiveOpens") c = i; h = 1 } else print $c }' \
		/proc/net/snmp
}
to_ms() { # "1.23ms" | "850.00us" | "1.02s" -> ms
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.0f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f", v * 1000 }
		else print "?" }'
}
# target label url script conns data [path]: what a label measures
target() {
	URLS[$1]=$2; SCRIPT[$1]=$3; CONNS_OF[$1]=$4; TDATA[$1]=$5; PATHS[$1]=${6:-/healthz}
	REQS[$1]=0; TIME[$1]=0; P50S[$1]=""; P99S[$1]=""; BAD[$1]=0; ERRS[$1]=0; CONNS[$1]=""
}
declare -A CONNS_OF
wrk_once() { # label seconds nonce out [--latency]
	local l=$1
	BENCH_PATH=${PATHS[$l]} wrk -t"$WRK_THREADS" -c"${CONNS_OF[$l]}" -d"${2}s" --timeout 10s ${5:-} \
		-s "$ROOT/bench/${SCRIPT[$l]}" "${URLS[$l]}" -- "${TDATA[$l]}" "$RUN/run.lua" "$3" >"$4" 2>&1 ||
		{ cat "$4" >&2; exit 1; }
}
# measure label...: a warm-up of each, then ROUNDS rounds of all of them in turn
measure() {
	local l r out c0 c1 n d
	for l in "$@"; do wrk_once "$l" "$WARM" "w$l$RANDOM" "$RUN/warm-$l.txt"; done
	for r in $(seq 1 "$ROUNDS"); do
		for l in "$@"; do
			out="$RUN/wrk-$l-$r.txt"
			c0=$(passive_opens)
			wrk_once "$l" "$SECS" "m$r$l$RANDOM" "$out" --latency
			c1=$(passive_opens)
			read -r n d < <(awk '/requests in/ {n = $1; d = $4; sub(/s,?$/, "", d); print n, d}' "$out")
			REQS[$l]=$((REQS[$l] + n))
			TIME[$l]=$(awk -v a="${TIME[$l]}" -v b="$d" 'BEGIN {print a + b}')
			P50S[$l]+="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")") "
			P99S[$l]+="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")") "
			n=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out" | grep . || echo 0)
			BAD[$l]=$((BAD[$l] + n))
			n=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out" | grep . || echo 0)
			ERRS[$l]=$((ERRS[$l] + n))
			CONNS[$l]+="$((c1 - c0)) "
		done
	done
	for l in "$@"; do
		RPS[$l]=$(awk -v n="${REQS[$l]}" -v t="${TIME[$l]}" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}')
		P50[$l]=$(echo "${P50S[$l]}" | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF}')
		P99[$l]=$(echo "${P99S[$l]}" | awk '{for (i = 1; i <= NF; i++) if ($i > m) m = $i; printf "%.2f", m}')
		printf 'bench: %-13s %7s req/s  p50 %7s ms  p99 %7s ms  (rounds p99: %s)' \
			"$l" "${RPS[$l]}" "${P50[$l]}" "${P99[$l]}" "${P99S[$l]% }"
		printf '  non-2xx %s  socket errors %s  new connections per round: %s\n' \
			"${BAD[$l]}" "${ERRS[$l]}" "${CONNS[$l]% }"
	done
}

# start_nginx WWW: nginx serving the files of WWW as the answers of
# inkasso's paths; sets NGX_PID and NGX_URL.
# (Not indented: the here-document ends at a line that is exactly CONF.)
start_nginx() {
	local WWW=$1
NGX_PORT=$(free_port)
NGX=$RUN/nginx; mkdir -p "$NGX/tmp"
NGX_USER=""
[ "$(id -u)" = 0 ] && NGX_USER="user root;"
cat >"$NGX/nginx.conf" <<CONF
# The anchor: nginx serving the bytes inkasso answered, as static files.
$NGX_USER
worker_processes auto;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 1000000;
	client_body_temp_path $NGX/tmp/body;
	proxy_temp_path $NGX/tmp/proxy;
	fastcgi_temp_path $NGX/tmp/fastcgi;
	uwsgi_temp_path $NGX/tmp/uwsgi;
	scgi_temp_path $NGX/tmp/scgi;
	types { }
	default_type application/json;
	server {
		listen 127.0.0.1:$NGX_PORT;
		root $WWW;
		location = /healthz { try_files /healthz.json =404; }
		location = /v1/agency-settings { try_files /settings.json =404; }
		location = /v1/collection-cases { try_files /list.json =404; }
		location /v1/collection-cases/ { try_files /case.json =404; }
	}
}
CONF
"$NGINX" -c "$NGX/nginx.conf" -p "$NGX" -e "$NGX/error.log" >"$NGX/stdout.log" 2>&1 &
NGX_PID=$!
PIDS+=("$NGX_PID")
wait_http "http://127.0.0.1:$NGX_PORT/healthz" "$NGX_PID" 20 || { cat "$NGX/error.log" >&2; exit 1; }
cmp -s <(curl -s "http://127.0.0.1:$NGX_PORT/v1/collection-cases?cursor=x") "$WWW/list.json" ||
	{ echo "bench: nginx does not serve the listing bytes" >&2; exit 1; }
echo "bench: nginx up on :$NGX_PORT, pid $NGX_PID; bodies: list ${BYTES[list]} B, case ${BYTES[case]} B," \
	"settings ${BYTES[settings]} B, healthz ${BYTES[healthz]} B"
NGX_URL=http://127.0.0.1:$NGX_PORT
}
