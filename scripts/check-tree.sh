#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The shape of the product tree (make lint), checked from the sources alone:
#   - includes point down the layers: lib/ <- store/ <- agency/ and
#     webhooks/ <- server/ (the protocol) <- handlers/ <- the wiring
#     (server/routes.[ch], server/main.c). A file may include its own layer
#     and those below.
#   - no product file over 600 lines, no line over 120 columns (tab = 8).
# Prints every finding with the file and line; exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

max_lines=600
max_cols=120

rank() {
	case "$1" in
	server/routes.c | server/routes.h | server/main.c) echo 5 ;;
	lib/*) echo 0 ;;
	store/*) echo 1 ;;
	agency/* | webhooks/*) echo 2 ;;
	server/*) echo 3 ;;
	handlers/*) echo 4 ;;
	*) echo -1 ;;
	esac
}
name=(lib/ store/ "agency/ and webhooks/" "server/ (the protocol)" handlers/ "the wiring")

findings=0
files=$(git ls-files -co --exclude-standard -- 'lib/*.[ch]' 'store/*.[ch]' 'agency/*.[ch]' 'webhooks/*.[ch]' \
	'server/*.[ch]' 'handlers/*.[ch]' | sort -u)
for f in $files; do
	[ -f "$f" ] || continue
	r=$(rank "$f")
	while IFS=: read -r line inc; do
		ir=$(rank "$inc")
		[ "$ir" -ge 0 ] || continue
		if [ "$ir" -gt "$r" ]; then
			echo "$f:$line: upward include of $inc (${name[$r]} stands below ${name[$ir]})"
			findings=$((findings + 1))
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^([0-9]+):.*"([^"]+)".*/\1:\2/')
	n=$(wc -l <"$f")
	if [ "$n" -gt "$max_lines" ]; then
		echo "$f: $n lines (at most $max_lines)"
		findings=$((findings + 1))
	fi
	long=$(expand -t8 "$f" | awk -v max="$max_cols" -v f="$f" 'length($0) > max { printf "%s:%d: %d columns (at most %d)\n", f, NR, length($0), max }')
	if [ -n "$long" ]; then
		echo "$long"
		findings=$((findings + $(wc -l <<<"$long")))
	fi
done
if [ "$findings" -gt 0 ]; then
	echo "tree: $findings finding(s)" >&2
	exit 1
fi
echo "tree: layers point down; files within $max_lines lines and $max_cols columns"
