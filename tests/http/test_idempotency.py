# SPDX-License-Identifier: MIT
"""Idempotency-Key (tenant + key, first answer replayed byte for byte) and the
business key behind it: one live case per (tenant, invoice number)."""
import json
import signal
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


def test_bodies_are_compared_as_json_values(direct):
    # The same JSON value in other bytes (member order, whitespace, escapes,
    # 124900 as 124900.0) is the same request. Raw bytes go straight to the
    # service: a proxy may re-serialise them.
    t = "t_idem_value_" + uuid.uuid4().hex[:6]
    direct.configure(t)
    body, k = valid_case(), key()
    first = post(direct, t, None, k, raw=json.dumps(body))
    assert first.status_code == 201, first.text
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    escaped = json.dumps(body, ensure_ascii=True).replace('"cus_551"', '"\\u0063us_551"')
    spelled = json.dumps(body).replace('"original_amount": 124900', '"original_amount": 124900.0')
    assert spelled != json.dumps(body)
    for raw in (reordered, escaped, spelled, "\n  " + json.dumps(body) + "\n"):
        again = post(direct, t, None, k, raw=raw)
        assert (again.status_code, again.content) == (201, first.content), raw[:80]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
    assert "Idempotent-Replayed" not in first.headers
    changed = json.loads(json.dumps(body))
    changed["invoice"]["original_amount"] = 124901
    assert_problem(post(direct, t, None, k, raw=json.dumps(changed)), 422, "idempotency_key_reused")
    assert len(list_all(direct, t)) == 1


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


# --- every POST: payments, actions, retry -------------------------------------------

def send(client, tenant, path, body, k):
    headers = {"Idempotency-Key": k}
    if body is None:
        return client.post(path, tenant, headers=headers)
    return client.post(path, tenant, data=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def test_a_retried_payment_is_booked_once(api, tenant):
    case = create_case(api, tenant)
    path, k = f"/v1/collection-cases/{case['id']}/payments", key()
    body = {"amount": 25000, "paid_on": "2026-01-09", "reference": "BANK-1"}
    first = send(api, tenant, path, body, k)
    assert first.status_code == 201, first.text
    for again in (body, dict(reversed(list(body.items())))):
        r = send(api, tenant, path, again, k)
        assert (r.status_code, r.content) == (201, first.content)
        assert r.headers["Idempotent-Replayed"] == "true"
    detail = api.get(f"/v1/collection-cases/{case['id']}", tenant).json()
    assert [p["id"] for p in detail["payments"]] == [first.json()["id"]]
    assert detail["balance"]["paid"] == 25000
    # The key with another body, or on another path: refused, nothing booked.
    assert_problem(send(api, tenant, path, {**body, "amount": 1}, k), 422, "idempotency_key_reused")
    assert_problem(send(api, tenant, f"/v1/collection-cases/{case['id']}/actions", {"type": "comment"}, k),
                   422, "idempotency_key_reused")
    assert api.get(f"/v1/collection-cases/{case['id']}", tenant).json()["balance"]["paid"] == 25000


def test_the_key_is_checked_before_every_other_rule(api, direct, tenant):
    case = create_case(api, tenant)
    path, k = f"/v1/collection-cases/{case['id']}/payments", key()
    body = {"amount": 124900, "paid_on": "2026-01-09"}
    first = send(api, tenant, path, body, k)
    assert first.status_code == 201, first.text
    # The case is paid in full now: the same payment again would be 422
    # (above the remaining balance); the key answers first.
    r = send(api, tenant, path, body, k)
    assert (r.status_code, r.content) == (201, first.content)
    # A malformed body with a used key: the key's answer, not a 400 (straight to
    # the service: the validating proxy refuses bodies that are not JSON itself).
    r = direct.post(path, tenant, data=b"{not json", headers={"Idempotency-Key": k, "Content-Type": "application/json"})
    assert_problem(r, 422, "idempotency_key_reused")


def test_a_reference_booked_before_is_409_duplicate_payment(api, tenant):
    case = create_case(api, tenant)
    path = f"/v1/collection-cases/{case['id']}/payments"
    first = api.post(path, tenant, json={"amount": 100, "paid_on": "2026-01-09", "reference": "BANK-9"})
    assert first.status_code == 201, first.text
    for k in (None, key()):
        r = api.post(path, tenant, json={"amount": 100, "paid_on": "2026-01-09", "reference": "BANK-9"},
                     headers={"Idempotency-Key": k} if k else {})
        p = assert_problem(r, 409, "duplicate_payment")
        assert p["payment_id"] == first.json()["id"]
    # Another kind, or no reference, is another payment.
    assert api.post(path, tenant, json={"kind": "credit_note", "amount": 100, "paid_on": "2026-01-09",
                                        "reference": "BANK-9"}).status_code == 201
    assert api.post(path, tenant, json={"amount": 100, "paid_on": "2026-01-09"}).status_code == 201
    assert api.post(path, tenant, json={"amount": 100, "paid_on": "2026-01-09"}).status_code == 201
    assert len(api.get(f"/v1/collection-cases/{case['id']}", tenant).json()["payments"]) == 4


def test_actions_and_retry_replay(api, tenant, service):
    case = create_case(api, tenant)
    path, k = f"/v1/collection-cases/{case['id']}/actions", key()
    first = send(api, tenant, path, {"type": "comment", "comment": "called"}, k)
    assert first.status_code == 202, first.text
    r = send(api, tenant, path, {"comment": "called", "type": "comment"}, k)
    assert (r.status_code, r.content, r.headers["Idempotent-Replayed"]) == (202, first.content, "true")
    actions = api.get(f"/v1/collection-cases/{case['id']}", tenant).json()["actions"]
    assert [a["id"] for a in actions] == [first.json()["id"]]
    # retry: a refused retry (409, the case is not failed) records nothing,
    # so the same key still works once the case can be retried.
    rk = key()
    assert_problem(send(api, tenant, f"/v1/collection-cases/{case['id']}/retry", None, rk), 409, "invalid_state")
    assert_problem(send(api, tenant, f"/v1/collection-cases/{case['id']}/retry", None, rk), 409, "invalid_state")


def test_concurrent_payments_with_one_key_book_once(direct):
    t = "t_idem_pay_race_" + uuid.uuid4().hex[:6]
    direct.configure(t)
    case = create_case(direct, t)
    url = direct.base + f"/v1/collection-cases/{case['id']}/payments"
    body, k = json.dumps({"amount": 700, "paid_on": "2026-01-09", "reference": "RACE"}), key()
    results = []

    def one():
        import requests
        r = requests.post(url, data=body, timeout=30, headers={
            "Authorization": "Bearer " + direct.token(t), "Content-Type": "application/json", "Idempotency-Key": k})
        results.append((r.status_code, r.content))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert [s for s, _ in results] == [201] * 8, results
    assert len({c for _, c in results}) == 1
    detail = direct.get(f"/v1/collection-cases/{case['id']}", t).json()
    assert len(detail["payments"]) == 1 and detail["balance"]["paid"] == 700


def test_a_replay_survives_a_crash(fresh_service):
    from conftest import Api
    s = fresh_service.start()
    api = Api(s.url)
    t = "t_idem_crash"
    api.configure(t)
    case = create_case(api, t)
    path, k = f"/v1/collection-cases/{case['id']}/payments", key()
    first = send(api, t, path, {"amount": 300, "paid_on": "2026-01-09"}, k)
    assert first.status_code == 201
    s.stop(signal.SIGKILL)
    s.start()
    again = send(api, t, path, {"amount": 300, "paid_on": "2026-01-09"}, k)
    assert (again.status_code, again.content) == (201, first.content)
    assert len(api.get(f"/v1/collection-cases/{case['id']}", t).json()["payments"]) == 1


def test_preview_checks_the_key_and_records_nothing(api, tenant):
    k = key()
    body = valid_case()
    for _ in range(2):
        r = post_to(api, tenant, "/v1/collection-cases/preview", body, k)
        assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers, r.text
    created = post(api, tenant, body, k)   # the key was never taken by the previews
    assert created.status_code == 201, created.text
    assert_problem(post_to(api, tenant, "/v1/collection-cases/preview", body, k), 422, "idempotency_key_reused")


def post_to(client, tenant, path, body, k):
    return client.post(path, tenant, data=json.dumps(body),
                       headers={"Content-Type": "application/json", "Idempotency-Key": k})
