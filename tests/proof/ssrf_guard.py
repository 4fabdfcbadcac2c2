#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SSRF guard proof, loopback only (no name that needs DNS, no address
outside loopback; ::1 only as a target that must not be reached).

1. Registration, guard on (no INKASSO_WEBHOOK_ALLOW_PRIVATE): https URLs on
   127.0.0.2, [::1], 0.0.0.0, localhost and other private literals
   (RFC 1918, link-local, CGNAT, fc00::/7, IPv4-mapped ::1, localhost. and
   names under it) and a plain http URL are each 422 with invalid_url at
   /url; a public literal is accepted (control; that endpoint is deleted at
   once, its tenant never has an event).
2. Connect time: with ALLOW_PRIVATE=1, endpoints on http and https
   127.0.0.1, localhost and [::1] ports whose listeners count every accepted
   TCP connection (at accept(), before a byte is read) are registered and
   reached (control: every listener counts a connection); then the same
   database is restarted with the guard on and events are caused (cases,
   the endpoints' test events, the retries still queued): 0 connections
   accepted by any listener, every attempt failed (guard or scheme), the
   guard's refusal counter in /metrics grows.
3. Redirects, ALLOW_PRIVATE=1: a receiver answering 301, 302, 303, 307 and
   308 with a Location on another loopback port (127.0.0.1 and [::1]):
   those listeners accept 0 connections, and the 3xx is an attempt that
   failed (retried, never delivered).

Full run: 10 cases per phase. `--quick`: 3. Prints its figures and ends with
one `FIGURES <json>` line; exits 1 when a target is missed."""
import argparse
import os
import socket
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import proofkit as pk  # noqa: E402
import webhookkit as wk  # noqa: E402

FULL = dict(cases=10, attempts_wait=12.0)
QUICK = dict(cases=3, attempts_wait=6.0)
SCHEDULE = "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"
BASE_ENV = dict(INKASSO_WEBHOOK_RETRY_SCHEDULE=SCHEDULE, INKASSO_WEBHOOK_TIMEOUT_MS=1000,
                INKASSO_WEBHOOK_WORKERS=4, INKASSO_SYNC_INTERVAL=1)
REFUSED = [
    "https://127.0.0.2/hooks", "https://[::1]/hooks", "https://0.0.0.0/hooks", "https://localhost/hooks",
    "https://localhost./hooks", "https://api.localhost/hooks", "https://LOCALHOST:8443/hooks",
    "https://127.0.0.1/hooks", "https://10.1.2.3/hooks", "https://172.16.0.1/hooks", "https://192.168.1.1/hooks",
    "https://169.254.169.254/latest/meta-data", "https://100.64.0.1/hooks", "https://[fc00::1]/hooks",
    "https://[fe80::1]/hooks", "https://[::ffff:127.0.0.1]/hooks", "https://[::]/hooks", "https://224.0.0.1/hooks",
    "https://0x7f000001/hooks", "https://2130706433/hooks", "https://127.1/hooks",
    "http://93.184.216.34/hooks",  # plain http: https only with the guard on
]
PUBLIC_CONTROL = "https://93.184.216.34/hooks"  # registered then deleted; never sent to


def pair_on_one_port():
    """Listeners on 127.0.0.1 and [::1] with the same port (for localhost,
    which may resolve to either)."""
    for _ in range(50):
        a = wk.Receiver("raw", host="127.0.0.1", raw=True)
        try:
            return a, wk.Receiver("raw", host="::1", family=socket.AF_INET6, raw=True, port=a.port)
        except OSError:
            a.stop()
    raise RuntimeError("no free port on both 127.0.0.1 and ::1")


def accepts(listeners):
    return {k: v.accepts for k, v in listeners.items()}


def run(cases, attempts_wait, logs=None, seed=None):
    started = time.monotonic()
    figures, checks = {}, []
    made = []
    try:
        # --- 1. registration with the guard on -------------------------------------
        with pk.rig("ssrf_register", logs=logs, **BASE_ENV) as (sim, svc, _):
            api = pk.Api(svc.url)
            t = pk.configure_tenants(api, 1, "ssrf")[0]
            wrong = []
            for url in REFUSED:
                r = api.post(wk.HOOKS, t, json={"url": url, "event_types": ["*"]})
                errs = r.json().get("errors", []) if r.status_code == 422 else []
                if not (r.status_code == 422 and any(e["pointer"] == "/url" and e["code"] == "invalid_url"
                                                     for e in errs)):
                    wrong.append((url, r.status_code, r.text[:160]))
            listed = api.get(wk.HOOKS, t).json()["data"]
            ctl_t = pk.configure_tenants(api, 1, "ssrfctl")[0]
            r = api.post(wk.HOOKS, ctl_t, json={"url": PUBLIC_CONTROL, "event_types": ["case.created"]})
            control_ok = r.status_code == 201
            if control_ok:
                control_ok = api.delete(f"{wk.HOOKS}/{r.json()['id']}", ctl_t).status_code == 204
            figures.update({"registration_urls_tried": len(REFUSED), "registration_not_refused": len(wrong),
                            "registration_wrong_samples": wrong[:5], "endpoints_stored_after_refusals": len(listed),
                            "public_literal_accepted_then_deleted": control_ok})
            checks += [
                ("every private/loopback/localhost URL (and plain http) 422 invalid_url at registration",
                 not wrong and not listed),
                ("a public literal is accepted (control)", control_ok),
            ]

        # --- 2. connect time: registered while allowed, restarted guarded ------------
        v4h, v4s = wk.Receiver("raw", raw=True), wk.Receiver("raw", raw=True)
        lh4, lh6 = pair_on_one_port()
        ls4, ls6 = pair_on_one_port()
        v6h = wk.Receiver("raw", host="::1", family=socket.AF_INET6, raw=True)
        v6s = wk.Receiver("raw", host="::1", family=socket.AF_INET6, raw=True)
        made += [v4h, v4s, lh4, lh6, ls4, ls6, v6h, v6s]
        targets = {
            f"http://127.0.0.1:{v4h.port}/h": [v4h], f"https://127.0.0.1:{v4s.port}/h": [v4s],
            f"http://localhost:{lh4.port}/h": [lh4, lh6], f"https://localhost:{ls4.port}/h": [ls4, ls6],
            f"http://[::1]:{v6h.port}/h": [v6h], f"https://[::1]:{v6s.port}/h": [v6s],
        }
        with pk.rig("ssrf_connect", logs=logs, INKASSO_WEBHOOK_ALLOW_PRIVATE=1, **BASE_ENV) as (sim, svc, _):
            api = pk.Api(svc.url)
            t = pk.configure_tenants(api, 1, "ssrfc")[0]
            eps = {url: wk.register(api, t, url, ["*"])["id"] for url in targets}
            api.post(pk.CASES, t, json=pk.valid_case(), headers={"Idempotency-Key": uuid.uuid4().hex})

            def reached():
                return all(sum(l.accepts for l in ls) > 0 for ls in targets.values())
            end = time.monotonic() + 20
            while not reached() and time.monotonic() < end:
                time.sleep(0.2)
            control = {u: sum(l.accepts for l in ls) for u, ls in targets.items()}
            # The same database, guard on.
            svc.stop()
            svc.extra_env["INKASSO_WEBHOOK_ALLOW_PRIVATE"] = "0"
            before = {u: sum(l.accepts for l in ls) for u, ls in targets.items()}
            now = time.time()
            restart_iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
            svc.start()
            refused0 = wk.metric(svc.url, "inkasso_webhook_guard_refused_total") or 0
            for i in range(cases):
                api.post(pk.CASES, t, json=pk.valid_case(), headers={"Idempotency-Key": uuid.uuid4().hex})
            tests = {u: api.post(f"{wk.HOOKS}/{eid}/test", t).status_code for u, eid in eps.items()}
            time.sleep(attempts_wait)
            after = {u: sum(l.accepts for l in ls) for u, ls in targets.items()}
            refused1 = wk.metric(svc.url, "inkasso_webhook_guard_refused_total") or 0
            logs_by = {u: wk.attempts_log(api, t, eid) for u, eid in eps.items()}
            guarded_attempts, succeeded_after, errors = {}, 0, {}
            # Attempts made by the guarded process: finished after the restart.
            for u, log in logs_by.items():
                done = [a for a in log if a["at"] >= restart_iso and a["status"] != "pending"
                        and a.get("duration_ms") is not None]
                guarded_attempts[u] = len(done)
                succeeded_after += sum(1 for a in log if a["status"] == "succeeded")
                for a in done:
                    errors[a["error"]] = errors.get(a["error"], 0) + 1
            svc_url = svc.url
        connected = {u: after[u] - before[u] for u in targets}
        figures.update({
            "control_connections_while_allowed": control,
            "connections_after_guarded_restart": connected,
            "connections_after_guarded_restart_total": sum(connected.values()),
            "test_events_queued": tests, "guarded_failed_attempts_by_endpoint": guarded_attempts,
            "guarded_attempt_errors": errors, "guard_refused_total_growth": refused1 - refused0,
            "attempts_succeeded": succeeded_after,
        })
        checks += [
            ("control: every listener reached while ALLOW_PRIVATE=1", all(v > 0 for v in control.values())),
            ("0 connections to 127.0.0.1, localhost or [::1] after the guarded restart",
             sum(connected.values()) == 0),
            ("the guarded process attempted and failed every endpoint (guard or scheme), none delivered",
             all(v >= 2 for v in guarded_attempts.values()) and succeeded_after == 0
             and all(a["status_code"] is None for log in logs_by.values() for a in log if a["at"] >= restart_iso)
             and set(errors) <= {"guard: address not public", "scheme not allowed"}),
            ("the guard's refusals counted in /metrics", refused1 - refused0 > 0),
        ]

        # --- 3. redirects are not followed ------------------------------------------------
        t4, t6 = wk.Receiver("raw", raw=True), wk.Receiver("raw", host="::1", family=socket.AF_INET6, raw=True)
        made += [t4, t6]
        codes = [301, 302, 303, 307, 308]
        n = {"i": 0}

        def redirect_plan(rcv, req):
            n["i"] += 1
            loc = f"http://127.0.0.1:{t4.port}/next" if n["i"] % 2 else f"http://[::1]:{t6.port}/next"
            return ("redirect", (codes[n["i"] % len(codes)], loc))
        red = wk.Receiver("redirector", redirect_plan)
        made.append(red)
        with pk.rig("ssrf_redirect", logs=logs, INKASSO_WEBHOOK_ALLOW_PRIVATE=1, **BASE_ENV) as (sim, svc, _):
            api = pk.Api(svc.url)
            t = pk.configure_tenants(api, 1, "ssrfr")[0]
            eid = wk.register(api, t, red.url, ["*"])["id"]
            for i in range(cases):
                api.post(pk.CASES, t, json=pk.valid_case(), headers={"Idempotency-Key": uuid.uuid4().hex})
            end = time.monotonic() + attempts_wait + 10
            while len(red.snapshot()) < 3 * cases and time.monotonic() < end:
                time.sleep(0.2)
            time.sleep(1.0)
            log = wk.attempts_log(api, t, eid)
        recs = red.snapshot()
        figures.update({
            "redirects_answered": sum(1 for r in recs if r["status"] and 300 <= r["status"] < 400),
            "redirect_codes": sorted({r["status"] for r in recs if r["status"]}),
            "redirect_target_connections": t4.accepts + t6.accepts,
            "redirect_attempts_logged_3xx": sum(1 for a in log if a["status_code"] and 300 <= a["status_code"] < 400),
            "redirect_attempts_succeeded": sum(1 for a in log if a["status"] == "succeeded"),
        })
        checks += [
            ("redirects answered (301, 302, 303, 307, 308)", figures["redirects_answered"] >= 5
             and set(codes) <= set(figures["redirect_codes"])),
            ("0 connections to the redirect targets", figures["redirect_target_connections"] == 0),
            ("a 3xx is a failed attempt, never a delivery", figures["redirect_attempts_succeeded"] == 0
             and figures["redirect_attempts_logged_3xx"] > 0),
        ]
    finally:
        for r in made:
            r.stop()
    figures["seconds_total"] = round(time.monotonic() - started, 1)
    return pk.report("ssrf guard", figures, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 cases per phase")
    ap.add_argument("--cases", type=int)
    ap.add_argument("--logs", help="directory for the inkasso and simulator logs")
    a = ap.parse_args()
    cfg = dict(QUICK if a.quick else FULL)
    if a.cases:
        cfg["cases"] = a.cases
    figures = run(**cfg, logs=a.logs)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
