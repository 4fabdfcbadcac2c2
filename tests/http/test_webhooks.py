# SPDX-License-Identifier: MIT
"""Webhook delivery end to end: the real binary delivers events to receivers
on loopback (tests/http/webhook_kit.py), signatures are checked by the npm
reference library `standardwebhooks`, and every API answer goes through Prism
(checked against openapi.yaml). Registration rules run against the session
service, whose SSRF guard is on; deliveries against a service of this module
with INKASSO_WEBHOOK_ALLOW_PRIVATE=1 and a retry schedule of seconds. Each
test uses its own tenant and receivers, so tests sharing a service cannot see
each other's deliveries. Only loopback addresses are ever connected to."""
import base64
import contextlib
import datetime as dt
import json
import re
import signal
import tempfile
import threading
import time
import types
import uuid

import pytest
import requests

from conftest import ON_PG, Api, Service, assert_problem, field_errors, prism_proxy, valid_case
from webhook_kit import Answer, Receiver, Verifier, redirect

SCHEDULE = "1s,1s"  # two retries: three attempts, then failed
HOOK_ENV = {
    "INKASSO_WEBHOOK_ALLOW_PRIVATE": "1",
    "INKASSO_WEBHOOK_RETRY_SCHEDULE": SCHEDULE,
    "INKASSO_WEBHOOK_TIMEOUT_MS": "5000",
    "INKASSO_WEBHOOK_WORKERS": "4",
}
SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")
# A host that never resolves (RFC 2606): endpoints registered against the
# guarded session service must not make inkasso connect anywhere.
NOWHERE = "https://hooks.example.invalid/inkasso"


# --- rigs and helpers ---------------------------------------------------------

@contextlib.contextmanager
def hook_rig(**env):
    """A service of its own (own temp DB) with HOOK_ENV plus env (a value of
    None removes the variable) behind its own Prism proxy; yields a namespace:
    service, api. The proxy survives restarts of the service (same port). A
    service still running at the end must stop with 0 on SIGTERM (under ASan:
    no leak)."""
    e = {**HOOK_ENV, **env}
    e = {k: v for k, v in e.items() if v is not None}
    with tempfile.TemporaryDirectory(prefix="inkasso-hooks-") as d:
        svc = Service(d, env=e)
        try:
            svc.start()
            with prism_proxy(svc.url) as base:
                yield types.SimpleNamespace(service=svc, api=Api(base))
            if svc.proc is not None:
                rc = svc.stop()
                assert rc == 0, f"inkasso exited {rc} on SIGTERM:\n{svc.read_log()[-4000:]}"
        finally:
            svc.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def hooks():
    with hook_rig() as rig:
        yield rig


@pytest.fixture(scope="module")
def short():
    """A 500 ms attempt timeout, and endpoints failing for 1 s disabled."""
    with hook_rig(INKASSO_WEBHOOK_TIMEOUT_MS="500", INKASSO_WEBHOOK_DISABLE_AFTER_S="1") as rig:
        yield rig


@pytest.fixture(scope="module")
def verifier():
    v = Verifier()
    yield v
    v.close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def fresh_tenant(api):
    t = "t_" + uuid.uuid4().hex[:10]
    api.configure(t)
    return t


def poll(fn, timeout=20.0, interval=0.1, what="condition"):
    """fn() until truthy (returns it); bounded."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s (last: {last!r})")


def register(api, tenant, url, types_=("*",), **extra):
    r = api.post("/v1/webhook-endpoints", tenant, json={"url": url, "event_types": list(types_), **extra})
    assert r.status_code == 201, r.text
    ep = r.json()
    assert r.headers["Location"] == "/v1/webhook-endpoints/" + ep["id"]
    return ep


def endpoint(api, tenant, ep_id):
    r = api.get(f"/v1/webhook-endpoints/{ep_id}", tenant)
    assert r.status_code == 200, r.text
    return r.json()


def attempts(api, tenant, ep_id, status=None):
    """The endpoint's whole attempt log, oldest first (the API pages newest first)."""
    out, cursor = [], None
    for _ in range(50):
        q = [f"status={status}"] if status else []
        q += [f"cursor={cursor}"] if cursor else []
        r = api.get(f"/v1/webhook-endpoints/{ep_id}/deliveries" + ("?" + "&".join(q) if q else ""), tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            return out[::-1]
        cursor = page["next_cursor"]
    raise AssertionError("the attempt log did not end")


def wait_attempts(api, tenant, ep_id, pred, timeout=20.0, what="attempt log"):
    """Polls the attempt log until pred(log) holds; returns the log."""
    return poll(lambda: (lambda log: log if pred(log) else None)(attempts(api, tenant, ep_id)), timeout, what=what)


def settled(log):
    """No attempt pending: the log will not change by itself."""
    return bool(log) and all(a["status"] != "pending" for a in log)


def case_events(api, tenant, case_id):
    r = api.get(f"/v1/events?case_id={case_id}", tenant)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def new_case(api, tenant, number=None):
    r = api.post("/v1/collection-cases", tenant, json=valid_case(number))
    assert r.status_code == 201, r.text
    return r.json()


def pay(api, tenant, case_id, amount, ref):
    r = api.post(f"/v1/collection-cases/{case_id}/payments", tenant,
                 json={"amount": amount, "paid_on": "2026-01-09", "reference": ref})
    assert r.status_code == 201, r.text


def body_of(req):
    return json.loads(req["body"])


def ids_of(reqs):
    return [r["headers"]["webhook-id"] for r in reqs]


def iso(t):
    """time.time() as the RFC 3339 UTC form the API uses."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- registration (the session service: guard on) ---------------------------

def test_create_shows_a_whsec_secret_once(api):
    t = fresh_tenant(api)
    ep = register(api, t, NOWHERE, ["case.created", "case.payment_received"], description="billing")
    assert SECRET_RE.match(ep["secret"]), ep["secret"]
    assert len(base64.b64decode(ep["secret"][len("whsec_"):])) == 32
    assert ep["id"].startswith("we_") and ep["enabled"] is True and ep["disabled_reason"] is None
    assert ep["url"] == NOWHERE and ep["event_types"] == ["case.created", "case.payment_received"]
    got = endpoint(api, t, ep["id"])
    assert "secret" not in got
    assert got == {k: v for k, v in ep.items() if k != "secret"}
    r = api.get("/v1/webhook-endpoints", t)
    assert r.status_code == 200 and [e["id"] for e in r.json()["data"]] == [ep["id"]]
    assert "secret" not in r.json()["data"][0] and ep["secret"] not in r.text
    # A second endpoint has another secret.
    assert register(api, t, NOWHERE + "/2")["secret"] != ep["secret"]


def test_a_tenant_has_at_most_16_endpoints(api):
    t = fresh_tenant(api)
    eps = [register(api, t, f"{NOWHERE}/{i}", ["case.created"]) for i in range(16)]
    r = api.post("/v1/webhook-endpoints", t, json={"url": NOWHERE + "/17", "event_types": ["case.created"]})
    assert_problem(r, 409, "limit_reached")
    assert len(api.get("/v1/webhook-endpoints?limit=100", t).json()["data"]) == 16
    assert api.delete(f"/v1/webhook-endpoints/{eps[0]['id']}", t).status_code == 204
    register(api, t, NOWHERE + "/17", ["case.created"])
    # Another tenant has its own 16.
    register(api, fresh_tenant(api), NOWHERE, ["case.created"])


@pytest.mark.parametrize("url", [
    "http://hooks.example.invalid/inkasso",  # plain http with the guard on
    "https://127.0.0.2/hooks",
    "https://[::1]/hooks",
    "https://0.0.0.0/hooks",
    "https://10.0.0.1/hooks",
    "https://192.168.1.1/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://localhost/hooks",
    "https://localhost:8443/hooks",
])
def test_create_refuses_a_non_https_or_private_url(api, url):
    t = fresh_tenant(api)
    r = api.post("/v1/webhook-endpoints", t, json={"url": url, "event_types": ["*"]})
    assert field_errors(r) == {("/url", "invalid_url")}, r.text
    # Nothing was stored; a PATCH to such a URL is refused the same way.
    assert api.get("/v1/webhook-endpoints", t).json()["data"] == []
    ep = register(api, t, NOWHERE)
    r = api.patch(f"/v1/webhook-endpoints/{ep['id']}", t, json={"url": url})
    assert field_errors(r) == {("/url", "invalid_url")}, r.text
    assert endpoint(api, t, ep["id"])["url"] == NOWHERE


@pytest.mark.parametrize("types_, pointer", [
    (["case.nope"], "/event_types/0"),
    (["case.created", "case.deleted"], "/event_types/1"),
    (["webhook.test"], "/event_types/0"),  # sent by POST .../test only, never subscribed to
    (["*", "case.created"], "/event_types/0"),
    ([], "/event_types"),
])
def test_create_refuses_unknown_event_types(api, types_, pointer):
    t = fresh_tenant(api)
    r = api.post("/v1/webhook-endpoints", t, json={"url": NOWHERE, "event_types": types_})
    assert (pointer, "invalid_value") in field_errors(r), r.text
    assert api.get("/v1/webhook-endpoints", t).json()["data"] == []


def test_every_endpoint_operation_needs_the_webhooks_scope(api):
    t = fresh_tenant(api)
    ep = register(api, t, NOWHERE)
    scope = "cases:read cases:write settings:write"
    base = f"/v1/webhook-endpoints/{ep['id']}"
    for method, path, body in [("POST", "/v1/webhook-endpoints", {"url": NOWHERE, "event_types": ["*"]}),
                               ("GET", "/v1/webhook-endpoints", None), ("GET", base, None),
                               ("PATCH", base, {"enabled": False}), ("DELETE", base, None),
                               ("POST", base + "/rotate-secret", None), ("POST", base + "/test", None),
                               ("GET", base + "/deliveries", None),
                               ("POST", base + "/recover", {"since": "2026-01-01T00:00:00Z"})]:
        r = api.call(method, path, t, scope=scope, json=body)
        assert_problem(r, 403, "forbidden")
    # Nothing changed.
    got = endpoint(api, t, ep["id"])
    assert got["enabled"] is True
    assert len(api.get("/v1/webhook-endpoints", t).json()["data"]) == 1


def test_another_tenant_cannot_see_or_touch_an_endpoint(api):
    owner, other = fresh_tenant(api), fresh_tenant(api)
    ep = register(api, owner, NOWHERE)
    base = f"/v1/webhook-endpoints/{ep['id']}"
    for method, path, body in [("GET", base, None), ("PATCH", base, {"enabled": False}), ("DELETE", base, None),
                               ("POST", base + "/rotate-secret", None), ("POST", base + "/test", None),
                               ("GET", base + "/deliveries", None),
                               ("POST", base + "/recover", {"since": "2026-01-01T00:00:00Z"})]:
        assert_problem(api.call(method, path, other, json=body), 404, "not_found")
    assert api.get("/v1/webhook-endpoints", other).json()["data"] == []
    got = endpoint(api, owner, ep["id"])
    assert got == {k: v for k, v in ep.items() if k != "secret"}  # not disabled, not rotated
    assert attempts(api, owner, ep["id"]) == []  # no test event was queued by the other tenant
    assert api.delete(base, owner).status_code == 204
    assert_problem(api.get(base, owner), 404, "not_found")


# --- delivery (the module's service: ALLOW_PRIVATE=1, schedule 1s,1s) --------

def test_a_created_case_is_delivered_signed_and_equal_to_the_feed(hooks, receiver, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    ep = register(api, t, receiver.url + "/hooks/inkasso?token=abc")
    case = new_case(api, t)
    [req] = receiver.wait_for(lambda rs: rs if rs else None)
    [ev] = case_events(api, t, case["id"])
    assert ev["type"] == "case.created"
    h = req["headers"]
    assert req["method"] == "POST" and req["path"] == "/hooks/inkasso?token=abc"
    assert h["content-type"].startswith("application/json")
    assert h["webhook-id"] == ev["id"]
    assert abs(int(h["webhook-timestamp"]) - req["at"]) <= 5
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", h["webhook-signature"]), h["webhook-signature"]
    assert verifier.verify(ep["secret"], h, req["body"]), verifier.last_error
    # The verifier is not a rubber stamp: a changed body or another secret fails.
    assert not verifier.verify(ep["secret"], h, req["body"].replace(b"case.created", b"case.createX"))
    assert not verifier.verify("whsec_" + base64.b64encode(b"k" * 32).decode(), h, req["body"])
    assert body_of(req) == ev
    r = api.get(f"/v1/events/{ev['id']}", t)
    assert r.status_code == 200 and body_of(req) == r.json()
    log = wait_attempts(api, t, ep["id"], settled)
    assert [(a["event_id"], a["attempt"], a["status"], a["status_code"], a["error"], a["next_attempt_at"])
            for a in log] == [(ev["id"], 1, "succeeded", 204, None, None)]
    assert log[0]["duration_ms"] >= 0


def test_an_endpoint_gets_only_the_types_it_subscribes_to(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver() as only_payments, Receiver() as everything:
        ep = register(api, t, only_payments.url, ["case.payment_received"])
        register(api, t, everything.url, ["*"])
        case = new_case(api, t)
        everything.wait_for(lambda rs: len(rs) >= 1)
        pay(api, t, case["id"], 1000, "B-1")
        [req] = only_payments.wait_for(lambda rs: rs if rs else None)
        assert body_of(req)["type"] == "case.payment_received" and body_of(req)["sequence"] == 2
        assert verifier.verify(ep["secret"], req["headers"], req["body"])
        everything.wait_for(lambda rs: len(rs) >= 2)
        assert [body_of(r)["type"] for r in everything.requests] == ["case.created", "case.payment_received"]
        # Per endpoint and case, events go out in sequence order: had case.created been
        # queued for this endpoint, it would have arrived before the payment.
        assert [body_of(r)["type"] for r in only_payments.requests] == ["case.payment_received"]
        assert [a["event_id"] for a in attempts(api, t, ep["id"])] == [req["headers"]["webhook-id"]]


def test_failed_attempts_are_retried_with_the_same_id_until_delivered(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver([Answer(500), Answer(500), Answer(204)]) as rcv:
        ep = register(api, t, rcv.url)
        case = new_case(api, t)
        reqs = rcv.wait_for(lambda rs: rs if len(rs) >= 3 else None, timeout=20)
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 3 and settled(l))
        [ev] = case_events(api, t, case["id"])
        assert ids_of(reqs) == [ev["id"]] * 3
        assert all(r["body"] == reqs[0]["body"] for r in reqs)
        assert all(verifier.verify(ep["secret"], r["headers"], r["body"]) for r in reqs)
        # The schedule's 1 s (±10% jitter) between attempts.
        gaps = [b["at"] - a["at"] for a, b in zip(reqs, reqs[1:])]
        assert all(0.85 <= g <= 6 for g in gaps), gaps
        assert [(a["attempt"], a["status"], a["status_code"], a["error"]) for a in log] == [
            (1, "failed", 500, "HTTP 500"), (2, "failed", 500, "HTTP 500"), (3, "succeeded", 204, None)]
        assert log[0]["next_attempt_at"] and log[1]["next_attempt_at"] and log[2]["next_attempt_at"] is None
        assert {a["event_id"] for a in log} == {ev["id"]}
        time.sleep(1.5)  # longer than a scheduled wait: a delivered event is not sent again
        assert len(rcv.requests) == 3


def test_retry_after_is_a_floor_over_the_schedule(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver([Answer(429, {"Retry-After": "3"}), Answer(204)]) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        first, second = rcv.wait_for(lambda rs: rs if len(rs) >= 2 else None, timeout=20)
        gap = second["at"] - first["at"]
        assert 2.99 <= gap <= 10, gap  # the schedule alone would have waited ~1 s
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and settled(l))
        assert [(a["status"], a["status_code"]) for a in log] == [("failed", 429), ("succeeded", 204)]


def test_a_spent_schedule_fails_the_delivery_and_sends_no_more(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver(Answer(500)) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 3, timeout=20)
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 3 and settled(l))
        assert [(a["attempt"], a["status"], a["status_code"]) for a in log] == [
            (1, "failed", 500), (2, "failed", 500), (3, "failed", 500)]
        assert log[2]["next_attempt_at"] is None  # no fourth attempt is planned
        time.sleep(2.5)  # more than both scheduled waits (1 s + 10%) together
        assert len(rcv.requests) == 3
        assert len(attempts(api, t, ep["id"])) == 3
        # The endpoint stays on: one failed delivery does not disable it.
        assert endpoint(api, t, ep["id"])["enabled"] is True


def test_a_cases_events_arrive_in_sequence_order_and_other_cases_are_not_held_up(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    gate = threading.Event()

    def plan(req, i):
        if i == 0:  # case A's case.created, first attempt: held while the test writes more, then 500
            gate.wait(15)
            return Answer(500)
        return Answer(204)

    with Receiver(plan) as rcv:
        ep = register(api, t, rcv.url)
        a = new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 1)
        for n in range(3):
            pay(api, t, a["id"], 1000 + n, f"B-{n}")
        b = new_case(api, t)
        # Case B's event goes out while case A's first attempt is still under way.
        rcv.wait_for(lambda rs: any(body_of(r)["case_id"] == b["id"] for r in rs))
        gate.set()
        reqs = rcv.wait_for(lambda rs: rs if len(rs) >= 6 else None, timeout=20)
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 6 and settled(l))
        of_a = [r for r in reqs if body_of(r)["case_id"] == a["id"]]
        of_b = [r for r in reqs if body_of(r)["case_id"] == b["id"]]
        # The payments were written before case.created was delivered, and did not
        # overtake it, nor each other.
        assert [body_of(r)["sequence"] for r in of_a] == [1, 1, 2, 3, 4], [body_of(r)["type"] for r in of_a]
        assert [body_of(r)["type"] for r in of_a] == ["case.created"] * 2 + ["case.payment_received"] * 3
        feed = case_events(api, t, a["id"])
        assert ids_of(of_a) == [feed[0]["id"]] + [e["id"] for e in feed]
        assert [body_of(r)["data"]["payment"]["amount"] for r in of_a[2:]] == [1000, 1001, 1002]
        assert len(of_b) == 1 and of_b[0]["at"] < of_a[1]["at"]


def test_410_disables_the_endpoint_until_patched_on(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver(Answer(410)) as gone, Receiver() as control:
        ep = register(api, t, gone.url)
        register(api, t, control.url)
        new_case(api, t)
        gone.wait_for(lambda rs: len(rs) >= 1)
        got = poll(lambda: (lambda e: e if not e["enabled"] else None)(endpoint(api, t, ep["id"])),
                   what="endpoint disabled")
        assert got["disabled_reason"] == "gone"
        log = attempts(api, t, ep["id"])
        assert [(a["status"], a["status_code"], a["next_attempt_at"]) for a in log] == [("failed", 410, None)]
        # A new event: the control endpoint gets it; nothing is even queued for the disabled one
        # (queueing happens in the event's own transaction).
        c2 = new_case(api, t)
        control.wait_for(lambda rs: any(body_of(r)["case_id"] == c2["id"] for r in rs))
        assert len(attempts(api, t, ep["id"])) == 1
        assert len(gone.requests) == 1
        # On again: new events are delivered again.
        r = api.patch(f"/v1/webhook-endpoints/{ep['id']}", t, json={"enabled": True})
        assert r.status_code == 200, r.text
        assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None
        gone.plan = Answer(204)
        c3 = new_case(api, t)
        gone.wait_for(lambda rs: len(rs) >= 2)
        assert body_of(gone.requests[1])["case_id"] == c3["id"]
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and l[-1]["status"] == "succeeded")


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver() as elsewhere, Receiver() as rcv:
        rcv.plan = redirect(elsewhere.url + "/stolen")
        ep = register(api, t, rcv.url)
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 3, timeout=20)
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 3 and settled(l))
        assert [(a["status"], a["status_code"], a["error"]) for a in log] == [("failed", 302, "HTTP 302")] * 3
        assert elsewhere.requests == []


def test_a_slow_receiver_times_out_and_is_retried(short):
    with Receiver([Answer(204, delay=2.0), Answer(204)]) as rcv:
        api = short.api
        t = fresh_tenant(api)
        ep = register(api, t, rcv.url)
        new_case(api, t)
        reqs = rcv.wait_for(lambda rs: rs if len(rs) >= 2 else None, timeout=20)
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and settled(l))
        first, second = log
        assert (first["status"], first["status_code"], first["error"]) == ("failed", None, "timeout")
        assert 400 <= first["duration_ms"] < 2000, first
        assert first["next_attempt_at"]
        assert (second["status"], second["status_code"]) == ("succeeded", 204)
        assert ids_of(reqs) == [first["event_id"]] * 2


def test_an_endpoint_failing_longer_than_disable_after_is_disabled(short):
    api = short.api
    t = fresh_tenant(api)
    with Receiver(Answer(500)) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        got = poll(lambda: (lambda e: e if not e["enabled"] else None)(endpoint(api, t, ep["id"])),
                   what="endpoint disabled")
        assert got["disabled_reason"] == "failing"
        log = wait_attempts(api, t, ep["id"], settled)
        n = len(rcv.requests)
        sent = [a for a in log if a["status_code"] is not None]
        assert 2 <= n <= 3 and len(sent) == n, (n, log)  # disabled by the 2nd or 3rd failure (jitter)
        assert all((a["status"], a["status_code"]) == ("failed", 500) for a in sent), log
        # A retry that was planned is cancelled with the reason.
        assert [a["error"] for a in log[n:]] in ([], ["endpoint disabled: failing"]), log
        assert log[-1]["next_attempt_at"] is None
        # Disabled: recover is refused, a new event is not queued.
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/recover", t, json={"since": iso(time.time() - 60)})
        assert_problem(r, 409, "invalid_state")
        new_case(api, t)
        time.sleep(1.5)  # longer than a scheduled wait
        assert len(rcv.requests) == n and attempts(api, t, ep["id"]) == log


def test_a_dropped_connection_is_a_failed_attempt_then_retried(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver([Answer(drop=True), Answer(204)]) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        log = wait_attempts(api, t, ep["id"], lambda l: l and l[-1]["status"] == "succeeded", timeout=20)
        first = log[0]
        assert (first["status"], first["status_code"]) == ("failed", None), first
        assert first["error"] in ("empty reply", "connection lost while receiving"), first
        assert len({r["headers"]["webhook-id"] for r in rcv.requests}) == 1


def test_disabling_by_patch_cancels_what_waits_and_the_test_event_still_goes(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver(Answer(500)) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and l[0]["status"] == "failed")
        r = api.patch(f"/v1/webhook-endpoints/{ep['id']}", t, json={"enabled": False})
        assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["disabled_reason"] is None
        log = attempts(api, t, ep["id"])
        assert settled(log), log
        assert log[-1]["error"] == "endpoint disabled" and log[-1]["next_attempt_at"] is None, log
        n = len(rcv.requests)
        time.sleep(1.5)  # longer than a scheduled wait: the cancelled retry does not go
        assert len(rcv.requests) == n
        # A test event goes to a disabled endpoint too.
        rcv.plan = Answer(204)
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/test", t)
        assert r.status_code == 202, r.text
        req = rcv.wait_for(lambda rs: rs[-1] if len(rs) > n else None)
        assert req["headers"]["webhook-id"] == r.json()["event_id"]
        assert verifier.verify(ep["secret"], req["headers"], req["body"])


def test_a_huge_answer_is_cut_at_64_kib_and_still_delivers(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver(Answer(200, {"Content-Type": "text/plain"}, body=1024 * 1024)) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 1)
        log = wait_attempts(api, t, ep["id"], settled)
        assert [(a["status"], a["status_code"], a["error"]) for a in log] == [("succeeded", 200, None)]
        # The service is fine, and the next event goes out too (a new connection).
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 2)
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and settled(l))
        assert [a["status"] for a in attempts(api, t, ep["id"])] == ["succeeded"] * 2
        assert len(rcv.requests) == 2
    r = api.get("/healthz")
    assert r.status_code == 200


def test_after_a_rotation_both_secrets_verify(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver() as rcv:
        ep = register(api, t, rcv.url)
        old = ep["secret"]
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/rotate-secret", t)
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert SECRET_RE.match(new) and new != old and r.json()["id"] == ep["id"]
        assert "secret" not in endpoint(api, t, ep["id"])
        new_case(api, t)
        [req] = rcv.wait_for(lambda rs: rs if rs else None)
        h = req["headers"]
        sigs = h["webhook-signature"].split(" ")
        assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs), sigs
        assert verifier.verify(new, h, req["body"]), verifier.last_error
        assert verifier.verify(old, h, req["body"]), verifier.last_error
        # The new secret's signature first, the old one's second; each on its own.
        only = lambda s: {**h, "webhook-signature": s}  # noqa: E731
        assert verifier.verify(new, only(sigs[0]), req["body"])
        assert verifier.verify(old, only(sigs[1]), req["body"])
        assert not verifier.verify(old, only(sigs[0]), req["body"])
        assert not verifier.verify(new, only(sigs[1]), req["body"])


def test_the_test_event_arrives_whatever_the_event_types(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver() as rcv:
        ep = register(api, t, rcv.url, ["case.payment_received"])
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/test", t)
        assert r.status_code == 202, r.text
        queued = r.json()
        assert queued["type"] == "webhook.test" and queued["endpoint_id"] == ep["id"]
        [req] = rcv.wait_for(lambda rs: rs if rs else None)
        assert req["headers"]["webhook-id"] == queued["event_id"]
        assert body_of(req)["type"] == "webhook.test" and body_of(req)["id"] == queued["event_id"]
        assert verifier.verify(ep["secret"], req["headers"], req["body"]), verifier.last_error
        log = wait_attempts(api, t, ep["id"], settled)
        assert [(a["event_id"], a["status"]) for a in log] == [(queued["event_id"], "succeeded")]
        # Test events are never in the feed.
        assert_problem(api.get(f"/v1/events/{queued['event_id']}", t), 404, "not_found")
        assert api.get("/v1/events", t).json()["data"] == []


def test_recover_redelivers_a_failed_delivery(hooks, verifier):
    api = hooks.api
    t = fresh_tenant(api)
    before = time.time() - 2
    with Receiver(Answer(503)) as rcv:
        ep = register(api, t, rcv.url)
        case = new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 3, timeout=20)
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 3 and settled(l))
        rcv.plan = Answer(204)
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/recover", t, json={"since": iso(before)})
        assert r.status_code == 202, r.text
        assert r.json()["queued"] == 1
        reqs = rcv.wait_for(lambda rs: rs if len(rs) >= 4 else None, timeout=20)
        [ev] = case_events(api, t, case["id"])
        assert ids_of(reqs) == [ev["id"]] * 4  # the same webhook-id: the receiver can dedupe
        assert verifier.verify(ep["secret"], reqs[3]["headers"], reqs[3]["body"])
        log = wait_attempts(api, t, ep["id"], lambda l: len(l) == 4 and settled(l))
        assert [a["status"] for a in log] == ["failed"] * 3 + ["succeeded"]
        # A since after the event queues nothing.
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/recover", t, json={"since": iso(time.time() + 60)})
        assert r.status_code == 202 and r.json()["queued"] == 0, r.text
        r = api.post(f"/v1/webhook-endpoints/{ep['id']}/recover", t, json={"since": "yesterday"})
        assert ("/since", "invalid_date") in field_errors(r)


def test_the_attempt_log_filters_by_status(hooks):
    api = hooks.api
    t = fresh_tenant(api)
    with Receiver([Answer(500), Answer(204)]) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 2, timeout=20)
        wait_attempts(api, t, ep["id"], lambda l: len(l) == 2 and settled(l))
        failed = attempts(api, t, ep["id"], "failed")
        succeeded = attempts(api, t, ep["id"], "succeeded")
        assert [(a["attempt"], a["status_code"]) for a in failed] == [(1, 500)]
        assert [(a["attempt"], a["status_code"]) for a in succeeded] == [(2, 204)]
        assert attempts(api, t, ep["id"], "pending") == []
        r = api.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries?status=delivered", t)
        p = assert_problem(r, 400, "invalid_parameter")
        assert p["parameter"] == "status"
        # Newest first, paged with the cursor.
        r = api.get(f"/v1/webhook-endpoints/{ep['id']}/deliveries?limit=1", t)
        assert r.status_code == 200 and r.json()["has_more"] is True
        assert r.json()["data"][0]["attempt"] == 2


# --- restarts (services of their own) -----------------------------------------

def test_the_guard_refuses_a_private_address_at_connect_time():
    """Endpoints registered while ALLOW_PRIVATE=1, then the same database with
    the guard on: https to 127.0.0.1 and to localhost (resolved: 127.0.0.1,
    ::1) is refused in the socket callback, nothing connects; the plain-http
    one is refused before that (https only). The https ones subscribe to
    payments only, so that nothing is sent to them before the restart."""
    with hook_rig() as rig, Receiver() as rcv:
        api, svc = rig.api, rig.service
        t = fresh_tenant(api)
        plain = register(api, t, rcv.url + "/hook")
        literal = register(api, t, f"https://127.0.0.1:{rcv.port}/hook", ["case.payment_received"])
        named = register(api, t, f"https://localhost:{rcv.port}/hook", ["case.payment_received"])
        case = new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 1)  # the plain one works while ALLOW_PRIVATE=1
        wait_attempts(api, t, plain["id"], settled)
        assert svc.stop() == 0
        del svc.extra_env["INKASSO_WEBHOOK_ALLOW_PRIVATE"]  # the same database, the guard on
        svc.start()
        conns, nreq = rcv.connections, len(rcv.requests)
        assert (conns, nreq) == (1, 1)
        pay(api, t, case["id"], 1000, "B-guard")
        ev = case_events(api, t, case["id"])[-1]
        assert ev["type"] == "case.payment_received"

        def of_case(ep):
            log = attempts(api, t, ep["id"])
            mine = [a for a in log if a["event_id"] == ev["id"]]
            return mine if len(mine) == 3 and settled(mine) else None

        for ep in (literal, named):
            mine = poll(lambda: of_case(ep), what="three refused attempts")
            assert [(a["status"], a["status_code"], a["error"]) for a in mine] == [
                ("failed", None, "guard: address not public")] * 3, mine
        mine = poll(lambda: of_case(plain), what="three refused attempts")
        assert [(a["status"], a["error"]) for a in mine] == [("failed", "scheme not allowed")] * 3, mine
        assert rcv.connections == conns and len(rcv.requests) == nreq  # nothing reached the receiver
        r = api.get("/metrics")
        assert r.status_code == 200
        m = re.search(r"^inkasso_webhook_guard_refused_total (\d+)$", r.text, re.M)
        assert m and int(m.group(1)) >= 6, r.text[-2000:]


def test_deliveries_survive_kill_9():
    schedule = ",".join(["1s"] * 10)
    gate = threading.Event()

    def plan(req, i):
        if i == 0:  # case A's first attempt: held until inkasso is dead
            gate.wait(30)
            return Answer(500)
        return Answer(500)

    with hook_rig(INKASSO_WEBHOOK_RETRY_SCHEDULE=schedule) as rig, Receiver(plan) as rcv:
        api, svc = rig.api, rig.service
        t = fresh_tenant(api)
        ep = register(api, t, rcv.url)
        a = new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 1)  # A is under way ("sending") now
        b = new_case(api, t)
        rcv.wait_for(lambda rs: any(body_of(r)["case_id"] == b["id"] for r in rs))  # B failed, waits
        wait_attempts(api, t, ep["id"], lambda l: any(x["status"] == "failed" for x in l))
        svc.proc.send_signal(signal.SIGKILL)  # only the process this rig started
        assert svc.stop() == -signal.SIGKILL
        rcv.plan = Answer(204)
        gate.set()
        restarted = time.time()
        svc.start()
        ids = {e["id"] for c in (a, b) for e in case_events(api, t, c["id"])}
        assert len(ids) == 2
        # SQLite requeues at start what the dead process had under way; on
        # PostgreSQL (replicas share the database) the delivery's lease
        # must end first: the webhook timeout (10 s) + 10 s.
        rcv.wait_for(lambda rs: {r["headers"]["webhook-id"] for r in rs if r["at"] >= restarted} >= ids,
                     timeout=45 if ON_PG else 20)
        log = wait_attempts(api, t, ep["id"], lambda l: settled(l) and all(
            any(x["event_id"] == i and x["status"] == "succeeded" for x in l) for i in ids))
        # A's interrupted attempt is recorded as such, and was sent again at once.
        of_a = [x for x in log if x["event_id"] == case_events(api, t, a["id"])[0]["id"]]
        assert of_a[0]["error"] == ("interrupted: lease expired" if ON_PG else "interrupted: inkasso restarted"), of_a
        assert of_a[-1]["status"] == "succeeded"


def test_a_410_also_stops_the_retries_of_an_attempt_under_way(hooks):
    """Case A's attempt is under way when case B's answers 410 (the endpoint is
    disabled, gone); A's attempt then fails with 500. Nothing more may go to
    the disabled endpoint: the disable cancels "what waited for it ... like a
    disable by PATCH", and PATCH cancels deliveries under way too."""
    api = hooks.api
    t = fresh_tenant(api)
    gate = threading.Event()

    def plan(req, i):
        if i == 0:
            gate.wait(15)
            return Answer(500)
        return Answer(410)

    with Receiver(plan) as rcv:
        ep = register(api, t, rcv.url)
        new_case(api, t)
        rcv.wait_for(lambda rs: len(rs) >= 1)  # A under way
        new_case(api, t)
        poll(lambda: not endpoint(api, t, ep["id"])["enabled"], what="endpoint disabled")
        gate.set()  # A's attempt now fails with 500
        time.sleep(2.5)  # longer than a scheduled wait: a retry of A would have come
        assert len(rcv.requests) == 2, [(body_of(r)["case_id"], r["at"]) for r in rcv.requests]
        log = attempts(api, t, ep["id"])
        assert settled(log) and all(a["next_attempt_at"] is None for a in log if a["status_code"] == 500), log


def test_metrics_count_deliveries_by_outcome_the_queue_and_disabled_endpoints():
    """A rig of its own, so that every counter starts at 0: one delivery, one
    retried 500 still waiting (queue depth 1, its age), one 410 (disabled)."""

    def metrics(api):
        r = requests.get(api.base + "/metrics", timeout=10)
        assert r.status_code == 200
        return {m.group(1): float(m.group(2))
                for m in re.finditer(r"^(inkasso_webhook_[a-z_]+(?:\{[^}]*\})?) (\S+)$", r.text, re.M)}

    with hook_rig(INKASSO_WEBHOOK_RETRY_SCHEDULE="1h") as rig, Receiver() as ok, \
            Receiver(Answer(500)) as failing, Receiver(Answer(410)) as gone:
        api = rig.api
        t = fresh_tenant(api)
        m0 = metrics(api)
        assert m0["inkasso_webhook_queue_depth"] == 0 and m0["inkasso_webhook_endpoints_disabled"] == 0
        eps = [register(api, t, rx.url) for rx in (ok, failing, gone)]
        new_case(api, t)
        for rx in (ok, failing, gone):
            rx.wait_for(lambda rs: len(rs) >= 1)
        poll(lambda: not endpoint(api, t, eps[2]["id"])["enabled"], what="410 endpoint disabled")
        time.sleep(1.1)  # the waiting delivery ages past a second
        m = poll(lambda: (lambda x: x if x['inkasso_webhook_attempts_total{outcome="gone"}'] == 1 else None)(
            metrics(api)), what="the 410 counted")
        assert m['inkasso_webhook_attempts_total{outcome="delivered"}'] == 1, m
        assert m['inkasso_webhook_attempts_total{outcome="retried"}'] == 1, m
        assert m["inkasso_webhook_queue_depth"] == 1, m  # the 500's retry, an hour away
        assert m["inkasso_webhook_oldest_queued_seconds"] >= 1, m
        assert m["inkasso_webhook_endpoints_disabled"] == 1, m


def test_endpoint_posts_are_idempotent_by_key(hooks, verifier):
    """Create, rotate-secret, test and recover with an Idempotency-Key: the
    same request again is the first answer (the same secret: rotated once,
    one test event); the key with another body is 422."""
    api = hooks.api
    t = fresh_tenant(api)

    def post(path, k, body=None):
        hdr = {"Idempotency-Key": k}
        return api.post(path, t, json=body, headers=hdr) if body is not None else api.post(path, t, headers=hdr)

    with Receiver() as rcv:
        body = {"url": rcv.url, "event_types": ["case.created"], "description": "idem"}
        k = "hook-" + uuid.uuid4().hex
        first = post("/v1/webhook-endpoints", k, body)
        assert first.status_code == 201, first.text
        again = post("/v1/webhook-endpoints", k, dict(reversed(list(body.items()))))  # same value, other order
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
        assert again.headers["Location"] == first.headers["Location"]
        assert_problem(post("/v1/webhook-endpoints", k, {**body, "description": "other"}), 422,
                       "idempotency_key_reused")
        ep = first.json()
        assert [e["id"] for e in api.get("/v1/webhook-endpoints", t).json()["data"]] == [ep["id"]]

        base = f"/v1/webhook-endpoints/{ep['id']}"
        kr = "rot-" + uuid.uuid4().hex
        rot = [post(base + "/rotate-secret", kr) for _ in range(2)]
        assert [r.status_code for r in rot] == [200, 200] and rot[1].content == rot[0].content
        assert rot[1].headers.get("Idempotent-Replayed") == "true"
        kt = "test-" + uuid.uuid4().hex
        tests = [post(base + "/test", kt) for _ in range(2)]
        assert [r.status_code for r in tests] == [202, 202] and tests[1].content == tests[0].content
        [req] = rcv.wait_for(lambda rs: rs if rs else None)
        time.sleep(1.0)  # a second test event would be here by now
        assert len(rcv.requests) == 1 and req["headers"]["webhook-id"] == tests[0].json()["event_id"]
        # Rotated once: the original secret still signs beside the new one.
        assert len(req["headers"]["webhook-signature"].split(" ")) == 2
        assert verifier.verify(ep["secret"], req["headers"], req["body"]), verifier.last_error
        assert verifier.verify(rot[0].json()["secret"], req["headers"], req["body"]), verifier.last_error
        kc = "rec-" + uuid.uuid4().hex
        since = {"since": iso(time.time() - 60)}
        rec = [post(base + "/recover", kc, since) for _ in range(2)]
        assert [r.status_code for r in rec] == [202, 202] and rec[1].content == rec[0].content
        assert_problem(post(base + "/recover", kc, {"since": iso(time.time() - 120)}), 422, "idempotency_key_reused")
