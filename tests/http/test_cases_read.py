# SPDX-License-Identifier: MIT
"""GET /v1/collection-cases (order, limit, keyset cursor, filters, search) and
GET /v1/collection-cases/{id}."""
import datetime as dt
import re
import uuid

import pytest

from conftest import DbConn, assert_problem, b64url, create_case, fnr, list_all, no_org_number, today, valid_case

T = today()
YESTERDAY, TOMORROW = (T - dt.timedelta(days=1)).isoformat(), (T + dt.timedelta(days=1)).isoformat()
CASE_ID = re.compile(r"^cc_[0-9A-HJKMNP-TV-Z]{26}$")


def page(api, tenant, query=""):
    r = api.get("/v1/collection-cases" + ("?" + query if query else ""), tenant)
    assert r.status_code == 200, r.text
    return r.json()


def ids(cases):
    return [c["id"] for c in cases]


@pytest.fixture(scope="module")
def paged(direct):
    """A tenant with 120 cases, created one after the other (oldest first)."""
    t = "t_paged_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    created = [create_case(direct, t, valid_case(f"P-{i:03d}"))["id"] for i in range(120)]
    return t, created


# --- order and limit ---------------------------------------------------------------

def test_list_is_newest_first(api, paged):
    t, created = paged
    assert ids(list_all(api, t)) == created[::-1]


def test_limit_defaults_to_50(api, paged):
    t, created = paged
    p = page(api, t)
    assert ids(p["data"]) == created[::-1][:50]
    assert p["has_more"] is True and isinstance(p["next_cursor"], str) and p["next_cursor"]


@pytest.mark.parametrize("limit, n, has_more", [("1", 1, True), ("120", 120, False), ("200", 120, False),
                                                ("119", 119, True)])
def test_limit_within_bounds(api, paged, limit, n, has_more):
    t, created = paged
    p = page(api, t, "limit=" + limit)
    assert ids(p["data"]) == created[::-1][:n]
    assert p["has_more"] is has_more
    assert (p["next_cursor"] is None) is (not has_more)


@pytest.mark.parametrize("query, parameter", [
    ("limit=0", "limit"),
    ("limit=201", "limit"),
    ("limit=-1", "limit"),
    ("limit=x", "limit"),
    ("limit=", "limit"),
    ("limit=1.5", "limit"),
    ("limit=50abc", "limit"),
    ("limit=1e2", "limit"),
    ("limit=99999999999999999999", "limit"),
    ("limit=1&limit=2", "limit"),
    ("cursor=garbage", "cursor"),
    ("cursor=%21%21%21", "cursor"),
    ("cursor=", "cursor"),
    ("cursor=" + b64url("v1.0"), "cursor"),
    ("cursor=" + b64url("v1.-5"), "cursor"),
    ("cursor=" + b64url("v2.5"), "cursor"),
    ("cursor=" + b64url("v1.5x"), "cursor"),
    ("status=bogus", "status"),
    ("status=pending,", "status"),
    ("status=,pending", "status"),
    ("status=pending,bogus", "status"),
    ("status=", "status"),
    ("status=all", "status"),
    ("status=OPEN", "status"),
    ("status=open,", "status"),
    ("status=open&status=closed", "status"),
    ("state=bogus", "state"),
    ("state=", "state"),
    ("state=OPEN", "state"),
    ("state=pending", "state"),
    ("state=open,closed", "state"),
    ("state=open&state=closed", "state"),
    ("state=bogus&status=pending", "state"),
    ("state=open&status=bogus", "status"),
    ("debtor_type=robot", "debtor_type"),
    ("date_of_birth=1970-02-30", "date_of_birth"),
    ("date_of_birth=yesterday", "date_of_birth"),
    ("created_from=2026-13-01", "created_from"),
    ("created_to=20260101", "created_to"),
    ("q=" + "x" * 101, "q"),
    ("foo=1", "foo"),
    ("tenant=someone", "tenant"),
    ("Limit=5", "Limit"),
])
def test_bad_parameter_is_400_naming_it(api, paged, query, parameter):
    t, _ = paged
    r = api.get("/v1/collection-cases?" + query, t)
    p = assert_problem(r, 400, "invalid_parameter")
    assert p["parameter"] == parameter


def test_created_from_after_created_to_is_400(api, paged):
    r = api.get(f"/v1/collection-cases?created_from={TOMORROW}&created_to={YESTERDAY}", paged[0])
    assert assert_problem(r, 400, "invalid_parameter")["parameter"] in ("created_from", "created_to")


# --- keyset pagination -----------------------------------------------------------------

def test_cursor_pages_cover_everything_once(api, paged):
    t, created = paged
    seen, cursor, sizes = [], None, []
    while True:
        p = page(api, t, "limit=50" + ("&cursor=" + cursor if cursor else ""))
        sizes.append(len(p["data"]))
        seen += ids(p["data"])
        if not p["has_more"]:
            assert p["next_cursor"] is None
            break
        cursor = p["next_cursor"]
    assert sizes == [50, 50, 20]
    assert seen == created[::-1]
    assert len(set(seen)) == 120


def test_pages_are_stable_under_concurrent_inserts(api, direct):
    t = "t_stable_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    created = [create_case(direct, t, valid_case(f"S-{i:02d}"))["id"] for i in range(30)]
    newest_first = created[::-1]
    first = page(api, t, "limit=10")
    assert ids(first["data"]) == newest_first[:10]
    # New cases arrive between the pages.
    fresh = [create_case(direct, t, valid_case(f"NEW-{i}"))["id"] for i in range(5)]
    second = page(api, t, "limit=10&cursor=" + first["next_cursor"])
    assert ids(second["data"]) == newest_first[10:20]
    third = page(api, t, "limit=10&cursor=" + second["next_cursor"])
    assert ids(third["data"]) == newest_first[20:30]
    assert third["has_more"] is False
    # Starting over shows the new ones first.
    assert ids(page(api, t, "limit=5")["data"]) == fresh[::-1]


def test_cursor_combines_with_filters(api, direct):
    t = "t_curfilter_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    created = []
    for i in range(12):
        body = valid_case(f"F-{i:02d}")
        body["debtor"]["name"] = "Even Person" if i % 2 == 0 else "Odd Person"
        created.append(create_case(direct, t, body)["id"])
    evens = created[0::2][::-1]
    p1 = page(api, t, "q=even&limit=4")
    p2 = page(api, t, "q=even&limit=4&cursor=" + p1["next_cursor"])
    assert ids(p1["data"]) + ids(p2["data"]) == evens
    assert p2["has_more"] is False


# --- state and status ---------------------------------------------------------------------

@pytest.mark.parametrize("status, all_match", [
    ("open", False),        # the status open, not the group: these cases are all pending
    ("closed", False),
    ("pending", True),
    ("pending,failed", True),
    ("failed,pending", True),
    ("paid", False),
    ("paused,disputed", False),
    ("submitted,open,paused,disputed,failed,paid,withdrawn,closed,rejected", False),
])
def test_status_filter(api, paged, status, all_match):
    t, created = paged
    p = page(api, t, "status=" + status + "&limit=200")
    assert ids(p["data"]) == (created[::-1] if all_match else [])
    assert all(c["status"] == "pending" for c in p["data"])


@pytest.mark.parametrize("state, all_match", [("open", True), ("closed", False)])
def test_state_filter_on_pending_cases(api, paged, state, all_match):
    t, created = paged
    p = page(api, t, "state=" + state + "&limit=200")
    assert ids(p["data"]) == (created[::-1] if all_match else [])


OPEN_GROUP = ["pending", "submitted", "open", "paused", "disputed", "failed"]
CLOSED_GROUP = ["paid", "withdrawn", "closed", "rejected"]


@pytest.fixture(scope="module")
def statuses(direct, service):
    """A tenant with one case in each of the ten statuses; {status: case id}."""
    t = "t_statuses_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    cases = {st: create_case(direct, t, valid_case("ST-" + st))["id"] for st in OPEN_GROUP + CLOSED_GROUP}
    con = DbConn(service.db)
    try:
        for st, case_id in cases.items():
            con.execute("UPDATE cases SET status = ? WHERE id = ?", (st, case_id))
    finally:
        con.close()
    return t, cases


@pytest.mark.parametrize("query, expected", [
    ("state=open", OPEN_GROUP),
    ("state=closed", CLOSED_GROUP),
    ("status=open", ["open"]),          # the literal status, not the group
    ("status=closed", ["closed"]),
    ("status=open,closed", ["open", "closed"]),
    ("status=paused,disputed", ["paused", "disputed"]),
    ("status=" + ",".join(OPEN_GROUP + CLOSED_GROUP), OPEN_GROUP + CLOSED_GROUP),
    ("", OPEN_GROUP + CLOSED_GROUP),
    # Both: their intersection.
    ("state=open&status=open", ["open"]),
    ("state=open&status=open,paid", ["open"]),
    ("state=closed&status=open,paid", ["paid"]),
    ("state=closed&status=closed", ["closed"]),
    ("status=failed,withdrawn&state=open", ["failed"]),
    ("state=closed&status=" + ",".join(CLOSED_GROUP + OPEN_GROUP), CLOSED_GROUP),
    # An empty intersection: an empty page.
    ("state=closed&status=open", []),
    ("state=open&status=paid,rejected", []),
    ("state=open&status=closed&q=ST-", []),
])
def test_state_and_status(api, statuses, query, expected):
    t, cases = statuses
    p = page(api, t, query + ("&" if query else "") + "limit=200")
    assert sorted(c["status"] for c in p["data"]) == sorted(expected), query
    assert sorted(ids(p["data"])) == sorted(cases[st] for st in expected)
    if not expected:
        assert p == {"data": [], "has_more": False, "next_cursor": None}


def test_state_pages_with_a_cursor(api, statuses):
    t, cases = statuses
    seen = list_all(api, t, "state=open&limit=4")
    assert sorted(c["status"] for c in seen) == sorted(OPEN_GROUP)
    first = page(api, t, "state=closed&limit=3")
    assert first["has_more"] is True
    rest = page(api, t, "state=closed&limit=3&cursor=" + first["next_cursor"])
    assert rest["has_more"] is False
    assert sorted(c["status"] for c in first["data"] + rest["data"]) == sorted(CLOSED_GROUP)


@pytest.mark.parametrize("query, parameter", [
    ("state=all", "state"), ("state=Closed", "state"), ("state=open%20", "state"),
    ("status=bogus&state=open", "status"), ("state=open&status=", "status"),
])
def test_unknown_state_or_status_is_400_naming_it(api, statuses, query, parameter):
    r = api.get("/v1/collection-cases?" + query, statuses[0])
    p = assert_problem(r, 400, "invalid_parameter")
    assert p["parameter"] == parameter, p
    assert p["detail"]


# --- search ----------------------------------------------------------------------------

FNR_A = fnr(dt.date(1970, 1, 1), 234)
FNR_C = fnr(dt.date(1985, 4, 12), 345)
FNR_UNUSED = fnr(dt.date(1990, 6, 6), 456)
ORG_B = no_org_number("97476067")


@pytest.fixture(scope="module")
def search(api):
    """Three cases: A (consumer Ola Hansen), B (business Fjord AS), C (Kari Nordmann)."""
    t = "t_search_" + uuid.uuid4().hex[:8]
    api.configure(t)
    a = valid_case("INV-AAA-1")
    a["your_reference"] = "ref-alpha"
    a["debtor"].update(name="Ola Hansen", date_of_birth="1970-01-01", national_id=FNR_A)
    b = valid_case("INV-BBB-2")
    b["your_reference"] = "ref-beta"
    b["debtor"].update(customer_type="business", name=None, business_name="Fjord AS", org_number=ORG_B,
                       date_of_birth=None)
    c = valid_case("X-777")
    c["your_reference"] = None
    c["debtor"].update(national_id=FNR_C)
    cases = {}
    for name, body in (("A", a), ("B", b), ("C", c)):
        r = api.post("/v1/collection-cases", t, json=body)
        assert r.status_code == 201, r.text
        cases[name] = r.json()["id"]
    assert api.get("/v1/collection-cases/" + cases["B"], t).json()["debtor_type"] == "business"
    return t, cases


@pytest.mark.parametrize("query, expected", [
    ("", "CBA"),
    ("q=hansen", "A"),
    ("q=HANSEN", "A"),
    ("q=ola%20hans", "A"),
    ("q=fjord", "B"),
    ("q=FJORD%20AS", "B"),
    ("q=nordmann", "C"),
    ("q=INV-AAA", "A"),
    ("q=aaa-1", "A"),
    ("q=INV-", "BA"),
    ("q=x-777", "C"),
    ("q=ref-alpha", "A"),
    ("q=REF-BETA", "B"),
    ("q=ref-", "BA"),
    ("q=" + ORG_B, "B"),
    ("q=" + ORG_B[2:6], "B"),
    ("q=zzz", ""),
    ("q=%25", ""),          # "%": a LIKE wildcard must match itself only
    ("q=_", ""),            # "_": likewise
    ("q=%27", ""),          # "'"
    ("q=%5C", ""),          # "\"
    ("q=", "CBA"),
    ("q=" + FNR_A, ""),        # q never searches national ids
    ("q=" + FNR_A[-4:], ""),   # ... nor their masked form
    ("invoice_number=INV-AAA-1", "A"),
    ("invoice_number=INV-AAA", ""),
    ("invoice_number=inv-aaa-1", ""),
    ("invoice_number=X-777", "C"),
    ("debtor_type=business", "B"),
    ("debtor_type=consumer", "CA"),
    ("date_of_birth=1970-01-01", "A"),
    ("date_of_birth=1985-04-12", "C"),
    ("date_of_birth=1999-01-01", ""),
    ("national_id=" + FNR_A, "A"),
    ("national_id=" + FNR_C, "C"),
    ("national_id=" + FNR_UNUSED, ""),
    ("national_id=" + FNR_A[:-1], ""),
    ("national_id=******" + FNR_A[-4:], ""),
    (f"created_from={T.isoformat()}", "CBA"),
    (f"created_from={TOMORROW}", ""),
    (f"created_to={T.isoformat()}", "CBA"),
    (f"created_to={YESTERDAY}", ""),
    (f"created_from={T.isoformat()}&created_to={T.isoformat()}", "CBA"),
    ("q=hansen&debtor_type=business", ""),
    ("q=ref-&debtor_type=consumer", "A"),
    ("state=open&q=fjord", "B"),
    ("state=closed&q=fjord", ""),
    ("status=pending&q=fjord", "B"),
    ("status=open&q=fjord", ""),
    ("national_id=" + FNR_A + "&q=hansen", "A"),
])
def test_search(api, search, query, expected):
    t, cases = search
    r = api.get("/v1/collection-cases?" + query, t)
    assert r.status_code == 200, r.text
    assert ids(r.json()["data"]) == [cases[n] for n in expected]
    # The clear national id never comes back, whatever was asked.
    assert FNR_A not in r.text and FNR_C not in r.text


def test_national_id_never_in_any_response(api, search):
    t, cases = search
    texts = [api.get("/v1/collection-cases/" + i, t).text for i in cases.values()]
    texts.append(api.get("/v1/collection-cases?national_id=" + FNR_A, t).text)
    for text in texts:
        assert FNR_A not in text and FNR_C not in text
    a = api.get("/v1/collection-cases/" + cases["A"], t).json()
    assert a["debtor"]["national_id"] == "*" * 7 + FNR_A[-4:]


# --- one case -----------------------------------------------------------------------------

def test_get_case_with_events(api, search):
    t, cases = search
    r = api.get("/v1/collection-cases/" + cases["A"], t)
    assert r.status_code == 200
    c = r.json()
    assert c["id"] == cases["A"] and c["status"] == "pending"
    assert c["invoice"]["number"] == "INV-AAA-1" and c["your_reference"] == "ref-alpha"
    assert [(e["from"], e["to"], e["source"]) for e in c["events"]] == [(None, "pending", "api")]
    assert c["events"][0]["at"] == c["created_at"]
    assert (c["payments"], c["actions"], c["settlements"]) == ([], [], [])
    # Not sent yet (this service has no agency): its invoice waits, untried.
    assert c["delivery"]["attempts"] == 0 and c["delivery"]["last_error"] is None, c["delivery"]
    assert c["delivery"]["next_attempt_at"] == c["created_at"], "due since it was queued"
    assert api.get("/v1/collection-cases/" + cases["A"], t).json() == c, "an unchanged case reads the same"
    # The listing shows the same case (without its history).
    [listed] = page(api, t, "invoice_number=INV-AAA-1")["data"]
    detail_only = ("events", "payments", "actions", "settlements", "delivery")
    assert {k: v for k, v in c.items() if k not in detail_only} == listed


@pytest.mark.parametrize("case_id", [
    "cc_00000000000000000000000000",
    "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB",
    "nope",
    "cc_short",
    "cc_" + "Z" * 100,
    "CC_01JD8ZK5V3Q4N7M2X9R6T1W0YB",
    "cc_01jd8zk5v3q4n7m2x9r6t1w0yb",
    "%27%20OR%201%3D1",
])
def test_unknown_case_is_404(api, search, case_id):
    t, _ = search
    p = assert_problem(api.get("/v1/collection-cases/" + case_id, t), 404, "not_found")
    assert "case_id" not in p
