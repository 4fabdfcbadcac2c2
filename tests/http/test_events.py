# SPDX-License-Identifier: MIT
"""The change feed (GET /v1/events): every change an event, written with the
change itself, dense sequence per case, commit order under concurrent
writers, tenant isolation, no personal data."""
import json
import threading
import uuid

import pytest

from conftest import (agency_key, agency_rig, assert_problem, case_detail, create_case, mint, new_tenant,
                      valid_case, wait_until)


def feed(api, tenant, query=""):
    """Every event of the tenant's feed, following next_cursor."""
    out, after = [], None
    for _ in range(1000):
        q = query + ("&" if query and after else "") + (f"after={after}" if after else "")
        r = api.get("/v1/events" + ("?" + q if q else ""), tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if page["data"]:
            assert page["next_cursor"]
            after = page["next_cursor"]
        if not page["has_more"]:
            return out
    raise AssertionError("the feed did not end")


def test_a_create_payment_and_withdrawal_are_events_in_order(api, tenant):
    case = create_case(api, tenant)
    cid = case["id"]
    assert api.post(f"/v1/collection-cases/{cid}/payments", tenant,
                    json={"amount": 1000, "paid_on": "2026-01-09", "reference": "B-1"}).status_code == 201
    assert api.post(f"/v1/collection-cases/{cid}/actions", tenant, json={"type": "withdraw"}).status_code == 202
    events = feed(api, tenant)
    assert [e["type"] for e in events] == ["case.created", "case.payment_received", "case.status_changed"]
    assert [e["sequence"] for e in events] == [1, 2, 3]
    assert all(e["case_id"] == cid and e["id"].startswith("evt_") for e in events)
    created, paid, withdrawn = events
    assert created["data"]["status"] == "pending" and created["data"]["balance"]["remaining"] == 124900
    assert paid["data"]["payment"]["amount"] == 1000 and paid["data"]["payment"]["source"] == "api"
    assert paid["data"]["balance"]["remaining"] == 123900
    assert withdrawn["data"]["previous_status"] == "pending" and withdrawn["data"]["status"] == "withdrawn"
    assert withdrawn["data"]["source"] == "api"
    for e in events:
        assert e["actor"]["request_id"].startswith("req_") or e["actor"]["request_id"]
    # One event by id; the feed's own JSON.
    r = api.get(f"/v1/events/{paid['id']}", tenant)
    assert r.status_code == 200 and r.json() == paid


def test_no_personal_data_in_events(api, tenant):
    body = valid_case()
    create_case(api, tenant, body)
    text = json.dumps(feed(api, tenant))
    for secret in ("Kari Nordmann", "kari@example.no", "+4791234567", "91234567", "Storgata", "1985-04-12"):
        assert secret not in text, secret


def test_a_refused_change_writes_no_event(api, tenant):
    case = create_case(api, tenant)
    cid = case["id"]
    r = api.post(f"/v1/collection-cases/{cid}/payments", tenant, json={"amount": 999999999, "paid_on": "2026-01-09"})
    assert r.status_code == 422
    r = api.post(f"/v1/collection-cases/{cid}/actions", tenant, json={"type": "pause"})
    assert r.status_code == 409
    assert [e["type"] for e in feed(api, tenant)] == ["case.created"]


def test_filters_and_cursor(api, tenant):
    a, b = create_case(api, tenant), create_case(api, tenant)
    api.post(f"/v1/collection-cases/{a['id']}/payments", tenant, json={"amount": 5, "paid_on": "2026-01-09"})
    assert [e["case_id"] for e in feed(api, tenant, f"case_id={b['id']}")] == [b["id"]]
    only = feed(api, tenant, "type=case.payment_received")
    assert [(e["type"], e["case_id"]) for e in only] == [("case.payment_received", a["id"])]
    both = feed(api, tenant, "type=case.created,case.payment_received&limit=1")
    assert len(both) == 3
    # A page of 1 after the first event is the second.
    r = api.get("/v1/events?limit=1", tenant).json()
    assert r["has_more"] and len(r["data"]) == 1
    nxt = api.get(f"/v1/events?limit=1&after={r['next_cursor']}", tenant).json()
    assert nxt["data"][0]["id"] == feed(api, tenant)[1]["id"]
    last = feed(api, tenant)[-1]
    tail = api.get("/v1/events?limit=200", tenant).json()
    end = api.get(f"/v1/events?after={tail['next_cursor']}", tenant).json()
    # An empty page gives back the cursor it was asked after: a poller keeps it.
    assert end == {"data": [], "has_more": False, "next_cursor": tail["next_cursor"]}
    assert tail["data"][-1]["id"] == last["id"]
    assert tail["data"][-1]["id"] == last["id"]


@pytest.mark.parametrize("query, param", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"), ("after=nope", "after"),
    ("type=case.nothing", "type"), ("type=webhook.test", "type"), ("type=", "type"), ("case_id=42", "case_id"),
    ("color=red", "color"), ("limit=1&limit=2", "limit"),
])
def test_bad_parameters_are_400(api, tenant, query, param):
    p = assert_problem(api.get("/v1/events?" + query, tenant), 400, "invalid_parameter")
    assert p["parameter"] == param if "parameter" in p else param in p.get("detail", "")


def test_tenants_see_only_their_events(api):
    a, b = new_tenant(api), new_tenant(api)
    case = create_case(api, a)
    [ev] = feed(api, a)
    assert feed(api, b) == []
    assert_problem(api.get(f"/v1/events/{ev['id']}", b), 404, "not_found")
    assert feed(api, b, f"case_id={case['id']}") == []
    assert_problem(api.get("/v1/events/evt_01JD8ZK5V3Q4N7M2X9R6T1W0YB", a), 404, "not_found")


def test_the_feed_needs_cases_read(api, tenant):
    tok = mint(tenant, "cases:write")
    r = api.get("/v1/events", headers={"Authorization": "Bearer " + tok})
    assert_problem(r, 403, "forbidden")


def test_the_actor_names_the_token_subject(api, tenant):
    tok = mint(tenant, "cases:read cases:write", sub="support@acme")
    r = api.post("/v1/collection-cases", json=valid_case(), headers={"Authorization": "Bearer " + tok,
                                                                      "X-Request-Id": "req-actor-1"})
    assert r.status_code == 201, r.text
    assert r.json()["events"][0]["actor"] == {"sub": "support@acme", "request_id": "req-actor-1"}
    [ev] = feed(api, tenant)
    assert ev["actor"] == {"sub": "support@acme", "request_id": "req-actor-1"}
    assert case_detail(api, tenant, r.json()["id"])["events"][0]["actor"]["sub"] == "support@acme"


def test_pollers_see_every_event_once_in_order(direct):
    """4 pollers following the feed while 8 writers create and pay cases."""
    import requests
    t = "t_feed_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    auth = {"Authorization": "Bearer " + direct.token(t)}
    writers_done = threading.Event()
    errors = []

    def writer(i):
        s = requests.Session()
        for n in range(10):
            r = s.post(direct.base + "/v1/collection-cases", json=valid_case(), headers=auth, timeout=30)
            if r.status_code != 201:
                errors.append(r.text)
                continue
            s.post(direct.base + f"/v1/collection-cases/{r.json()['id']}/payments",
                   json={"amount": 10 + n, "paid_on": "2026-01-09"}, headers=auth, timeout=30)

    seen = [[] for _ in range(4)]

    def poller(i):
        s, after = requests.Session(), None
        while True:
            done = writers_done.is_set()
            q = "?limit=7" + (f"&after={after}" if after else "")
            page = s.get(direct.base + "/v1/events" + q, headers=auth, timeout=30).json()
            seen[i] += [e["id"] for e in page["data"]]
            if page["next_cursor"]:
                after = page["next_cursor"]
            if done and not page["has_more"]:
                return

    ws = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    ps = [threading.Thread(target=poller, args=(i,)) for i in range(4)]
    for th in ps + ws:
        th.start()
    for th in ws:
        th.join(120)
    writers_done.set()
    for th in ps:
        th.join(120)
    assert not errors, errors[:3]
    everything = [e["id"] for e in feed(direct, t)]
    assert len(everything) == 160  # 80 creates + 80 payments
    for ids in seen:
        assert ids == everything  # each once, in commit order


def test_agency_changes_are_events():
    """A case the simulator opens and collects: status, stage and an agency
    payment, each an event of source sync/forwarder with no actor."""
    with agency_rig() as rig:
        t = new_tenant(rig.api)
        case = create_case(rig.api, t)
        cid = case["id"]
        wait_until(lambda: case_detail(rig.api, t, cid)["status"] == "open", timeout=20)
        rig.sim.advance(agency_key(t), case["invoice"]["number"], "collection")
        rig.sim.advance(agency_key(t), case["invoice"]["number"], "payment", amount=200)  # NOK 200.00
        wait_until(lambda: any(p["source"] == "agency" for p in case_detail(rig.api, t, cid)["payments"]),
                   timeout=20)
        events = feed(rig.api, t)
        types = [e["type"] for e in events]
        assert types[0] == "case.created" and "case.status_changed" in types
        assert "case.stage_changed" in types and "case.payment_received" in types
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
        got = [e for e in events if e["type"] == "case.payment_received"][0]
        assert got["data"]["payment"]["source"] == "agency" and got["actor"] is None
        assert got["data"]["payment"]["amount"] == 20000
        moves = [e for e in events if e["type"] == "case.status_changed"]
        assert all(e["data"]["source"] in ("forwarder", "sync") and e["actor"] is None for e in moves)
        detail = case_detail(rig.api, t, cid)
        assert [p["source"] for p in detail["payments"]] == ["agency"]
        assert detail["payments"][0]["applied"] == 20000
