# SPDX-License-Identifier: MIT
"""Request schemas accept exactly what the service accepts, as to JSON null
(issue 13, point 5): the body reader (lib/json_read.c) reads a null member as
left out, so every optional member of a request body allows null in
openapi.yaml and no required one does.

Two proxies: the session's (answers checked against openapi.yaml) and one
that also checks each request, as a generated client types it (`strict`):
a request the schema refuses is answered by Prism itself (422
PRISM_INVALID_REQUEST) and never reaches the service. So a member whose
schema forgot null fails here as Prism's 422, and a required member whose
schema allows null fails because Prism lets it through."""
import copy
import datetime as dt
import uuid

import pytest

from conftest import (PRISM_INVALID_REQUEST, SPEC, Api, assert_problem, create_case, field_errors, new_tenant,
                      prism_proxy, resolve, valid_case)

NOWHERE = "https://hooks.example.invalid/inkasso"


@pytest.fixture(scope="module")
def strict(service):
    with prism_proxy(service.url, validate_requests=True) as url:
        yield Api(url)


# --- the request schemas, walked member by member ---------------------------

def allows_null(schema):
    s = resolve(schema)
    t = s.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    if any(allows_null(x) for k in ("oneOf", "anyOf") for x in s.get(k, [])):
        return True
    return bool(s.get("allOf")) and all(allows_null(x) for x in s["allOf"])


def branches(schema):
    """The schema and what its oneOf/anyOf/allOf hold, resolved."""
    s = resolve(schema)
    yield s
    for k in ("oneOf", "anyOf", "allOf"):
        for x in s.get(k, []):
            yield from branches(x)


def members(schema, pointer=""):
    """(pointer, required, schema) of every member of an object schema, nested
    objects and array elements (pointer .../0/...) included."""
    for s in branches(schema):
        req = set(s.get("required", []))
        for name, prop in (s.get("properties") or {}).items():
            p = f"{pointer}/{name}"
            yield p, name in req, prop
            for b in branches(prop):
                if b.get("properties"):
                    yield from members(b, p)
                if isinstance(b.get("items"), dict):
                    yield from members(b["items"], p + "/0")


def request_bodies():
    """{operationId: the schema of its JSON request body}."""
    out = {}
    for ops in SPEC["paths"].values():
        for op in ops.values():
            if isinstance(op, dict) and "requestBody" in op:
                body = resolve(op["requestBody"])
                out[op["operationId"]] = body["content"]["application/json"]["schema"]
    return out


BODIES = request_bodies()


def test_every_operation_with_a_body_is_walked():
    assert set(BODIES) == {"putAgencySettings", "createCase", "previewCase", "createPayment", "createAction",
                           "createWebhookEndpoint", "updateWebhookEndpoint", "recoverWebhookEndpoint"}


@pytest.mark.parametrize("op", sorted(BODIES))
def test_optional_members_allow_null_required_ones_do_not(op):
    wrong = [(p, "required" if req else "optional") for p, req, s in members(BODIES[op])
             if allows_null(s) == req]
    assert wrong == [], f"{op}: null allowed on a required member or refused on an optional one: {wrong}"


# --- the service: null is left out ------------------------------------------

def at(body, pointer):
    """The parent container and key of pointer in body, or (None, None)."""
    parts = pointer.strip("/").split("/")
    node = body
    for p in parts[:-1]:
        if isinstance(node, list):
            node = node[int(p)] if int(p) < len(node) else None
        else:
            node = node.get(p)
        if not isinstance(node, (dict, list)):
            return None, None
    return node, parts[-1]


def with_member(body, pointer, value=None, drop=False):
    b = copy.deepcopy(body)
    parent, key = at(b, pointer)
    assert isinstance(parent, dict), f"{pointer} has no object to live in"
    if drop:
        parent.pop(key, None)
    else:
        parent[key] = value
    return b


def not_refused_by_schema(r, what):
    assert not (r.status_code == 422 and r.json().get("type") == PRISM_INVALID_REQUEST), \
        f"{what}: openapi.yaml refuses what the service takes: {r.json().get('validation')}"


def refused_by_schema(r, pointer):
    assert r.status_code == 422, (pointer, r.status_code, r.text)
    p = r.json()
    assert p["type"] == PRISM_INVALID_REQUEST, f"{pointer}: null reached the service; the schema allows it: {p}"
    locations = ["/" + "/".join(str(x) for x in v["location"][1:]) for v in p["validation"]]
    assert pointer in locations, (pointer, p["validation"])


VOLATILE = {"updated_at", "created_at", "actor", "id"}


def stable(v):
    if isinstance(v, dict):
        return {k: stable(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [stable(x) for x in v]
    return v


CASE_OPTIONAL = [p for p, req, _ in members(BODIES["previewCase"]) if not req]
CASE_REQUIRED = [p for p, req, _ in members(BODIES["previewCase"]) if req]


def test_the_case_walk_covers_the_members_the_tests_know():
    assert "/invoice/fees" in CASE_OPTIONAL and "/invoice/reminders/0/fee" in CASE_OPTIONAL
    assert "/debtor/extra_fields/0/value" in CASE_OPTIONAL and "/service" in CASE_OPTIONAL
    assert "/invoice/due_on" in CASE_REQUIRED and "/debtor/address/country" in CASE_REQUIRED


@pytest.mark.parametrize("pointer", CASE_OPTIONAL)
def test_a_null_case_member_is_answered_as_one_left_out(api, strict, tenant, pointer):
    """Preview (nothing stored): the answer to a null member is the answer to
    the body without it, whatever that is (a 422 when a rule needs it, as a
    consumer's name), and the schema lets the null through."""
    base = valid_case()
    null = strict.post("/v1/collection-cases/preview", tenant, json=with_member(base, pointer))
    not_refused_by_schema(null, pointer)
    absent = api.post("/v1/collection-cases/preview", tenant, json=with_member(base, pointer, drop=True))
    assert (null.status_code, stable(null.json())) == (absent.status_code, stable(absent.json())), pointer


@pytest.mark.parametrize("pointer", CASE_REQUIRED)
def test_a_null_required_case_member_is_422_and_refused_by_the_schema(api, strict, tenant, pointer):
    body = with_member(valid_case(), pointer)
    codes = {c for p, c in field_errors(api.post("/v1/collection-cases/preview", tenant, json=body)) if p == pointer}
    assert codes == {"due_date_required" if pointer == "/invoice/due_on" else "required"}, (pointer, codes)
    refused_by_schema(strict.post("/v1/collection-cases/preview", tenant, json=body), pointer)


def test_a_case_created_with_null_members_takes_the_defaults(strict, tenant):
    body = valid_case()
    body["service"] = None  # the tenant's: collection
    body["invoice"].update(fees=None, disputed=None, description=None)
    body["invoice"]["reminders"][0]["fee"] = None
    body["debtor"].update(extra_fields=None, customer_type=None, date_of_birth=None)
    r = strict.post("/v1/collection-cases", tenant, json=body)
    not_refused_by_schema(r, "createCase")
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["service"] == "collection"
    inv = c["invoice"]
    assert (inv["fees"], inv["disputed"], inv["description"], inv["reminders"][0]["fee"]) == (0, False, None, 0)
    assert c["debtor"]["extra_fields"] == [] and c["debtor"]["date_of_birth"] is None


SETTINGS = {"creditor_reference": "CR-nulls", "api_key": "key-nulls", "service": "pre_collection",
            "customer_type": "business", "min_days_overdue": 30, "reminder_wait_days": 20, "min_amount": 500,
            "enabled": False, "agency_environment": "production"}
SETTINGS_OPTIONAL = [p for p, req, _ in members(BODIES["putAgencySettings"]) if not req]


@pytest.mark.parametrize("pointer", SETTINGS_OPTIONAL)
def test_a_null_settings_member_takes_its_default(api, strict, pointer):
    t = new_tenant(api)
    null = strict.put("/v1/agency-settings", t, json=with_member(SETTINGS, pointer))
    not_refused_by_schema(null, pointer)
    assert null.status_code == 200, null.text
    absent = api.put("/v1/agency-settings", t, json=with_member(SETTINGS, pointer, drop=True))
    assert absent.status_code == 200, absent.text
    assert stable(null.json()) == stable(absent.json()), pointer
    assert null.json()["api_key_set"] is True


def test_null_settings_on_a_first_put_and_a_null_creditor_reference(api, strict):
    t = "t_" + uuid.uuid4().hex[:10]
    # No stored key: a null api_key is a missing one (the schema cannot know the stored state).
    r = strict.put("/v1/agency-settings", t, json={"creditor_reference": "CR-1", "api_key": None})
    assert field_errors(r) == {("/api_key", "required")}
    body = {"creditor_reference": None, "api_key": "k"}
    assert field_errors(api.put("/v1/agency-settings", t, json=body)) == {("/creditor_reference", "required")}
    refused_by_schema(strict.put("/v1/agency-settings", t, json=body), "/creditor_reference")


def test_null_payment_and_action_members(api, strict, tenant):
    case = create_case(api, tenant)
    path = f"/v1/collection-cases/{case['id']}"
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    r = strict.post(path + "/payments", tenant, json={"kind": None, "amount": 100, "paid_on": today, "reference": None})
    not_refused_by_schema(r, "createPayment")
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["reference"]) == ("payment", None)
    r = strict.post(path + "/actions", tenant, json={"type": "comment", "comment": None})
    not_refused_by_schema(r, "createAction")
    assert r.status_code == 202, r.text
    assert r.json()["comment"] is None
    for member in ("amount", "paid_on"):
        body = {"amount": 100, "paid_on": today, member: None}
        assert field_errors(api.post(path + "/payments", tenant, json=body)) == {("/" + member, "required")}
        refused_by_schema(strict.post(path + "/payments", tenant, json=body), "/" + member)
    body = {"type": None}
    assert field_errors(api.post(path + "/actions", tenant, json=body)) == {("/type", "required")}
    refused_by_schema(strict.post(path + "/actions", tenant, json=body), "/type")


def test_null_webhook_endpoint_members(api, strict, tenant):
    r = strict.post("/v1/webhook-endpoints", tenant,
                    json={"url": NOWHERE, "event_types": ["*"], "description": None, "enabled": None})
    not_refused_by_schema(r, "createWebhookEndpoint")
    assert r.status_code == 201, r.text
    ep = r.json()
    assert (ep["description"], ep["enabled"]) == ("", True)
    path = "/v1/webhook-endpoints/" + ep["id"]
    assert api.patch(path, tenant, json={"description": "billing"}).status_code == 200
    before = api.get(path, tenant).json()
    # Every member null: nothing changes (as an empty PATCH).
    r = strict.patch(path, tenant, json={"url": None, "event_types": None, "description": None, "enabled": None})
    not_refused_by_schema(r, "updateWebhookEndpoint")
    assert r.status_code == 200, r.text
    assert stable(r.json()) == stable(before)
    # "" is a value, not null: it clears the description.
    assert api.patch(path, tenant, json={"description": ""}).json()["description"] == ""
    for member in ("url", "event_types"):
        body = {"url": NOWHERE, "event_types": ["*"], member: None}
        assert field_errors(api.post("/v1/webhook-endpoints", tenant, json=body)) == {("/" + member, "required")}
        refused_by_schema(strict.post("/v1/webhook-endpoints", tenant, json=body), "/" + member)
    body = {"since": None}
    assert field_errors(api.post(path + "/recover", tenant, json=body)) == {("/since", "required")}
    refused_by_schema(strict.post(path + "/recover", tenant, json=body), "/since")
