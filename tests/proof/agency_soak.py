#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Agency fault soak: cases over several tenants while the agency simulator
fails about 30 % of the calls: injected 500s and 429s (Retry-After), answers
that never come back in time (beyond inkasso's client timeout) and
connections dropped after the invoice was stored; some answers are slow but
in time.

The simulator accepts repeated invoice numbers, so that a second send would
be stored and counted. Targets: every case delivered (at the simulator and
handed over in inkasso), each invoice created exactly once, no call before
a Retry-After had passed (the simulator counts violations), and the gaps
between successive attempts on one invoice after an injected 500 jittered
(full jitter, RELIABILITY.md): many distinct values, a coefficient of
variation well above 0. The gaps come from the simulator's call log
(GET /sim/attempts), measured in a short probe after the soak (a few cases
while every call fails with a 500 and the forwarder has nothing else to
do), since under load they also hold the wait for a free worker (those
gaps are printed too).

Full run (the defaults): 2,000 cases over 4 tenants. `--quick`: 150 cases.
Prints its figures and ends with one `FIGURES <json>` line; exits 1 when a
target is missed."""
import argparse
import os
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import proofkit as pk  # noqa: E402

FULL = dict(cases=2000, tenants=4, workers=8, deliver_deadline=210.0, probe_cases=20, probe_seconds=8.0)
QUICK = dict(cases=150, tenants=4, workers=8, deliver_deadline=50.0, probe_cases=10, probe_seconds=5.0)

# About 30 % of the calls fail: 20 % injected errors (500 and 429 half and
# half), then 5 % dropped after processing and 5 % answered after 1.5 s,
# beyond the service's 1 s client timeout; 5 % are slow but in time.
FAULTS = {"error_rate": 0.2, "status": 0, "retry_after": 1,
          "drop_rate": 0.05,
          "timeout_rate": 0.05, "timeout_ms": 1500,
          "slow_rate": 0.05, "slow_ms": 200}
# Retries after 100 ms .. 2 s (full jitter), a 1 s client timeout, a sync
# every second: the full soak ends in about two minutes.
SERVICE_ENV = dict(INKASSO_MAX_ATTEMPTS=1000, INKASSO_SYNC_INTERVAL=1, INKASSO_RETRY_BASE_MS=100,
                   INKASSO_RETRY_CAP_MS=2000, INKASSO_AGENCY_TIMEOUT_MS=1000)
FAILED_OUTCOMES = ("error", "drop", "timeout")


def gaps(attempts):
    """From the simulator's call log: the gaps (ms) from each call that drew
    an injected 500 to the next call on the same invoice number, the gaps
    after a 429 (with its Retry-After), and the calls by outcome."""
    by_number, outcomes = {}, {}
    for a in attempts:
        by_number.setdefault((a["apiKey"], a["invoiceNumber"]), []).append(a)
        kind = a["outcome"] if a["outcome"] != "error" else f"error_{a['status']}"
        outcomes[kind] = outcomes.get(kind, 0) + 1
    after_500, after_429 = [], []
    for calls in by_number.values():
        calls.sort(key=lambda a: a["atMs"])
        for prev, nxt in zip(calls, calls[1:]):
            if prev["outcome"] == "error" and prev["status"] == 500:
                after_500.append(nxt["atMs"] - prev["atMs"])
            elif prev["outcome"] == "error" and prev["status"] == 429:
                after_429.append(nxt["atMs"] - prev["atMs"])
    return after_500, after_429, outcomes


def run(cases, tenants, workers, deliver_deadline, probe_cases, probe_seconds, logs=None, seed=None):
    seed = seed if seed is not None else random.randrange(1, 2**31)
    faults = dict(FAULTS, seed=seed)
    run_id = uuid.uuid4().hex[:6]
    started = time.monotonic()
    with pk.rig("agency_soak", logs=logs, accept_duplicates=True, **SERVICE_ENV) as (sim, svc, _):
        api = pk.Api(svc.url)
        names = pk.configure_tenants(api, tenants, "fault")  # before the faults: validate answers
        tokens = {t: api.token(t) for t in names}
        sim.faults(**faults)
        tally = pk.Tally()
        items = [(names[i % tenants], f"F{run_id}-{i:05d}") for i in range(cases)]
        acked = {}

        def post(chunk):
            s = requests.Session()
            for tenant, number in chunk:
                case_id = pk.create_until_acknowledged(s, svc.url, tokens[tenant], pk.valid_case(number),
                                                       uuid.uuid4().hex, tally)
                if case_id:
                    acked[case_id] = (tenant, number)  # dict stores are atomic under the GIL

        pk.run_chunks(post, items, workers)
        posted = time.monotonic()

        def undelivered():
            if sim.stats()["invoices_received"] < len(acked):
                return None  # cheap test first
            return sum(len(pk.list_all(api, t, "status=pending,failed&limit=200")) for t in names)

        left = None
        while time.monotonic() - started < deliver_deadline:
            left = undelivered()
            if left == 0:
                break
            time.sleep(1.0)
        delivered_s = round(time.monotonic() - started, 1)
        st = sim.stats()
        attempts = pk.sim_attempts(sim)
        listed = {t: pk.list_all(api, t, "limit=200") for t in names}
        by_status = {}
        for cs in listed.values():
            for c in cs:
                by_status[c["status"]] = by_status.get(c["status"], 0) + 1
        sim.clear_faults()

        # The jitter probe: under load the gaps between attempts also hold
        # the time a due retry waits for a free forwarder worker. With the
        # forwarder otherwise idle and every call failing with a 500, the
        # gap from one call to the next on an invoice is the backoff itself.
        probe_tenant = pk.configure_tenants(api, 1, "probe")[0]
        probe_numbers = [f"P{run_id}-{i:03d}" for i in range(probe_cases)]
        sim.faults(error_rate=1, status=500, seed=seed)
        s, probe_acked = requests.Session(), {}
        for number in probe_numbers:
            case_id = pk.create_until_acknowledged(s, svc.url, api.token(probe_tenant), pk.valid_case(number),
                                                   uuid.uuid4().hex, tally)
            if case_id:
                probe_acked[case_id] = (probe_tenant, number)
        time.sleep(probe_seconds)
        probe_attempts = pk.sim_attempts(sim, pk.agency_key(probe_tenant))
        sim.clear_faults()
        names.append(probe_tenant)
        left_probe = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            left_probe = len(pk.list_all(api, probe_tenant, "status=pending,failed&limit=200"))
            if left_probe == 0:
                break
            time.sleep(0.5)

        numbers_by_tenant = {t: [] for t in names}
        for tenant, number in list(acked.values()) + list(probe_acked.values()):
            numbers_by_tenant[tenant].append(number)
        agency = pk.at_agency(sim, numbers_by_tenant)  # the probe's cases included

        # Informational: once the faults end, the sync gives every case its
        # agency case id.
        open_s = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            if sum(len(pk.list_all(api, t, "status=pending,submitted,failed&limit=200")) for t in names) == 0:
                open_s = round(time.monotonic() - t0, 1)
                break
            time.sleep(1.0)

    after_500, after_429, outcomes = gaps(attempts)
    under_load = pk.describe(after_500)
    j = pk.describe(gaps(probe_attempts)[0])
    ra = pk.describe(after_429)
    total_calls = sum(outcomes.values())
    failed_calls = sum(v for k, v in outcomes.items() if k.startswith("error") or k in FAILED_OUTCOMES)
    calls = st["calls"]
    handed_over = by_status.get("submitted", 0) + by_status.get("open", 0)
    figures = {
        "seed": seed,
        "cases": cases,
        "tenants": tenants,
        "fault_config": faults,
        "service_env": SERVICE_ENV,
        "creates_acknowledged": len(acked),
        "create_retries": sum(v for k, v in tally.c.items() if k != "acknowledged_after_retry"),
        "seconds_posting": round(posted - started, 1),
        "seconds_to_deliver_all": delivered_s,
        "cases_not_delivered": left,
        "cases_by_status_at_delivery": by_status,
        "delivered_percent": round(100.0 * handed_over / cases, 2) if cases else 0,
        # The sync's progress under the same faults (case ids learned):
        "open_at_delivery_percent": round(100.0 * by_status.get("open", 0) / cases, 1) if cases else 0,
        "agency_calls_logged": total_calls,
        "agency_calls_failed_percent": round(100.0 * failed_calls / total_calls, 1) if total_calls else 0,
        "agency_calls_by_outcome": outcomes,
        "invoice_calls": calls.get("/api/v1/partner/invoice"),
        "distribution_calls": calls.get("/api/v1/partner/invoice/distribution"),
        "http_429_answers": st["retry_after_answers"],
        "retry_after_violations": st["first_attempt_after_retry_after_violations"],
        "sim_invoices_received": st["invoices_received"],
        "sim_invoice_creations": st["invoice_creations"],
        "sim_duplicates_created": st["duplicates_created"],
        "sim_duplicate_numbers": st["duplicate_numbers"],
        **agency,
        "gaps_after_429_ms": ra,
        "gaps_after_500_under_load_ms": under_load,
        "jitter_probe_cases": probe_cases,
        "jitter_probe_seconds": probe_seconds,
        "jitter_probe_cases_not_delivered_after": left_probe,
        "jitter_gaps_n": j["n"],
        "jitter_gaps_distinct": j["distinct"],
        "jitter_gaps_cv": j["cv"],
        "jitter_gaps_max_ms": j["max"],
        "jitter_gaps_ms": j,
        "seconds_all_open_after_faults_cleared": open_s,
        "seconds_total": round(time.monotonic() - started, 1),
        "final_sigterm_exit": svc.exit_status,
    }
    checks = [
        ("every create acknowledged", len(acked) == cases and len(probe_acked) == probe_cases),
        ("delivered 100 % (at the simulator, handed over in inkasso)",
         left == 0 and handed_over == cases and agency["sim_missing_numbers"] == 0),
        ("exactly once: every invoice created once at the simulator",
         st["duplicates_created"] == 0 and agency["sim_numbers_created_not_once"] == 0
         and agency["sim_unexpected_numbers"] == 0 and st["invoice_creations"] == cases
         and agency["sim_invoices"] == cases + probe_cases),
        ("faults injected on ~30 % of the calls (>= 15 %)", figures["agency_calls_failed_percent"] >= 15),
        ("0 attempts before Retry-After", st["retry_after_answers"] > 0
         and st["first_attempt_after_retry_after_violations"] == 0),
        ("retry gaps jittered (probe: >= 20 gaps, distinct >= half, CV >= 0.2)",
         j["n"] >= 20 and j["distinct"] >= j["n"] // 2 and j["cv"] >= 0.2),
        ("jitter probe cases delivered after the faults", left_probe == 0),
        ("clean exit 0 on the final SIGTERM", svc.exit_status == 0),
    ]
    return pk.report("agency fault soak", figures, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small size (150 cases)")
    ap.add_argument("--cases", type=int)
    ap.add_argument("--tenants", type=int)
    ap.add_argument("--workers", type=int, help="concurrent posting clients")
    ap.add_argument("--deliver-deadline", type=float, help="seconds from the start")
    ap.add_argument("--probe-cases", type=int, help="cases of the jitter probe")
    ap.add_argument("--probe-seconds", type=float, help="how long every call fails in the jitter probe")
    ap.add_argument("--seed", type=int, help="the fault injector's seed")
    ap.add_argument("--logs", help="directory for the inkasso and simulator logs")
    a = ap.parse_args()
    cfg = dict(QUICK if a.quick else FULL)
    for k in cfg:
        v = getattr(a, k)
        if v is not None:
            cfg[k] = v
    figures = run(**cfg, logs=a.logs, seed=a.seed)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
