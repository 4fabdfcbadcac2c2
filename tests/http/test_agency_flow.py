# SPDX-License-Identifier: MIT
"""The whole journey against the agency simulator, through the validating
proxy: a case is handed over (submitted, then open with the agency's case
id), follows the agency's stage, its direct payments and actions arrive at
the agency in order, it ends paid, and the agency's settlement comes back
linked to it; a batch reaches the agency exactly once.

One simulator and one service (own database, agency wired, syncing every
second) for the module; each test uses tenants of its own, and so its own
agency client (the simulator keeps state per api key)."""
import datetime as dt
import uuid
from decimal import Decimal

import pytest

from conftest import case_detail, wait_case, agency_key, agency_rig, assert_problem, create_case, list_all, today, valid_case, \
    wait_until

DEADLINE = 15.0  # seconds for anything the forwarder or one or two syncs should do


@pytest.fixture(scope="module")
def rig():
    with agency_rig() as r:
        yield r


@pytest.fixture
def tenant(rig):
    t = "t_" + uuid.uuid4().hex[:10]
    rig.api.configure(t)
    return t


def dec(x):
    """An agency amount (a JSON number) as an exact decimal."""
    return Decimal(str(x))


def detail(api, tenant, case_id):
    return case_detail(api, tenant, case_id)


def sim_invoice(sim, tenant, number):
    """The simulator's only invoice of that number for the tenant's key."""
    rows = [i for i in sim.invoices(agency_key(tenant)) if i["invoiceNumber"] == number]
    assert len(rows) == 1, rows
    return rows[0]


def open_case(rig, tenant, body=None):
    """A case sent and followed until open; returns (case, sim invoice)."""
    case = create_case(rig.api, tenant, body)
    assert case["status"] == "pending"
    case = wait_case(rig.api, tenant, case["id"], synced_open, what="open")
    return case, sim_invoice(rig.sim, tenant, case["invoice"]["number"])


def synced_open(c):
    """Open, and the agency's case details read: the sync records the case id
    (-> open) and then the details, in two steps."""
    return c["status"] == "open" and c["agency_status"] is not None


def yesterday():
    return (today() - dt.timedelta(days=1)).isoformat()


# --- handover -------------------------------------------------------------------

def test_case_is_submitted_then_open_with_the_agency_case_id(rig, tenant):
    body = valid_case()
    number = body["invoice"]["number"]
    case = create_case(rig.api, tenant, body)
    assert case["status"] == "pending" and case["agency_case_id"] is None
    case = wait_case(rig.api, tenant, case["id"], synced_open, what="open")

    inv = sim_invoice(rig.sim, tenant, number)
    assert inv["caseId"] and case["agency_case_id"] == inv["caseId"]
    assert inv["creations"] == 1 and inv["caseStatus"] == "ACTIVE"
    assert case["agency_status"] == "ACTIVE" and case["stage"] == "reminder"
    # pending -> submitted by the forwarder, then -> open by the sync.
    moves = [(e["from"], e["to"], e["source"]) for e in case["events"]]
    assert moves == [(None, "pending", "api"), ("pending", "submitted", "forwarder"),
                     ("submitted", "open", "sync")], moves
    assert case["submitted_at"] is not None and case["closed_at"] is None

    # What the agency received: the mapping of DESIGN.md, amounts in major units.
    req = inv["request"]["invoice"]
    h = req["header"]
    assert (h["number"], h["type"], h["service"], h["currencyCode"]) == (number, "COLLECTION", "COLLECTION", "NOK")
    assert (h["date"], h["dueDate"]) == (body["invoice"]["issued_on"], body["invoice"]["due_on"])
    assert dec(req["amounts"]["totalAmount"]) == Decimal("1249.00")
    assert dec(req["amounts"]["outstandingAmount"]) == Decimal("1249.00")
    assert dec(req["collectionCosts"]["creditorCostsAmount"]) == Decimal("35.00")
    assert req["parties"]["sellerParty"]["businessId"] == "CR-" + tenant
    buyer = req["parties"]["buyerParty"]
    assert (buyer["entityType"], buyer["name"], buyer["customerAccountId"]) == ("PERSON", "Kari Nordmann", "551")
    assert buyer["contact"]["phone"] == "+4791234567"
    assert buyer["address"]["postalCode"] == "0155" and buyer["address"]["countryCode"] == "NO"
    # The case is listed as open, and found by its agency case id.
    r = rig.api.get("/v1/collection-cases?state=open&q=" + inv["caseId"], tenant)
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["data"]] == [case["id"]]


def test_stage_and_balance_follow_the_agency(rig, tenant):
    case, inv = open_case(rig, tenant)
    assert case["stage"] == "reminder"
    rig.sim.advance(agency_key(tenant), inv["invoiceNumber"], "collection")
    case = wait_case(rig.api, tenant, case["id"], lambda c: c["stage"] == "collection", what="stage collection")
    assert case["status"] == "open" and case["agency_status"] == "ACTIVE"
    # The agency's costs (35.00 creditor costs) come back in minor units.
    assert case["balance"]["costs"] == 3500 and case["balance"]["interest"] == 0
    assert case["balance"]["paid"] == 0 and case["balance"]["remaining"] == 124900
    # A stage change is not a status change: no new event.
    assert [e["to"] for e in case["events"]] == ["pending", "submitted", "open"]


# --- after the handoff ---------------------------------------------------------

def test_direct_payment_arrives_as_a_directpayment_action(rig, tenant):
    case, inv = open_case(rig, tenant)
    r = rig.api.post(f"/v1/collection-cases/{case['id']}/payments", tenant,
                     json={"kind": "payment", "amount": 25050, "paid_on": yesterday(), "reference": "BANKREF-88921"})
    assert r.status_code == 201, r.text
    pay = r.json()
    assert pay["forwarded"] is False
    r = rig.api.post(f"/v1/collection-cases/{case['id']}/payments", tenant,
                     json={"kind": "credit_note", "amount": 1, "paid_on": yesterday()})
    assert r.status_code == 201, r.text
    note = r.json()

    case = wait_case(rig.api, tenant, case["id"], lambda c: all(p["forwarded"] for p in c["payments"]),
                     what="payments forwarded")
    assert [p["id"] for p in case["payments"]] == [pay["id"], note["id"]]
    acts = sim_invoice(rig.sim, tenant, inv["invoiceNumber"])["actions"]
    assert [a["code"] for a in acts] == ["DIRECTPAYMENT", "DIRECTPAYMENT"], acts
    a = acts[0]
    assert dec(a["amount"]) == Decimal("250.50"), a
    assert (a["currency"], a["paymentDate"], a["reference"], a["paymentMethod"]) == \
        ("NOK", yesterday(), "BANKREF-88921", "PAYMENT"), a
    assert dec(acts[1]["amount"]) == Decimal("0.01") and acts[1]["paymentMethod"] == "CREDIT_NOTE", acts[1]
    bal = sim_invoice(rig.sim, tenant, inv["invoiceNumber"])["balance"]
    assert dec(bal["paidAmount"]) == Decimal("250.51"), bal

    # Our balance counted them at once; the agency's figures, synced since,
    # never count them a second time.
    sync_rounds_pass(rig, tenant)
    b = detail(rig.api, tenant, case["id"])["balance"]
    assert (b["paid"], b["credited"], b["remaining"]) == (25050, 1, 124900 - 25051), b


def sync_rounds_pass(rig, tenant, rounds=2):
    """Waits until `rounds` more sync rounds have run for the tenant: each
    ends with its settlements call, counted at the simulator."""
    key = agency_key(tenant)

    def calls():
        return rig.sim.stats(key)["calls"].get("/api/v1/partner/settlements", {}).get("ok", 0)

    start = calls()
    wait_until(lambda: calls() >= start + rounds, timeout=DEADLINE, interval=0.1)


def test_direct_payment_in_a_currency_without_minor_units(rig, tenant):
    body = valid_case(currency="JPY", original_amount=15000, outstanding_amount=15000, fees=500,
                      reminders=[{"sent_on": (today() - dt.timedelta(days=30)).isoformat(), "fee": 500}])
    case, inv = open_case(rig, tenant, body)
    assert dec(inv["request"]["invoice"]["amounts"]["totalAmount"]) == Decimal("15000")
    r = rig.api.post(f"/v1/collection-cases/{case['id']}/payments", tenant,
                     json={"amount": 1234, "paid_on": yesterday()})
    assert r.status_code == 201, r.text
    wait_case(rig.api, tenant, case["id"], lambda c: c["payments"][0]["forwarded"], what="payment forwarded")
    acts = sim_invoice(rig.sim, tenant, inv["invoiceNumber"])["actions"]
    assert [(a["code"], dec(a["amount"]), a["currency"]) for a in acts] == \
        [("DIRECTPAYMENT", Decimal("1234"), "JPY")], acts


def test_actions_arrive_in_order_and_the_status_follows(rig, tenant):
    case, inv = open_case(rig, tenant)
    cid = case["id"]
    posted = []
    for body in ({"type": "comment", "comment": "first, before the pause"},
                 {"type": "pause", "comment": "debtor called"},
                 {"type": "comment", "comment": "second, after the pause"}):
        r = rig.api.post(f"/v1/collection-cases/{cid}/actions", tenant, json=body)
        assert r.status_code == 202, r.text
        posted.append(r.json())
    assert [a["type"] for a in posted] == ["comment", "pause", "comment"]

    case = wait_case(rig.api, tenant, cid, lambda c: c["status"] == "paused", what="paused")
    assert case["agency_status"] == "PAUSED"
    assert [(a["id"], a["state"]) for a in case["actions"]] == [(a["id"], "sent") for a in posted]
    acts = sim_invoice(rig.sim, tenant, inv["invoiceNumber"])["actions"]
    assert [(a["code"], a["comment"]) for a in acts] == [
        ("COMMENT", "first, before the pause"), ("PAUSE", "debtor called"),
        ("COMMENT", "second, after the pause")], acts
    assert [e["to"] for e in case["events"]][-1] == "paused" and case["events"][-1]["source"] == "sync"

    # Paused: pausing again makes no sense; resuming does, and the agency's
    # ACTIVE brings the case back to open.
    assert_problem(rig.api.post(f"/v1/collection-cases/{cid}/actions", tenant, json={"type": "pause"}),
                   409, "invalid_state")
    r = rig.api.post(f"/v1/collection-cases/{cid}/actions", tenant, json={"type": "resume"})
    assert r.status_code == 202, r.text
    case = wait_case(rig.api, tenant, cid, lambda c: c["status"] == "open" and c["agency_status"] == "ACTIVE",
                     what="open again")
    acts = sim_invoice(rig.sim, tenant, inv["invoiceNumber"])["actions"]
    assert [a["code"] for a in acts] == ["COMMENT", "PAUSE", "COMMENT", "RESUME"]


# --- the end: paid and settled --------------------------------------------------

def test_paid_then_settled_with_the_allocation_linked(rig, tenant):
    case, inv = open_case(rig, tenant)
    key = agency_key(tenant)
    rig.sim.advance(key, inv["invoiceNumber"], "paid")
    # Status and payments come from separate agency calls; both land within a sync.
    case = wait_case(rig.api, tenant, case["id"],
                     lambda c: c["status"] == "paid" and c["balance"]["remaining"] == 0, what="paid in full")
    assert case["closed_at"] is not None and case["agency_status"] == "PAID"
    assert case["events"][-1]["from"] == "open" and case["events"][-1]["source"] == "sync"
    b = case["balance"]
    # The debtor paid the agency in full; paid never exceeds the claim.
    assert b["paid"] + b["credited"] <= b["original"] and b["remaining"] == 0, b
    # Paid is closed: no more payments or actions.
    assert_problem(rig.api.post(f"/v1/collection-cases/{case['id']}/payments", tenant,
                                json={"amount": 100, "paid_on": yesterday()}), 409, "invalid_state")
    assert_problem(rig.api.post(f"/v1/collection-cases/{case['id']}/actions", tenant,
                                json={"type": "comment", "comment": "late"}), 409, "invalid_state")
    r = rig.api.get("/v1/collection-cases?state=closed", tenant)
    assert [c["id"] for c in r.json()["data"]] == [case["id"]]

    assert rig.sim.settle(key)["settlements_created"] == 1
    agency = rig.sim.stats(key)
    assert agency["settlements"] == 1

    def listed():
        r = rig.api.get("/v1/settlements", tenant)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    data = wait_until(listed, timeout=DEADLINE, interval=0.2)
    assert len(data) == 1, data
    s = data[0]
    assert s["id"].startswith("st_") and s["currency"] == "NOK"
    assert [a["case_id"] for a in s["allocations"]] == [case["id"]], s
    al = s["allocations"][0]
    assert al["invoice_number"] == inv["invoiceNumber"]
    assert al["amount"] == s["amount"] and s["amount"] > 0, s
    # The agency's own settlement, imported once.
    agency_settlement = rig.sim.http.get(rig.sim.url + "/api/v1/partner/settlements",
                                         headers={"X-Api-Key": key}, timeout=10).json()["settlements"]
    assert [x["settlementId"] for x in agency_settlement] == [s["agency_settlement_id"]]
    assert dec(agency_settlement[0]["settlementAmount"]) * 100 == s["amount"]

    r = rig.api.get(f"/v1/settlements/{s['id']}", tenant)
    assert r.status_code == 200, r.text
    assert r.json() == s
    # The case shows the allocation that paid it out.
    case = wait_case(rig.api, tenant, case["id"], lambda c: c["settlements"], what="settlement on the case")
    assert [(x["settlement_id"], x["allocated_amount"]) for x in case["settlements"]] == [(s["id"], al["amount"])]

    # Applying the same agency data again (more sync rounds) changes nothing.
    sync_rounds_pass(rig, tenant)
    assert listed() == data
    again = detail(rig.api, tenant, case["id"])
    assert again["events"] == case["events"] and again["balance"] == case["balance"]
    assert again["updated_at"] == case["updated_at"]
    # Another tenant sees none of it.
    other = "t_" + uuid.uuid4().hex[:10]
    rig.api.configure(other)
    assert rig.api.get("/v1/settlements", other).json()["data"] == []
    assert rig.api.get(f"/v1/settlements/{s['id']}", other).status_code == 404


# --- a batch --------------------------------------------------------------------

def test_a_batch_of_50_reaches_the_agency_exactly_once(rig, tenant):
    numbers = [f"B{i:03d}-{uuid.uuid4().hex[:8]}" for i in range(50)]
    ids = {create_case(rig.api, tenant, valid_case(n))["id"]: n for n in numbers}

    def all_open():
        cases = list_all(rig.api, tenant, "limit=200")
        return cases if len(cases) == 50 and all(c["status"] == "open" for c in cases) else None

    cases = wait_until(all_open, timeout=30, interval=0.25)
    st = rig.sim.stats(agency_key(tenant))
    assert (st["invoices_received"], st["invoice_creations"], st["duplicates_created"],
            st["duplicates_rejected"]) == (50, 50, 0, 0), st
    invs = {i["invoiceNumber"]: i for i in rig.sim.invoices(agency_key(tenant))}
    assert sorted(invs) == sorted(numbers)
    assert all(i["creations"] == 1 for i in invs.values())
    for c in cases:
        assert c["invoice"]["number"] == ids[c["id"]]
        assert c["agency_case_id"] == invs[ids[c["id"]]]["caseId"], c
