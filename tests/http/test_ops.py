# SPDX-License-Identifier: MIT
"""Operations: health, readiness, metrics, the served contract, request ids,
unknown paths and methods, keep-alive, body limits, media types, SIGTERM."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import BIN, ROOT, assert_problem, bearer, mint, raw_request, valid_case, wait_until

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BODY_MAX = 65536


# --- health, readiness, contract ------------------------------------------

@pytest.mark.parametrize("path, body", [
    ("/healthz", {"status": "ok"}),
    ("/readyz", {"status": "ready"}),
])
def test_health_endpoints(api, path, body):
    r = api.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == body
    assert REQUEST_ID.match(r.headers["X-Request-Id"])


def test_openapi_is_the_contract_it_was_built_with(api):
    r = api.get("/openapi.yaml")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/yaml")
    with open(os.path.join(ROOT, "openapi.yaml"), "rb") as f:
        assert r.content == f.read()


# --- metrics ----------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? '
                    r'(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def metric(text, name, **labels):
    """The value of one sample, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_requests_by_route_and_status(api):
    def healthz_200():
        return metric(api.get("/metrics").text, "inkasso_http_requests_total", route="/healthz", status="200") or 0

    before = healthz_200()
    for _ in range(3):
        assert api.get("/healthz").status_code == 200
    # The counter is bumped when the request completes, just after the answer.
    wait_until(lambda: healthz_200() >= before + 3, timeout=5)
    r = api.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert metric(text, "inkasso_http_requests_total", route="/healthz", status="200") == before + 3
    # A route that answered 404 is counted under its own status too.
    assert api.get("/v1/collection-cases/cc_00000000000000000000000000", "t_metrics").status_code == 404
    wait_until(lambda: metric(api.get("/metrics").text, "inkasso_http_requests_total",
                              route="/v1/collection-cases/{id}", status="404"), timeout=5)
    # The latency histogram is consistent: +Inf bucket == count.
    text = api.get("/metrics").text
    n = metric(text, "inkasso_http_request_duration_seconds_count", route="/healthz")
    assert n and n >= before + 3
    assert metric(text, "inkasso_http_request_duration_seconds_bucket", route="/healthz", le="+Inf") == n
    assert metric(text, "inkasso_outbox_depth") is not None
    assert metric(text, "inkasso_cases_failed") is not None
    assert metric(text, "inkasso_forwarder_retries_total") is not None


def test_metrics_text_format_is_well_formed(api):
    api.get("/healthz")
    text = api.get("/metrics").text
    assert text.endswith("\n")
    typed = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert base in typed, f"sample {name} has no # TYPE"


def test_metrics_pass_promtool(api):
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool") or os.path.join(ROOT, ".tools/promtool")
    if not os.access(promtool, os.X_OK):
        pytest.skip("promtool not installed (Debian package prometheus)")
    api.get("/healthz")
    out = subprocess.run([promtool, "check", "metrics"], input=api.get("/metrics").content,
                         capture_output=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


# --- request ids ----------------------------------------------------------

@pytest.mark.parametrize("sent, echoed", [
    ("req-7f3a9c", True),
    ("A.b_c-9", True),
    ("x" * 64, True),
    ("x" * 65, False),          # too long
    ("bad id", False),          # space
    ("a/b", False),
    ("ünï", False),
    ('x"},{"evil":1', False),   # would break a JSON log line
])
def test_request_id_echoed_when_sane(api, sent, echoed):
    r = api.get("/healthz", headers={"X-Request-Id": sent.encode("utf-8")})
    assert r.status_code == 200
    got = r.headers["X-Request-Id"]
    assert REQUEST_ID.match(got)
    assert (got == sent) == echoed


def test_request_id_generated_when_absent_and_unique(api):
    ids = {api.get("/healthz").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5 and all(REQUEST_ID.match(i) for i in ids)


@pytest.mark.parametrize("raw_value", [
    b"a\r\n b",        # obsolete line folding: a CR/LF inside the value
    b"a\rb",           # bare CR
    b"a\x00b",         # NUL
    b"x" * 200,
])
def test_hostile_request_id_is_replaced(service, raw_value):
    # Raw bytes: clients refuse to send these, attackers do not.
    req = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + raw_value + b"\r\nConnection: close\r\n\r\n"
    status, headers, _ = raw_request(service.port, req)
    # Either the server refuses the malformed header (400) or answers; an
    # echoed hostile value is never acceptable.
    assert status in (200, 400)
    rid = headers.get("X-Request-Id")
    if status == 200:
        assert rid and REQUEST_ID.match(rid)
    if rid:
        assert REQUEST_ID.match(rid) and rid.encode() != raw_value


# --- unknown paths and methods ---------------------------------------------
# Prism answers these itself (the path or method is not in the contract), so
# they go straight to the service.

@pytest.mark.parametrize("method, path", [
    ("GET", "/nope"),
    ("GET", "/v1"),
    ("GET", "/v1/collection-cases/cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB/nope"),
    ("POST", "/healthz/"),
])
def test_unknown_path_is_404_problem(direct, method, path):
    r = direct.call(method, path)
    p = assert_problem(r, 404, "not_found")
    assert REQUEST_ID.match(r.headers["X-Request-Id"])
    assert "Allow" not in r.headers
    assert p["status"] == 404


@pytest.mark.parametrize("method, path, allow", [
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/v1/agency-settings", {"GET", "PUT"}),
    ("PATCH", "/v1/agency-settings", {"GET", "PUT"}),
    ("DELETE", "/v1/collection-cases", {"GET", "POST"}),
    ("PUT", "/v1/collection-cases/preview", {"POST"}),
    ("DELETE", "/v1/collection-cases/cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", {"GET"}),
])
def test_wrong_method_is_405_with_allow(direct, method, path, allow):
    r = direct.call(method, path, "t_ops")
    assert_problem(r, 405, "method_not_allowed")
    assert {m.strip() for m in r.headers["Allow"].split(",")} == allow


# --- keep-alive -------------------------------------------------------------

def test_keep_alive_second_request_on_same_connection(service):
    token = mint("t_keepalive")
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    try:
        sequence = [
            ("GET", "/healthz", None, {}, 200),
            ("GET", "/v1/collection-cases", None, bearer(token), 200),
            ("GET", "/nope", None, {}, 404),                         # an error keeps it open too
            ("POST", "/v1/collection-cases/preview", b'{"invoice":', # malformed body, fully read
             {**bearer(token), "Content-Type": "application/json"}, 400),
            ("GET", "/readyz", None, {}, 200),
        ]
        local = None
        for method, path, body, headers, status in sequence:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            assert r.status == status, (path, r.status)
            assert (r.getheader("Connection") or "").lower() != "close", (path, r.getheaders())
            here = conn.sock.getsockname()
            assert local in (None, here), "the client had to reconnect"
            local = here
    finally:
        conn.close()


# --- body limits ------------------------------------------------------------

def _post_headers(token, extra=b""):
    return (b"POST /v1/collection-cases/preview HTTP/1.1\r\nHost: t\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/json\r\n" + extra)


def test_declared_oversize_body_is_413_before_reading(service, direct):
    token = mint("t_limits")
    # Only the headers are sent: the answer must come without the body.
    req = _post_headers(token, b"Content-Length: %d\r\n\r\n" % (BODY_MAX + 1))
    status, headers, body = raw_request(service.port, req)
    assert status == 413
    assert headers["Content-Type"].startswith("application/problem+json")
    assert b'"code":"payload_too_large"' in body
    assert direct.get("/healthz").status_code == 200


def test_huge_declared_body_is_413(service, direct):
    token = mint("t_limits")
    req = _post_headers(token, b"Content-Length: 99999999999999999999\r\n\r\n")
    status, _, body = raw_request(service.port, req)
    # A length libmicrohttpd cannot even parse is refused by MHD itself,
    # before the service sees the request (its own HTML 413 body).
    assert status == 413, status
    assert direct.get("/healthz").status_code == 200


def _chunked(payload, size=4096):
    out = b""
    for i in range(0, len(payload), size):
        part = payload[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test_chunked_oversize_body_is_413(service, direct):
    token = mint("t_limits")
    payload = b'{"pad":"' + b"a" * (BODY_MAX + 100) + b'"}'
    req = _post_headers(token, b"Transfer-Encoding: chunked\r\n\r\n") + _chunked(payload)
    status, headers, body = raw_request(service.port, req, timeout=20)
    assert status == 413
    assert b'"code":"payload_too_large"' in body
    assert direct.get("/healthz").status_code == 200


def test_chunked_body_within_limit_is_read(service, direct):
    tenant = "t_chunked"
    direct.configure(tenant)
    payload = json.dumps(valid_case()).encode()
    req = _post_headers(direct.token(tenant), b"Transfer-Encoding: chunked\r\n\r\n") + _chunked(payload, 100)
    status, _, body = raw_request(service.port, req)
    assert status == 200, body
    assert json.loads(body)["earliest_send_date"]


def test_body_of_exactly_64_kib_is_accepted(direct):
    tenant = "t_limit_edge"
    direct.configure(tenant)
    core = json.dumps(valid_case()).encode()
    for size, status in ((BODY_MAX, 200), (BODY_MAX + 1, 413)):
        body = core[:-1] + b" " * (size - len(core)) + b"}"
        assert len(body) == size
        r = direct.post("/v1/collection-cases/preview", tenant, data=body,
                        headers={"Content-Type": "application/json"})
        assert r.status_code == status, (size, r.text[:200])


# --- media types -------------------------------------------------------------

@pytest.mark.parametrize("content_type, status", [
    ("text/plain", 415),
    ("application/x-www-form-urlencoded", 415),
    ("application/xml", 415),
    ("application/json", 200),
    ("application/json; charset=utf-8", 200),
    ("Application/JSON", 200),
])
def test_content_type(api, tenant, content_type, status):
    r = api.post("/v1/collection-cases/preview", tenant, data=json.dumps(valid_case()),
                 headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    if status == 415:
        assert_problem(r, 415, "unsupported_media_type")


def test_text_plain_create_is_415_and_stores_nothing(api, tenant):
    r = api.post("/v1/collection-cases", tenant, data=json.dumps(valid_case()),
                 headers={"Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported_media_type")
    assert api.get("/v1/collection-cases", tenant).json()["data"] == []


# --- graceful stop -------------------------------------------------------------

def test_sigterm_exits_0(fresh_service):
    s = fresh_service.start()
    assert requests.get(s.url + "/readyz", timeout=5).status_code == 200
    assert s.stop(signal.SIGTERM, timeout=15) == 0
    assert '"stopped"' in s.read_log() or "stopped" in s.read_log()


def test_sigterm_finishes_request_in_flight(fresh_service):
    s = fresh_service.start()
    tenant = "t_sigterm"
    token = mint(tenant)
    body = json.dumps({"creditor_reference": "CR", "api_key": "k"}).encode()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        # First a whole request on this connection: it is accepted and served.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        first = http.client.HTTPResponse(sock)
        first.begin()
        assert first.status == 200
        first.read()
        # Then a request whose body is only half sent: it is in flight. The
        # "100 Continue" proves the service has read its headers and taken it.
        sock.sendall(b"PUT /v1/agency-settings HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token.encode() +
                     b"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
                     % len(body))
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            chunk = sock.recv(1)
            assert chunk, "connection closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body[:10])
        s.proc.send_signal(signal.SIGTERM)

        def refuses_new_connections():
            try:
                socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                return False
            except OSError:
                return True
        wait_until(refuses_new_connections, timeout=10)
        assert s.proc.poll() is None, "exited with a request in flight"
        sock.sendall(body[10:])
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        assert resp.status == 200
        assert json.loads(resp.read())["creditor_reference"] == "CR"
    finally:
        sock.close()
    assert s.proc.wait(timeout=15) == 0
    s.stop()


def test_a_second_instance_on_the_same_port_is_refused(fresh_service, tmp_path):
    # No SO_REUSEPORT: two services on one port would split the traffic
    # between two databases without a word.
    s = fresh_service.start()
    env = {**s.env(), "INKASSO_DB": str(tmp_path / "other.db")}
    second = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=30)
    assert second.returncode != 0
    assert "cannot listen" in second.stderr + second.stdout
    assert requests.get(s.url + "/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize("n", [33, 600, 1500])
def test_too_many_query_parameters_is_400_at_once(service, n):
    # 33: refused by dispatch; 600 and 5000 would exhaust libmicrohttpd's
    # connection memory while it parses them, so they are refused from the
    # raw request line (server/request.c on_uri). Either way the same problem.
    query = "&".join(f"p{i}=1" for i in range(n))
    t0 = time.monotonic()
    status, headers, body = raw_request(service.port, f"GET /v1/collection-cases?{query} HTTP/1.1\r\n"
                                        f"Host: t\r\nAuthorization: Bearer {mint('t_q')}\r\n\r\n".encode(), timeout=10)
    assert status == 400
    assert headers["Content-Type"].startswith("application/problem+json")
    assert headers["X-Request-Id"]
    p = json.loads(body)
    assert p["code"] == "invalid_parameter" and "query" in json.dumps(p), p
    assert time.monotonic() - t0 < 5, "answered at once, not at the idle timeout"
