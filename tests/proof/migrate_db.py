#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Proof (issue 11): `inkasso migrate-db` moves a SQLite database with
100,000 cases and their history into an empty PostgreSQL database, and every
table is equal on both sides, compared row by row by this script (not by the
tool), in primary-key order. Then the migrated database serves: a replayed
Idempotency-Key replays, new rows get new ids.

The database: bench/gen's cases (each with its events and outbox row, over
10 tenants), then through the API of a running service: webhook endpoints
(their deliveries and failed attempts), new cases with Idempotency-Keys,
direct payments and comments on gen's cases (with keys), settings; and 200
settlements with their allocations written into the file as the sync
imports them (no agency runs in this proof, so no sync turns either). A
PostgreSQL server of its own (scripts/pg-server.sh) in a temporary
directory, on loopback. --quick: 5,000 cases."""
import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid

from proofkit import report  # also puts tests/http on the path

from conftest import BIN, ROOT, Api, DbConn, Service, valid_case  # noqa: E402

GEN = os.path.join(ROOT, "build", "release", "bench", "gen")
PG_SERVER = os.path.join(ROOT, "scripts", "pg-server.sh")
MISSING = object()
TABLES = ["cases", "case_events", "outbox", "idempotency", "agency_settings", "secrets", "payments", "actions",
          "settlements", "settlement_allocations", "agency_events", "events", "event_sequences",
          "webhook_endpoints", "webhook_deliveries", "webhook_attempts", "sync_rounds"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--cases", type=int, default=100000)
    p.add_argument("--logs", default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.cases = 5000
    return a


def key_columns(con, table, pg):
    if pg:
        rows = con.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                           " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary"
                           " ORDER BY array_position(i.indkey, a.attnum)", (table,)).fetchall()
        return [r[0] for r in rows]
    info = [r for r in con.execute(f"PRAGMA table_info({table})").fetchall() if r[5]]
    return [r[1] for r in sorted(info, key=lambda r: r[5])]


def rows(con, table, pg):
    """The table's rows in key order, streamed, as tuples of plain values."""
    keys = key_columns(con, table, pg)
    cur = con.execute(f"SELECT * FROM {table} ORDER BY {', '.join(keys)}")
    while True:
        batch = cur.fetchmany(5000)
        if not batch:
            return
        for row in batch:
            yield tuple(bytes(v) if isinstance(v, (bytes, memoryview)) else v for v in row)


def compare(src_path, dst_uri):
    """Per table: (rows in SQLite, rows in PostgreSQL, rows that differ)."""
    out = {}
    src, dst = DbConn(src_path), DbConn(dst_uri)
    try:
        for t in TABLES:
            na = nb = diff = 0
            for x, y in itertools.zip_longest(rows(src, t, False), rows(dst, t, True), fillvalue=MISSING):
                na, nb = na + (x is not MISSING), nb + (y is not MISSING)
                diff += x != y  # a row missing on one side differs too
            out[t] = (na, nb, diff)
    finally:
        src.close()
        dst.close()
    return out


def history(url, n_gen):
    """Changes through the API on top of gen's cases; returns (tenant, key,
    case id) of a create to replay later."""
    api = Api(url)
    tenants = [f"bench-t{t + 1:02d}" for t in range(10)]  # bench/gen's
    for t in tenants[:3]:
        r = api.post("/v1/webhook-endpoints", t, json={"url": "http://127.0.0.1:9/hook", "event_types": ["*"]})
        assert r.status_code == 201, r.text
    replay = None
    for i in range(300):
        t = tenants[i % 10]
        key = f"proof-{i}-{uuid.uuid4().hex[:8]}"
        r = api.post("/v1/collection-cases", t, json=valid_case(f"MIGP-{i}"), headers={"Idempotency-Key": key})
        assert r.status_code == 201, r.text
        replay = replay or (t, key, r.json()["id"], f"MIGP-{i}")
    for t in tenants:
        page = api.get("/v1/collection-cases?limit=40", t).json()["data"]
        for c in page:
            r = api.post(f"/v1/collection-cases/{c['id']}/payments", t, headers={"Idempotency-Key": uuid.uuid4().hex},
                         json={"kind": "payment", "amount": 100, "paid_on": "2026-02-09", "reference": "m"})
            assert r.status_code in (201, 409, 422), r.text
            r = api.post(f"/v1/collection-cases/{c['id']}/actions", t,
                         json={"type": "comment", "comment": "moved\twith\\escapes\nØ"})
            assert r.status_code in (202, 409), r.text
    return replay


def add_settlements(db, n=200):
    """Settlements with allocations to gen's cases, as the sync imports them
    (no agency runs here: written into the file as test_after_handoff.py
    does)."""
    import random
    import sqlite3
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("BEGIN")
        cases = con.execute("SELECT tenant, id, invoice_number FROM cases ORDER BY seq LIMIT ?", (n,)).fetchall()
        for i, (tenant, case_id, invoice) in enumerate(cases):
            sid = "st_01" + "".join(random.choice(crockford) for _ in range(24))
            seq = con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM settlements WHERE tenant = ?",
                              (tenant,)).fetchone()[0]
            con.execute("INSERT INTO settlements (tenant, id, seq, agency_settlement_id, settlement_date, agency,"
                        " remittance_reference, amount, currency, created_at) VALUES (?, ?, ?, ?, '2026-03-02',"
                        " 'Confirma Finance', NULL, 2500, 'NOK', '2026-03-02T06:00:00.000Z')",
                        (tenant, sid, seq, f"STL-{i}"))
            con.execute("INSERT INTO settlement_allocations (settlement_id, allocation_id, pos, case_id,"
                        " invoice_number, amount, allocation_date) VALUES (?, ?, 0, ?, ?, 2500, '2026-03-02')",
                        (sid, f"AL-{i}", case_id, invoice))
        con.execute("COMMIT")
    finally:
        con.close()


def run(args):
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inkasso-migrate-") as d:
        db = os.path.join(d, "inkasso.db")
        subprocess.run([GEN, db, str(args.cases), "--tenants", "10"], check=True, capture_output=True, timeout=900)
        add_settlements(db)
        env = {"INKASSO_WEBHOOK_ALLOW_PRIVATE": "1", "INKASSO_WEBHOOK_RETRY_SCHEDULE": "1s,1s"}
        svc = Service(d, env=env)
        svc.db = db
        if args.logs:
            os.makedirs(args.logs, exist_ok=True)
            svc.log_path = os.path.join(args.logs, "migrate_db-inkasso.log")
        svc.start()
        try:
            replay = history(svc.url, args.cases)
            time.sleep(3)  # a few webhook attempts fail meanwhile: rows of the attempt log
        finally:
            assert svc.stop() == 0
        # Not under d: the server's own user must reach it (pg-server.sh
        # makes and chowns it; /tmp is open to all).
        pg_dir = os.path.join(tempfile.gettempdir(), "inkasso-pg-migrate-" + uuid.uuid4().hex[:8])
        uri = subprocess.run([PG_SERVER, "start", pg_dir], check=True, capture_output=True, text=True,
                             timeout=120).stdout.strip()
        try:
            t0 = time.monotonic()
            done = subprocess.run([BIN, "migrate-db", "--from", db, "--to", uri], capture_output=True, text=True,
                                  timeout=1800)
            migrate_s = round(time.monotonic() - t0, 1)
            print(done.stdout, end="")
            if done.returncode != 0:
                print(done.stderr, end="")
            t0 = time.monotonic()
            tables = compare(db, uri) if done.returncode == 0 else {}
            compare_s = round(time.monotonic() - t0, 1)
            again = subprocess.run([BIN, "migrate-db", "--from", db, "--to", uri], capture_output=True, text=True,
                                   timeout=300)
            served = False
            new = Service(d, env=env)
            new.db = uri
            new.log_path = os.path.join(args.logs or d, "migrate_db-inkasso-pg.log")
            new.start()
            try:
                api = Api(new.url)
                t, key, case_id, number = replay
                r = api.post("/v1/collection-cases", t, json=valid_case(number), headers={"Idempotency-Key": key})
                r2 = api.post("/v1/collection-cases", t, json=valid_case("MIGP-after"))
                served = (r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true"
                          and r.json()["id"] == case_id and r2.status_code == 201)
            finally:
                new_rc = new.stop()
        finally:
            subprocess.run([PG_SERVER, "stop", pg_dir], capture_output=True, timeout=120)
    differing = sum(v[2] for v in tables.values())
    unequal = [t for t, v in tables.items() if v[0] != v[1]]
    figures = {
        "cases": tables.get("cases", (0,))[0],
        "rows_per_table": {t: v[0] for t, v in tables.items()},
        "rows_total": sum(v[0] for v in tables.values()),
        "migrate_seconds": migrate_s,
        "compare_seconds": compare_s,
        "tables_with_unequal_counts": len(unequal),
        "rows_differing": differing,
        "second_run_refused": again.returncode == 1 and "not empty" in again.stderr,
        "served_after": served,
        "seconds": round(time.monotonic() - t_start, 1),
    }
    return report("migrate-db: SQLite to PostgreSQL", figures, [
        ("migrate-db exits 0 and verifies every table", done.returncode == 0 and done.stdout.count("verified") >= 17),
        (f"{args.cases + 300} cases on both sides", tables.get("cases", (0, 0))[:2] == (args.cases + 300,) * 2),
        ("every table: equal counts", not unequal and len(tables) == len(TABLES)),
        ("every row equal (compared by this script)", differing == 0),
        ("idempotency records, events, payments, actions, attempts, settings moved",
         all(tables.get(t, (0,))[0] > 0 for t in ("idempotency", "events", "payments", "actions", "settlements",
                                                   "settlement_allocations", "webhook_attempts", "agency_settings",
                                                   "secrets"))),
        ("a second run on the same target is refused", figures["second_run_refused"]),
        ("the migrated database serves: a replay replays, a new case is created", served and new_rc == 0),
    ])


def main():
    f = run(parse_args())
    sys.exit(0 if f["ok"] else 1)


if __name__ == "__main__":
    main()
