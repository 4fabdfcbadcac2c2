# SPDX-License-Identifier: MIT
"""What the PostgreSQL backend adds (the rest of the suite runs on it too,
in its own run of `make check`): the database restarted under load is
survived without restarting inkasso, nothing acknowledged is lost and
nothing is stored twice; /readyz follows the database; replicas starting
together migrate once."""
import concurrent.futures
import os
import signal
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


def test_two_replicas_share_the_work_and_a_killed_ones_sends_are_taken_over_once():
    """Two replicas on one database and one agency: creates through both,
    one replica SIGKILLed with sends in flight; its rows are taken over by
    the other when their lease ends (12 s with a 1 s agency timeout), looked
    up first, and every invoice reaches the agency exactly once."""
    from test_agency_faults import exactly_once, handed_over
    from conftest import Sim, agency_env, agency_key
    import tempfile
    with tempfile.TemporaryDirectory(prefix="inkasso-replicas-") as d:
        sim = Sim(d, accept_duplicates=True).start()
        a = Service(d, env=agency_env(sim, INKASSO_MAX_ATTEMPTS=1000))
        b = Service(d, env=agency_env(sim, INKASSO_MAX_ATTEMPTS=1000))
        b.db, b.log_path = a.db, os.path.join(d, "b.log")
        try:
            a.start()
            b.start()
            with prism_proxy(a.url) as url_a, prism_proxy(b.url) as url_b:
                api_a, api_b = Api(url_a), Api(url_b)
                tenant = "t_" + uuid.uuid4().hex[:10]
                api_a.configure(tenant)
                sim.faults(slow_rate=1, slow_ms=800)  # stored at once, answered later
                numbers = [f"R{i:02d}-{uuid.uuid4().hex[:6]}" for i in range(24)]
                for i, n in enumerate(numbers):
                    api = api_a if i % 2 == 0 else api_b
                    r = api.post("/v1/collection-cases", tenant, json=valid_case(n),
                                 headers={"Idempotency-Key": "k-" + n})
                    assert r.status_code == 201, r.text
                key = agency_key(tenant)
                wait_until(lambda: sim.stats(key)["invoice_creations"] >= 4, timeout=30)
                a.stop(signal.SIGKILL)
                con = DbConn(b.db)
                try:
                    sending = con.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]
                finally:
                    con.close()
                sim.clear_faults()

                def all_handed_over():
                    cases = list_all(api_b, tenant, "limit=200")
                    return cases if len(cases) == len(numbers) and all(handed_over(c) for c in cases) else None

                wait_until(all_handed_over, timeout=45, interval=0.25)
                exactly_once(sim, tenant, numbers)
                st = sim.stats(key)
                assert st["duplicates_created"] == 0, st
                # The dead replica's sends were in flight (or it would prove
                # nothing); the survivor took them over and looked them up.
                assert sending >= 1, sending
                assert r.status_code == 201
            assert b.stop() == 0
        finally:
            a.stop(signal.SIGKILL)
            b.stop(signal.SIGKILL)
            sim.stop()


def test_the_same_key_to_both_replicas_at_the_same_instant_makes_one_case():
    """200 times: one create body and Idempotency-Key sent to two replicas
    of one database at the same instant. Each time one case: both answers
    201 with its id, at least one of them a replay, and the listing holds
    200 cases."""
    import tempfile
    from conftest import bearer, mint
    with tempfile.TemporaryDirectory(prefix="inkasso-samekey-") as d:
        a, b = Service(d), Service(d)
        b.db, b.log_path = a.db, os.path.join(d, "b.log")
        try:
            a.start()
            b.start()
            tenant = "t_" + uuid.uuid4().hex[:10]
            Api(a.url).configure(tenant)
            headers = bearer(mint(tenant))
            sessions = [requests.Session(), requests.Session()]
            barrier = threading.Barrier(2)
            bad = []

            def send(i, svc, k, body, key, out):
                barrier.wait()
                out[k] = sessions[k].post(svc.url + "/v1/collection-cases", json=body, timeout=30,
                                          headers={**headers, "Idempotency-Key": key})

            for i in range(200):
                body, key, out = valid_case(f"SK-{i}"), f"same-{i}-{uuid.uuid4().hex[:6]}", [None, None]
                ts = [threading.Thread(target=send, args=(i, svc, k, body, key, out)) for k, svc in enumerate((a, b))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                ids = {r.json()["id"] for r in out if r.status_code == 201}
                replays = sum(r.headers.get("Idempotent-Replayed") == "true" for r in out)
                if not (all(r.status_code == 201 for r in out) and len(ids) == 1 and replays >= 1):
                    bad.append((i, [(r.status_code, r.headers.get("Idempotent-Replayed"), r.text[:120]) for r in out]))
            assert bad == [], bad[:5]
            with prism_proxy(a.url) as url:
                assert len(list_all(Api(url), tenant, "limit=200")) == 200
            assert a.stop() == 0 and b.stop() == 0
        finally:
            a.stop(signal.SIGKILL)
            b.stop(signal.SIGKILL)


def test_failover_to_a_synchronous_standby_short():
    """The short version of tests/proof/pg_failover.py: the primary
    SIGKILLed during creates, the synchronous standby promoted; nothing
    acknowledged missing, nothing twice, both replicas serving again within
    30 s, never restarted. (Servers of its own, beside the run's.)"""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "proof"))
    import pg_failover
    f = pg_failover.run(pg_failover.parse_args(["--quick"]))
    assert f["ok"], f["failed_targets"]


def test_replica_soak_short():
    """The short version of tests/proof/replica_soak.py: two replicas behind
    HAProxy, one SIGKILLed and restarted every 0.5-1.5 s during creates:
    nothing acknowledged lost, nothing twice (ours or at the agency), every
    case at the agency, every event in the feed once."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "proof"))
    import replica_soak
    f = replica_soak.run(**replica_soak.QUICK)
    assert f["ok"], f["failed_targets"]


def test_database_restart_soak_short():
    """The short version of tests/proof/db_restart_soak.py: the database
    crashed and restarted twice or more during creates through HAProxy to
    two replicas; they reconnect by themselves (never restarted) and lose
    nothing acknowledged."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "proof"))
    import replica_soak
    f = replica_soak.run(**replica_soak.DB_QUICK, database=True)
    assert f["ok"], f["failed_targets"]
