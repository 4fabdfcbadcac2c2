# SPDX-License-Identifier: MIT
"""After the handoff, through the validating proxy: direct payments and credit
notes, actions, retry, settlements, and tenant isolation on those routes.
Rows the agency side would produce (a failed case, an imported settlement)
are written straight into the service's database."""
import contextlib
import datetime as dt
import random
import uuid

import pytest

from conftest import DbConn, assert_problem, create_case, field_errors, new_tenant, today, valid_case

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def yesterday():
    return (today() - dt.timedelta(days=1)).isoformat()


@contextlib.contextmanager
def db(service):
    """A second connection to the running service's database (SQLite in WAL: safe beside it)."""
    con = DbConn(service.db)
    try:
        yield con
    finally:
        con.close()


def detail(api, tenant, case_id):
    r = api.get(f"/v1/collection-cases/{case_id}", tenant)
    assert r.status_code == 200, r.text
    return r.json()


def pay(api, tenant, case_id, **body):
    return api.post(f"/v1/collection-cases/{case_id}/payments", tenant, json=body)


def act(api, tenant, case_id, **body):
    return api.post(f"/v1/collection-cases/{case_id}/actions", tenant, json=body)


# --- payments -----------------------------------------------------------------

def test_payment_is_201_and_counts_in_the_balance_at_once(api, tenant):
    case = create_case(api, tenant)
    r = pay(api, tenant, case["id"], kind="payment", amount=25000, paid_on=yesterday(),
            reference="BANKREF-88921")
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["id"].startswith("pay_") and len(p["id"]) == 30
    assert (p["kind"], p["amount"], p["paid_on"], p["reference"], p["forwarded"]) == \
        ("payment", 25000, yesterday(), "BANKREF-88921", False)
    # A credit note, without a reference.
    r = pay(api, tenant, case["id"], kind="credit_note", amount=900, paid_on=yesterday())
    assert r.status_code == 201, r.text
    assert r.json()["reference"] is None
    d = detail(api, tenant, case["id"])
    assert d["balance"]["paid"] == 25000
    assert d["balance"]["credited"] == 900
    assert d["balance"]["remaining"] == 124900 - 25900
    assert [x["id"] for x in d["payments"]] == [p["id"], r.json()["id"]]
    assert d["payments"][0] == p


def test_payment_kind_defaults_to_payment(api, tenant):
    case = create_case(api, tenant)
    r = pay(api, tenant, case["id"], amount=100, paid_on=today().isoformat())
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "payment"


def test_payment_above_the_remaining_balance_is_422(api, tenant):
    case = create_case(api, tenant)
    assert pay(api, tenant, case["id"], amount=124000, paid_on=yesterday()).status_code == 201
    r = pay(api, tenant, case["id"], amount=901, paid_on=yesterday())
    assert field_errors(r) == {("/amount", "invalid_amount")}
    assert "900" in r.json()["errors"][0]["detail"]
    assert pay(api, tenant, case["id"], amount=900, paid_on=yesterday()).status_code == 201
    assert detail(api, tenant, case["id"])["balance"]["remaining"] == 0


def test_payment_in_the_future_is_422(api, tenant):
    case = create_case(api, tenant)
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    r = pay(api, tenant, case["id"], amount=100, paid_on=tomorrow)
    assert field_errors(r) == {("/paid_on", "invalid_date")}


@pytest.mark.parametrize("body, errors", [
    ({"amount": "100", "paid_on": "2026-01-01"}, {("/amount", "invalid_type")}),
    ({"amount": 10.5, "paid_on": "2026-01-01"}, {("/amount", "invalid_type")}),
    ({"amount": 0, "paid_on": "2026-01-01"}, {("/amount", "invalid_amount")}),
    ({"amount": 10**13 + 1, "paid_on": "2026-01-01"}, {("/amount", "invalid_amount")}),
    ({"paid_on": "2026-02-30"}, {("/amount", "required"), ("/paid_on", "invalid_date")}),
    ({"amount": 1, "kind": "refund"}, {("/kind", "invalid_value"), ("/paid_on", "required")}),
    ({"amount": 1, "paid_on": "2026-01-01", "reference": "R" * 101}, {("/reference", "too_long")}),
    ({"amount": 1, "paid_on": 20260101, "reference": 5},
     {("/paid_on", "invalid_type"), ("/reference", "invalid_type")}),
])
def test_payment_body_errors_all_at_once(api, tenant, body, errors):
    case = create_case(api, tenant)
    assert field_errors(pay(api, tenant, case["id"], **body)) == errors
    assert detail(api, tenant, case["id"])["payments"] == []


def test_payment_on_a_withdrawn_case_is_409(api, tenant):
    case = create_case(api, tenant)
    assert act(api, tenant, case["id"], type="withdraw").status_code == 202
    r = pay(api, tenant, case["id"], amount=100, paid_on=yesterday())
    assert "withdrawn" in assert_problem(r, 409, "invalid_state")["detail"]


def test_payment_malformed_body_is_400(api, direct, tenant):
    # Straight to the service: the proxy answers unparsable JSON itself.
    case = create_case(api, tenant)
    r = direct.post(f"/v1/collection-cases/{case['id']}/payments", tenant, data=b"{\"amount\": 1,",
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed_json")


# --- actions ------------------------------------------------------------------

def test_comment_is_202_and_listed_in_the_detail(api, tenant):
    case = create_case(api, tenant)
    r = act(api, tenant, case["id"], type="comment", comment="The debtor called.")
    assert r.status_code == 202, r.text
    a = r.json()
    assert a["id"].startswith("act_")
    assert (a["type"], a["comment"], a["state"]) == ("comment", "The debtor called.", "pending")
    d = detail(api, tenant, case["id"])
    assert d["actions"] == [a]
    assert d["status"] == "pending", "actions wait behind a pending case"


def test_comment_length_counts_characters_not_bytes(api, tenant):
    case = create_case(api, tenant)
    ok = act(api, tenant, case["id"], type="comment", comment="ø" * 300)
    assert ok.status_code == 202, ok.text
    assert ok.json()["comment"] == "ø" * 300
    r = act(api, tenant, case["id"], type="comment", comment="x" * 301)
    assert field_errors(r) == {("/comment", "too_long")}


@pytest.mark.parametrize("body, errors", [
    ({}, {("/type", "required")}),
    ({"type": "escalate"}, {("/type", "invalid_value")}),
    ({"type": 3, "comment": ["x"]}, {("/type", "invalid_type"), ("/comment", "invalid_type")}),
])
def test_action_body_errors(api, tenant, body, errors):
    case = create_case(api, tenant)
    assert field_errors(act(api, tenant, case["id"], **body)) == errors


@pytest.mark.parametrize("kind", ["resume", "pause", "dispute"])
def test_status_actions_on_a_pending_case_are_409(api, tenant, kind):
    case = create_case(api, tenant)
    p = assert_problem(act(api, tenant, case["id"], type=kind), 409, "invalid_state")
    assert "pending" in p["detail"]


def test_resume_on_an_open_case_is_409_pause_is_202(api, tenant, service):
    case = create_case(api, tenant)
    with db(service) as con:
        con.execute("UPDATE cases SET status = 'open' WHERE id = ?", (case["id"],))
    assert_problem(act(api, tenant, case["id"], type="resume"), 409, "invalid_state")
    r = act(api, tenant, case["id"], type="pause")
    assert r.status_code == 202, r.text
    assert detail(api, tenant, case["id"])["status"] == "open", "the agency reports the pause"


def test_withdraw_of_a_pending_case_is_withdrawn_at_once(api, tenant):
    case = create_case(api, tenant)
    assert act(api, tenant, case["id"], type="comment", comment="first").status_code == 202
    r = act(api, tenant, case["id"], type="withdraw", comment="Paid to us directly.")
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "done"
    d = detail(api, tenant, case["id"])
    assert d["status"] == "withdrawn"
    assert d["closed_at"] is not None
    last = d["events"][-1]
    assert (last["from"], last["to"], last["source"]) == ("pending", "withdrawn", "api")
    assert [a["state"] for a in d["actions"]] == ["cancelled", "done"]
    # Withdrawn is closed: no more actions, and the invoice may be sent again.
    assert_problem(act(api, tenant, case["id"], type="comment", comment="x"), 409, "invalid_state")
    again = create_case(api, tenant, body=valid_case(case["invoice"]["number"]))
    assert again["id"] != case["id"]


# --- retry --------------------------------------------------------------------

def test_retry_of_a_case_that_did_not_fail_is_409(api, tenant):
    case = create_case(api, tenant)
    r = api.post(f"/v1/collection-cases/{case['id']}/retry", tenant)
    assert "pending" in assert_problem(r, 409, "invalid_state")["detail"]


def test_retry_of_a_failed_case_is_202_pending(api, tenant, service):
    case = create_case(api, tenant)
    with db(service) as con:
        con.execute("UPDATE cases SET status = 'failed' WHERE id = ?", (case["id"],))
        con.execute("UPDATE outbox SET state = 'failed', attempts = 8 WHERE case_id = ?", (case["id"],))
    r = api.post(f"/v1/collection-cases/{case['id']}/retry", tenant)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    assert "events" not in r.json()
    d = detail(api, tenant, case["id"])
    last = d["events"][-1]
    assert (last["from"], last["to"], last["source"]) == ("failed", "pending", "api")
    with db(service) as con:
        row = con.execute("SELECT state, attempts FROM outbox WHERE case_id = ? AND kind = 'create'",
                          (case["id"],)).fetchone()
    assert row[0] in ("pending", "sending", "done") and (row[0] != "pending" or row[1] == 0)
    assert_problem(api.post(f"/v1/collection-cases/{case['id']}/retry", tenant), 409, "invalid_state")


# --- settlements --------------------------------------------------------------

def test_settlements_empty_for_a_tenant_with_none(api, tenant):
    r = api.get("/v1/settlements", tenant)
    assert r.status_code == 200, r.text
    assert r.json() == {"data": [], "has_more": False, "next_cursor": None}
    unconfigured = "t_" + uuid.uuid4().hex[:10]
    r = api.get("/v1/settlements", unconfigured)
    assert r.status_code == 200 and r.json()["data"] == []


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
    ("cursor=nope", "cursor"), ("status=open", "status"),
])
def test_settlements_bad_parameters_are_400(api, tenant, query, param):
    r = api.get("/v1/settlements?" + query, tenant)
    assert assert_problem(r, 400, "invalid_parameter")["parameter"] == param


def insert_settlement(service, tenant, agency_id, date, allocations):
    """A settlement as the sync loop would import it; returns our id."""
    sid = "st_01" + "".join(random.choice(CROCKFORD) for _ in range(24))
    with db(service) as con:
        seq = con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM settlements WHERE tenant = ?",
                          (tenant,)).fetchone()[0]
        con.execute("INSERT INTO settlements (tenant, id, seq, agency_settlement_id, settlement_date,"
                    " agency, remittance_reference, amount, currency, created_at)"
                    " VALUES (?, ?, ?, ?, ?, 'Confirma Finance', NULL, ?, 'NOK',"
                    " '2026-03-02T06:00:00.000Z')",
                    (tenant, sid, seq, agency_id, date, sum(a[2] for a in allocations)))
        for pos, (alloc_id, case_id, amount) in enumerate(allocations):
            con.execute("INSERT INTO settlement_allocations (settlement_id, allocation_id, pos, case_id,"
                        " invoice_number, amount, allocation_date) VALUES (?, ?, ?, ?, 'INV', ?, ?)",
                        (sid, alloc_id, pos, case_id, amount, date))
    return sid


def test_settlements_list_get_and_case_detail(api, tenant, service):
    case = create_case(api, tenant)
    old = insert_settlement(service, tenant, "STL-1", "2026-03-02", [("AL-1", case["id"], 25000)])
    new = insert_settlement(service, tenant, "STL-2", "2026-03-09", [("AL-2", None, 500)])
    r = api.get("/v1/settlements?limit=1", tenant)
    assert r.status_code == 200, r.text
    page = r.json()
    assert [s["id"] for s in page["data"]] == [new]
    assert page["has_more"] is True
    r = api.get("/v1/settlements?limit=1&cursor=" + page["next_cursor"], tenant)
    page = r.json()
    assert [s["id"] for s in page["data"]] == [old]
    assert page["has_more"] is False and page["next_cursor"] is None
    s = page["data"][0]
    assert s["agency_settlement_id"] == "STL-1" and s["amount"] == 25000
    assert s["allocations"] == [{"allocation_id": "AL-1", "case_id": case["id"], "invoice_number": "INV",
                                 "amount": 25000, "allocation_date": "2026-03-02"}]
    r = api.get(f"/v1/settlements/{old}", tenant)
    assert r.status_code == 200 and r.json() == s
    assert detail(api, tenant, case["id"])["settlements"] == [
        {"settlement_id": old, "allocated_amount": 25000, "allocation_date": "2026-03-02"}]


# --- tenant isolation ---------------------------------------------------------

def test_another_tenants_case_is_404_on_every_new_route(api, tenant):
    case = create_case(api, tenant)
    other = new_tenant(api)
    cid = case["id"]
    assert_problem(pay(api, other, cid, amount=100, paid_on=yesterday()), 404, "not_found")
    assert_problem(act(api, other, cid, type="comment", comment="x"), 404, "not_found")
    assert_problem(act(api, other, cid, type="withdraw"), 404, "not_found")
    assert_problem(api.post(f"/v1/collection-cases/{cid}/retry", other), 404, "not_found")
    unknown = "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB"
    assert_problem(pay(api, tenant, unknown, amount=100, paid_on=yesterday()), 404, "not_found")
    assert_problem(api.post("/v1/collection-cases/junk/retry", tenant), 404, "not_found")
    d = detail(api, tenant, cid)
    assert d["status"] == "pending" and d["payments"] == [] and d["actions"] == []


def test_another_tenants_settlement_is_404(api, tenant, service):
    sid = insert_settlement(service, tenant, "STL-X", "2026-03-02", [])
    other = new_tenant(api)
    assert api.get(f"/v1/settlements/{sid}", tenant).status_code == 200
    assert_problem(api.get(f"/v1/settlements/{sid}", other), 404, "not_found")
    assert api.get("/v1/settlements", other).json()["data"] == []
    assert_problem(api.get("/v1/settlements/STL-X", tenant), 404, "not_found")


def test_new_routes_need_their_scopes(api, tenant):
    case = create_case(api, tenant)
    r = api.post(f"/v1/collection-cases/{case['id']}/payments", tenant, scope="cases:read",
                 json={"amount": 1, "paid_on": yesterday()})
    assert_problem(r, 403, "forbidden")
    r = api.post(f"/v1/collection-cases/{case['id']}/actions", tenant, scope="cases:read",
                 json={"type": "comment"})
    assert_problem(r, 403, "forbidden")
    assert_problem(api.get("/v1/settlements", tenant, scope="cases:write"), 403, "forbidden")
