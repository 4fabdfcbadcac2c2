# SPDX-License-Identifier: MIT
"""Idempotency-Key (tenant + key, first answer replayed byte for byte) and the
business key behind it: one live case per (tenant, invoice number)."""
import json
import threading
import uuid

import pytest

from conftest import assert_problem, create_case, field_errors, list_all, valid_case


def key():
    return "idem-" + uuid.uuid4().hex


def post(client, tenant, body, k=None, raw=None):
    headers = {"Content-Type": "application/json"}
    if k is not None:
        headers["Idempotency-Key"] = k
    data = raw if raw is not None else json.dumps(body)
    return client.post("/v1/collection-cases", tenant, data=data, headers=headers)


@pytest.mark.parametrize("via", ["api", "direct"])
def test_same_key_same_body_replays_the_first_answer(request, tenant, via):
    client = request.getfixturevalue(via)
    body, k = valid_case(), key()
    first = post(client, tenant, body, k)
    assert first.status_code == 201, first.text
    for _ in range(2):
        again = post(client, tenant, body, k)
        assert again.status_code == 201
        assert again.content == first.content          # byte for byte
        assert again.headers["Location"] == first.headers["Location"]
    cases = list_all(client, tenant)
    assert [c["id"] for c in cases] == [first.json()["id"]]


def test_same_key_different_body_is_422(api, tenant):
    body, k = valid_case(), key()
    first = post(api, tenant, body, k)
    assert first.status_code == 201
    other = valid_case()  # another invoice number
    assert_problem(post(api, tenant, other, k), 422, "idempotency_key_reused")
    # A different body for the same case (one member changed) too.
    body2 = json.loads(json.dumps(body))
    body2["invoice"]["description"] = "changed"
    assert_problem(post(api, tenant, body2, k), 422, "idempotency_key_reused")
    assert [c["id"] for c in list_all(api, tenant)] == [first.json()["id"]]
    # The first answer is still the one replayed.
    assert post(api, tenant, body, k).content == first.content


def test_bodies_are_compared_byte_for_byte(direct):
    # Same JSON value, other bytes: a different body (openapi.yaml). Raw bytes
    # go straight to the service: a proxy may re-serialise them.
    t = "t_idem_bytes_" + uuid.uuid4().hex[:6]
    direct.configure(t)
    body, k = valid_case(), key()
    assert post(direct, t, None, k, raw=json.dumps(body)).status_code == 201
    r = post(direct, t, None, k, raw=json.dumps(body, indent=2))
    assert_problem(r, 422, "idempotency_key_reused")


@pytest.mark.parametrize("k, status", [
    ("k" * 255, 201),
    ("k" * 256, 400),
    ("k" * 1000, 400),
    ("a key with spaces ~!@#$%^&*()", 201),
    ("", 400),
])
def test_key_length_and_characters(api, tenant, k, status):
    r = post(api, tenant, valid_case(), k)
    assert r.status_code == status, r.text
    if status == 400:
        p = assert_problem(r, 400, "invalid_header")
        assert "Idempotency-Key" in p.get("detail", "")
        assert list_all(api, tenant) == []


@pytest.mark.parametrize("raw_key", [b"abc\x01def", b"caf\xc3\xa9", b"tab\there"])
def test_key_with_non_printable_bytes_is_400(service, direct, raw_key):
    from conftest import raw_request
    t = "t_idem_raw"
    direct.configure(t)
    body = json.dumps(valid_case()).encode()
    req = (b"POST /v1/collection-cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + direct.token(t).encode() +
           b"\r\nContent-Type: application/json\r\nIdempotency-Key: " + raw_key +
           b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    status, _, resp = raw_request(service.port, req)
    assert status == 400, resp
    assert json.loads(resp)["code"] == "invalid_header"


def test_keys_are_per_tenant(api):
    a, b = "t_" + uuid.uuid4().hex[:10], "t_" + uuid.uuid4().hex[:10]
    api.configure(a)
    api.configure(b)
    k, body = key(), valid_case()
    ra, rb = post(api, a, body, k), post(api, b, body, k)
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]
    assert [c["id"] for c in list_all(api, a)] == [ra.json()["id"]]
    assert [c["id"] for c in list_all(api, b)] == [rb.json()["id"]]


def test_failed_request_is_not_recorded(api, tenant):
    k = key()
    bad = valid_case()
    bad["invoice"]["disputed"] = True
    assert field_errors(post(api, tenant, bad, k)) == {("/invoice/disputed", "claim_disputed")}
    good = valid_case()
    r = post(api, tenant, good, k)
    assert r.status_code == 201, r.text
    assert post(api, tenant, good, k).content == r.content


def test_replay_survives_later_rule_changes(api, tenant):
    # The first answer is replayed even when the same body would now fail.
    body, k = valid_case(), key()
    first = post(api, tenant, body, k)
    assert first.status_code == 201
    api.configure(tenant, min_amount=10_000_000)
    again = post(api, tenant, body, k)
    assert (again.status_code, again.content) == (201, first.content)


def test_concurrent_retries_create_one_case(direct):
    t = "t_idem_race_" + uuid.uuid4().hex[:6]
    direct.configure(t)
    body, k = json.dumps(valid_case()), key()
    results = []

    def one():
        import requests
        r = requests.post(direct.base + "/v1/collection-cases", data=body, timeout=30,
                          headers={"Authorization": "Bearer " + direct.token(t), "Content-Type": "application/json",
                                   "Idempotency-Key": k})
        results.append((r.status_code, r.content))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    created = [c for s, c in results if s == 201]
    assert len(results) == 8 and created
    # Creates are serialised on one writer and the key is re-checked inside the
    # transaction: a concurrent retry waits for the first commit and replays it.
    assert all(s == 201 for s, _ in results), [s for s, _ in results]
    assert len(set(created)) == 1  # every 201 is the same answer
    assert len(list_all(direct, t)) == 1


# --- one live case per invoice number ----------------------------------------------

def test_duplicate_invoice_number_is_409_with_the_case_id(api, tenant):
    first = create_case(api, tenant, valid_case("INV-DUP-1"))
    for k in (None, key()):
        r = post(api, tenant, valid_case("INV-DUP-1"), k)
        p = assert_problem(r, 409, "duplicate_case")
        assert p["case_id"] == first["id"]
    assert [c["id"] for c in list_all(api, tenant)] == [first["id"]]


def test_duplicate_check_is_exact(api, tenant):
    create_case(api, tenant, valid_case("INV-77"))
    for number in ("INV-770", "inv-77", "INV-7", " INV-77x"):
        assert api.post("/v1/collection-cases", tenant, json=valid_case(number)).status_code == 201, number


def test_concurrent_duplicates_create_one_case(direct):
    t = "t_dup_race_" + uuid.uuid4().hex[:6]
    direct.configure(t)
    body = json.dumps(valid_case("INV-RACE"))
    results = []

    def one():
        import requests
        r = requests.post(direct.base + "/v1/collection-cases", data=body, timeout=30,
                          headers={"Authorization": "Bearer " + direct.token(t), "Content-Type": "application/json"})
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(s for s, _ in results) == [201] + [409] * 7, results
    [winner] = [j for s, j in results if s == 201]
    assert all(j["case_id"] == winner["id"] for s, j in results if s == 409)
    assert len(list_all(direct, t)) == 1
