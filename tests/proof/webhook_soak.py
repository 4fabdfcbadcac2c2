#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Webhook soak: cases living their life on the agency simulator (handed
over, case id, reminder, collection, paid by the debtor; a quarter also get
a direct payment, a tenth are withdrawn) while their events are delivered
to loopback receivers that fail about 30 % of the requests: 500s, 429s with
Retry-After (2-3 s, longer than the schedule's first waits), answers after
inkasso's timeout, dropped connections (FIN or RST); some answer slowly but
in time. Per tenant one endpoint takes every type ("*") and one only
case.status_changed and case.payment_received; a third endpoint answers
410 from a third of the way on.

Every request a receiver gets is verified by the reference Standard
Webhooks library (npm `standardwebhooks`, one long-lived node process).

Targets: every event of the feed (GET /v1/events) of the subscribed types
delivered to every enabled endpoint at least once; every signature
verified; per endpoint and case, first deliveries in `sequence` order; 0
requests before a Retry-After elapsed; the 410 endpoint disabled (GET:
enabled false, disabled_reason gone), 0 attempts claimed after that and
nothing arriving there later than the requests already under way; the feed
matches the cases' histories (one event per change, dense sequence 1..n).

`--kills` (tests/proof/webhook_crash.py) SIGKILLs inkasso every 0.5-3 s
during the soak and restarts it on the same database (see there).

Full run: 2,000 cases over 2 tenants. `--quick`: 150. Prints its figures and
ends with one `FIGURES <json>` line; exits 1 when a target is missed."""
import argparse
import os
import random
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import proofkit as pk  # noqa: E402
import webhookkit as wk  # noqa: E402

FULL = dict(cases=2000, tenants=2, workers=8, spread=60.0, deadline=240.0, kills=False, min_kills=20,
            kill_min=0.5, kill_max=3.0)
QUICK = dict(cases=150, tenants=2, workers=6, spread=8.0, deadline=60.0, kills=False, min_kills=3,
             kill_min=0.5, kill_max=1.5)

# The simulator moves every case by itself: a case id after 0.3 s, stage
# collection 1.5 s later, paid by the debtor 3 s after that; a settlement
# run every 5 s.
SIM_ARGS = ("--assign-delay", "0.3", "--advance-seconds", "0.2", "--reminder-seconds", "1.5",
            "--collection-seconds", "3", "--settle-seconds", "5")
SCHEDULE = "1s,1s,2s,2s,3s,3s,5s,5s,5s,5s,5s,10s,10s,10s,10s,10s"  # 16 retries: 0.3^17 never gives up
SERVICE_ENV = dict(INKASSO_MAX_ATTEMPTS=1000, INKASSO_SYNC_INTERVAL=1, INKASSO_RETRY_BASE_MS=100,
                   INKASSO_RETRY_CAP_MS=1000, INKASSO_AGENCY_TIMEOUT_MS=2000,
                   INKASSO_WEBHOOK_ALLOW_PRIVATE=1, INKASSO_WEBHOOK_RETRY_SCHEDULE=SCHEDULE,
                   INKASSO_WEBHOOK_TIMEOUT_MS=500, INKASSO_WEBHOOK_WORKERS=8)
# ~30 % of the requests fail: 12 % 500, 8 % 429, 6 % dropped, 4 % answered
# after the 500 ms timeout; 5 % slow (100 ms) but in time.
FAULTS = dict(error_500=0.12, error_429=0.08, drop=0.06, timeout=0.04, slow=0.05, retry_after=(2, 3),
              timeout_s=0.8, slow_s=0.1)
SOME = ["case.status_changed", "case.payment_received"]
OPEN = "pending,submitted,open,paused,disputed,failed"


class Killer(threading.Thread):
    """SIGKILLs the service every kill_min..kill_max s and restarts it on the
    same database and port, until done is set and min_kills happened."""

    def __init__(self, svc, done, min_kills, kill_min, kill_max, rnd):
        super().__init__(daemon=True)
        self.svc, self.done, self.min_kills = svc, done, min_kills
        self.kill_min, self.kill_max, self.rnd = kill_min, kill_max, rnd
        self.kills, self.kill_times, self.restart_failures = 0, [], 0
        self.integrity_bad, self.error, self.last_restart = [], None, None

    def run(self):
        try:
            while not (self.done.is_set() and self.kills >= self.min_kills):
                time.sleep(self.rnd.uniform(self.kill_min, self.kill_max))
                self.svc.stop(signal.SIGKILL)
                self.kill_times.append(time.monotonic())
                self.kills += 1
                res = pk.integrity_check(self.svc.db)
                if res != "ok":
                    self.integrity_bad.append(res[:200])
                for _ in range(5):
                    try:
                        self.svc.start()
                        break
                    except RuntimeError:
                        self.restart_failures += 1
                        self.svc.stop(signal.SIGKILL)
                        time.sleep(0.5)
                else:
                    raise RuntimeError("the service does not restart")
                self.last_restart = time.monotonic()
        except Exception as e:  # a figure, never silent
            self.error = repr(e)


def post_until_final(session, url, token, body, key, tally, what, deadline_s=120.0):
    """POSTs with one Idempotency-Key until an answer other than 5xx/429
    or a network error; returns (status, json or None)."""
    headers = {**pk.bearer(token), "Idempotency-Key": key, "Content-Type": "application/json"}
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            r = session.post(url, json=body, headers=headers, timeout=10)
        except requests.RequestException:
            tally.add(f"{what}_network_errors")
            time.sleep(0.1)
            continue
        if r.status_code >= 500 or r.status_code == 429:
            tally.add(f"{what}_http_{r.status_code}")
            time.sleep(0.1)
            continue
        tally.add(f"{what}_{r.status_code}")
        return r.status_code, (r.json() if r.content else None)
    tally.add(f"{what}_gave_up")
    return None, None


def run(cases, tenants, workers, spread, deadline, kills, min_kills, kill_min, kill_max, logs=None, seed=None,
        faults=None):
    seed = seed if seed is not None else random.randrange(1, 2**31)
    rnd = random.Random(seed)
    faults = dict(FAULTS, **(faults or {}))
    run_id = uuid.uuid4().hex[:6]
    name = "webhook_crash" if kills else "webhook_soak"
    started = time.monotonic()
    verifier = wk.Verifier()
    receivers = {}
    try:
        with pk.rig(name, logs=logs, accept_duplicates=False, sim_args=SIM_ARGS, **SERVICE_ENV) as (sim, svc, _):
            api = pk.Api(svc.url)
            names = pk.configure_tenants(api, tenants, "wh")
            tokens = {t: api.token(t) for t in names}
            # Endpoints: per tenant "all" and "some" with faults; tenant 0 also
            # "gone" (ok, then 410 for good) unless the service is being killed.
            gone = {"at": None, "switch": threading.Event()}

            def gone_plan(rcv, req):
                if gone["switch"].is_set():
                    if gone["at"] is None:
                        gone["at"] = time.monotonic()  # about when the first 410 is written
                    return ("gone", None)
                return ("ok", 204)

            eps = []  # (receiver name, tenant, types, endpoint id)
            secrets = {}
            for ti, t in enumerate(names):
                roles = [("all", ["*"]), ("some", SOME)] + ([("gone", ["*"])] if ti == 0 and not kills else [])
                for role, types in roles:
                    rname = f"{role}{ti}"
                    plan = gone_plan if role == "gone" else wk.fault_plan(seed + len(receivers), **faults)
                    rcv = wk.Receiver(rname, plan)
                    receivers[rname] = rcv
                    ep = wk.register(api, t, rcv.url, types, key=uuid.uuid4().hex)
                    secrets[rname] = ep["secret"]
                    eps.append((rname, t, types, ep["id"]))
            hook = wk.verify_on_arrival(verifier, secrets)
            for rcv in receivers.values():
                rcv.on_record = hook

            tally = pk.Tally()
            case_ids = {t: [] for t in names}
            lock = threading.Lock()
            done = threading.Event()
            items = [(names[i % tenants], f"W{run_id}-{i:05d}", i) for i in range(cases)]

            def client(chunk):
                s = requests.Session()
                t0 = time.monotonic()
                for k, (tenant, number, i) in enumerate(chunk):
                    ahead = t0 + spread * k / max(1, len(chunk)) - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                    cid = pk.create_until_acknowledged(s, svc.url, tokens[tenant], pk.valid_case(number),
                                                       uuid.uuid4().hex, tally)
                    if not cid:
                        continue
                    with lock:
                        case_ids[tenant].append(cid)
                    if i % 4 == 1:
                        post_until_final(s, f"{svc.url}{pk.CASES}/{cid}/payments", tokens[tenant],
                                         {"amount": 1000 + i, "paid_on": pk.valid_case()["invoice"]["issued_on"],
                                          "reference": f"R{number}"}, uuid.uuid4().hex, tally, "payment")
                    if i % 10 == 3:
                        post_until_final(s, f"{svc.url}{pk.CASES}/{cid}/actions", tokens[tenant],
                                         {"type": "withdraw"}, uuid.uuid4().hex, tally, "withdraw")
                    if not kills and k == len(chunk) // 3:
                        gone["switch"].set()

            killer = None
            if kills:
                killer = Killer(svc, done, min_kills, kill_min, kill_max, rnd)
                killer.start()
            pk.run_chunks(client, items, workers)
            posted_s = time.monotonic() - started
            gone["switch"].set()
            done.set()
            if killer:
                killer.join()
                if svc.proc is None:
                    svc.start()
            last_restart = killer.last_restart if killer else None

            # Until every case has ended its life and every event of the feed
            # is at every enabled endpoint of its types.
            feeds = {t: [] for t in names}
            cursors = {t: None for t in names}
            status = {"open_cases": None, "undelivered": None}

            def expected_for(rname, tenant, types):
                return {e["id"]: e for e in feeds[tenant] if types == ["*"] or e["type"] in types}

            def undelivered():
                n = 0
                for rname, t, types, _ in eps:
                    if rname.startswith("gone"):
                        continue
                    got = {r["id"] for r in receivers[rname].snapshot() if wk.delivered(r)}
                    n += len(set(expected_for(rname, t, types)) - got)
                return n

            while time.monotonic() - started < deadline:
                try:
                    status["open_cases"] = sum(len(pk.list_all(api, t, f"status={OPEN}&limit=200")) for t in names)
                    for t in names:
                        evs, cursors[t] = wk.feed(api, t, cursors[t])
                        feeds[t] += evs
                    status["undelivered"] = undelivered()
                except (requests.RequestException, AssertionError):
                    time.sleep(0.5)
                    continue
                if status["open_cases"] == 0 and status["undelivered"] == 0:
                    # Settlements may still come: one more settle period.
                    time.sleep(0.5)
                    for t in names:
                        evs, cursors[t] = wk.feed(api, t, cursors[t])
                        feeds[t] += evs
                    if undelivered() == 0:
                        break
                time.sleep(1.0)
            settled_s = time.monotonic() - started
            # Freeze the simulator's clock so nothing new happens while we read.
            sim.config(settle_ms=3600000)
            depth = wk.metric(svc.url, "inkasso_webhook_queue_depth")
            for t in names:
                evs, cursors[t] = wk.feed(api, t, cursors[t])
                feeds[t] += evs
            history = wk.compare_with_histories(api, case_ids, feeds)
            gone_ep = None
            gone_attempts_after = None
            if not kills:
                gid = [e for e in eps if e[0] == "gone0"][0][3]
                gone_ep = wk.endpoint(api, names[0], gid)
                log = wk.attempts_log(api, names[0], gid)
                gone_attempts_after = sum(1 for a in log if a["at"] > gone_ep["updated_at"])
                gone_410_logged = sum(1 for a in log if a["status_code"] == 410)
            # The service's own attempt log, read only for endpoints where a
            # request came before a Retry-After elapsed (to tell a real early
            # retry from a 429 that arrived after the service's timeout).
            service_logs = {}
            for rname, t, types, eid in eps:
                if wk.retry_after_figures(receivers[rname].snapshot(), killer.kill_times if killer else ())[
                        "retry_after_violations"]:
                    by_event = {}
                    for a in wk.attempts_log(api, t, eid):
                        by_event.setdefault(a["event_id"], {})[a["attempt"]] = a["status_code"]
                    service_logs[rname] = by_event
            st = sim.stats()
            attempts_total = {o: wk.metric(svc.url, f'inkasso_webhook_attempts_total{{outcome="{o}"}}')
                              for o in ("delivered", "retried", "failed", "gone")}
            time.sleep(0.5)
        results = verifier.results()
    finally:
        verifier.stop()
        for rcv in receivers.values():
            rcv.stop()

    kill_times = killer.kill_times if killer else []
    figures = {"seed": seed, "cases": cases, "tenants": tenants, "kills_mode": kills,
               "fault_config": {k: v for k, v in faults.items()}, "retry_schedule": SCHEDULE,
               "cases_created": sum(len(v) for v in case_ids.values()),
               "direct_payments_201": tally.get("payment_201"), "withdrawals_202": tally.get("withdraw_202"),
               "client_retries": sum(v for k, v in tally.c.items() if "http_" in k or "network" in k),
               "events_in_feed": sum(len(v) for v in feeds.values()),
               "events_by_type": {}, "open_cases_at_end": status["open_cases"],
               "queue_depth_at_end": depth, "sim_payments": st.get("payments"),
               "seconds_posting": round(posted_s, 1), "seconds_until_all_delivered": round(settled_s, 1),
               "attempts_by_outcome_last_process": attempts_total}
    for evs in feeds.values():
        for e in evs:
            figures["events_by_type"][e["type"]] = figures["events_by_type"].get(e["type"], 0) + 1
    figures.update(wk.verification_figures(results))
    all_records = []
    missing = unordered = 0
    ra_viol = 0
    fail_pct = {}
    for rname, t, types, eid in eps:
        recs = receivers[rname].snapshot()
        all_records += recs
        if rname.startswith("gone"):
            continue
        expected = {e["id"]: e for e in feeds[t] if types == ["*"] or e["type"] in types}
        f = wk.delivery_figures(recs, expected, rname)
        figures.update(f)
        missing += f[f"{rname}_missing"] + f[f"{rname}_unexpected_ids"]
        unordered += f[f"{rname}_cases_out_of_order"]
        log = service_logs.get(rname)
        ra = wk.retry_after_figures(recs, kill_times, (lambda i, log=log: log.get(i, {})) if log else None)
        figures.update({f"{rname}_{k}": v for k, v in ra.items()})
        ra_viol += ra["retry_after_violations"]
        failed = sum(1 for r in recs if r["action"] not in ("ok", "slow"))
        fail_pct[rname] = round(100.0 * failed / len(recs), 1) if recs else 0
        if last_restart is not None:
            after = {r["id"] for r in recs if wk.delivered(r) and r["t"] >= last_restart}
            figures[f"{rname}_delivered_after_last_restart"] = len(after & set(expected))
    figures["requests_failed_percent"] = fail_pct
    figures["retry_after_violations"] = ra_viol
    figures["events_not_delivered"] = missing
    figures["cases_out_of_order"] = unordered
    figures.update({k: v for k, v in history.items()})
    checks = [
        ("every case created", figures["cases_created"] == cases),
        ("every case ended its life (paid or withdrawn)", status["open_cases"] == 0),
        ("every event of the subscribed types at every enabled endpoint at least once", missing == 0
         and figures["events_in_feed"] > 0),
        ("every request's signature verified by standardwebhooks", figures["signatures_failed"] == 0
         and figures["signatures_checked"] == len(all_records) and len(all_records) > 0),
        ("first deliveries per case in sequence order", unordered == 0),
        ("0 requests before a Retry-After elapsed", ra_viol == 0
         and sum(figures.get(f"{r}_retry_after_answers_followed", 0) for r in receivers) > 0),
        ("receivers failed >= 20 % of the requests", all(v >= 20 for v in fail_pct.values())),
        ("0 events missing from the feed vs the cases' histories", history["events_missing_vs_history"] == 0),
        ("0 events without a committed change", history["events_without_change"] == 0),
        ("sequence dense 1..n per case and the feed matches every history",
         history["cases_sequence_not_dense"] == 0 and history["cases_feed_not_matching_history"] == 0
         and history["cases_compared"] == figures["cases_created"]),
    ]
    if not kills:
        grecs = receivers["gone0"].snapshot()
        t410 = gone["at"]
        after = [r["t"] - t410 for r in grecs if t410 is not None and r["t"] > t410 and r["action"] == "gone"]
        figures.update({
            "gone_requests_ok_before_410": sum(1 for r in grecs if r["action"] == "ok"),
            "gone_410_answers": sum(1 for r in grecs if r["action"] == "gone"),
            "gone_410_attempts_logged": gone_410_logged,
            "gone_requests_after_first_410": len(after),
            "gone_requests_later_than_1s_after_410": sum(1 for d in after if d > 1.0),
            "gone_latest_request_after_410_s": round(max(after), 3) if after else None,
            # Claimed after the 410 attempt ended but before its disable committed
            # (one writer: a claim after the commit finds nothing pending).
            "gone_attempts_started_after_the_410_ended": gone_attempts_after,
            "gone_endpoint_enabled": gone_ep["enabled"], "gone_endpoint_disabled_reason": gone_ep["disabled_reason"],
        })
        checks += [
            ("the 410 endpoint disabled: enabled false, disabled_reason gone",
             gone_ep["enabled"] is False and gone_ep["disabled_reason"] == "gone" and figures["gone_410_answers"] > 0),
            ("nothing sent to it after its 410 but the requests already under way (at most workers - 1,"
             " none arriving > 1 s later)",
             figures["gone_requests_later_than_1s_after_410"] == 0
             and len(after) <= int(SERVICE_ENV["INKASSO_WEBHOOK_WORKERS"]) - 1),
        ]
    else:
        figures.update({"kills": killer.kills, "restart_failures": killer.restart_failures,
                        "killer_error": killer.error, "integrity_problems": killer.integrity_bad})
        checks += [
            (f"kills >= {min_kills}", killer.kills >= min_kills and killer.error is None),
            ("integrity_check ok after every kill", not killer.integrity_bad),
        ]
    figures["seconds_total"] = round(time.monotonic() - started, 1)
    figures["final_sigterm_exit"] = svc.exit_status
    checks.append(("clean exit 0 on the final SIGTERM", svc.exit_status == 0))
    return pk.report(name.replace("_", " "), figures, checks)


def main(defaults_full=FULL, defaults_quick=QUICK, doc=__doc__):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small size")
    ap.add_argument("--cases", type=int)
    ap.add_argument("--tenants", type=int)
    ap.add_argument("--workers", type=int, help="concurrent clients")
    ap.add_argument("--spread", type=float, help="seconds over which the creates are spread")
    ap.add_argument("--deadline", type=float, help="seconds from the start until everything is delivered")
    ap.add_argument("--min-kills", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--logs", help="directory for the inkasso and simulator logs")
    a = ap.parse_args()
    cfg = dict(defaults_quick if a.quick else defaults_full)
    for k in ("cases", "tenants", "workers", "spread", "deadline", "min_kills"):
        v = getattr(a, k)
        if v is not None:
            cfg[k] = v
    figures = run(**cfg, logs=a.logs, seed=a.seed)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
