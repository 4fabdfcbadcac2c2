# SPDX-License-Identifier: MIT
"""Tenant isolation: another tenant's case answers exactly like an unknown id,
listings and searches never cross tenants, settings are per tenant."""
import datetime as dt
import uuid

import pytest

from conftest import assert_problem, fnr, list_all, new_tenant, valid_case

NID = fnr(dt.date(1977, 7, 7), 321)


@pytest.fixture(scope="module")
def two(api):
    """Tenant A with one case (national id, reference, number); tenant B empty."""
    a = new_tenant(api, creditor_reference="CR-ALPHA")
    b = new_tenant(api, creditor_reference="CR-BETA", min_days_overdue=30)
    body = valid_case("ISO-" + uuid.uuid4().hex[:8])
    body["your_reference"] = "iso-ref-a"
    body["debtor"].update(name="Aslaug Isolert", national_id=NID)
    r = api.post("/v1/collection-cases", a, json=body)
    assert r.status_code == 201, r.text
    return a, b, r.json()


def test_other_tenants_case_is_404_like_an_unknown_id(api, two):
    a, b, case = two
    assert api.get("/v1/collection-cases/" + case["id"], a).status_code == 200
    theirs = api.get("/v1/collection-cases/" + case["id"], b)
    unknown = api.get("/v1/collection-cases/cc_00000000000000000000000000", b)
    assert_problem(theirs, 404, "not_found")
    assert theirs.json() == unknown.json()
    assert theirs.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert case["id"] not in theirs.text


@pytest.mark.parametrize("query", [
    "", "q=isolert", "q=ASLAUG", "q=iso-ref-a", "q=ISO-", "state=open", "status=pending",
    "debtor_type=consumer", "date_of_birth=1985-04-12", "national_id=" + NID,
    "created_from=2000-01-01", "limit=200",
])
def test_listing_never_shows_another_tenants_cases(api, two, query):
    a, b, case = two
    assert case["id"] in [c["id"] for c in list_all(api, a, query)], "the filter itself must match for A"
    assert list_all(api, b, query) == []


def test_invoice_number_filter_is_per_tenant(api, two):
    a, b, case = two
    number = case["invoice"]["number"]
    assert list_all(api, b, "invoice_number=" + number) == []
    # B may send a case with the same invoice number: the business key is per tenant.
    r = api.post("/v1/collection-cases", b, json=valid_case(number))
    assert r.status_code == 201, r.text
    assert r.json()["id"] != case["id"]
    assert [c["id"] for c in list_all(api, a, "invoice_number=" + number)] == [case["id"]]
    assert [c["id"] for c in list_all(api, b, "invoice_number=" + number)] == [r.json()["id"]]


def test_cursor_from_another_tenant_shows_nothing_of_theirs(api, two):
    a, b, case = two
    for i in range(3):
        api.post("/v1/collection-cases", a, json=valid_case(f"ISO-C-{uuid.uuid4().hex[:6]}"))
    p = api.get("/v1/collection-cases?limit=1", a).json()
    assert p["has_more"] is True
    r = api.get("/v1/collection-cases?cursor=" + p["next_cursor"], b)
    assert r.status_code == 200
    a_ids = {c["id"] for c in list_all(api, a)}
    assert not a_ids & {c["id"] for c in r.json()["data"]}


def test_settings_are_per_tenant(api, two):
    a, b, _ = two
    sa, sb = api.get("/v1/agency-settings", a).json(), api.get("/v1/agency-settings", b).json()
    assert (sa["creditor_reference"], sa["min_days_overdue"]) == ("CR-ALPHA", 14)
    assert (sb["creditor_reference"], sb["min_days_overdue"]) == ("CR-BETA", 30)
    # A tenant that never configured sees no one's settings, and cannot send cases.
    c = "t_" + uuid.uuid4().hex[:10]
    assert_problem(api.get("/v1/agency-settings", c), 404, "not_found")
    assert_problem(api.post("/v1/collection-cases", c, json=valid_case()), 409, "integration_not_configured")
    # Changing B leaves A alone.
    api.configure(b, creditor_reference="CR-BETA-2", min_days_overdue=30)
    assert api.get("/v1/agency-settings", a).json()["creditor_reference"] == "CR-ALPHA"


def test_settings_of_b_apply_to_b_only(api, two):
    a, b, _ = two
    due = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=20)).isoformat()
    body = valid_case(due_on=due)
    assert api.post("/v1/collection-cases/preview", a, json=body).status_code == 200
    r = api.post("/v1/collection-cases/preview", b, json=body)  # B waits 30 days
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "not_overdue_enough"


def test_idempotency_key_of_a_does_not_replay_for_b(api, two):
    a, b, _ = two
    k = "iso-key-" + uuid.uuid4().hex
    body = valid_case()
    ra = api.post("/v1/collection-cases", a, json=body, headers={"Idempotency-Key": k})
    rb = api.post("/v1/collection-cases", b, json=body, headers={"Idempotency-Key": k})
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]
    assert_problem(api.get("/v1/collection-cases/" + ra.json()["id"], b), 404, "not_found")
