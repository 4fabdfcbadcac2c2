# SPDX-License-Identifier: MIT
"""`inkasso migrate-db`: a SQLite database with history (cases, events,
payments, actions, settings, an endpoint with its deliveries and attempts,
idempotency records, secrets) copied into an empty PostgreSQL database. The
test compares every table itself, row by row, on both sides (not trusting
the tool's own verification), then serves the migrated database: the same
answers, a replayed Idempotency-Key replays, new rows get new ids. A target
that is not empty is refused."""
import os
import signal
import subprocess
import tempfile
import uuid

import pytest
import requests
import sqlite3

from conftest import BIN, DbConn, Api, Service, pg_database, prism_proxy, valid_case

pytestmark = pytest.mark.postgres_only

TABLES = ["cases", "case_events", "outbox", "idempotency", "agency_settings", "secrets", "payments", "actions",
          "settlements", "settlement_allocations", "agency_events", "events", "event_sequences",
          "webhook_endpoints", "webhook_deliveries", "webhook_attempts", "sync_rounds"]


def rows_of(con, table, pg):
    """Every row of the table in primary-key order, as tuples of plain values."""
    if pg:
        cols = [c for (c,) in con.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary"
            .replace("%s", "?"), (table,)).fetchall()]
    else:
        cols = [r[1] for r in sorted((r for r in con.execute(f"PRAGMA table_info({table})").fetchall() if r[5]),
                                     key=lambda r: r[5])]
    assert cols, table
    out = []
    for row in con.execute(f"SELECT * FROM {table} ORDER BY {', '.join(cols)}").fetchall():
        out.append(tuple(bytes(v) if isinstance(v, (bytes, memoryview)) else v for v in row))
    return out


def migrate(src, dst):
    return subprocess.run([BIN, "migrate-db", "--from", src, "--to", dst], capture_output=True, text=True,
                          timeout=300, env={"PATH": os.environ.get("PATH", "")})


def test_a_sqlite_database_moves_to_postgresql_whole_and_keeps_serving(tmp_path):
    sqlite_file = str(tmp_path / "inkasso.db")
    env = {"INKASSO_WEBHOOK_ALLOW_PRIVATE": "1", "INKASSO_WEBHOOK_RETRY_SCHEDULE": "1s,1s"}
    old = Service(str(tmp_path), env=env)
    old.db = sqlite_file  # SQLite, whatever the run's backend
    old.start()
    tenant = "t_" + uuid.uuid4().hex[:10]
    with prism_proxy(old.url) as url:
        api = Api(url)
        api.configure(tenant)
        # An endpoint nobody answers: deliveries and failed attempts to copy.
        r = api.post("/v1/webhook-endpoints", tenant, json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})
        assert r.status_code == 201, r.text
        cases, keys = [], []
        for i in range(12):
            key = f"mig-{i}-{uuid.uuid4().hex[:6]}"
            r = api.post("/v1/collection-cases", tenant, json=valid_case(f"MIG-{i}"),
                         headers={"Idempotency-Key": key})
            assert r.status_code == 201, r.text
            cases.append(r.json())
            keys.append(key)
        for c in cases[:4]:
            r = api.post(f"/v1/collection-cases/{c['id']}/payments", tenant,
                         json={"kind": "payment", "amount": 1000, "paid_on": "2026-02-09", "reference": "p1"})
            assert r.status_code == 201, r.text
            r = api.post(f"/v1/collection-cases/{c['id']}/actions", tenant,
                         # COPY's escapes: tab, newline, CR, backslash; and UTF-8
                         json={"type": "comment", "comment": "called the debtor\n\ttwice \\ once\r, Ørjan"})
            assert r.status_code == 202, r.text
        before = {c["id"]: api.get(f"/v1/collection-cases/{c['id']}", tenant).json() for c in cases}
        feed_before = api.get("/v1/events?limit=200", tenant).json()
        settings_before = api.get("/v1/agency-settings", tenant).json()
        assert settings_before["actor"]["request_id"] and settings_before["agency_environment"] == "production"
    assert old.stop() == 0
    # A tenant on staging (this service has no staging URL, so set in the file): the column comes along.
    with sqlite3.connect(sqlite_file) as con:
        con.execute("UPDATE agency_settings SET agency_environment = 'staging' WHERE tenant = ?", (tenant,))
    con.close()

    target = pg_database()
    done = migrate(sqlite_file, target)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout and "migrated and verified" in done.stdout, done.stdout

    # The test's own comparison, table by table.
    src, dst = DbConn(sqlite_file), DbConn(target)
    try:
        for table in TABLES:
            a, b = rows_of(src, table, False), rows_of(dst, table, True)
            assert a == b, f"{table}: {len(a)} rows in SQLite, {len(b)} in PostgreSQL, or a value differs"
        assert len(rows_of(src, "cases", False)) == 12
        assert rows_of(src, "idempotency", False) and rows_of(src, "secrets", False)
        assert rows_of(src, "webhook_attempts", False) and rows_of(src, "events", False)
    finally:
        src.close()
        dst.close()

    # Not empty now: refused, and nothing changed.
    again = migrate(sqlite_file, target)
    assert again.returncode == 1 and "not empty" in again.stderr, (again.returncode, again.stderr)

    new = Service(str(tmp_path), env=env)
    new.db = target
    new.log_path = str(tmp_path / "pg.log")
    new.start()
    try:
        with prism_proxy(new.url) as url:
            api = Api(url)
            for c in cases:
                assert api.get(f"/v1/collection-cases/{c['id']}", tenant).json() == before[c["id"]]
            feed = api.get("/v1/events?limit=200", tenant).json()
            assert api.get("/v1/agency-settings", tenant).json() == {**settings_before,
                                                                      "agency_environment": "staging"}
            assert [e["id"] for e in feed["data"]] == [e["id"] for e in feed_before["data"]]
            # The idempotency records came along: the same key replays.
            r = api.post("/v1/collection-cases", tenant, json=valid_case("MIG-0"), headers={"Idempotency-Key": keys[0]})
            assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true", r.text
            assert r.json()["id"] == cases[0]["id"]
            # New rows after the copied ones (the identity sequences moved on).
            r = api.post("/v1/collection-cases", tenant, json=valid_case("MIG-new"))
            assert r.status_code == 201, r.text
            r = api.post(f"/v1/collection-cases/{r.json()['id']}/actions", tenant,
                         json={"type": "comment", "comment": "after the move"})
            assert r.status_code == 202, r.text
        assert new.stop() == 0
    finally:
        new.stop(signal.SIGKILL)


def test_migrate_db_refuses_what_it_cannot_do(tmp_path):
    r = migrate(str(tmp_path / "missing.db"), pg_database())
    assert r.returncode == 1 and "cannot open" in r.stderr, r.stderr
    r = subprocess.run([BIN, "migrate-db", "--from", "x.db"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "usage" in r.stderr
    r = migrate(str(tmp_path / "x.db"), str(tmp_path / "y.db"))
    assert r.returncode == 1 and "PostgreSQL URI" in r.stderr, r.stderr
