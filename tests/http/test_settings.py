# SPDX-License-Identifier: MIT
"""PUT/GET /v1/agency-settings: write-only api key, defaults, validation, and
what cases see when the integration is missing or disabled."""
import re
import threading
import time
import uuid

import pytest

from conftest import agency_key, agency_rig, assert_problem, field_errors, valid_case

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
FULL = {"creditor_reference": "998877665", "api_key": "ak_live_5f2d9c1e7b", "service": "pre_collection",
        "customer_type": "business", "min_days_overdue": 21, "reminder_wait_days": 7, "min_amount": 5000,
        "enabled": True}


def fresh():
    return "t_" + uuid.uuid4().hex[:10]


def test_put_then_get(api):
    t = fresh()
    r = api.put("/v1/agency-settings", t, json=FULL)
    assert r.status_code == 200, r.text
    put = r.json()
    g = api.get("/v1/agency-settings", t)
    assert g.status_code == 200
    got = g.json()
    for doc in (put, got):
        assert "api_key" not in doc
        assert FULL["api_key"] not in g.text and FULL["api_key"] not in r.text
        assert doc["api_key_set"] is True
        assert doc["api_key_valid"] is None  # no agency configured: not checked
        assert TIMESTAMP.match(doc["updated_at"])
        for k, v in FULL.items():
            if k != "api_key":
                assert doc[k] == v, k
    assert got == put


def test_first_put_takes_defaults(api):
    t = fresh()
    doc = api.put("/v1/agency-settings", t, json={"creditor_reference": "CR", "api_key": "k"}).json()
    assert {k: doc[k] for k in ("service", "customer_type", "min_days_overdue", "reminder_wait_days",
                                "min_amount", "enabled")} == {
        "service": "collection", "customer_type": "auto", "min_days_overdue": 14, "reminder_wait_days": 14,
        "min_amount": 1, "enabled": True}


def test_put_without_api_key_keeps_it(api):
    t = fresh()
    assert api.put("/v1/agency-settings", t, json=FULL).status_code == 200
    r = api.put("/v1/agency-settings", t, json={"creditor_reference": "NEW-REF"})
    assert r.status_code == 200, r.text
    assert r.json()["api_key_set"] is True
    got = api.get("/v1/agency-settings", t).json()
    assert got["creditor_reference"] == "NEW-REF" and got["api_key_set"] is True


def test_later_put_replaces_members_left_out_with_defaults(api):
    # openapi.yaml: "Creates or replaces the tenant's settings; members left
    # out take their defaults, except api_key".
    t = fresh()
    assert api.put("/v1/agency-settings", t, json=FULL).status_code == 200
    doc = api.put("/v1/agency-settings", t, json={"creditor_reference": "998877665", "min_days_overdue": 30}).json()
    assert doc["min_days_overdue"] == 30
    assert (doc["service"], doc["customer_type"], doc["reminder_wait_days"], doc["min_amount"]) == (
        "collection", "auto", 14, 1)


def test_first_put_without_api_key_is_422_and_saves_nothing(api):
    t = fresh()
    r = api.put("/v1/agency-settings", t, json={"creditor_reference": "CR"})
    assert ("/api_key", "required") in field_errors(r)
    assert_problem(api.get("/v1/agency-settings", t), 404, "not_found")


def test_get_before_put_is_404(api):
    assert_problem(api.get("/v1/agency-settings", fresh()), 404, "not_found")


@pytest.mark.parametrize("member, value, code", [
    ("creditor_reference", None, "required"),
    ("creditor_reference", "", "required"),
    ("creditor_reference", 12345, "invalid_type"),
    ("creditor_reference", "x" * 65, "too_long"),
    ("api_key", "", "required"),
    ("api_key", 42, "invalid_type"),
    ("api_key", "k" * 257, "too_long"),
    ("api_key", "has space", "invalid_value"),
    ("api_key", "line\nbreak", "invalid_value"),
    ("service", "express", "invalid_value"),
    ("service", 1, "invalid_type"),
    ("customer_type", "robot", "invalid_value"),
    ("min_days_overdue", -1, "invalid_value"),
    ("min_days_overdue", 366, "invalid_value"),
    ("min_days_overdue", "14", "invalid_type"),
    ("min_days_overdue", 1.5, "invalid_type"),
    ("reminder_wait_days", -1, "invalid_value"),
    ("reminder_wait_days", 1000, "invalid_value"),
    ("reminder_wait_days", True, "invalid_type"),
    ("min_amount", 0, "invalid_value"),
    ("min_amount", -5, "invalid_value"),
    ("min_amount", "100", "invalid_type"),
    ("min_amount", 10.5, "invalid_type"),
    ("enabled", "yes", "invalid_type"),
    ("enabled", 1, "invalid_type"),
])
def test_invalid_member_is_422_with_pointer(api, member, value, code):
    t = fresh()
    body = dict(FULL)
    if value is None:
        del body[member]
    else:
        body[member] = value
    r = api.put("/v1/agency-settings", t, json=body)
    assert field_errors(r) == {("/" + member, code)}
    assert_problem(api.get("/v1/agency-settings", t), 404, "not_found")


def test_invalid_put_keeps_the_stored_settings(api):
    t = fresh()
    assert api.put("/v1/agency-settings", t, json=FULL).status_code == 200
    r = api.put("/v1/agency-settings", t, json={**FULL, "min_amount": 0, "service": "x"})
    assert field_errors(r) == {("/min_amount", "invalid_value"), ("/service", "invalid_value")}
    assert api.get("/v1/agency-settings", t).json()["min_amount"] == FULL["min_amount"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'{"creditor_reference":"x"} trailing'])
def test_malformed_body_is_400(direct, raw):
    # Prism parses JSON bodies itself, so malformed ones go straight to the service.
    r = direct.put("/v1/agency-settings", fresh(), data=raw, headers={"Content-Type": "application/json"})
    assert_problem(r, 400, "malformed_json")


def test_unknown_members_are_ignored(api):
    t = fresh()
    r = api.put("/v1/agency-settings", t, json={**FULL, "api_key_set": False, "api_key_valid": True,
                                                "updated_at": "2000-01-01T00:00:00.000Z", "foo": 1})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["api_key_set"] is True and doc["api_key_valid"] is None
    assert not doc["updated_at"].startswith("2000")
    assert "foo" not in doc


# --- cases need an enabled integration ------------------------------------------

@pytest.mark.parametrize("path", ["/v1/collection-cases", "/v1/collection-cases/preview"])
def test_case_without_settings_is_409(api, path):
    t = fresh()
    assert_problem(api.post(path, t, json=valid_case()), 409, "integration_not_configured")
    assert api.get("/v1/collection-cases", t).json()["data"] == []


@pytest.mark.parametrize("path", ["/v1/collection-cases", "/v1/collection-cases/preview"])
def test_case_with_integration_disabled_is_409(api, path):
    t = fresh()
    api.configure(t, enabled=False)
    assert_problem(api.post(path, t, json=valid_case()), 409, "integration_not_configured")
    assert api.get("/v1/collection-cases", t).json()["data"] == []
    # Enabling it again lets the same case through.
    api.configure(t, enabled=True)
    assert api.post(path, t, json=valid_case()).status_code in (200, 201)


@pytest.mark.parametrize("raw, pointer", [
    (b'{"creditor_reference":"x","api_key":"k","min_amount":1000.0}', "/min_amount"),
    (b'{"creditor_reference":"x","api_key":"k","min_days_overdue":14.0}', "/min_days_overdue"),
    (b'{"creditor_reference":"x","api_key":"k","min_amount":1e3}', "/min_amount"),
])
def test_integral_float_is_not_an_integer(direct, raw, pointer):
    # Raw bytes, straight to the service: Prism would re-serialise 1000.0 as 1000.
    r = direct.put("/v1/agency-settings", fresh(), data=raw, headers={"Content-Type": "application/json"})
    assert field_errors(r) == {(pointer, "invalid_type")}


# --- the key check holds no HTTP thread ---------------------------------------

def test_a_slow_key_check_holds_no_http_thread():
    """With one HTTP thread and an agency that takes 2 s to validate a key, a
    PUT waits for the agency's answer while other requests are served at
    once: the check runs on the key checker's threads, the PUT is deferred."""
    with agency_rig(INKASSO_THREADS=1, INKASSO_AGENCY_TIMEOUT_MS=5000) as rig:
        t = fresh()
        rig.sim.faults(slow_rate=1, slow_ms=2000, path="/api/v1/partner/validate")
        answer = {}

        def put():
            t0 = time.monotonic()
            answer["r"] = rig.api.put("/v1/agency-settings", t, json={**FULL, "api_key": agency_key(t)})
            answer["s"] = time.monotonic() - t0

        th = threading.Thread(target=put)
        th.start()
        time.sleep(0.3)  # the PUT is waiting on the agency now
        waits = []
        for _ in range(5):
            t0 = time.monotonic()
            assert rig.direct.get("/healthz").status_code == 200
            waits.append(time.monotonic() - t0)
        assert th.is_alive(), "the PUT still waits for the agency"
        th.join(timeout=10)
        assert max(waits) < 1.0, f"requests waited behind the key check: {waits}"
        r = answer["r"]
        assert r.status_code == 200, r.text
        assert r.json()["api_key_valid"] is True, "the agency's answer, after it came"
        assert answer["s"] >= 1.9, answer["s"]
        assert rig.api.get("/v1/agency-settings", t).json()["api_key_valid"] is True


def test_key_check_answers_false_and_null():
    with agency_rig() as rig:
        t = fresh()
        assert rig.api.configure(t, api_key="invalid")["api_key_valid"] is False
        # An agency that does not answer within the timeout: null, the settings saved anyway.
        rig.sim.faults(timeout_rate=1, timeout_ms=3000, path="/api/v1/partner/validate")
        doc = rig.api.configure(t, api_key=agency_key(t), creditor_reference="CR-2")
        assert doc["api_key_valid"] is None and doc["creditor_reference"] == "CR-2"
        assert rig.api.get("/v1/agency-settings", t).json()["creditor_reference"] == "CR-2"
