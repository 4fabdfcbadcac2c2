#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per request, counted by callgrind: a figure that the noise of
a shared machine does not move (the same binary, database and requests give
the same count), for comparing two builds of inkasso where req/s cannot tell
a few percent apart.

    bench/instructions.py [--bin BIN ...] [--requests N] [--cases N] [--keep DIR]

Each binary (default bin/inkasso) serves a copy of one generated database
(build/release/bench/gen, --cases cases over 10 tenants) under
`valgrind --tool=callgrind --toggle-collect=on_access`, so that only the work
of answering requests counts, not start-up. For each kind (one case by id,
the first listing page of 50, /healthz) N requests go over one keep-alive
connection on 127.0.0.1; the script prints instructions per request per
binary, and with two binaries the second's change against the first.
Everything it starts is stopped by its pid; it writes under a temporary
directory only; --keep DIR copies the callgrind files there, for
`callgrind_annotate --inclusive=yes DIR/callgrind.by_id.*` to say where the
instructions go."""
import argparse
import http.client
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "bench-jwt-secret-0123456789abcdef-0123456789"
KINDS = ("by_id", "listing", "healthz")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(binary, kind, n, db, ids, work):
    port = free_port()
    env = dict(os.environ, INKASSO_JWT_SECRET=SECRET, INKASSO_DB=db, INKASSO_LISTEN=f"127.0.0.1:{port}",
               INKASSO_THREADS="1", INKASSO_LOG_LEVEL="info")
    env.pop("INKASSO_AGENCY_URL", None)
    tokens = {t: subprocess.run([binary, "token", "--tenant", t, "--scope", "cases:read", "--ttl", "7200"], env=env,
                                capture_output=True, text=True, check=True).stdout.strip() for t, _ in ids}
    out = os.path.join(work, f"callgrind.{kind}.{os.getpid()}.{port}")
    log = open(os.path.join(work, f"{kind}.log"), "w")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--toggle-collect=on_access",
                             f"--callgrind-out-file={out}", binary, "serve"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(1200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        rnd = random.Random(1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n):
            tenant, case_ids = ids[rnd.randrange(len(ids))]
            path = {"by_id": "/v1/collection-cases/" + case_ids[rnd.randrange(len(case_ids))],
                    "listing": "/v1/collection-cases?limit=50", "healthz": "/healthz"}[kind]
            conn.request("GET", path, headers={"Authorization": "Bearer " + tokens[tenant]})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                sys.exit(f"instructions: {path} answered {r.status}")
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=300)
        log.close()
    with open(out) as f:
        total = next(int(l.split()[1]) for l in f if l.startswith("summary:"))
    return total / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", action="append", help="an inkasso binary (again for a second one)")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--keep", help="a directory to copy the callgrind files into")
    a = ap.parse_args()
    bins = a.bin or [os.path.join(ROOT, "bin/inkasso")]
    gen = os.path.join(ROOT, "build/release/bench/gen")
    for tool in ("valgrind",):
        if not shutil.which(tool):
            sys.exit(f"instructions: {tool} is missing")
    if not os.access(gen, os.X_OK):
        sys.exit(f"instructions: {gen} is missing (make build/release/bench/gen)")
    with tempfile.TemporaryDirectory(prefix="inkasso-instructions-") as work:
        base = os.path.join(work, "base.db")
        sample = os.path.join(work, "sample.lua")
        subprocess.run([gen, base, str(a.cases), "--sample", sample, "--sample-per-tenant", "50"], check=True,
                       stderr=subprocess.DEVNULL)
        text = open(sample).read()
        ids = [(t, re.findall(r'"(cc_[0-9A-Z]+)"', block))
               for t, block in re.findall(r'name = "(bench-t\d+)".*?ids = \{(.*?)\}', text, re.S)]
        table = {}
        for b in bins:
            for kind in KINDS:
                db = os.path.join(work, "serve.db")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        os.remove(db + suffix)
                shutil.copy(base, db)
                table[(b, kind)] = count(os.path.abspath(b), kind, a.requests, db, ids, work)
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for f in os.listdir(work):
                if f.startswith("callgrind."):
                    shutil.copy(os.path.join(work, f), a.keep)
    print(f"instructions per request (callgrind, inside on_access; {a.requests} requests each, {a.cases} cases)")
    print("| request | " + " | ".join(bins) + (" | change |" if len(bins) == 2 else " |"))
    print("|---|" + "---:|" * (len(bins) + (1 if len(bins) == 2 else 0)))
    for kind in KINDS:
        row = [f"{table[(b, kind)]:,.0f}" for b in bins]
        if len(bins) == 2:
            row.append(f"{(table[(bins[1], kind)] / table[(bins[0], kind)] - 1) * 100:+.1f}%")
        print(f"| {kind} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
