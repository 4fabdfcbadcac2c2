#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Resource limits of a real inkasso under hostile clients (all on loopback).

(a) slowloris: --slow connections dripping header bytes, as many dripping a
    body (declared 60000 bytes), and --idle connections sending nothing, from
    127.0.0.2, while a normal keep-alive client on 127.0.0.1 does authenticated
    GETs. Figures: the normal client's p50/p99 (full target p99 < 200 ms, no
    errors) and when each kind of slow connection is cut (the service promises
    that a request's headers and body arrive within 30 s, and an idle
    connection is closed after 15 s; full target: every slow connection cut
    within 30 s + 15 s + 5 s of slack).
(b) connection flood: --flood connections opened at once from 127.0.0.2 (the
    test raises its own RLIMIT_NOFILE soft limit), held, then closed. Figures:
    connections the service held, healthz and an authenticated GET from
    127.0.0.1 during and after, the service's open fd count back to baseline
    (+-5) after the flood, and how long that took. A second flood from three
    source addresses (more than the 1024 connection limit in total) is reported
    as a figure only.
(c) oversized requests (100 KB header, 1 MB body, chunked body over 64 KiB,
    many headers, 64 KB URL, huge query string, ...): each refused with its
    status recorded and checked against the responses openapi.yaml documents
    for the route; the service answers healthz after each.

    tests/proof/resource_limits.py [--slow 200] [--idle 50] [--seconds 50] [--flood 1500] [--quick] [--logs DIR]
"""
import argparse
import errno
import http.client
import os
import resource
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seckit as K  # noqa: E402

TENANT = "t_limits"
ATTACKER = "127.0.0.2"
DEADLINE_S, IDLE_S = 30, 15
P99_TARGET_MS = 200.0
FD_TOLERANCE = 5


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, want)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class NormalClient(threading.Thread):
    """Keep-alive GET /v1/collection-cases from 127.0.0.1 until stopped."""

    def __init__(self, port, tok, pause=0.02):
        super().__init__(daemon=True)
        self.port, self.tok, self.pause = port, tok, pause
        self.lat, self.errors, self.statuses = [], 0, {}
        self.stop_ev = threading.Event()

    def run(self):
        conn = None
        while not self.stop_ev.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                t0 = time.perf_counter()
                conn.request("GET", "/v1/collection-cases?limit=5", headers={"Authorization": "Bearer " + self.tok})
                r = conn.getresponse()
                r.read()
                self.lat.append((time.perf_counter() - t0) * 1000)
                self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                if r.status != 200:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                if conn:
                    conn.close()
                conn = None
            time.sleep(self.pause)
        if conn:
            conn.close()

    def halt(self):
        self.stop_ev.set()
        self.join(timeout=15)


def slowloris(svc, n_slow, n_idle, seconds, tok, out):
    """Drips bytes on n_slow header and n_slow body connections, keeps n_idle
    idle ones, for `seconds`; returns figures."""
    host_line = f"Host: 127.0.0.1:{svc.port}\r\n"
    groups = {"header": [], "body": [], "idle": []}
    opened = time.monotonic()
    for kind, n in (("header", n_slow), ("body", n_slow), ("idle", n_idle)):
        for _ in range(n):
            s = socket.socket()
            s.bind((ATTACKER, 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", svc.port))
            if kind == "header":
                s.sendall(f"GET /v1/collection-cases HTTP/1.1\r\n{host_line}X-Drip: ".encode())
            elif kind == "body":
                s.sendall((f"POST /v1/collection-cases HTTP/1.1\r\n{host_line}Authorization: Bearer {tok}\r\n"
                           "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{").encode())
            s.setblocking(False)
            groups[kind].append({"sock": s, "cut": None, "answer": b""})
    normal = NormalClient(svc.port, tok)
    normal.start()
    start = time.monotonic()
    out(f"slowloris: {n_slow} header drippers, {n_slow} body drippers, {n_idle} idle connections from {ATTACKER}"
        f" (opened in {start - opened:.1f} s); dripping 1 byte per connection per second for {seconds} s")
    next_drip = start
    while time.monotonic() - start < seconds:
        live = [c for g in groups.values() for c in g if c["cut"] is None]
        if not live:
            break
        now = time.monotonic()
        if now >= next_drip:
            for kind in ("header", "body"):
                for c in groups[kind]:
                    if c["cut"] is None:
                        try:
                            c["sock"].send(b"a" if kind == "header" else b" ")
                        except OSError:
                            c["cut"] = now - start
            next_drip = now + 1.0
        socks = {c["sock"]: c for c in live if c["cut"] is None}
        r = readable(list(socks), 0.2)
        for s in r:
            c = socks[s]
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                c["answer"] += data
            else:
                c["cut"] = time.monotonic() - start
    alive_during = K.healthz_ok(svc.port)
    normal.halt()
    fig = {}
    for kind, g in groups.items():
        cuts = [c["cut"] for c in g if c["cut"] is not None]
        answered = sorted({c["answer"].split(b" ", 2)[1].decode("ascii", "replace") for c in g
                           if c["answer"].startswith(b"HTTP/")})
        fig[f"slow_{kind}_connections"] = len(g)
        fig[f"slow_{kind}_cut"] = len(cuts)
        fig[f"slow_{kind}_cut_median_s"] = round(K.median(cuts), 1) if cuts else None
        fig[f"slow_{kind}_cut_max_s"] = round(max(cuts), 1) if cuts else None
        fig[f"slow_{kind}_answers"] = answered
        out(f"  {kind:6} connections: {len(cuts)}/{len(g)} cut by the service within {seconds} s"
            + (f" (median {K.median(cuts):.1f} s, max {max(cuts):.1f} s)" if cuts else "")
            + (f", answered {answered}" if answered else ""))
        for c in g:
            c["sock"].close()
    lat = normal.lat
    fig.update({"normal_requests": len(lat), "normal_errors": normal.errors,
                "normal_p50_ms": round(K.pct(lat, 50), 2) if lat else None,
                "normal_p99_ms": round(K.pct(lat, 99), 2) if lat else None,
                "normal_max_ms": round(max(lat), 2) if lat else None,
                "alive_during_slowloris": alive_during})
    out(f"  normal client: {len(lat)} GETs, {normal.errors} errors, statuses {normal.statuses}, p50 "
        f"{fig['normal_p50_ms']} ms, p99 {fig['normal_p99_ms']} ms, max {fig['normal_max_ms']} ms")
    return fig


def readable(socks, timeout):
    """The sockets with data or EOF (poll: no FD_SETSIZE limit)."""
    if not socks:
        time.sleep(timeout)
        return []
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return [by_fd[fd] for fd, _ in p.poll(timeout * 1000)]


def open_many(n, sources, port):
    """Non-blocking connects from the source addresses in turn; returns sockets."""
    socks = []
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((sources[i % len(sources)], 0))
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                continue
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def held(socks, wait=1.5):
    """How many of the sockets the server still holds open after `wait` s
    (closed ones read EOF or error)."""
    time.sleep(wait)
    r = readable(socks, 0)
    closed = 0
    for s in r:
        try:
            if s.recv(1) == b"":
                closed += 1
        except OSError:
            closed += 1
    return len(socks) - closed


def flood(svc, n, tok, out):
    """Connection flood from one attacker address, then from three."""
    def normal_ok():
        try:
            st, _, _ = K.raw_exchange(svc.port, (f"GET /v1/collection-cases?limit=1 HTTP/1.1\r\nHost: x\r\n"
                                                 f"Authorization: Bearer {tok}\r\nConnection: close\r\n\r\n").encode(),
                                      timeout=5)
            return st == 200
        except OSError:
            return False

    limit = raise_nofile(n + 200)
    fig = {"flood_nofile_soft_limit": limit}
    n = min(n, limit - 100)
    time.sleep(1.0)
    base = svc.fd_count()
    t0 = time.monotonic()
    socks = open_many(n, [ATTACKER], svc.port)
    opened_s = time.monotonic() - t0
    h = held(socks)
    during_health, during_get = K.healthz_ok(svc.port), normal_ok()
    peak = svc.fd_count()
    for s in socks:
        s.close()
    t1 = time.monotonic()
    back = None
    while time.monotonic() - t1 < 30:
        if svc.fd_count() <= base + FD_TOLERANCE:
            back = time.monotonic() - t1
            break
        time.sleep(0.1)
    after_fd = svc.fd_count()
    recovered = None
    while time.monotonic() - t1 < 30:
        if K.healthz_ok(svc.port) and normal_ok():
            recovered = time.monotonic() - t1
            break
        time.sleep(0.1)
    fig.update({"flood_connections": len(socks), "flood_open_s": round(opened_s, 2), "flood_held_by_service": h,
                "flood_healthz_during": during_health, "flood_get_during": during_get,
                "flood_fd_baseline": base, "flood_fd_peak": peak, "flood_fd_after": after_fd,
                "flood_fd_back_s": round(back, 2) if back is not None else None,
                "flood_normal_ok_after_s": round(recovered, 2) if recovered is not None else None})
    out(f"flood from {ATTACKER}: {len(socks)} connections opened in {opened_s:.2f} s, {h} held by the service "
        f"(per-IP limit 512); during: healthz {'200' if during_health else 'FAILED'}, authenticated GET "
        f"{'200' if during_get else 'FAILED'}; fds {base} -> {peak} -> {after_fd} "
        f"(back within +-{FD_TOLERANCE} after {fig['flood_fd_back_s']} s); normal client OK again after "
        f"{fig['flood_normal_ok_after_s']} s")
    # Three source addresses: more than the 1024 connection limit in total.
    sources = ["127.0.0.3", "127.0.0.4", "127.0.0.5"]
    socks = open_many(n, sources, svc.port)
    h = held(socks)
    during = K.healthz_ok(svc.port, timeout=3)
    for s in socks:
        s.close()
    t1 = time.monotonic()
    rec = None
    while time.monotonic() - t1 < 30:
        if K.healthz_ok(svc.port, timeout=3):
            rec = time.monotonic() - t1
            break
        time.sleep(0.1)
    fig.update({"flood3_connections": len(socks), "flood3_not_closed": h, "flood3_healthz_during": during,
                "flood3_healthz_ok_after_s": round(rec, 2) if rec is not None else None})
    out(f"flood from {len(sources)} addresses: {len(socks)} connections, {h} not closed (accepted or waiting in the listen backlog; total limit 1024); healthz "
        f"from 127.0.0.1 during: {'200' if during else 'refused (connection limit reached)'}; after closing: "
        f"OK after {fig['flood3_healthz_ok_after_s']} s  [figure only]")
    return fig


def oversized_cases(tok):
    """(name, route path in openapi.yaml, method, raw request bytes)."""
    A = f"Authorization: Bearer {tok}\r\n"
    big_hdr = "X-Big: " + "b" * 100_000 + "\r\n"
    many = "".join(f"X-H{i}: v\r\n" for i in range(3000))
    chunked = b"".join(b"%x\r\n%s\r\n" % (4096, b" " * 4096) for _ in range(18)) + b"0\r\n\r\n"
    return [
        ("100 KB header", "/healthz", "GET", f"GET /healthz HTTP/1.1\r\nHost: x\r\n{big_hdr}\r\n".encode()),
        ("100 KB header on /v1", "/v1/collection-cases", "GET",
         f"GET /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}{big_hdr}\r\n".encode()),
        ("3000 headers (~30 KB)", "/v1/collection-cases", "GET",
         f"GET /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}{many}\r\n".encode()),
        ("1 MB body, Content-Length", "/v1/collection-cases", "POST",
         (f"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Content-Length: 1048576\r\n\r\n").encode() + b" " * 1048576),
        ("65537-byte body, Content-Length", "/v1/collection-cases/preview", "POST",
         (f"POST /v1/collection-cases/preview HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Content-Length: 65537\r\n\r\n").encode() + b" " * 65537),
        ("Content-Length 2^64-1", "/v1/collection-cases", "POST",
         (f"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Content-Length: 18446744073709551615\r\n\r\n{{}}").encode()),
        ("chunked body of 72 KiB", "/v1/collection-cases", "POST",
         (f"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Transfer-Encoding: chunked\r\n\r\n").encode() + chunked),
        ("chunked body of 72 KiB on PUT settings", "/v1/agency-settings", "PUT",
         (f"PUT /v1/agency-settings HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Transfer-Encoding: chunked\r\n\r\n").encode() + chunked),
        ("64 KB URL path", "/v1/collection-cases/{id}", "GET",
         f"GET /v1/collection-cases/{'c' * 65536} HTTP/1.1\r\nHost: x\r\n{A}\r\n".encode()),
        ("40 KB query string", "/v1/collection-cases", "GET",
         f"GET /v1/collection-cases?q={'q' * 40000} HTTP/1.1\r\nHost: x\r\n{A}\r\n".encode()),
        ("1000 query parameters (4 KB)", "/v1/collection-cases", "GET",
         f"GET /v1/collection-cases?{'a=1&' * 1000} HTTP/1.1\r\nHost: x\r\n{A}\r\n".encode()),
        ("16 KB q value", "/v1/collection-cases", "GET",
         f"GET /v1/collection-cases?q={'q' * 16000} HTTP/1.1\r\nHost: x\r\n{A}\r\n".encode()),
        ("JSON nested 10000 deep (20 KB)", "/v1/collection-cases", "POST",
         (f"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
          f"Content-Length: 20000\r\n\r\n").encode() + b"[" * 10000 + b"]" * 10000),
    ]


def documented(ops, path, method):
    for p, m, op in ops:
        if p == path and m == method and op:
            return set(op.get("responses", {}))
    return set()


def oversized(svc, tok, ops, out):
    rows, fig = [], {}
    for name, path, method, data in oversized_cases(tok):
        t0 = time.monotonic()
        st, hd, body = K.raw_exchange(svc.port, data, timeout=40)
        secs = time.monotonic() - t0
        up = K.healthz_ok(svc.port)
        doc = documented(ops, path, method)
        is_doc = st is not None and str(st) in doc
        problem = hd.get("content-type", "").startswith("application/problem+json")
        refused = st is not None and 400 <= st < 500
        rows.append({"name": name, "status": st, "documented": is_doc, "up": up, "refused": refused,
                     "problem": problem, "seconds": round(secs, 2)})
        out(f"  {name:<38} {method:4} {path:<30} -> {st} ({hd.get('content-type', 'no Content-Type')}"
            f"{'' if problem else ', not a problem document'}) in {secs:.2f} s; documented for the route: "
            f"{'yes' if is_doc else 'NO'}; service up after: {'yes' if up else 'NO'}")
        fig[f"oversize: {name}"] = st if st is not None else f"no answer, closed after {secs:.1f} s"
    fig["oversize_requests"] = len(rows)
    fig["oversize_refused_4xx"] = sum(1 for r in rows if r["refused"])
    fig["oversize_not_refused"] = [r["name"] for r in rows if not r["refused"]]
    fig["oversize_undocumented"] = [f"{r['name']}: {r['status']}" for r in rows if not r["documented"]]
    fig["oversize_not_problem_json"] = [f"{r['name']}: {r['status']}" for r in rows if not r["problem"]]
    fig["oversize_service_up_after_each"] = all(r["up"] for r in rows)
    return fig, rows


def run(n_slow=200, n_idle=50, seconds=50, n_flood=1500, full=True, logs=None, out=print):
    ld = K.LogDir(logs, "proof-limits-")
    svc = None
    try:
        raise_nofile(n_flood + 2 * n_slow + n_idle + 200)
        svc = K.Inkasso(ld, "inkasso-limits").start()
        tok = K.token(TENANT)
        c = K.Client(svc.url)
        c.configure(TENANT)
        for _ in range(3):
            assert c.call("POST", "/v1/collection-cases", TENANT, K.case_body()).status_code == 201
        spec = c.s.get(svc.url + "/openapi.yaml", timeout=10).text
        ops = K.openapi_operations(spec)
        fig = {"full": full}
        fig.update(slowloris(svc, n_slow, n_idle, seconds, tok, out))
        fig.update(flood(svc, n_flood, tok, out))
        out("oversized requests:")
        ofig, _ = oversized(svc, tok, ops, out)
        fig.update(ofig)
        alive = svc.alive() and K.healthz_ok(svc.port)
        rc = svc.stop()
        svc = None
        fig["alive_at_end"] = alive
        fig["exit_code_on_sigterm"] = rc
        bound = DEADLINE_S + IDLE_S + 5
        checks = {
            "normal client without errors": fig["normal_errors"] == 0,
            "alive during slowloris": fig["alive_during_slowloris"],
            "healthz and GET during the one-address flood": fig["flood_healthz_during"] and fig["flood_get_during"],
            f"fds back to baseline +-{FD_TOLERANCE}": fig["flood_fd_back_s"] is not None,
            "normal client OK after the flood": fig["flood_normal_ok_after_s"] is not None,
            "every oversized request refused with a 4xx": fig["oversize_refused_4xx"] == fig["oversize_requests"],
            "service up after each oversized request": fig["oversize_service_up_after_each"],
            "alive at the end, exit 0 on SIGTERM": alive and rc == 0,
        }
        if full:
            checks.update({
                f"normal p99 < {P99_TARGET_MS:.0f} ms": (fig["normal_p99_ms"] or 1e9) < P99_TARGET_MS,
                f"body drippers all cut within {bound} s": fig["slow_body_cut"] == n_slow
                and (fig["slow_body_cut_max_s"] or 1e9) <= bound,
                f"idle connections all cut within {bound} s": fig["slow_idle_cut"] == n_idle,
                f"header drippers all cut within {bound} s": fig["slow_header_cut"] == n_slow
                and (fig["slow_header_cut_max_s"] or 1e9) <= bound,
            })
        for name, passed in checks.items():
            out(f"{'met   ' if passed else 'MISSED'} {name}")
        fig["targets_missed"] = [k for k, v in checks.items() if not v]
        return fig, all(checks.values())
    finally:
        if svc is not None:
            svc.stop()
        ld.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slow", type=int, default=200, help="header drippers, and as many body drippers")
    ap.add_argument("--idle", type=int, default=50, help="idle connections")
    ap.add_argument("--seconds", type=float, default=50, help="slowloris duration (s)")
    ap.add_argument("--flood", type=int, default=1500, help="connections of the flood")
    ap.add_argument("--quick", action="store_true", help="30 slow, 10 idle, 6 s, flood of 300; no cut or p99 targets")
    ap.add_argument("--logs", help="directory for the logs of every process started")
    a = ap.parse_args()
    if a.quick:
        a.slow, a.idle, a.seconds, a.flood = 30, 10, 6, 300
    fig, ok = run(a.slow, a.idle, a.seconds, a.flood, full=not a.quick, logs=a.logs)
    return K.finish(fig, ok)


if __name__ == "__main__":
    sys.exit(main())
