# SPDX-License-Identifier: MIT
"""Shared pieces of the proof scripts (tests/proof/*.py) and of their short
versions in tests/http/test_proof_soak.py: the simulator and the service on
loopback ports with their logs where the caller wants them, tenants,
creates retried with one Idempotency-Key until they are acknowledged,
exactly-once counts at the simulator, simple statistics, and the closing
`FIGURES <json>` line.

Everything here runs on 127.0.0.1 and stops only the processes it started,
by pid (conftest's Service and Sim)."""
import contextlib
import json
import math
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))

try:  # conftest needs pytest, the clients requests: Debian's python3 has both
    import pytest  # noqa: F401
    import requests
except ImportError:
    # `#!/usr/bin/env python3` may find another python3 first on PATH.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

from conftest import (SIM_STILL, Api, Service, Sim, agency_env, agency_key, bearer,  # noqa: E402,F401
                      list_all, valid_case)

CASES = "/v1/collection-cases"


# --- processes ---------------------------------------------------------------

@contextlib.contextmanager
def rig(name, logs=None, accept_duplicates=True, sim_args=SIM_STILL, **env):
    """A simulator and a service wired to it (own temp DB, env overriding
    agency_env's), both on free loopback ports. Their stdout and stderr go
    to LOGS/NAME-agency-sim.log and LOGS/NAME-inkasso.log when logs is a
    directory, else into the temp dir. Yields (sim, service, workdir); on
    exit both are stopped by pid (the service with SIGTERM, its exit status
    kept in service.exit_status)."""
    with tempfile.TemporaryDirectory(prefix=f"inkasso-{name}-") as d:
        sim = Sim(d, accept_duplicates=accept_duplicates, args=sim_args)
        svc = Service(d, env=agency_env(sim, **env))
        if logs:
            os.makedirs(logs, exist_ok=True)
            sim.log_path = os.path.join(logs, f"{name}-agency-sim.log")
            svc.log_path = os.path.join(logs, f"{name}-inkasso.log")
        svc.exit_status = None
        try:
            sim.start()
            svc.start()
            yield sim, svc, d
            if svc.proc is not None:
                svc.exit_status = svc.stop()
        finally:
            svc.stop(signal.SIGKILL)  # no-op when already stopped
            sim.stop()


def configure_tenants(api, n, prefix):
    """n fresh tenants with enabled agency settings (key "key-<tenant>")."""
    tenants = [f"{prefix}{i}_{uuid.uuid4().hex[:6]}" for i in range(n)]
    for t in tenants:
        s = api.configure(t, enabled=True)
        assert s.get("enabled", True), s
    return tenants


def integrity_check(db_path):
    """PRAGMA integrity_check on a database no process has open, read-only
    so that the check neither checkpoints nor removes the WAL the service
    must recover by itself. Returns the result rows joined ("ok" when sound)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()
    out = "; ".join(str(r[0]) for r in rows)
    if fk:
        out += f"; foreign_key_check: {len(fk)} rows"
    return out


def outbox_rows(db_path, case_id):
    """The outbox rows of a case (state, attempts, next attempt, last error, kind),
    read with a read-only connection beside the running service."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT kind, state, attempts, next_attempt_at, last_error, updated_at "
                           "FROM outbox WHERE case_id = ? ORDER BY id", (case_id,)).fetchall()
    finally:
        con.close()


def sim_attempts(sim, api_key=None, number=None):
    """GET /sim/attempts: the simulator's log of calls per invoice number."""
    params = {k: v for k, v in (("apiKey", api_key), ("invoiceNumber", number)) if v}
    r = sim.http.get(sim.url + "/sim/attempts", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()["attempts"]



# --- clients -----------------------------------------------------------------

class Tally:
    """Counters shared by client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.c = {}
        self.samples = {}

    def add(self, name, n=1):
        with self.lock:
            self.c[name] = self.c.get(name, 0) + n

    def sample(self, name, value, keep=5):
        with self.lock:
            s = self.samples.setdefault(name, [])
            if len(s) < keep:
                s.append(value)

    def get(self, name):
        with self.lock:
            return self.c.get(name, 0)


def create_until_acknowledged(session, base, token, body, key, tally, deadline_s=180.0, timeout=10.0):
    """POSTs body with Idempotency-Key key until the answer is 201, retrying
    every other answer and every network error with the same key and body.
    A 409 duplicate_case (the same key answered as another request) is a
    defect: counted as "same_key_409" and retried. Returns the case id, or
    None when deadline_s passed (counted as "gave_up")."""
    raw = json.dumps(body)
    headers = {**bearer(token), "Idempotency-Key": key, "Content-Type": "application/json"}
    end = time.monotonic() + deadline_s
    tries = 0
    while time.monotonic() < end:
        tries += 1
        try:
            r = session.post(base + CASES, data=raw, headers=headers, timeout=timeout)
        except requests.RequestException:
            tally.add("network_errors")
            time.sleep(0.02 * min(tries, 10))
            continue
        if r.status_code == 201:
            if tries > 1:
                tally.add("acknowledged_after_retry")
            return r.json()["id"]
        tally.add(f"http_{r.status_code}")
        if r.status_code == 409:
            tally.add("same_key_409")
            tally.sample("same_key_409", (key, r.text[:200]))
        elif r.status_code < 500 and r.status_code != 429:
            tally.sample("unexpected_4xx", (r.status_code, r.text[:200]))
        time.sleep(0.02 * min(tries, 10))
    tally.add("gave_up")
    return None


def replay_all(base, tokens, items, workers=8, samples=None):
    """Sends every acknowledged create again with its key and body; returns
    the number whose answer is not 201 with the same case id (the first few
    of them, as (status, body), into samples when it is a list).
    items: [(tenant, key, body, case_id)]."""
    bad = [0]
    lock = threading.Lock()

    def work(chunk):
        s = requests.Session()
        for tenant, key, body, case_id in chunk:
            # A 503 (Retry-After) is no answer of the key: asked again, as a
            # client would, for a few seconds.
            for _ in range(50):
                r = s.post(base + CASES, data=json.dumps(body), timeout=30,
                           headers={**bearer(tokens[tenant]), "Idempotency-Key": key,
                                    "Content-Type": "application/json"})
                if r.status_code != 503:
                    break
                time.sleep(0.2)
            if r.status_code != 201 or r.json().get("id") != case_id:
                with lock:
                    bad[0] += 1
                    if samples is not None and len(samples) < 5:
                        samples.append((r.status_code, r.text[:200]))

    run_chunks(work, items, workers)
    return bad[0]


def run_chunks(fn, items, workers):
    """Runs fn(chunk) on workers threads over round-robin chunks of items."""
    chunks = [items[i::workers] for i in range(workers)]
    threads = [threading.Thread(target=fn, args=(c,)) for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def get_past_503(api, path, tenant, tries=20):
    """GET, asked again after a 503 (Retry-After), as a client does: on
    PostgreSQL, a pooled connection that slept through a database restart
    answers one 503 on its next statement (README, "The database lost")."""
    for _ in range(tries):
        r = api.get(path, tenant)
        if r.status_code != 503:
            return r
        time.sleep(0.25)
    return r


def list_all_past_503(api, tenant, query):
    """list_all, each page asked again after a 503 (get_past_503)."""
    out, cursor = [], None
    for _ in range(1000):
        q = query + ("&cursor=" + cursor if cursor else "")
        r = get_past_503(api, f"{CASES}?{q}", tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]
    raise AssertionError("pagination did not end")


def readable_and_listed(api, tenants, acked):
    """Every acknowledged case answers GET with its invoice number and is in
    its tenant's listing. acked: {case_id: (tenant, number)}. Returns
    (missing, listed) where listed is {tenant: [case...]}."""
    listed = {t: list_all_past_503(api, t, "limit=200") for t in tenants}
    ids = {c["id"] for cases in listed.values() for c in cases}
    missing = 0
    for case_id, (tenant, number) in acked.items():
        r = get_past_503(api, f"{CASES}/{case_id}", tenant)
        if r.status_code != 200 or r.json()["invoice"]["number"] != number or case_id not in ids:
            missing += 1
    return missing, listed


def duplicate_numbers(listed):
    """Invoice numbers listed more than once for the same tenant."""
    dup = 0
    for cases in listed.values():
        numbers = [c["invoice"]["number"] for c in cases]
        dup += len(numbers) - len(set(numbers))
    return dup


def at_agency(sim, numbers_by_tenant):
    """Compares the simulator's invoices with what was sent, per tenant key.
    Returns figures: invoices at the simulator, numbers missing there,
    numbers there that were not sent, and numbers whose creation count is
    not 1 (each stored row carries the creations of its number)."""
    present = missing = extra = not_once = 0
    for tenant, numbers in numbers_by_tenant.items():
        invs = sim.invoices(agency_key(tenant))
        got = {}
        for i in invs:
            got[i["invoiceNumber"]] = max(got.get(i["invoiceNumber"], 0), i["creations"])
        want = set(numbers)
        present += len(got)
        missing += len(want - set(got))
        extra += len(set(got) - want)
        not_once += sum(1 for n, c in got.items() if c != 1)
    return {"sim_invoices": present, "sim_missing_numbers": missing, "sim_unexpected_numbers": extra,
            "sim_numbers_created_not_once": not_once}


# --- figures -----------------------------------------------------------------

def describe(values):
    """n, distinct, mean, stdev, coefficient of variation, min, median, max."""
    n = len(values)
    if n == 0:
        return {"n": 0, "distinct": 0, "mean": 0, "stdev": 0, "cv": 0, "min": 0, "median": 0, "max": 0}
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    s = sorted(values)
    return {"n": n, "distinct": len(set(values)), "mean": round(mean, 1), "stdev": round(sd, 1),
            "cv": round(sd / mean, 3) if mean else 0, "min": s[0], "median": s[n // 2], "max": s[-1]}


def report(title, figures, checks):
    """Prints the figures as lines, each target as PASS/FAIL, and the final
    FIGURES line; returns the figures with "ok" set. checks: [(name, bool)]."""
    print(f"== {title}")
    for k, v in figures.items():
        print(f"  {k}: {json.dumps(v) if isinstance(v, (dict, list)) else v}")
    ok = True
    for name, passed in checks:
        print(f"  target {'PASS' if passed else 'FAIL'}: {name}")
        ok = ok and bool(passed)
    flat = {k: v for k, v in figures.items() if not isinstance(v, (dict, list))}
    flat["ok"] = ok
    print("FIGURES " + json.dumps(flat, sort_keys=True), flush=True)
    figures["ok"] = ok
    figures["failed_targets"] = [name for name, passed in checks if not passed]
    return figures
