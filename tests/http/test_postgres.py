# SPDX-License-Identifier: MIT
"""What the PostgreSQL backend adds (the rest of the suite runs on it too,
in its own run of `make check`): the database restarted under load is
survived without restarting inkasso, nothing acknowledged is lost and
nothing is stored twice; /readyz follows the database; replicas starting
together migrate once."""
import concurrent.futures
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import (BIN, ROOT, Api, DbConn, Service, list_all, prism_proxy, stop_process, valid_case,
                      wait_http, wait_until)

pytestmark = pytest.mark.postgres_only


def pg_server(what):
    """scripts/pg-server.sh down (a crash, -m immediate), up or restart, on
    the test server."""
    subprocess.run([os.path.join(ROOT, "scripts", "pg-server.sh"), what, os.environ["INKASSO_TEST_PG_DIR"]],
                   check=True, capture_output=True, timeout=90)


def test_a_database_crash_under_load_loses_nothing_and_needs_no_restart(fresh_service):
    s = fresh_service.start()
    pid = s.proc.pid
    with prism_proxy(s.url) as url:
        api = Api(url)
        tenant = "t_" + uuid.uuid4().hex[:10]
        api.configure(tenant)
        acked, answers_503, stop = {}, [0], threading.Event()
        lock = threading.Lock()

        def client(k):
            n = 0
            while not stop.is_set() and n < 400:
                number, key = f"PG-{k}-{n}", f"key-{k}-{n}"
                n += 1
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        r = api.post("/v1/collection-cases", tenant, json=valid_case(number),
                                     headers={"Idempotency-Key": key})
                    except requests.RequestException:
                        time.sleep(0.1)
                        continue
                    if r.status_code == 201:
                        with lock:
                            acked[number] = r.json()["id"]
                        break
                    assert r.status_code == 503, r.text
                    assert r.headers.get("Retry-After"), r.headers
                    with lock:
                        answers_503[0] += 1
                    time.sleep(0.05)
                else:
                    pytest.fail(f"{number}: no 201 within 60 s")

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client, k) for k in range(4)]
            wait_until(lambda: len(acked) >= 40, timeout=30)
            pg_server("restart")
            # The service comes back by itself: readyz first...
            wait_until(lambda: requests.get(s.url + "/readyz", timeout=5).status_code == 200, timeout=30)
            before = len(acked)
            wait_until(lambda: len(acked) >= before + 40, timeout=30)  # ...and new creates are stored
            stop.set()
            for f in futures:
                f.result()

        assert s.proc.pid == pid and s.proc.poll() is None, "inkasso was not restarted"
        stored = {c["invoice"]["number"]: c["id"] for c in list_all(api, tenant)}
        missing = [n for n in acked if stored.get(n) != acked[n]]
        assert missing == [], f"{len(missing)} acknowledged cases missing"
        assert len(stored) == len(acked), "a case stored that was never acknowledged, or twice"
    assert "store: reconnect" in s.read_log()
    assert s.stop() == 0


def test_readyz_is_503_with_retry_after_while_the_database_is_down(fresh_service):
    s = fresh_service.start()
    assert requests.get(s.url + "/readyz", timeout=5).status_code == 200
    pg_server("down")
    try:
        # (a list: a Response of a 503 is falsy)
        [r] = wait_until(lambda: [x for x in [requests.get(s.url + "/readyz", timeout=10)] if x.status_code == 503],
                         timeout=20)
        assert r.headers.get("Retry-After"), r.headers
        assert r.headers["Content-Type"].startswith("application/problem+json")
    finally:
        pg_server("up")
    wait_until(lambda: requests.get(s.url + "/readyz", timeout=5).status_code == 200, timeout=30)
    assert s.stop() == 0


def test_replicas_starting_together_migrate_once(tmp_path):
    first = Service(str(tmp_path))
    procs = []
    try:
        # Two replicas of one database, started at the same instant.
        second = Service(str(tmp_path))
        second.db = first.db
        second.log_path = str(tmp_path / "second.log")
        for svc in (first, second):
            svc.log = open(svc.log_path, "ab")
            svc.proc = subprocess.Popen([BIN, "serve"], env=svc.env(), stdout=svc.log, stderr=svc.log)
            procs.append(svc)
        for svc in (first, second):
            wait_http(svc.url + "/healthz", svc.proc)
            assert requests.get(svc.url + "/readyz", timeout=5).status_code == 200
        con = DbConn(first.db)
        try:
            versions = [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
        finally:
            con.close()
        assert versions == list(range(1, len(versions) + 1)) and versions, versions
    finally:
        for svc in procs:
            assert stop_process(svc.proc) == 0
            svc.log.close()
