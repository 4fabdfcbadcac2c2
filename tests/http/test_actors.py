# SPDX-License-Identifier: MIT
"""Who did it: every change made through the API records the token's `sub`
and the request's id (the X-Request-Id the client sent) as its `actor`, and
the case detail and the events feed show it: the first event, a payment, an
action, a status change (a withdrawal of a case the agency never had) and
each event of the feed. Through the validating proxy (the `api` fixture)."""
import datetime as dt
import uuid

from conftest import case_detail, mint, today, valid_case


def yesterday_iso():
    return (today() - dt.timedelta(days=1)).isoformat()


def feed(api, tenant, case_id):
    r = api.get(f"/v1/events?case_id={case_id}&limit=200", tenant)
    assert r.status_code == 200, r.text
    assert r.json()["has_more"] is False
    return r.json()["data"]


def test_every_change_through_the_api_names_its_actor(api, tenant):
    sub = "support-" + uuid.uuid4().hex[:6] + "@acme"
    tok = mint(tenant, "cases:read cases:write", sub=sub)

    def as_support(rid):
        return {"Authorization": "Bearer " + tok, "X-Request-Id": rid}

    def actor(rid):
        return {"sub": sub, "request_id": rid}

    tag = uuid.uuid4().hex[:8]
    rid = {k: f"req-{k}-{tag}" for k in ("create", "pay", "comment", "withdraw")}
    r = api.post("/v1/collection-cases", json=valid_case(), headers=as_support(rid["create"]))
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-Id"] == rid["create"]
    case_id = r.json()["id"]
    # The session's service has no agency: the case stays pending, so the
    # withdrawal below happens here, a status change made through the API.
    r = api.post(f"/v1/collection-cases/{case_id}/payments", headers=as_support(rid["pay"]),
                 json={"amount": 10000, "paid_on": yesterday_iso(), "reference": "BANK-" + tag})
    assert r.status_code == 201, r.text
    assert r.json()["actor"] == actor(rid["pay"])
    payment_id = r.json()["id"]
    r = api.post(f"/v1/collection-cases/{case_id}/actions", headers=as_support(rid["comment"]),
                 json={"type": "comment", "comment": "called the debtor"})
    assert r.status_code == 202, r.text
    assert r.json()["actor"] == actor(rid["comment"])
    r = api.post(f"/v1/collection-cases/{case_id}/actions", headers=as_support(rid["withdraw"]),
                 json={"type": "withdraw"})
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "done", r.json()

    c = case_detail(api, tenant, case_id)
    assert c["status"] == "withdrawn"
    assert [(e["from"], e["to"], e["source"], e["actor"]) for e in c["events"]] == [
        (None, "pending", "api", actor(rid["create"])),
        ("pending", "withdrawn", "api", actor(rid["withdraw"])),
    ]
    assert [(p["id"], p["actor"]) for p in c["payments"]] == [(payment_id, actor(rid["pay"]))]
    assert [(a["type"], a["actor"]) for a in c["actions"]] == [
        ("comment", actor(rid["comment"])), ("withdraw", actor(rid["withdraw"])),
    ]

    events = feed(api, tenant, case_id)
    assert [(e["type"], e["actor"]) for e in events] == [
        ("case.created", actor(rid["create"])),
        ("case.payment_received", actor(rid["pay"])),
        ("case.status_changed", actor(rid["withdraw"])),
    ]
    # GET /v1/events/{id} shows the same actor.
    r = api.get(f"/v1/events/{events[1]['id']}", tenant)
    assert r.status_code == 200, r.text
    assert r.json()["actor"] == actor(rid["pay"])


def test_a_token_without_sub_records_a_null_sub_and_the_request_id(api, tenant):
    rid = "req-nosub-" + uuid.uuid4().hex[:8]
    r = api.post("/v1/collection-cases", tenant, json=valid_case(), headers={"X-Request-Id": rid})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    r = api.post(f"/v1/collection-cases/{case_id}/actions", tenant, json={"type": "comment", "comment": "x"},
                 headers={"X-Request-Id": rid + "-2"})
    assert r.status_code == 202, r.text
    c = case_detail(api, tenant, case_id)
    assert c["events"][0]["actor"] == {"sub": None, "request_id": rid}
    assert c["actions"][0]["actor"] == {"sub": None, "request_id": rid + "-2"}
    assert feed(api, tenant, case_id)[0]["actor"] == {"sub": None, "request_id": rid}
