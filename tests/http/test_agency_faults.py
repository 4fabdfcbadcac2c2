# SPDX-License-Identifier: MIT
"""Delivery to an agency that misbehaves: failing creates with actions and a
payment queued behind them, a key the agency refuses, giving up after the
last attempt and the retry, a direct payment whose answer is lost (looked
up on the agency case before any resend), Retry-After honoured by the sync
loop too, a soak through 500s, 429s, dropped and slow answers at an agency that accepts repeated invoice
numbers, and kill -9 of the service while sends are in flight. Each test
counts at the simulator that every case was created there exactly once.

Every test has its own simulator and service (own database), stopped by pid
at the end; through the validating proxy except the kill test, which talks
to the service directly across its restart."""
import concurrent.futures
import datetime as dt
import json
import os
import random
import signal
import threading
import time
import uuid

import pytest
import requests

from conftest import ON_PG, DbConn, case_detail, wait_case, ROOT, agency_key, agency_rig, assert_problem, bearer, create_case, list_all, new_tenant, \
    today, valid_case, wait_until

DEADLINE = 15.0
FIGURES = os.path.join(ROOT, "tests", "http", ".last-fault-figures.json")
INVOICE = "/api/v1/partner/invoice"


def yesterday():
    return (today() - dt.timedelta(days=1)).isoformat()


def detail(api, tenant, case_id):
    return case_detail(api, tenant, case_id)


def handed_over(c):
    return c["status"] in ("submitted", "open")


def exactly_once(sim, tenant, numbers):
    """The simulator holds each of these invoice numbers once, created once,
    and nothing else, for the tenant's key; returns its invoices by number."""
    invs = sim.invoices(agency_key(tenant))
    got = sorted(i["invoiceNumber"] for i in invs)
    assert got == sorted(numbers), (len(got), len(numbers))
    assert all(i["creations"] == 1 and i["copy"] == 1 for i in invs), [i for i in invs if i["creations"] != 1]
    return {i["invoiceNumber"]: i for i in invs}


def metric(direct, name):
    r = direct.get("/metrics")
    assert r.status_code == 200, r.text
    for line in r.text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


# --- actions and a payment wait behind a pending case ------------------------

def test_payment_and_actions_wait_behind_a_failing_create_and_follow_in_order():
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        key = agency_key(t)
        rig.sim.faults(error_rate=1, status=500, path=INVOICE)
        case = create_case(rig.api, t)
        number = case["invoice"]["number"]
        # The forwarder has tried (and failed) at least twice: the case is
        # stuck in pending, its create of unknown outcome looked up each time.
        wait_until(lambda: rig.sim.stats(key)["calls"].get(INVOICE, {}).get("faulted", 0) >= 2,
                   timeout=DEADLINE, interval=0.05)

        r = rig.api.post(f"/v1/collection-cases/{case['id']}/payments", t,
                         json={"amount": 10000, "paid_on": yesterday(), "reference": "BANK-1"})
        assert r.status_code == 201, r.text
        pay = r.json()
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/actions", t,
                         json={"type": "comment", "comment": "debtor promised to pay"})
        assert r.status_code == 202, r.text
        first = r.json()
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/actions", t,
                         json={"type": "comment", "comment": "and a second note"})
        assert r.status_code == 202, r.text
        second = r.json()
        d = detail(rig.api, t, case["id"])
        assert d["status"] == "pending", d["events"]
        assert [a["state"] for a in d["actions"]] == ["pending", "pending"]
        assert d["payments"][0]["forwarded"] is False
        assert d["balance"]["paid"] == 10000
        st = rig.sim.stats(key)
        assert (st["invoice_creations"], st["actions"]) == (0, 0), st
        # Pause makes no sense before the agency has the case.
        assert_problem(rig.api.post(f"/v1/collection-cases/{case['id']}/actions", t, json={"type": "pause"}),
                       409, "invalid_state")

        rig.sim.clear_faults()
        d = wait_case(rig.api, t, case["id"],
                      lambda c: c["status"] == "open" and c["payments"][0]["forwarded"]
                      and all(a["state"] == "sent" for a in c["actions"]),
                      what="open with everything forwarded")
        assert [a["id"] for a in d["actions"]] == [first["id"], second["id"]]
        assert d["payments"][0]["id"] == pay["id"]
        inv = exactly_once(rig.sim, t, [number])[number]
        assert [(a["code"], a["comment"] if a["code"] == "COMMENT" else a["reference"]) for a in inv["actions"]] == [
            ("DIRECTPAYMENT", "BANK-1"), ("COMMENT", "debtor promised to pay"), ("COMMENT", "and a second note")]
        assert inv["actions"][0]["paymentMethod"] == "PAYMENT"
        assert float(inv["actions"][0]["amount"]) == 100.00
        # Every action arrived after the invoice itself.
        assert all(a["receivedAt"] >= inv["receivedAt"] for a in inv["actions"])


# --- rejected ----------------------------------------------------------------

def test_a_refused_api_key_makes_the_case_rejected_with_the_agency_message():
    with agency_rig() as rig:
        t = "t_" + uuid.uuid4().hex[:10]
        s = rig.api.configure(t, api_key="invalid")
        assert s["api_key_valid"] is False and s["api_key_set"] is True, s
        case = create_case(rig.api, t)
        case = wait_case(rig.api, t, case["id"], lambda c: c["status"] == "rejected", what="rejected")
        ev = case["events"][-1]
        assert (ev["from"], ev["to"], ev["source"]) == ("pending", "rejected", "forwarder"), ev
        assert "invalid api key" in (ev["detail"] or ""), ev
        assert case["closed_at"] is not None
        assert rig.sim.stats()["invoice_creations"] == 0
        # Rejected is closed, and terminal: no retry.
        r = rig.api.get("/v1/collection-cases?status=rejected", t)
        assert [c["id"] for c in r.json()["data"]] == [case["id"]]
        assert_problem(rig.api.post(f"/v1/collection-cases/{case['id']}/retry", t), 409, "invalid_state")


# --- failed, then retry ------------------------------------------------------

def test_failed_after_the_last_attempt_then_retry_delivers_once():
    with agency_rig(INKASSO_MAX_ATTEMPTS=3) as rig:
        t = new_tenant(rig.api)
        key = agency_key(t)
        rig.sim.faults(error_rate=1, status=500)
        case = create_case(rig.api, t)
        number = case["invoice"]["number"]
        case = wait_case(rig.api, t, case["id"], lambda c: c["status"] == "failed", what="failed")
        ev = case["events"][-1]
        assert (ev["from"], ev["to"], ev["source"]) == ("pending", "failed", "forwarder"), ev
        assert ev["detail"], ev
        assert case["closed_at"] is None  # failed is open: it can still go
        assert [c["id"] for c in list_all(rig.api, t, "status=failed")] == [case["id"]]
        assert case["id"] in [c["id"] for c in list_all(rig.api, t, "state=open")]
        assert metric(rig.direct, "inkasso_forwarder_failed_total") >= 1
        # Three attempts and no more: the case stays failed.
        # (the create, of unknown outcome after a 500, then two lookups).
        calls = rig.sim.stats(key)["calls"]
        tries = sum(calls.get(p, {}).get("faulted", 0) for p in (INVOICE, INVOICE + "/distribution"))
        assert tries == 3, calls
        assert rig.sim.stats(key)["invoice_creations"] == 0

        rig.sim.clear_faults()
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/retry", t)
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "pending"
        case = wait_case(rig.api, t, case["id"], lambda c: c["status"] == "open", what="open after retry")
        moves = [(e["from"], e["to"], e["source"]) for e in case["events"]]
        assert moves == [(None, "pending", "api"), ("pending", "failed", "forwarder"),
                         ("failed", "pending", "api"), ("pending", "submitted", "forwarder"),
                         ("submitted", "open", "sync")], moves
        inv = exactly_once(rig.sim, t, [number])[number]
        assert case["agency_case_id"] == inv["caseId"]
        assert rig.sim.stats(key)["duplicates_rejected"] == 0


# --- a direct payment whose answer is lost ----------------------------------

def test_a_direct_payment_whose_answer_is_lost_is_booked_once_at_the_agency():
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        key = agency_key(t)
        case = create_case(rig.api, t)
        wait_case(rig.api, t, case["id"], lambda c: c["status"] == "open", what="open")
        # The agency books the payment, then the connection drops before the answer.
        rig.sim.faults(drop_rate=1, path=INVOICE + "/action")
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/payments", t,
                         json={"amount": 10000, "paid_on": yesterday(), "reference": "BANK-LOST-ANSWER"})
        assert r.status_code == 201, r.text
        wait_until(lambda: rig.sim.stats(key)["actions"] >= 1, timeout=DEADLINE, interval=0.02)
        rig.sim.clear_faults()
        wait_case(rig.api, t, case["id"], lambda c: c["payments"][0]["forwarded"], what="payment forwarded")
        inv = rig.sim.invoices(key)[0]
        assert [a["code"] for a in inv["actions"]] == ["DIRECTPAYMENT"], inv["actions"]
        assert float(inv["balance"]["paidAmount"]) == 100.00, inv["balance"]


# --- Retry-After, also for the sync loop -------------------------------------

def test_sync_honours_a_retry_after_longer_than_its_interval():
    """A 429's Retry-After binds every call of that client, not only the
    forwarder's: the sync (every second here) must not ask again before it."""
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        key = agency_key(t)
        ids = [create_case(rig.api, t)["id"] for _ in range(3)]
        for i in ids:
            wait_case(rig.api, t, i, lambda c: c["status"] == "open", what="open")
        # Case details, payments and settlements of every round now draw 429s
        # asking for 3 s of quiet, three times the sync interval.
        rig.sim.faults(error_rate=0.5, status=429, retry_after=3, seed=7)
        time.sleep(6)
        st = rig.sim.stats(key)
        rig.sim.clear_faults()
        assert st["retry_after_answers"] > 0, st
        assert st["first_attempt_after_retry_after_violations"] == 0, st


# --- fault soak --------------------------------------------------------------

SOAK_CASES = 200
SOAK_TENANTS = 4


def post_all(base, tokens, bodies, workers=8):
    """Posts (tenant, body) pairs concurrently, each with an Idempotency-Key;
    returns [(tenant, number, case id)]."""
    local = threading.local()

    def one(item):
        tenant, body = item
        s = getattr(local, "s", None) or requests.Session()
        local.s = s
        r = s.post(base + "/v1/collection-cases", json=body, timeout=30,
                   headers={**bearer(tokens[tenant]), "Idempotency-Key": uuid.uuid4().hex})
        assert "sl-violations" not in r.headers, r.headers.get("sl-violations")
        assert r.status_code == 201, r.text
        return tenant, body["invoice"]["number"], r.json()["id"]

    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(one, bodies))


def test_fault_soak_every_case_created_once_and_retry_after_honoured():
    seed = random.randrange(1, 2**31)
    faults = {"error_rate": 0.3, "status": 0, "retry_after": 1,  # 500s and 429s, evenly
              "drop_rate": 0.2,                                   # stored, then no answer
              "timeout_rate": 0.1, "timeout_ms": 1500,            # beyond the 1000 ms client timeout
              "slow_rate": 0.1, "slow_ms": 300,                   # late, but within it
              "seed": seed}
    with agency_rig(accept_duplicates=True, INKASSO_MAX_ATTEMPTS=1000) as rig:
        tenants = [new_tenant(rig.api) for _ in range(SOAK_TENANTS)]
        tokens = {t: rig.api.token(t) for t in tenants}
        rig.sim.faults(**faults)
        started = time.monotonic()
        bodies = [(tenants[i % SOAK_TENANTS], valid_case(f"S{i:03d}-{uuid.uuid4().hex[:8]}"))
                  for i in range(SOAK_CASES)]
        sent = post_all(rig.api.base, tokens, bodies)

        def all_handed_over():
            n = 0
            for t in tenants:
                cases = list_all(rig.api, t, "limit=200")
                assert len(cases) == SOAK_CASES // SOAK_TENANTS
                n += sum(handed_over(c) for c in cases)
            return n == SOAK_CASES

        wait_until(all_handed_over, timeout=90, interval=0.5)
        elapsed = time.monotonic() - started
        st = rig.sim.stats()  # every client of this simulator: the four tenants
        rig.sim.clear_faults()

        calls = st["calls"]
        faulted = sum(c["faulted"] for c in calls.values())
        figures = {
            "cases": SOAK_CASES,
            "tenants": SOAK_TENANTS,
            "fault_config": faults,
            "seconds_to_hand_over": round(elapsed, 1),
            "injected": {
                "errors": faulted,
                "http_429": st["retry_after_answers"],
                "http_500": faulted - st["retry_after_answers"],
                "dropped": sum(c["dropped"] for c in calls.values()),
                "slow_or_timeout": sum(c["delayed"] for c in calls.values()),
            },
            "invoice_calls": calls.get(INVOICE),
            "distribution_calls": calls.get(INVOICE + "/distribution"),
            "invoices_received": st["invoices_received"],
            "invoice_creations": st["invoice_creations"],
            "duplicates_created": st["duplicates_created"],
            "duplicate_numbers": st["duplicate_numbers"],
            "first_attempt_after_retry_after_violations": st["first_attempt_after_retry_after_violations"],
        }
        print("\nfault soak figures:", json.dumps(figures, indent=2))
        with open(FIGURES, "w") as f:
            json.dump(figures, f, indent=2)
            f.write("\n")

        assert st["invoice_creations"] == SOAK_CASES, figures
        assert st["invoices_received"] == SOAK_CASES, figures
        assert st["duplicates_created"] == 0 and st["duplicate_numbers"] == 0, figures
        assert st["first_attempt_after_retry_after_violations"] == 0, figures
        # The faults really happened, on the creates themselves too.
        inj = figures["injected"]
        assert inj["http_429"] > 0 and inj["http_500"] > 0 and inj["dropped"] > 0 and inj["slow_or_timeout"] > 0
        assert calls[INVOICE]["faulted"] > 0 and calls[INVOICE]["dropped"] > 0, calls[INVOICE]
        by_tenant = {}
        for t, number, _ in sent:
            by_tenant.setdefault(t, []).append(number)
        for t, numbers in by_tenant.items():
            exactly_once(rig.sim, t, numbers)


# --- kill -9 while sends are in flight ---------------------------------------

KILL_CASES = 30
KILL_DURING = 6  # of those, posted while the service is being killed


def test_kill_9_while_sends_are_in_flight_loses_nothing_and_sends_nothing_twice():
    # On PostgreSQL the rows the dead process left sending are taken over
    # when their lease ends (2 x the agency timeout + 10 s: 12 s with the
    # rig's 1 s), not at start: inside the wait below.
    with agency_rig(accept_duplicates=True, proxy=False, INKASSO_MAX_ATTEMPTS=1000) as rig:
        api, svc, sim = rig.direct, rig.service, rig.sim
        t = new_tenant(api)
        key = agency_key(t)
        token = api.token(t)
        sim.faults(slow_rate=1, slow_ms=500)  # stored at once, answered half a second later
        bodies = [valid_case(f"K{i:02d}-{uuid.uuid4().hex[:8]}") for i in range(KILL_CASES)]
        idem = [uuid.uuid4().hex for _ in bodies]
        acked = {}  # index -> case id, for every 201

        def post(i, timeout=10):
            r = requests.post(svc.url + "/v1/collection-cases", json=bodies[i], timeout=timeout,
                              headers={**bearer(token), "Idempotency-Key": idem[i]})
            assert r.status_code == 201, r.text
            acked[i] = r.json()["id"]

        for i in range(KILL_CASES - KILL_DURING):
            post(i)
        # Sends in flight: the agency has stored some invoices whose answers
        # have not come back yet, and most cases are still waiting.
        wait_until(lambda: sim.stats(key)["invoice_creations"] >= 2, timeout=DEADLINE, interval=0.02)

        def late_posts():
            for i in range(KILL_CASES - KILL_DURING, KILL_CASES):
                try:
                    post(i, timeout=5)
                except (requests.RequestException, AssertionError):
                    pass  # the service died under it: not acknowledged
                time.sleep(0.01)

        th = threading.Thread(target=late_posts)
        th.start()
        time.sleep(0.02)
        svc.stop(signal.SIGKILL)
        th.join()
        at_kill = sim.stats(key)["invoice_creations"]
        assert 2 <= at_kill < KILL_CASES, at_kill
        # The dead process left sends of unknown outcome behind (rows still
        # "sending", their invoices stored at the agency, answers never read).
        con = DbConn(svc.db)
        try:
            in_flight = con.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]
        finally:
            con.close()
        assert in_flight >= 1, in_flight

        sim.clear_faults()
        svc.start()  # same database, same port
        # What was not acknowledged is sent again with its key: either the
        # first answer replayed (it was committed) or created now.
        for i in range(KILL_CASES):
            if i not in acked:
                post(i)
            else:
                r = requests.post(svc.url + "/v1/collection-cases", json=bodies[i], timeout=10,
                                  headers={**bearer(token), "Idempotency-Key": idem[i]})
                assert r.status_code == 201 and r.json()["id"] == acked[i], r.text

        def all_handed_over():
            cases = list_all(api, t, "limit=200")
            return cases if len(cases) == KILL_CASES and all(handed_over(c) for c in cases) else None

        cases = wait_until(all_handed_over, timeout=30, interval=0.25)
        assert sorted(c["id"] for c in cases) == sorted(acked.values())
        st = sim.stats(key)
        assert (st["invoices_received"], st["invoice_creations"], st["duplicates_created"]) == \
            (KILL_CASES, KILL_CASES, 0), st
        exactly_once(sim, t, [b["invoice"]["number"] for b in bodies])
        log = svc.read_log()
        if not ON_PG:  # SQLite requeues them at start, and says so
            assert "sends of unknown outcome will be looked up first" in log
