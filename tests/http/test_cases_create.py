# SPDX-License-Identifier: MIT
"""POST /v1/collection-cases and /preview: the created case, every validation
rule of DESIGN.md's table (one row each: change → pointer and code), hostile
bodies, mass assignment, preview."""
import copy
import datetime as dt
import json
import re
import uuid

import pytest

from conftest import (assert_problem, create_case, field_errors, fnr, luhn_complete, new_tenant, no_org_number,
                      today, valid_case)

T = today()
CASE_ID = re.compile(r"^cc_[0-9A-HJKMNP-TV-Z]{26}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DEL = object()  # "remove this member"
NO_ORG = no_org_number()          # 923609016
NO_FNR = fnr(dt.date(1985, 4, 12))
SE_PNR = luhn_complete("811218987")  # 8112189876


def day(n):
    """today + n days, ISO."""
    return (T + dt.timedelta(days=n)).isoformat()


def case_with(changes, number=None):
    """valid_case() with changes {"invoice/due_on": value or DEL} applied."""
    body = valid_case(number or "INV-" + uuid.uuid4().hex[:10])
    for path, value in changes.items():
        *parents, leaf = path.split("/")
        node = body
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if value is DEL:
            del node[leaf]
        elif isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = copy.deepcopy(value)
    return body


SE_ADDRESS = {"line1": "Drottninggatan 1", "line2": None, "postal_code": "111 51", "city": "Stockholm",
              "country": "SE"}
FI_ADDRESS = {"line1": "Mannerheimintie 1", "line2": None, "postal_code": "00100", "city": "Helsinki",
              "country": "FI"}
DK_ADDRESS = {"line1": "Strøget 1", "line2": None, "postal_code": "1160", "city": "København", "country": "DK"}
DE_ADDRESS = {"line1": "Unter den Linden 1", "line2": None, "postal_code": "10117", "city": "Berlin",
              "country": "DE"}


@pytest.fixture(scope="module")
def std(api):
    """A tenant with the default settings (auto, collection, 14/14, min 1)."""
    return new_tenant(api)


@pytest.fixture(scope="module")
def business(api):
    return new_tenant(api, customer_type="business")


# --- the created case ------------------------------------------------------------

def test_create_answers_201_with_the_pending_case(api, std):
    body = valid_case("INV-201-" + uuid.uuid4().hex[:6])
    r = api.post("/v1/collection-cases", std, json=body)
    assert r.status_code == 201, r.text
    c = r.json()
    assert CASE_ID.match(c["id"])
    assert r.headers["Location"] == "/v1/collection-cases/" + c["id"]
    assert (c["status"], c["stage"], c["agency_status"], c["agency_case_id"]) == ("pending", None, None, None)
    assert (c["service"], c["debtor_type"], c["your_reference"]) == ("collection", "consumer", "cus_551")
    assert TIMESTAMP.match(c["created_at"]) and c["updated_at"] == c["created_at"]
    assert c["submitted_at"] is None and c["closed_at"] is None
    actor = {"sub": None, "request_id": r.headers["X-Request-Id"]}  # the std token has no sub
    assert c["events"] == [{"at": c["created_at"], "from": None, "to": "pending", "source": "api", "detail": None,
                            "actor": actor}]
    assert c["balance"] == {"currency": "NOK", "original": 124900, "paid": 0, "credited": 0, "remaining": 124900,
                            "interest": 0, "costs": 3500}
    inv = c["invoice"]
    for k in ("number", "issued_on", "due_on", "currency", "original_amount", "outstanding_amount", "fees",
              "description", "payment_reference", "disputed"):
        assert inv[k] == body["invoice"][k], k
    assert inv["reminders"] == body["invoice"]["reminders"]
    deb = c["debtor"]
    assert (deb["name"], deb["email"], deb["phone"], deb["date_of_birth"]) == (
        "Kari Nordmann", "kari@example.no", "+4791234567", "1985-04-12")
    assert deb["address"]["postal_code"] == "0155" and deb["address"]["country"] == "NO"
    # The stored case reads back exactly as answered.
    g = api.get("/v1/collection-cases/" + c["id"], std)
    assert g.status_code == 200
    # Its delivery is the create queued with it, due since then (no agency in
    # this session, so it stays due).
    assert c["delivery"] == {"attempts": 0, "last_error": None, "next_attempt_at": c["created_at"]}
    assert g.json() == c


def test_national_id_is_masked_everywhere(api, std):
    body = case_with({"debtor/national_id": NO_FNR})
    r = api.post("/v1/collection-cases", std, json=body)
    assert r.status_code == 201, r.text
    masked = "*" * (len(NO_FNR) - 4) + NO_FNR[-4:]
    assert r.json()["debtor"]["national_id"] == masked
    g = api.get("/v1/collection-cases/" + r.json()["id"], std)
    lst = api.get("/v1/collection-cases", std)
    for resp in (r, g, lst):
        assert NO_FNR not in resp.text
        assert NO_FNR[:6] + NO_FNR[6:] not in resp.text.replace(" ", "")
    assert g.json()["debtor"]["national_id"] == masked


@pytest.mark.parametrize("changes, phone", [
    ({"debtor/phone": "+4791234567"}, "+4791234567"),
    ({"debtor/phone": "+47 912 34 567"}, "+4791234567"),
    ({"debtor/phone": ""}, "+4791234567"),                 # fallback: "912 34 567" in NO
    ({"debtor/phone": None}, "+4791234567"),
    ({"debtor/phone": DEL}, "+4791234567"),
    ({"debtor/phone": DEL, "debtor/extra_fields": [{"purpose": "phone_number", "value": "0047 912 34 567"}]},
     "+4791234567"),
    ({"debtor/phone": DEL, "debtor/extra_fields": [{"purpose": "note", "value": "x"},
                                                   {"purpose": "phone_number", "value": "+47 912 34 567"}]},
     "+4791234567"),
    ({"debtor/phone": DEL, "debtor/address": SE_ADDRESS,
      "debtor/extra_fields": [{"purpose": "phone_number", "value": "070-123 45 67"}]}, "+46701234567"),
    ({"debtor/phone": DEL, "debtor/extra_fields": []}, None),
])
def test_phone_is_normalised_to_e164(api, std, changes, phone):
    r = api.post("/v1/collection-cases", std, json=case_with(changes))
    assert r.status_code == 201, r.text
    assert r.json()["debtor"]["phone"] == phone


@pytest.mark.parametrize("changes", [
    {"invoice/issued_on": "2024-02-29", "invoice/due_on": "2024-03-30"},     # a leap day
    {"invoice/due_on": day(-14), "invoice/reminders": [{"sent_on": day(-14), "fee": 0}]},  # exactly on the day
    {"service": "pre_collection", "invoice/reminders": []},                   # no reminder needed
    {"invoice/currency": "JPY", "invoice/original_amount": 12490, "invoice/outstanding_amount": 12490},
    {"invoice/outstanding_amount": 1},                                        # == min_amount
    {"invoice/outstanding_amount": 124900, "invoice/fees": 0},
    {"invoice/reminders": [{"sent_on": day(-40), "fee": 0}, {"sent_on": day(-20), "fee": 0}]},
    {"debtor/address": SE_ADDRESS, "debtor/national_id": "811218-9876"},
    {"debtor/address": FI_ADDRESS, "debtor/national_id": "131052-308T"},
    {"debtor/address": DE_ADDRESS},
    {"debtor/address/country": "no"},                                         # case-insensitive code
    {"debtor/customer_type": "business", "debtor/business_name": None},      # auto: stays a consumer
    {"debtor/email": None},
    {"debtor/email": "first.last+tag@sub.example.co.uk"},
])
def test_valid_variants_are_created(api, std, changes):
    r = api.post("/v1/collection-cases", std, json=case_with(changes))
    assert r.status_code == 201, r.text
    assert r.json()["debtor_type"] == "consumer"


@pytest.mark.parametrize("changes, path, value", [
    ({"invoice/reminders": [{"sent_on": day(-30)}]}, ("reminders", 0, "fee"), 0),
    ({"invoice/fees": DEL}, ("fees",), 0),
])
def test_optional_money_members_default_to_zero(api, std, changes, path, value):
    # openapi.yaml: Invoice.fees and Reminder.fee are Money (integers) with
    # default 0, never null: an omitted one must read back as 0.
    r = api.post("/v1/collection-cases", std, json=case_with(changes))
    assert r.status_code == 201, r.text
    node = r.json()["invoice"]
    for p in path:
        node = node[p]
    assert node == value


# --- every rule of DESIGN.md's table ------------------------------------------------
# (id, changes to the valid case, the exact set of (pointer, code) expected)

RULES = [
    # required fields present
    ("invoice missing", {"invoice": DEL}, {("/invoice", "required")}),
    ("debtor missing", {"debtor": DEL}, {("/debtor", "required")}),
    ("number missing", {"invoice/number": DEL}, {("/invoice/number", "required")}),
    ("number blank", {"invoice/number": ""}, {("/invoice/number", "required")}),
    ("issued_on missing", {"invoice/issued_on": DEL}, {("/invoice/issued_on", "required")}),
    ("currency missing", {"invoice/currency": DEL}, {("/invoice/currency", "required")}),
    ("original missing", {"invoice/original_amount": DEL}, {("/invoice/original_amount", "required")}),
    ("outstanding missing", {"invoice/outstanding_amount": DEL}, {("/invoice/outstanding_amount", "required")}),
    ("consumer name missing", {"debtor/name": DEL}, {("/debtor/name", "required")}),
    ("consumer name blank", {"debtor/name": "  "}, {("/debtor/name", "required")}),
    ("address missing", {"debtor/address": DEL}, {("/debtor/address", "required")}),
    ("line1 missing", {"debtor/address/line1": DEL}, {("/debtor/address/line1", "required")}),
    ("postal_code missing", {"debtor/address/postal_code": DEL}, {("/debtor/address/postal_code", "required")}),
    ("city missing", {"debtor/address/city": DEL}, {("/debtor/address/city", "required")}),
    ("country missing", {"debtor/address/country": DEL}, {("/debtor/address/country", "required")}),
    # ... and of the right type
    ("invoice a string", {"invoice": "INV-1"}, {("/invoice", "invalid_type")}),
    ("debtor an array", {"debtor": []}, {("/debtor", "invalid_type")}),
    ("address a string", {"debtor/address": "Storgata 1"}, {("/debtor/address", "invalid_type")}),
    ("money as string", {"invoice/original_amount": "12"}, {("/invoice/original_amount", "invalid_type")}),
    ("outstanding as string", {"invoice/outstanding_amount": "124900"},
     {("/invoice/outstanding_amount", "invalid_type")}),
    ("fees as string", {"invoice/fees": "3500"}, {("/invoice/fees", "invalid_type")}),
    ("money as bool", {"invoice/original_amount": True}, {("/invoice/original_amount", "invalid_type")}),
    ("number as int", {"invoice/number": 202600145}, {("/invoice/number", "invalid_type")}),
    ("name as int", {"debtor/name": 42}, {("/debtor/name", "invalid_type")}),
    ("disputed as string", {"invoice/disputed": "no"}, {("/invoice/disputed", "invalid_type")}),
    ("reminders a string", {"invoice/reminders": "2026-01-30"}, {("/invoice/reminders", "invalid_type")}),
    ("reminder a string", {"invoice/reminders": ["2026-01-30"]}, {("/invoice/reminders/0", "invalid_type")}),
    ("number too long", {"invoice/number": "N" * 65}, {("/invoice/number", "too_long")}),
    ("service unknown", {"service": "express"}, {("/service", "invalid_value")}),
    # amounts are integers (DESIGN.md: "amounts are integers ... invalid_amount")
    ("money 10.5", {"invoice/original_amount": 10.5}, {("/invoice/original_amount", "invalid_amount")}),
    ("money 1e30", {"invoice/original_amount": 1e30}, {("/invoice/original_amount", "invalid_amount")}),
    ("money huge int", {"invoice/original_amount": 99999999999999999999},
     {("/invoice/original_amount", "invalid_amount")}),
    # dates are real calendar dates; issued_on <= due_on; issued_on not in the future
    ("issued_on Feb 30", {"invoice/issued_on": "2024-02-30"}, {("/invoice/issued_on", "invalid_date")}),
    ("issued_on Feb 29 non-leap", {"invoice/issued_on": "2023-02-29"}, {("/invoice/issued_on", "invalid_date")}),
    ("issued_on month 13", {"invoice/issued_on": "2024-13-01"}, {("/invoice/issued_on", "invalid_date")}),
    ("issued_on no dashes", {"invoice/issued_on": "20240101"}, {("/invoice/issued_on", "invalid_date")}),
    ("issued_on short", {"invoice/issued_on": "2024-1-5"}, {("/invoice/issued_on", "invalid_date")}),
    ("issued_on with time", {"invoice/issued_on": "2024-01-05T00:00:00Z"}, {("/invoice/issued_on", "invalid_date")}),
    ("due_on Feb 30", {"invoice/due_on": "2024-02-30"}, {("/invoice/due_on", "invalid_date")}),
    ("issued after due", {"invoice/issued_on": day(-50)}, {("/invoice/due_on", "invalid_date_order")}),
    ("issued in the future", {"invoice/issued_on": day(1)}, {("/invoice/issued_on", "invalid_date")}),
    ("reminder in the future", {"invoice/reminders": [{"sent_on": day(1)}]},
     {("/invoice/reminders/0/sent_on", "invalid_date")}),
    ("reminder before issue", {"invoice/reminders": [{"sent_on": day(-91)}]},
     {("/invoice/reminders/0/sent_on", "invalid_date_order")}),
    # a due date is present
    ("due_on missing", {"invoice/due_on": DEL}, {("/invoice/due_on", "due_date_required")}),
    ("due_on null", {"invoice/due_on": None}, {("/invoice/due_on", "due_date_required")}),
    ("due_on blank", {"invoice/due_on": ""}, {("/invoice/due_on", "due_date_required")}),
    # today >= due_on + min_days_overdue
    ("due 5 days ago", {"invoice/due_on": day(-5)}, {("/invoice/due_on", "not_overdue_enough")}),
    ("due 13 days ago", {"invoice/due_on": day(-13)}, {("/invoice/due_on", "not_overdue_enough")}),
    ("due in the future", {"invoice/due_on": day(30)}, {("/invoice/due_on", "not_overdue_enough")}),
    # service collection: a reminder, and reminder_wait_days since the last one
    ("no reminders", {"invoice/reminders": []}, {("/invoice/reminders", "reminder_required")}),
    ("reminders missing", {"invoice/reminders": DEL}, {("/invoice/reminders", "reminder_required")}),
    ("reminder 5 days ago", {"invoice/reminders": [{"sent_on": day(-5), "fee": 0}]},
     {("/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed")}),
    ("last reminder too recent", {"invoice/reminders": [{"sent_on": day(-40)}, {"sent_on": day(-3)}]},
     {("/invoice/reminders/1/sent_on", "reminder_wait_not_elapsed")}),
    ("latest reminder listed first", {"invoice/reminders": [{"sent_on": day(-3)}, {"sent_on": day(-40)}]},
     {("/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed")}),
    # amounts: original > 0; 0 < outstanding <= original
    ("original 0", {"invoice/original_amount": 0}, {("/invoice/original_amount", "invalid_amount")}),
    ("original negative", {"invoice/original_amount": -124900}, {("/invoice/original_amount", "invalid_amount")}),
    ("outstanding 0", {"invoice/outstanding_amount": 0}, {("/invoice/outstanding_amount", "invalid_amount")}),
    ("outstanding negative", {"invoice/outstanding_amount": -1}, {("/invoice/outstanding_amount", "invalid_amount")}),
    ("outstanding > original", {"invoice/outstanding_amount": 124901},
     {("/invoice/outstanding_amount", "invalid_amount")}),
    ("fees negative", {"invoice/fees": -1}, {("/invoice/fees", "invalid_amount")}),
    ("reminder fee negative", {"invoice/reminders": [{"sent_on": day(-30), "fee": -1}]},
     {("/invoice/reminders/0/fee", "invalid_amount")}),
    # currency, country, postal code
    ("currency XXQ", {"invoice/currency": "XXQ"}, {("/invoice/currency", "invalid_currency")}),
    ("currency lower case", {"invoice/currency": "nok"}, {("/invoice/currency", "invalid_currency")}),
    ("currency 4 letters", {"invoice/currency": "NOKK"}, {("/invoice/currency", "invalid_currency")}),
    ("country ZZ", {"debtor/address/country": "ZZ"}, {("/debtor/address/country", "invalid_country")}),
    ("country alpha-3", {"debtor/address/country": "NOR"}, {("/debtor/address/country", "invalid_country")}),
    ("NO postal 3 digits", {"debtor/address/postal_code": "015"}, {("/debtor/address/postal_code",
                                                                      "invalid_postal_code")}),
    ("NO postal 5 digits", {"debtor/address/postal_code": "01550"}, {("/debtor/address/postal_code",
                                                                        "invalid_postal_code")}),
    ("NO postal letters", {"debtor/address/postal_code": "ABCD"}, {("/debtor/address/postal_code",
                                                                      "invalid_postal_code")}),
    ("DE postal 4 digits", {"debtor/address": {**DE_ADDRESS, "postal_code": "1011"}},
     {("/debtor/address/postal_code", "invalid_postal_code")}),
    ("SE postal 4 digits", {"debtor/address": {**SE_ADDRESS, "postal_code": "1115"}},
     {("/debtor/address/postal_code", "invalid_postal_code")}),
    # consumer: national_id checksum
    ("NO national id checksum", {"debtor/national_id": NO_FNR[:-1] + str((int(NO_FNR[-1]) + 1) % 10)},
     {("/debtor/national_id", "invalid_national_id")}),
    ("NO national id 10 digits", {"debtor/national_id": NO_FNR[:-1]}, {("/debtor/national_id",
                                                                          "invalid_national_id")}),
    ("NO national id bad date", {"debtor/national_id": "32138512345"}, {("/debtor/national_id",
                                                                           "invalid_national_id")}),
    ("SE national id Luhn", {"debtor/address": SE_ADDRESS, "debtor/national_id": "811218-9875"},
     {("/debtor/national_id", "invalid_national_id")}),
    ("FI national id check char", {"debtor/address": FI_ADDRESS, "debtor/national_id": "131052-308U"},
     {("/debtor/national_id", "invalid_national_id")}),
    # auto: business iff business_name set and customer_type business
    ("auto business without org", {"debtor/customer_type": "business", "debtor/business_name": "Fjord AS"},
     {("/debtor/org_number", "org_number_required")}),
    # email, phone, disputed
    ("email no @", {"debtor/email": "kari.example.no"}, {("/debtor/email", "invalid_email")}),
    ("email no domain dot", {"debtor/email": "kari@example"}, {("/debtor/email", "invalid_email")}),
    ("email empty local", {"debtor/email": "@example.no"}, {("/debtor/email", "invalid_email")}),
    ("email two @", {"debtor/email": "kari@@example.no"}, {("/debtor/email", "invalid_email")}),
    ("email space", {"debtor/email": "kari nordmann@example.no"}, {("/debtor/email", "invalid_email")}),
    ("phone national", {"debtor/phone": "91234567"}, {("/debtor/phone", "invalid_phone")}),
    ("phone too short", {"debtor/phone": "+4712"}, {("/debtor/phone", "invalid_phone")}),
    ("phone letters", {"debtor/phone": "+47912345xx"}, {("/debtor/phone", "invalid_phone")}),
    ("phone leading 0", {"debtor/phone": "+0791234567"}, {("/debtor/phone", "invalid_phone")}),
    ("phone too long", {"debtor/phone": "+1234567890123456"}, {("/debtor/phone", "invalid_phone")}),
    ("fallback unusable", {"debtor/phone": "", "debtor/extra_fields": [{"purpose": "phone_number",
                                                                       "value": "call me"}]},
     {("/debtor/extra_fields/0/value", "invalid_phone")}),
    ("disputed", {"invoice/disputed": True}, {("/invoice/disputed", "claim_disputed")}),
]


@pytest.mark.parametrize("changes, expected", [pytest.param(c, e, id=i) for i, c, e in RULES])
def test_validation_rule(api, std, changes, expected):
    r = api.post("/v1/collection-cases", std, json=case_with(changes))
    assert field_errors(r) == expected
    for e in r.json()["errors"]:
        assert e["detail"], e


def test_rejected_cases_are_not_stored(api, std):
    number = "INV-REJ-" + uuid.uuid4().hex[:6]
    assert api.post("/v1/collection-cases", std, json=case_with({"invoice/disputed": True}, number)).status_code == 422
    assert api.get(f"/v1/collection-cases?invoice_number={number}", std).json()["data"] == []


def test_not_overdue_enough_names_the_first_allowed_date(api, std):
    due = T - dt.timedelta(days=5)
    r = api.post("/v1/collection-cases", std, json=case_with({"invoice/due_on": due.isoformat()}))
    [err] = r.json()["errors"]
    assert err["code"] == "not_overdue_enough"
    assert (due + dt.timedelta(days=14)).isoformat() in err["detail"]


def test_several_errors_in_one_answer(api, std):
    r = api.post("/v1/collection-cases", std, json=case_with({
        "invoice/original_amount": 0, "invoice/currency": "XXQ", "invoice/disputed": True,
        "debtor/email": "nope", "debtor/address/country": "ZZ", "debtor/name": DEL, "invoice/reminders": []}))
    assert field_errors(r) >= {
        ("/invoice/original_amount", "invalid_amount"), ("/invoice/currency", "invalid_currency"),
        ("/invoice/disputed", "claim_disputed"), ("/debtor/email", "invalid_email"),
        ("/debtor/address/country", "invalid_country"), ("/debtor/name", "required"),
        ("/invoice/reminders", "reminder_required")}


# --- rules that depend on the tenant's settings -----------------------------------------

@pytest.fixture(scope="module")
def no_wait(api):
    """min_days_overdue 0: only the legal floors remain (NO 14, FI 14)."""
    return new_tenant(api, min_days_overdue=0)


@pytest.mark.parametrize("address, ok", [
    (None, False),          # NO: legal floor 14 days
    (FI_ADDRESS, False),    # FI: legal floor 14 days
    (SE_ADDRESS, True),
    (DK_ADDRESS, True),
    (DE_ADDRESS, True),
])
def test_legal_overdue_floor(api, no_wait, address, ok):
    due = T - dt.timedelta(days=10)
    changes = {"invoice/due_on": due.isoformat()}
    if address:
        changes["debtor/address"] = address
    r = api.post("/v1/collection-cases", no_wait, json=case_with(changes))
    if ok:
        assert r.status_code == 201, r.text
    else:
        assert field_errors(r) == {("/invoice/due_on", "not_overdue_enough")}
        assert (due + dt.timedelta(days=14)).isoformat() in r.json()["errors"][0]["detail"]


def test_min_days_overdue_from_settings(api):
    t = new_tenant(api, min_days_overdue=45)
    assert field_errors(api.post("/v1/collection-cases", t, json=case_with({"invoice/due_on": day(-44)}))) == {
        ("/invoice/due_on", "not_overdue_enough")}
    assert api.post("/v1/collection-cases", t, json=case_with({"invoice/due_on": day(-45)})).status_code == 201


def test_reminder_wait_days_from_settings(api):
    t = new_tenant(api, reminder_wait_days=0)
    r = api.post("/v1/collection-cases", t, json=case_with({"invoice/reminders": [{"sent_on": day(0), "fee": 0}]}))
    assert r.status_code == 201, r.text
    t = new_tenant(api, reminder_wait_days=40)
    r = api.post("/v1/collection-cases", t, json=case_with({}))  # reminder 30 days ago
    assert field_errors(r) == {("/invoice/reminders/0/sent_on", "reminder_wait_not_elapsed")}


@pytest.mark.parametrize("outstanding, expected", [
    (49999, {("/invoice/outstanding_amount", "amount_below_minimum")}),
    (50000, None),
])
def test_amount_below_minimum(api, outstanding, expected):
    t = new_tenant(api, min_amount=50000)
    r = api.post("/v1/collection-cases", t, json=case_with({"invoice/outstanding_amount": outstanding}))
    if expected is None:
        assert r.status_code == 201, r.text
    else:
        assert field_errors(r) == expected


def test_default_service_from_settings(api):
    t = new_tenant(api, service="pre_collection")
    r = api.post("/v1/collection-cases", t, json=case_with({"service": DEL, "invoice/reminders": []}))
    assert r.status_code == 201, r.text
    assert r.json()["service"] == "pre_collection"


# business debtors: the tenant says business
@pytest.mark.parametrize("debtor, expected", [
    ({"business_name": "Fjord AS", "org_number": NO_ORG}, None),
    ({"business_name": "Fjord AS", "org_number": NO_ORG[:3] + " " + NO_ORG[3:6] + " " + NO_ORG[6:]}, None),
    ({"business_name": "Fjord AS", "org_number": None}, {("/debtor/org_number", "org_number_required")}),
    ({"business_name": "Fjord AS", "org_number": DEL}, {("/debtor/org_number", "org_number_required")}),
    ({"business_name": "Fjord AS", "org_number": NO_ORG[:-1] + str((int(NO_ORG[-1]) + 1) % 10)},
     {("/debtor/org_number", "invalid_org_number")}),
    ({"business_name": "Fjord AS", "org_number": "12345678"}, {("/debtor/org_number", "invalid_org_number")}),
    ({"business_name": DEL, "org_number": NO_ORG}, {("/debtor/business_name", "required")}),
    ({"business_name": "Fjord AB", "org_number": "556036-0793", "address": SE_ADDRESS}, None),
    ({"business_name": "Fjord AB", "org_number": "556036-0794", "address": SE_ADDRESS},
     {("/debtor/org_number", "invalid_org_number")}),
    ({"business_name": "Fjord Oy", "org_number": "0112038-9", "address": FI_ADDRESS}, None),
    ({"business_name": "Fjord Oy", "org_number": "0112038-8", "address": FI_ADDRESS},
     {("/debtor/org_number", "invalid_org_number")}),
    ({"business_name": "Fjord ApS", "org_number": "13585628", "address": DK_ADDRESS}, None),
    ({"business_name": "Fjord ApS", "org_number": "13585627", "address": DK_ADDRESS},
     {("/debtor/org_number", "invalid_org_number")}),
])
def test_business_debtor(api, business, debtor, expected):
    changes = {"debtor/" + k: v for k, v in debtor.items()}
    r = api.post("/v1/collection-cases", business, json=case_with(changes))
    if expected is None:
        assert r.status_code == 201, r.text
        assert r.json()["debtor_type"] == "business"
    else:
        assert field_errors(r) == expected


def test_auto_resolves_business_from_the_debtor(api, std):
    r = api.post("/v1/collection-cases", std, json=case_with({
        "debtor/customer_type": "business", "debtor/business_name": "Fjord AS", "debtor/org_number": NO_ORG}))
    assert r.status_code == 201, r.text
    assert r.json()["debtor_type"] == "business"


def test_consumer_tenant_ignores_the_debtors_own_type(api):
    t = new_tenant(api, customer_type="consumer")
    r = api.post("/v1/collection-cases", t, json=case_with({
        "debtor/customer_type": "business", "debtor/business_name": "Fjord AS"}))
    assert r.status_code == 201, r.text
    assert r.json()["debtor_type"] == "consumer"


# --- JSON types that a proxy would re-serialise: raw bytes, straight to the service ------

@pytest.mark.parametrize("raw_amount, expected", [
    (b'"12"', ("/invoice/original_amount", "invalid_type")),
    (b"10.5", ("/invoice/original_amount", "invalid_amount")),
    (b"124900.0", ("/invoice/original_amount", "invalid_amount")),
    (b"1e30", ("/invoice/original_amount", "invalid_amount")),
    (b"1E3", ("/invoice/original_amount", "invalid_amount")),
    (b"99999999999999999999", ("/invoice/original_amount", "invalid_amount")),
    (b"18446744073709551615", ("/invoice/original_amount", "invalid_amount")),
    (b"9223372036854775807", ("/invoice/original_amount", "invalid_amount")),
    (b"-9223372036854775809", ("/invoice/original_amount", "invalid_amount")),
    (b"null", ("/invoice/original_amount", "required")),
])
def test_money_json_types_raw(direct, raw_amount, expected):
    t = "t_raw_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    text = json.dumps(case_with({})).encode()
    assert b'"original_amount": 124900' in text
    body = text.replace(b'"original_amount": 124900', b'"original_amount": ' + raw_amount)
    r = direct.post("/v1/collection-cases", t, data=body, headers={"Content-Type": "application/json"})
    if r.status_code == 400:  # a parser may refuse the number outright
        assert_problem(r, 400, "malformed_json")
    else:
        assert expected in field_errors(r), r.text
    assert direct.get("/v1/collection-cases", t).json()["data"] == []


# --- hostile bodies ---------------------------------------------------------------
# Prism parses JSON bodies itself (and would answer or re-encode), so these
# bytes go straight to the service.

def _deep(n):
    return b'{"a":' * n + b"1" + b"}" * n


HOSTILE = [
    ("not JSON", b"not json"),
    ("empty", b""),
    ("whitespace only", b"   \n"),
    ("truncated", b'{"invoice": {"number": "1"'),
    ("array", b"[]"),
    ("array of object", b'[{"invoice": {}}]'),
    ("string", b'"hello"'),
    ("number", b"42"),
    ("null", b"null"),
    ("trailing data", b'{"invoice": {}} x'),
    ("two objects", b'{"a": 1}{"b": 2}'),
    ("trailing comma", b'{"a": 1,}'),
    ("single quotes", b"{'a': 1}"),
    ("comment", b'{"a": 1 /* c */}'),
    ("overlong slash \\xc0\\xaf", b'{"a": "\xc0\xaf"}'),
    ("surrogate \\xed\\xa0\\x80", b'{"a": "\xed\xa0\x80"}'),
    ("above U+10FFFF", b'{"a": "\xf4\x90\x80\x80"}'),
    ("lone continuation byte", b'{"a": "\x80"}'),
    ("truncated sequence", b'{"a": "\xe2\x82"}'),
    ("latin-1 byte", b'{"a": "caf\xe9"}'),
    ("invalid UTF-8 in a key", b'{"\xff": 1}'),
    ("\\u0000 in a string", b'{"a": "x\\u0000y"}'),
    ("lone high surrogate escape", b'{"a": "\\ud800"}'),
    ("lone low surrogate escape", b'{"a": "x\\udc00"}'),
    ("high surrogate then a letter", b'{"debtor": {"name": "\\ud83d\\u0041"}}'),
    ("\\u0000 in a key", b'{"a\\u0000b": 1}'),
    ("\\u0000 deep", b'{"debtor": {"name": "Kari\\u0000Nordmann"}}'),
    ("raw NUL byte", b'{"a": "x\x00y"}'),
    ("raw control char", b'{"a": "x\x01y"}'),
    ("100-deep nesting", _deep(100)),
    ("1000-deep arrays", b'{"a":' + b"[" * 1000 + b"]" * 1000 + b"}"),
    ("NaN", b'{"a": NaN}'),
    ("Infinity", b'{"a": Infinity}'),
    ("hex number", b'{"a": 0x10}'),
    ("leading zero", b'{"a": 012}'),
    ("UTF-8 BOM", b"\xef\xbb\xbf{}"),
]


@pytest.mark.parametrize("path", ["/v1/collection-cases", "/v1/collection-cases/preview"])
@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in HOSTILE])
def test_hostile_body_is_400(direct, body, path):
    t = "t_hostile"
    direct.configure(t)
    r = direct.post(path, t, data=body, headers={"Content-Type": "application/json"})
    p = assert_problem(r, 400, "malformed_json")
    assert p.get("detail")
    # Still serving, and nothing was stored.
    assert direct.get("/healthz").status_code == 200
    assert direct.get("/v1/collection-cases", t).json()["data"] == []


def test_moderate_nesting_in_unknown_members_is_fine(direct):
    t = "t_nesting_ok"
    direct.configure(t)
    body = json.dumps(case_with({})).encode()[:-1] + b', "extra": ' + _deep(10) + b"}"
    r = direct.post("/v1/collection-cases/preview", t, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text


def test_service_keeps_serving_after_hostile_bodies(direct, api, std):
    for _, body in HOSTILE:
        direct.post("/v1/collection-cases", std, data=body, headers={"Content-Type": "application/json"})
    create_case(api, std, case_with({}))


# --- mass assignment ------------------------------------------------------------------

def test_unknown_and_server_owned_members_are_ignored(api, std):
    body = case_with({})
    forged_id = "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB"
    body.update({
        "id": forged_id, "status": "paid", "stage": "legal", "agency_status": "PAID", "agency_case_id": "999",
        "debtor_type": "business", "tenant": "someone_else", "created_at": "2000-01-01T00:00:00.000Z",
        "submitted_at": "2000-01-01T00:00:00.000Z", "closed_at": "2000-01-01T00:00:00.000Z",
        "balance": {"currency": "NOK", "original": 1, "paid": 999999, "credited": 5, "remaining": 0,
                    "interest": 7, "costs": 9},
        "events": [{"from": "pending", "to": "paid", "source": "sync"}], "payments": [{"amount": 1}],
        "foo": {"bar": [1, 2, 3]},
    })
    body["invoice"]["paid_amount"] = 124900
    body["debtor"]["credit_score"] = 900
    r = api.post("/v1/collection-cases", std, json=body)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["id"] != forged_id
    assert (c["status"], c["stage"], c["agency_status"], c["agency_case_id"], c["debtor_type"]) == (
        "pending", None, None, None, "consumer")
    assert c["balance"] == {"currency": "NOK", "original": 124900, "paid": 0, "credited": 0, "remaining": 124900,
                            "interest": 0, "costs": 3500}
    assert not c["created_at"].startswith("2000") and c["submitted_at"] is None and c["closed_at"] is None
    assert len(c["events"]) == 1 and c["payments"] == []
    for k in ("foo", "tenant"):
        assert k not in c
    assert "paid_amount" not in c["invoice"] and "credit_score" not in c["debtor"]
    assert_problem(api.get("/v1/collection-cases/" + forged_id, std), 404, "not_found")
    assert api.get("/v1/collection-cases/" + c["id"], std).json()["status"] == "pending"


# --- preview -------------------------------------------------------------------------

def test_preview_answers_the_case_and_stores_nothing(api):
    t = new_tenant(api)
    body = case_with({"debtor/phone": "", "debtor/national_id": NO_FNR})
    r = api.post("/v1/collection-cases/preview", t, json=body)
    assert r.status_code == 200, r.text
    p = r.json()
    # due 60 days ago + 14 → -46; last reminder 30 days ago + 14 → -16: the later.
    assert p["earliest_send_date"] == day(-16)
    assert p["id"] is None and p["created_at"] is None and p["updated_at"] is None
    assert (p["status"], p["service"], p["debtor_type"]) == ("pending", "collection", "consumer")
    assert p["debtor"]["phone"] == "+4791234567"
    assert p["debtor"]["national_id"] == "*" * 7 + NO_FNR[-4:] and NO_FNR not in r.text
    assert p["balance"]["remaining"] == 124900
    assert "Location" not in r.headers
    assert api.get("/v1/collection-cases", t).json()["data"] == []
    # The same body can still be created afterwards: the preview took nothing.
    assert api.post("/v1/collection-cases", t, json=body).status_code == 201


@pytest.mark.parametrize("changes, earliest", [
    ({"service": "pre_collection", "invoice/reminders": []}, day(-46)),
    ({"invoice/reminders": [{"sent_on": day(-50), "fee": 0}]}, day(-36)),
    ({"invoice/due_on": day(-14), "invoice/reminders": [{"sent_on": day(-20), "fee": 0}]}, day(0)),
])
def test_preview_earliest_send_date(api, std, changes, earliest):
    r = api.post("/v1/collection-cases/preview", std, json=case_with(changes))
    assert r.status_code == 200, r.text
    assert r.json()["earliest_send_date"] == earliest


@pytest.mark.parametrize("changes, expected", [
    ({"invoice/due_on": day(-5)}, {("/invoice/due_on", "not_overdue_enough")}),
    ({"invoice/disputed": True, "debtor/email": "x"}, {("/invoice/disputed", "claim_disputed"),
                                                      ("/debtor/email", "invalid_email")}),
])
def test_preview_of_an_invalid_case_is_the_same_422(api, std, changes, expected):
    body = case_with(changes)
    pr = api.post("/v1/collection-cases/preview", std, json=body)
    cr = api.post("/v1/collection-cases", std, json=body)
    assert field_errors(pr) == field_errors(cr) == expected
    assert pr.json()["errors"] == cr.json()["errors"]


def test_preview_of_a_duplicate_is_409(api, std):
    c = create_case(api, std, case_with({}))
    r = api.post("/v1/collection-cases/preview", std, json=case_with({}, c["invoice"]["number"]))
    p = assert_problem(r, 409, "duplicate_case")
    assert p["case_id"] == c["id"]
