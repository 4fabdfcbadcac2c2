#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The image's build step, without a Docker engine: copies what .dockerignore
# lets into the build context (of the files git knows) into a temporary
# directory and runs the Dockerfile's `RUN make ...` line there. It fails
# when the build needs a file the context leaves out (as `make all` did:
# it builds a test binary from tests/, which the context excludes).
set -euo pipefail
cd "$(dirname "$0")/.."

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
/usr/bin/python3 - "$ctx" <<'PY'
import fnmatch, os, shutil, subprocess, sys
ctx = sys.argv[1]
patterns = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def ignored(path):
    parts = path.split("/")
    for p in patterns:
        p = p.rstrip("/")
        if p.startswith("**/"):
            if any(fnmatch.fnmatch(x, p[3:]) for x in parts):
                return True
        # A pattern names a path from the context root; a directory excludes what is in it.
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:i]), p):
                return True
    return False
files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], capture_output=True, text=True,
                       check=True).stdout.split("\n")
for f in files:
    if f and os.path.isfile(f) and not ignored(f):
        os.makedirs(os.path.join(ctx, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(f, os.path.join(ctx, f))
PY
cmd=$(sed -n 's/^RUN \(make .*\)$/\1/p' Dockerfile | head -n 1)
if [ -z "$cmd" ]; then
	echo "docker context: no 'RUN make ...' line in Dockerfile" >&2
	exit 1
fi
cmd=${cmd//\$(nproc)/$(nproc)}
cmd=${cmd//\"/}
if ! (cd "$ctx" && $cmd >"$ctx/.build.log" 2>&1); then
	tail -n 20 "$ctx/.build.log" >&2
	echo "docker context: '$cmd' fails in the build context" >&2
	exit 1
fi
echo "docker context: '$cmd' builds from what .dockerignore lets in"
