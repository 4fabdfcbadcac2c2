# SPDX-License-Identifier: MIT
"""JSON log lines: one object per line, a request id on each request line, and
no personal data, tokens, api keys or idempotency keys, whatever the input."""
import datetime as dt
import json
import re
import uuid

import pytest

from conftest import fnr, raw_request, valid_case, wait_until

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NID = fnr(dt.date(1966, 6, 16), 777)
PHONE_E164, PHONE_NATIONAL = "+4798765432", "987 65 432"
PHONE2 = "+4741234599"
EMAIL = "hemmelig.person@example.org"
NAME = "Hemmelig Loggesen"
API_KEY = "apikey-very-secret-" + uuid.uuid4().hex
IDEM_KEY = "idem-very-secret-" + uuid.uuid4().hex


def lines(service):
    return service.read_log().splitlines()


def logged_request_ids(service):
    out = set()
    for line in lines(service):
        try:
            out.add(json.loads(line).get("request_id"))
        except ValueError:
            pass
    return out


def wait_logged(service, request_ids):
    """Request lines are written when the request completes, just after the
    answer: poll until all of these are in the log."""
    wait_until(lambda: set(request_ids) <= logged_request_ids(service), timeout=10)


@pytest.fixture(scope="module")
def traffic(api, service):
    """Requests carrying every secret, in bodies, queries and headers."""
    tenant = "t_logs_" + uuid.uuid4().hex[:8]
    rids = []
    r = api.put("/v1/agency-settings", tenant, json={"creditor_reference": "CR-LOG", "api_key": API_KEY},
                headers={"X-Request-Id": "log-settings"})
    assert r.status_code == 200
    rids.append(r.headers["X-Request-Id"])
    body = valid_case()
    body["debtor"].update(name=NAME, national_id=NID, email=EMAIL, phone="",
                          extra_fields=[{"purpose": "phone_number", "value": PHONE_NATIONAL}])
    r = api.post("/v1/collection-cases", tenant, json=body, headers={"Idempotency-Key": IDEM_KEY})
    assert r.status_code == 201, r.text
    assert r.json()["debtor"]["phone"] == PHONE_E164
    rids.append(r.headers["X-Request-Id"])
    body2 = valid_case()
    body2["debtor"].update(phone=PHONE2, email=EMAIL)
    r = api.post("/v1/collection-cases", tenant, json=body2, headers={"Idempotency-Key": IDEM_KEY + "-2"})
    assert r.status_code == 201
    rids.append(r.headers["X-Request-Id"])
    # A replay, a reused key, an invalid case quoting the secrets back.
    for b in (body2, valid_case()):
        rids.append(api.post("/v1/collection-cases", tenant, json=b,
                             headers={"Idempotency-Key": IDEM_KEY + "-2"}).headers["X-Request-Id"])
    bad = valid_case()
    bad["debtor"].update(national_id=NID[:-1] + "0" if NID[-1] != "0" else NID[:-1] + "1", email="x" + EMAIL + "@",
                         phone=PHONE2 + "99999999")
    r = api.post("/v1/collection-cases", tenant, json=bad)
    assert r.status_code == 422
    rids.append(r.headers["X-Request-Id"])
    # Searches with personal data in the query string.
    for q in ("national_id=" + NID, "q=" + EMAIL, "q=" + PHONE2.replace("+", "%2B"), "q=" + NAME.replace(" ", "%20")):
        r = api.get("/v1/collection-cases?" + q, tenant)
        assert r.status_code == 200
        rids.append(r.headers["X-Request-Id"])
    # A refused token is not logged either.
    bad_token = api.token(tenant)[:-4] + "AAAA"
    r = api.get("/v1/collection-cases", headers={"Authorization": "Bearer " + bad_token})
    assert r.status_code == 401
    rids.append(r.headers["X-Request-Id"])
    wait_logged(service, rids)
    return tenant, api.token(tenant), bad_token, rids


def test_every_log_line_is_one_json_object(service, traffic):
    all_lines = lines(service)
    assert all_lines
    for line in all_lines:
        doc = json.loads(line)
        assert isinstance(doc, dict), line
        assert {"ts", "level", "msg"} <= doc.keys(), line


def test_request_lines_carry_the_request_id(service, traffic):
    _, _, _, rids = traffic
    docs = [json.loads(line) for line in lines(service)]
    mine = [d for d in docs if d.get("request_id") == "log-settings"]
    assert mine, "the caller's X-Request-Id is in the log"
    assert mine[-1]["msg"] == "request" and mine[-1]["status"] == "200"
    assert mine[-1]["route"] == "/v1/agency-settings" and mine[-1]["method"] == "PUT"
    for rid in rids:
        assert REQUEST_ID.match(rid)


@pytest.mark.parametrize("what", ["national id", "national id tail", "phone", "phone national", "phone 2",
                                  "email", "name", "api key", "idempotency key", "token", "token signature",
                                  "refused token"])
def test_no_secrets_or_personal_data_in_logs(service, traffic, what):
    _, token, bad_token, _ = traffic
    secret = {
        "national id": NID,
        "national id tail": NID[:6] + " " + NID[6:],
        "phone": PHONE_E164,
        "phone national": PHONE_NATIONAL,
        "phone 2": PHONE2,
        "email": EMAIL,
        "name": NAME,
        "api key": API_KEY,
        "idempotency key": IDEM_KEY,
        "token": token,
        "token signature": token.rsplit(".", 1)[1],
        "refused token": bad_token.split(".")[1],
    }[what]
    text = service.read_log()
    assert secret not in text
    if what.startswith("phone"):
        assert secret.replace("+", "").replace(" ", "") not in text.replace(" ", "")


@pytest.mark.parametrize("raw_value", [
    b"a\r\n b",                         # folded: CR/LF inside the value
    b"a\rb",
    b'x"},{"level":"error","msg":"forged',
    b"\x1b[31mred",
    b"ok\\u000a",
])
def test_hostile_request_id_does_not_inject_log_lines(service, raw_value):
    before = len(lines(service))
    req = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + raw_value + b"\r\nConnection: close\r\n\r\n"
    status, headers, _ = raw_request(service.port, req)
    assert status == 200
    rid = headers["X-Request-Id"]
    assert REQUEST_ID.match(rid) and rid.encode() != raw_value
    wait_logged(service, [rid])
    new = lines(service)[before:]
    for line in new:
        doc = json.loads(line)
        assert isinstance(doc, dict)
        assert doc.get("msg") != "forged"
        assert "red" not in doc.get("request_id", "")
    assert not any(line.startswith(" b") or line == "b" for line in new)
