# SPDX-License-Identifier: MIT
"""Response headers as openapi.yaml says them (issue 13, point 5: "response
schemas say what is always present"). One request per kind of answer, from
200 to 431, each sent twice: through the validating proxy (Prism fails an
answer that lacks a header marked required) and straight to the service,
where every header it sent is compared with the operation's documented
headers for that status: none undocumented, none marked required missing.
Answers libmicrohttpd makes itself (414, 431) and the service's raw 400 for
too many query parameters are checked straight only."""
import json
import re
import tempfile
import time
import uuid

import pytest
import requests

from conftest import (SPEC, Service, create_case, mint, new_tenant, raw_request, resolve, valid_case)

# Headers of the message, not of the contract: content types are the responses' `content`.
TRANSPORT = {"date", "connection", "content-length", "content-type", "transfer-encoding", "keep-alive"}
NOWHERE = "https://hooks.example.invalid/inkasso"


def operation(method, path):
    """The operation of openapi.yaml a request lands on: literal segments win
    over {params}, as the router does. A method the path does not have (a 405)
    lands on the path's first operation, which documents its 405."""
    path = path.split("?", 1)[0]
    best = None
    for template, ops in SPEC["paths"].items():
        rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(rx, path):
            params = template.count("{")
            if best is None or params < best[0]:
                best = (params, ops)
    if best is None:
        return None
    ops = best[1]
    return ops.get(method.lower()) or next(v for k, v in ops.items() if k in ("get", "put", "post", "patch", "delete"))


def headers_of(resp):
    """{lower-case header name: required} of a response object."""
    return {k.lower(): bool(resolve(v).get("required")) for k, v in (resolve(resp).get("headers") or {}).items()}


def documented(method, path, status):
    """{lower-case header name: required} of the documented answer."""
    op = operation(method, path)
    assert op is not None, (method, path)
    resp = op["responses"].get(str(status))
    assert resp is not None, f"{method} {path}: status {status} is not documented"
    return headers_of(resp)


def audit(method, path, status, headers):
    doc = documented(method, path, status)
    sent = {k.lower() for k in headers} - TRANSPORT
    undocumented = sent - set(doc)
    missing = {h for h, req in doc.items() if req} - sent
    assert not undocumented and not missing, \
        f"{method} {path} {status}: sent but undocumented {sorted(undocumented)}, " \
        f"required but not sent {sorted(missing)}"


def test_every_answer_of_the_service_documents_its_request_id_and_cache_control():
    """The service puts X-Request-Id and Cache-Control on every answer
    (server/request.c); libmicrohttpd's own 414 and 431 carry neither."""
    wrong = []
    for template, ops in SPEC["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, resp in op["responses"].items():
                h = headers_of(resp)
                want = {} if status in ("414", "431") else {"x-request-id": True, "cache-control": True}
                got = {k: v for k, v in h.items() if k in ("x-request-id", "cache-control")}
                if got != want:
                    wrong.append((method, template, status, got))
    assert wrong == []


def exchanges(c, t):
    """(method, path, status) of one request of each kind, made with client c
    (conftest.Api) for tenant t (configured); yields (method, path, response)."""
    yield "GET", "/healthz", c.get("/healthz")
    yield "GET", "/readyz", c.get("/readyz")
    yield "GET", "/metrics", c.get("/metrics")
    yield "GET", "/openapi.yaml", c.get("/openapi.yaml")
    yield "GET", "/problems", c.get("/problems")
    yield "GET", "/problems", c.get("/problems", headers={"Accept": "application/json"})
    yield "GET", "/problems/validation_failed", c.get("/problems/validation_failed")
    yield "GET", "/problems/no_such_code", c.get("/problems/no_such_code")
    yield "POST", "/healthz", c.post("/healthz")  # 405 with Allow
    yield "GET", "/v1/agency-settings", c.get("/v1/agency-settings")  # 401 with WWW-Authenticate
    yield "GET", "/v1/agency-settings", c.get("/v1/agency-settings", t)
    yield "GET", "/v1/agency-settings", c.get("/v1/agency-settings", "t_" + uuid.uuid4().hex[:10])  # 404
    yield "PUT", "/v1/agency-settings", c.put("/v1/agency-settings", t, scope="cases:read",
                                               json={"creditor_reference": "x"})  # 403
    yield "PUT", "/v1/agency-settings", c.put("/v1/agency-settings", t, json={"creditor_reference": ""})  # 422
    yield "PUT", "/v1/agency-settings", c.put("/v1/agency-settings", t, data=b"x",
                                               headers={"Content-Type": "text/plain"})  # 415
    yield "PUT", "/v1/agency-settings", c.put("/v1/agency-settings", t, data=b"{",
                                               headers={"Content-Type": "application/json"})  # 400
    cases = "/v1/collection-cases"
    body, key = valid_case(), "hdr-" + uuid.uuid4().hex
    first = c.post(cases, t, json=body, headers={"Idempotency-Key": key})
    yield "POST", cases, first  # 201 with Location
    yield "POST", cases, c.post(cases, t, json=body, headers={"Idempotency-Key": key})  # the replay
    yield "POST", cases, c.post(cases, t, json=body)  # 409 duplicate_case
    yield "POST", cases, c.post(cases, t, json=body, headers={"Idempotency-Key": "\u00e9"})  # 400 invalid_header
    yield "POST", cases, c.post(cases, t, json={"pad": "x" * 70000})  # 413
    yield "POST", cases, c.post(cases, t, json={"invoice": {}})  # 422
    yield "GET", cases, c.get(cases, t)
    yield "GET", cases, c.get(cases, t, headers={"Accept": "text/csv"})
    yield "GET", cases, c.get(cases + "?status=nope", t)  # 400
    yield "POST", cases + "/preview", c.post(cases + "/preview", t, json=valid_case())
    case = first.json()["id"]
    yield "GET", f"{cases}/{case}", c.get(f"{cases}/{case}", t)
    yield "GET", f"{cases}/cc_nope", c.get(f"{cases}/cc_nope", t)
    yield "POST", f"{cases}/{case}/payments", c.post(f"{cases}/{case}/payments", t,
                                                     json={"amount": 100, "paid_on": body["invoice"]["issued_on"]})
    yield "POST", f"{cases}/{case}/actions", c.post(f"{cases}/{case}/actions", t, json={"type": "comment"})
    yield "POST", f"{cases}/{case}/retry", c.post(f"{cases}/{case}/retry", t)  # 409 invalid_state
    yield "GET", "/v1/settlements", c.get("/v1/settlements", t)
    yield "GET", "/v1/settlements", c.get("/v1/settlements", t, headers={"Accept": "text/csv"})
    yield "GET", "/v1/settlements/st_nope", c.get("/v1/settlements/st_nope", t)
    yield "GET", "/v1/events", c.get("/v1/events", t)
    yield "GET", "/v1/events/evt_nope", c.get("/v1/events/evt_nope", t)
    hooks = "/v1/webhook-endpoints"
    made = c.post(hooks, t, json={"url": NOWHERE, "event_types": ["*"]})
    yield "POST", hooks, made
    ep = f"{hooks}/{made.json()['id']}"
    yield "GET", hooks, c.get(hooks, t)
    yield "GET", ep, c.get(ep, t)
    yield "PATCH", ep, c.patch(ep, t, json={"description": "headers"})
    yield "POST", ep + "/rotate-secret", c.post(ep + "/rotate-secret", t)
    yield "POST", ep + "/test", c.post(ep + "/test", t)
    yield "GET", ep + "/deliveries", c.get(ep + "/deliveries", t)
    yield "POST", ep + "/recover", c.post(ep + "/recover", t, json={"since": "2026-01-01T00:00:00Z"})
    yield "DELETE", ep, c.delete(ep, t)


@pytest.mark.parametrize("via", ["proxy", "direct"])
def test_each_kind_of_answer_carries_its_documented_headers(api, direct, via):
    c = api if via == "proxy" else direct
    t = new_tenant(api)
    seen = set()
    for method, path, r in exchanges(c, t):
        seen.add(r.status_code)
        if via == "direct":  # through Prism: Api.call has failed on a violation already
            audit(method, path, r.status_code, r.headers)
    want = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422}
    assert seen >= want, f"not seen: {sorted(want - seen)}"


def test_the_replay_says_so_and_the_first_answer_does_not(direct, tenant):
    body, key = valid_case(), "hdr-" + uuid.uuid4().hex
    first = direct.post("/v1/collection-cases", tenant, json=body, headers={"Idempotency-Key": key})
    again = direct.post("/v1/collection-cases", tenant, json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["Location"] == again.headers["Location"]


def test_a_rate_limited_answer_carries_retry_after():
    with tempfile.TemporaryDirectory(prefix="inkasso-hdr-") as d:
        s = Service(d, env={"INKASSO_TENANT_RATE": "0.001", "INKASSO_TENANT_BURST": "1"}).start()
        try:
            h = {"Authorization": "Bearer " + mint("t_hdr_rate")}
            rs = [requests.get(s.url + "/v1/events", headers=h, timeout=10) for _ in range(2)]
            assert [r.status_code for r in rs] == [200, 429]
            for r in rs:
                audit("GET", "/v1/events", r.status_code, r.headers)
            assert int(rs[1].headers["Retry-After"]) >= 1
        finally:
            assert s.stop() == 0


def test_answers_made_before_the_service_sees_the_request(service):
    # The service's own 400 for too many query parameters, written to the socket (server/request.c).
    q = "&".join(f"p{i}=1" for i in range(40))
    status, headers, _ = raw_request(service.port, f"GET /v1/events?{q} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 400
    audit("GET", "/v1/events", status, headers)
    # libmicrohttpd's own 431 and 414: no X-Request-Id, no Cache-Control, as documented.
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n"
    status, headers, _ = raw_request(service.port, big)
    assert status == 431
    audit("GET", "/healthz", status, headers)
    status, headers, _ = raw_request(service.port, b"GET /healthz?" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414
    audit("GET", "/healthz", status, headers)


@pytest.mark.parametrize("method,path,coding", [
    ("GET", "/healthz", "gzip"),
    ("GET", "/v1/webhook-endpoints/we_x", "gzip, chunked"),
    ("POST", "/v1/collection-cases", "identity"),
])
def test_a_transfer_coding_other_than_chunked_is_400_at_once(service, direct, method, path, coding):
    # RFC 9112 6.1: without chunked last the body has no length the server can know: a 400 and the
    # connection closed, at once (libmicrohttpd alone waited for the body until its idle timeout).
    t0 = time.monotonic()
    status, headers, body = raw_request(
        service.port, f"{method} {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n".encode())
    assert time.monotonic() - t0 < 2
    assert status == 400
    problem = json.loads(body)
    assert problem["code"] == "invalid_header" and "Transfer-Encoding" in problem["detail"], problem
    assert headers["Connection"].lower() == "close"
    audit(method, path, status, headers)
    assert direct.get("/healthz").status_code == 200
