# SPDX-License-Identifier: MIT
"""kill -9 in the middle of a burst of creates: every case answered 201 is
there after a restart, and the database is intact."""
import json
import signal
import sqlite3
import threading

import requests

from conftest import ON_PG, Api, list_all, valid_case, wait_until

WORKERS, PER_WORKER = 4, 50


def test_kill_9_mid_burst_loses_no_acknowledged_case(fresh_service):
    s = fresh_service.start()
    client = Api(s.url)
    tenant = "t_crash"
    client.configure(tenant)
    headers = {"Authorization": "Bearer " + client.token(tenant), "Content-Type": "application/json"}
    acked, refused, lock = {}, [], threading.Lock()
    attempted = [0]

    def worker(w):
        session = requests.Session()
        for i in range(PER_WORKER):
            number = f"K-{w}-{i:02d}"
            with lock:
                attempted[0] += 1
            try:
                r = session.post(s.url + "/v1/collection-cases", data=json.dumps(valid_case(number)),
                                 headers=headers, timeout=10)
            except requests.RequestException:
                return  # the service is gone
            with lock:
                if r.status_code == 201:
                    acked[r.json()["id"]] = number
                else:
                    refused.append((r.status_code, r.text))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
    for th in threads:
        th.start()
    wait_until(lambda: len(acked) >= 30, timeout=30, interval=0.001)
    s.proc.send_signal(signal.SIGKILL)
    for th in threads:
        th.join(30)
    assert s.stop() == -signal.SIGKILL
    assert refused == []
    assert 30 <= len(acked) < WORKERS * PER_WORKER, "the burst ended before the kill: nothing was in flight"

    s.start()
    for case_id, number in acked.items():
        r = client.get("/v1/collection-cases/" + case_id, tenant)
        assert r.status_code == 200, (case_id, r.status_code)
        assert r.json()["invoice"]["number"] == number
        assert [e["to"] for e in r.json()["events"]] == ["pending"]
    stored = list_all(client, tenant, "limit=200")
    assert set(acked) <= {c["id"] for c in stored}
    assert len(stored) <= attempted[0]
    # A case that was in flight may or may not exist, but never twice.
    numbers = [c["invoice"]["number"] for c in stored]
    assert len(numbers) == len(set(numbers))
    # The restarted service takes new work.
    r = client.post("/v1/collection-cases", tenant, json=valid_case("K-after"))
    assert r.status_code == 201, r.text
    assert s.stop() == 0

    if ON_PG:
        return  # PostgreSQL checks its own pages; a SQLite file is checked here
    db = sqlite3.connect(s.db)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.close()
