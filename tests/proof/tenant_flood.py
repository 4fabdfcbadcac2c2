#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One tenant cannot starve the others (issue 13, point 9).

A service on a loopback port with INKASSO_TENANT_RATE set. One tenant floods
it: a separate process with --threads threads, each on its own keep-alive
connection, reading one case by id as fast as it can for --seconds. Meanwhile
another tenant reads its own case at a steady --quiet-rate per second, from
this process, timing each request. Targets: the quiet tenant's p99 under
50 ms and every one of its answers 200; the flooder gets 429s, and no more
200s than its burst plus the rate for the time it flooded.

Then, unless --no-baseline, the same flood against a service without a limit,
for comparison (figures only, no target). Traffic only to 127.0.0.1; every
phase stops by itself after --seconds.

    tests/proof/tenant_flood.py [--seconds 5] [--threads 8] [--rate 50]
                                [--quiet-rate 20] [--quick] [--logs DIR]
"""
import argparse
import http.client
import multiprocessing
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proofkit as K  # noqa: E402
from seckit import pct  # noqa: E402
from conftest import Api, Service, claims_for, jwt_sign, valid_case  # noqa: E402

P99_TARGET_MS = 50.0


def flood_worker(port, path, token, deadline, counts, lock):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    local = {}
    while time.monotonic() < deadline:
        try:
            c.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = c.getresponse()
            r.read()
            local[r.status] = local.get(r.status, 0) + 1
            if r.getheader("Connection", "").lower() == "close":
                c.close()
        except (OSError, http.client.HTTPException):
            local["errors"] = local.get("errors", 0) + 1
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.close()
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v


def flood_process(port, path, token, seconds, threads, out):
    """The flooding tenant, in a process of its own (its own interpreter lock,
    so that it does not slow the quiet tenant's client in this one)."""
    deadline = time.monotonic() + seconds
    counts, lock = {}, threading.Lock()
    ts = [threading.Thread(target=flood_worker, args=(port, path, token, deadline, counts, lock))
          for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put({"counts": {str(k): v for k, v in counts.items()}, "elapsed_s": time.monotonic() - t0})


def quiet_client(port, path, token, seconds, rate):
    """Steady requests at rate per second; their latencies (ms) and statuses."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    lat, statuses = [], {}
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / rate
        if due > start + seconds:
            break
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        t = time.perf_counter()
        try:
            c.request("GET", path, headers={"Authorization": "Bearer " + token})
            r = c.getresponse()
            r.read()
            status = r.status
        except (OSError, http.client.HTTPException):
            status = "error"
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        lat.append((time.perf_counter() - t) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        n += 1
    c.close()
    return sorted(lat), statuses


def phase(name, env, a, logs):
    """One service, two tenants with a case each, the flood and the quiet
    tenant side by side. Returns the phase's figures."""
    with tempfile.TemporaryDirectory(prefix=f"inkasso-flood-{name}-") as d:
        svc = Service(d, env=env)
        if logs:
            os.makedirs(logs, exist_ok=True)
            svc.log_path = os.path.join(logs, f"{name}-inkasso.log")
        try:
            svc.start()
            api = Api(svc.url)
            ids, tokens = {}, {}
            for who in ("flood", "quiet"):
                t = f"t_{who}_{os.getpid()}"
                api.configure(t)
                r = api.post(K.CASES, t, json=valid_case())
                assert r.status_code == 201, r.text
                ids[who], tokens[who] = r.json()["id"], jwt_sign(claims_for(t, ttl=600))
            ctx = multiprocessing.get_context("fork")
            out = ctx.Queue()
            p = ctx.Process(target=flood_process, args=(svc.port, f"{K.CASES}/{ids['flood']}", tokens["flood"],
                                                        a.seconds, a.threads, out))
            p.start()
            time.sleep(0.2)  # the flood is running before the first quiet request
            lat, quiet = quiet_client(svc.port, f"{K.CASES}/{ids['quiet']}", tokens["quiet"], a.seconds - 0.4,
                                      a.quiet_rate)
            flood = out.get(timeout=a.seconds + 30)
            p.join(timeout=30)
            exit_status = svc.stop()
        finally:
            svc.stop()
    fc = flood["counts"]
    return {
        f"{name}_quiet_requests": len(lat),
        f"{name}_quiet_200": quiet.get("200", 0),
        f"{name}_quiet_other": {k: v for k, v in quiet.items() if k != "200"},
        f"{name}_quiet_p50_ms": round(pct(lat, 50) or 0.0, 2),
        f"{name}_quiet_p99_ms": round(pct(lat, 99) or 0.0, 2),
        f"{name}_quiet_max_ms": round(lat[-1], 2) if lat else 0,
        f"{name}_flood_requests": sum(fc.values()),
        f"{name}_flood_per_s": round(sum(fc.values()) / flood["elapsed_s"]),
        f"{name}_flood_200": fc.get("200", 0),
        f"{name}_flood_429": fc.get("429", 0),
        f"{name}_flood_other": {k: v for k, v in fc.items() if k not in ("200", "429")},
        f"{name}_flood_elapsed_s": round(flood["elapsed_s"], 2),
        f"{name}_exit_status": exit_status,
    }


def run(a, logs=None):
    burst = a.burst or max(1, int(-(-a.rate // 1)))
    fig = {"seconds": a.seconds, "flood_threads": a.threads, "tenant_rate": a.rate, "tenant_burst": burst,
           "quiet_rate": a.quiet_rate}
    fig.update(phase("limited", {"INKASSO_TENANT_RATE": str(a.rate), "INKASSO_TENANT_BURST": str(burst),
                                 "INKASSO_LOG_LEVEL": "warn"}, a, logs))
    if not a.no_baseline:
        fig.update(phase("unlimited", {"INKASSO_LOG_LEVEL": "warn"}, a, logs))
    allowed = burst + a.rate * (fig["limited_flood_elapsed_s"] + 1)
    checks = [
        (f"quiet tenant p99 under {P99_TARGET_MS} ms while the other floods (limited)",
         fig["limited_quiet_p99_ms"] < P99_TARGET_MS),
        ("every quiet request answered 200 (limited)",
         fig["limited_quiet_200"] == fig["limited_quiet_requests"] > 0),
        ("the flooder gets 429s", fig["limited_flood_429"] > 0),
        (f"the flooder's 200s within burst + rate x time ({allowed:.0f})", fig["limited_flood_200"] <= allowed),
        ("no other answer, no connection error", not fig["limited_flood_other"] and not fig["limited_quiet_other"]),
        ("the service exits 0 on SIGTERM", fig["limited_exit_status"] == 0),
    ]
    return K.report("one tenant floods, another is served", fig, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each flood (default 5)")
    ap.add_argument("--threads", type=int, default=8, help="flooding threads (default 8)")
    ap.add_argument("--rate", type=float, default=50.0, help="INKASSO_TENANT_RATE (default 50)")
    ap.add_argument("--burst", type=int, default=0, help="INKASSO_TENANT_BURST (default: ceil(rate))")
    ap.add_argument("--quiet-rate", type=float, default=20.0, help="the quiet tenant's requests a second (20)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the flood without a limit")
    ap.add_argument("--quick", action="store_true", help="2-second floods")
    ap.add_argument("--logs", help="directory for the logs of every process started")
    a = ap.parse_args()
    if a.quick and a.seconds == 5.0:
        a.seconds = 2.0
    fig = run(a, logs=a.logs)
    return 0 if fig["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
