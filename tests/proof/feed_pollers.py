#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Feed proof: 4 pollers follow GET /v1/events with their cursors (pages
of 1, 7, 50 and 200 events; one of them follows a type filter) while 8
writers create cases, book direct payments, comment and withdraw, over two
tenants.

Targets: each poller sees every event of its tenant exactly once, in the
feed's order (the list equals the full feed read afterwards; the filtered
poller its subsequence); every event is there (one case.created per
acknowledged create, one case.payment_received per booked payment, one
case.status_changed per withdrawal); sequence dense 1..n per case; no
event of the other tenant.

Full run: 8 writers x 400 cases (with their payments and withdrawals,
about 7,500 events). `--quick`: 8 x 12. Prints its figures and ends with
one `FIGURES <json>` line; exits 1 when a target is missed."""
import argparse
import os
import signal
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import proofkit as pk  # noqa: E402
import webhookkit as wk  # noqa: E402

FULL = dict(writers=8, per_writer=400)
QUICK = dict(writers=8, per_writer=12)
# A service without an agency (no INKASSO_AGENCY_URL): the cases stay
# pending, so the writers make every event and the withdrawals are immediate.
POLLERS = [(0, 1, ""), (0, 7, ""), (1, 50, ""), (0, 200, "type=case.payment_received,case.status_changed")]


def run(writers, per_writer, logs=None):
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inkasso-feed-") as d:
        svc = pk.Service(d)
        if logs:
            os.makedirs(logs, exist_ok=True)
            svc.log_path = os.path.join(logs, "feed_pollers-inkasso.log")
        try:
            svc.start()
            figures = _run(svc, writers, per_writer, started)
        finally:
            svc.stop(signal.SIGKILL)
    return figures


def _run(svc, writers, per_writer, started):
    api = pk.Api(svc.url)
    tenants = pk.configure_tenants(api, 2, "feed")
    tokens = {t: api.token(t) for t in tenants}
    tally = pk.Tally()
    made = {t: {"created": set(), "payments": set(), "withdrawn": set()} for t in tenants}
    lock = threading.Lock()
    writers_done = threading.Event()

    def writer(w):
        s = requests.Session()
        for i in range(per_writer):
            t = tenants[(w + i) % 2]
            h = {**pk.bearer(tokens[t]), "Content-Type": "application/json"}
            number = f"FD{w}-{i}-{uuid.uuid4().hex[:6]}"
            cid = pk.create_until_acknowledged(s, svc.url, tokens[t], pk.valid_case(number), uuid.uuid4().hex, tally)
            if not cid:
                continue
            with lock:
                made[t]["created"].add(cid)
            r = s.post(f"{svc.url}{pk.CASES}/{cid}/payments", headers={**h, "Idempotency-Key": uuid.uuid4().hex},
                       json={"amount": 100 + i, "paid_on": "2026-01-09", "reference": f"P{w}-{i}"}, timeout=30)
            if r.status_code == 201:
                with lock:
                    made[t]["payments"].add(r.json()["id"])
            else:
                tally.add(f"payment_{r.status_code}")
            r = s.post(f"{svc.url}{pk.CASES}/{cid}/actions", headers={**h, "Idempotency-Key": uuid.uuid4().hex},
                       json={"type": "comment", "comment": "x"}, timeout=30)
            if i % 3 == 0:
                r = s.post(f"{svc.url}{pk.CASES}/{cid}/actions",
                           headers={**h, "Idempotency-Key": uuid.uuid4().hex}, json={"type": "withdraw"}, timeout=30)
                if r.status_code == 202:
                    with lock:
                        made[t]["withdrawn"].add(cid)
                else:
                    tally.add(f"withdraw_{r.status_code}")

    seen = [[] for _ in POLLERS]
    polls = [0] * len(POLLERS)
    errors = []

    def poller(k):
        ti, limit, query = POLLERS[k]
        s, after = requests.Session(), None
        h = pk.bearer(tokens[tenants[ti]])
        while True:
            done = writers_done.is_set()
            q = f"?limit={limit}" + (f"&{query}" if query else "") + (f"&after={after}" if after else "")
            r = s.get(svc.url + "/v1/events" + q, headers=h, timeout=30)
            polls[k] += 1
            if r.status_code != 200:
                errors.append((k, r.status_code, r.text[:200]))
                time.sleep(0.1)
                continue
            page = r.json()
            seen[k] += page["data"]
            if page["next_cursor"]:
                after = page["next_cursor"]
            if done and not page["has_more"]:
                return
            if not page["data"]:
                time.sleep(0.01)

    ws = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    ps = [threading.Thread(target=poller, args=(i,)) for i in range(len(POLLERS))]
    for th in ps + ws:
        th.start()
    for th in ws:
        th.join(600)
    writers_done.set()
    for th in ps:
        th.join(120)
    writing_s = time.monotonic() - started
    full = {t: wk.feed(api, t)[0] for t in tenants}
    svc.exit_status = svc.stop()

    results = {}
    bad_pollers = 0
    for k, (ti, limit, query) in enumerate(POLLERS):
        t = tenants[ti]
        want = full[t]
        if query:
            types = query.split("=", 1)[1].split(",")
            want = [e for e in want if e["type"] in types]
        got_ids = [e["id"] for e in seen[k]]
        want_ids = [e["id"] for e in want]
        dup = len(got_ids) - len(set(got_ids))
        missing = len(set(want_ids) - set(got_ids))
        foreign = sum(1 for e in seen[k] if e["id"] not in {x["id"] for x in full[t]})
        same = got_ids == want_ids
        bad_pollers += not same or dup or missing or foreign
        results[f"poller{k}"] = {"tenant": ti, "limit": limit, "filter": query or None, "events_seen": len(got_ids),
                                 "events_in_feed": len(want_ids), "duplicates": dup, "missing": missing,
                                 "other_tenant": foreign, "same_order_as_feed": same, "requests": polls[k]}
    # The feed against what the writers did.
    missing_events = extra_events = not_dense = 0
    for t in tenants:
        evs = full[t]
        created = {e["case_id"] for e in evs if e["type"] == "case.created"}
        paid = [e["data"]["payment"]["id"] for e in evs if e["type"] == "case.payment_received"]
        withdrawn = [e["case_id"] for e in evs
                     if e["type"] == "case.status_changed" and e["data"]["status"] == "withdrawn"]
        missing_events += len(made[t]["created"] - created) + len(made[t]["payments"] - set(paid)) \
            + len(made[t]["withdrawn"] - set(withdrawn))
        extra_events += len(created - made[t]["created"]) + len(paid) - len(made[t]["payments"] & set(paid)) \
            + len(withdrawn) - len(made[t]["withdrawn"] & set(withdrawn))
        per_case = {}
        for e in evs:
            per_case.setdefault(e["case_id"], []).append(e["sequence"])
        not_dense += sum(1 for seqs in per_case.values() if seqs != list(range(1, len(seqs) + 1)))
    figures = {"writers": writers, "cases_per_writer": per_writer, "pollers": len(POLLERS),
               "events_in_feeds": sum(len(v) for v in full.values()),
               "cases_created": sum(len(m["created"]) for m in made.values()),
               "payments_booked": sum(len(m["payments"]) for m in made.values()),
               "withdrawals": sum(len(m["withdrawn"]) for m in made.values()),
               "pollers_not_exactly_once_in_order": bad_pollers, "poll_errors": len(errors),
               "events_missing": missing_events, "events_extra": extra_events, "cases_sequence_not_dense": not_dense,
               "per_poller": results, "seconds_writing": round(writing_s, 1),
               "seconds_total": round(time.monotonic() - started, 1), "final_sigterm_exit": svc.exit_status}
    checks = [
        ("every create, payment and withdrawal acknowledged",
         figures["cases_created"] == writers * per_writer and figures["payments_booked"] == writers * per_writer),
        ("each poller saw every event once, in the feed's order", bad_pollers == 0 and not errors),
        ("every change an event, none without one", missing_events == 0 and extra_events == 0),
        ("sequence dense 1..n per case", not_dense == 0),
        ("clean exit 0 on the final SIGTERM", svc.exit_status == 0),
    ]
    return pk.report("feed pollers", figures, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="8 writers x 12 cases")
    ap.add_argument("--writers", type=int)
    ap.add_argument("--per-writer", type=int)
    ap.add_argument("--logs", help="directory for the inkasso and simulator logs")
    a = ap.parse_args()
    cfg = dict(QUICK if a.quick else FULL)
    for k in ("writers", "per_writer"):
        if getattr(a, k):
            cfg[k] = getattr(a, k)
    figures = run(**cfg, logs=a.logs)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
