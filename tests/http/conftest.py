# SPDX-License-Identifier: MIT
"""Fixtures for the HTTP tests: the real inkasso binary on a loopback port,
and a Prism proxy in front of it that checks every answer against
openapi.yaml (a response that breaks the contract becomes a 500 there).

The suite runs on either storage backend: SQLite files by default, or with
INKASSO_TEST_STORE=pg a new PostgreSQL database per service on the server
of INKASSO_TEST_PG (scripts/pg-server.sh starts one for `make check`).
Tests of what only a SQLite file has (its fault shim, its own integrity
check) carry @pytest.mark.sqlite_only."""
import datetime as dt
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests
import yaml
import sqlite3

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# openapi.yaml, parsed once, for the tests that walk the contract itself.
SPEC = yaml.safe_load(open(os.path.join(ROOT, "openapi.yaml"), encoding="utf-8"))


def resolve(node):
    """A node of SPEC with its $ref chain followed."""
    while "$ref" in node:
        target = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node
BIN = os.path.join(ROOT, os.environ.get("INKASSO_BIN", "bin/inkasso"))
SIM_BIN = os.path.join(ROOT, os.environ.get("AGENCY_SIM_BIN", "bin/agency-sim"))
PRISM = os.environ.get("PRISM_BIN", os.path.join(ROOT, ".tools/node_modules/.bin/prism"))
SECRET = "http-test-secret-0123456789abcdef-0123456789"
ALL_SCOPES = "cases:read cases:write settings:write webhooks:write"


ON_PG = os.environ.get("INKASSO_TEST_STORE") == "pg"
PG_SERVER = os.environ.get("INKASSO_TEST_PG", "")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: tests what only the SQLite backend has")
    config.addinivalue_line("markers", "postgres_only: tests what only the PostgreSQL backend has")


def pytest_collection_modifyitems(config, items):
    if ON_PG:
        mark, skip = "sqlite_only", pytest.mark.skip(reason="SQLite backend only (its file, its fault shim)")
    else:
        mark, skip = "postgres_only", pytest.mark.skip(reason="PostgreSQL backend only (its own run in make check)")
    for item in items:
        if mark in item.keywords:
            item.add_marker(skip)


def pg_database():
    """A new, empty PostgreSQL database on the test server; its URI."""
    assert PG_SERVER, "INKASSO_TEST_STORE=pg needs INKASSO_TEST_PG (scripts/pg-server.sh run)"
    name = "h_" + uuid.uuid4().hex[:20]
    subprocess.run(["psql", PG_SERVER, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


class DbConn:
    """A second connection to a service's database, SQLite or PostgreSQL,
    in autocommit, with SQLite's ? placeholders on both."""

    def __init__(self, path):
        if path.startswith(("postgres://", "postgresql://")):
            import psycopg2
            self.pg = True
            self.con = psycopg2.connect(path)
            self.con.autocommit = True
        else:
            self.pg = False
            self.con = sqlite3.connect(path, timeout=10, isolation_level=None)
            self.con.execute("PRAGMA foreign_keys = ON")

    def execute(self, sql, params=()):
        if not self.pg:
            return self.con.execute(sql, params)
        cur = self.con.cursor()
        cur.execute(sql.replace("?", "%s"), params)
        return cur

    def close(self):
        self.con.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc=None, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before answering {url}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop_process(proc, sig=signal.SIGTERM, timeout=20):
    """Sends sig to a process we started (if still running), waits up to
    timeout, then SIGKILLs it; returns its exit code."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class Service:
    """One inkasso process; restartable on the same database."""

    def __init__(self, workdir, env=None):
        self.workdir = workdir
        self.port = free_port()
        self.db = pg_database() if ON_PG else os.path.join(workdir, "inkasso.db")
        self.log_path = os.path.join(workdir, "inkasso.log")
        self.extra_env = env or {}
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        e = dict(os.environ)
        e.update({
            "INKASSO_LISTEN": f"127.0.0.1:{self.port}",
            "INKASSO_DB": self.db,
            "INKASSO_JWT_SECRET": SECRET,
            "INKASSO_LOG_LEVEL": "info",
            "INKASSO_THREADS": "4",
            # Sanitized builds: fail loudly on leaks and UB.
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=24",
        })
        e.update(self.extra_env)
        return e

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env(), stdout=self.log, stderr=self.log)
        wait_http(self.url + "/healthz", self.proc)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        rc = stop_process(self.proc, sig, timeout)
        self.proc = None
        self.log.close()
        return rc

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def mint(tenant, scope=ALL_SCOPES, ttl=3600, sub=None):
    extra = ["--sub", sub] if sub else []
    out = subprocess.run([BIN, "token", "--tenant", tenant, "--scope", scope, "--ttl", str(ttl)] + extra,
                         env={**os.environ, "INKASSO_JWT_SECRET": SECRET},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Api:
    """A small client: base URL plus a token per tenant."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()
        self._tokens = {}

    def token(self, tenant, scope=ALL_SCOPES):
        key = (tenant, scope)
        if key not in self._tokens:
            self._tokens[key] = mint(tenant, scope)
        return self._tokens[key]

    def call(self, method, path, tenant=None, scope=ALL_SCOPES, json=None, headers=None, **kw):
        h = dict(headers or {})
        if tenant is not None and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token(tenant, scope)
        r = self.session.request(method, self.base + path, json=json, headers=h, timeout=30, **kw)
        # Prism answers a contract violation with a 500 naming it.
        assert "sl-violations" not in r.headers, r.headers.get("sl-violations")
        if r.status_code == 500:
            assert "VIOLATIONS" not in r.text and "Violation" not in r.text, r.text
        return r

    def get(self, path, tenant=None, **kw):
        return self.call("GET", path, tenant, **kw)

    def post(self, path, tenant=None, **kw):
        return self.call("POST", path, tenant, **kw)

    def put(self, path, tenant=None, **kw):
        return self.call("PUT", path, tenant, **kw)

    def patch(self, path, tenant=None, **kw):
        return self.call("PATCH", path, tenant, **kw)

    def delete(self, path, tenant=None, **kw):
        return self.call("DELETE", path, tenant, **kw)

    def configure(self, tenant, **overrides):
        body = {"creditor_reference": "CR-" + tenant, "api_key": "key-" + tenant,
                "service": "collection", "customer_type": "auto"}
        body.update(overrides)
        r = self.put("/v1/agency-settings", tenant, json=body)
        assert r.status_code == 200, r.text
        return r.json()


def today():
    return dt.datetime.now(dt.timezone.utc).date()


def valid_case(number=None, **invoice_overrides):
    """The DESIGN.md example with dates that make it sendable today."""
    t = today()
    inv = {
        "number": number or uuid.uuid4().hex[:12],
        "issued_on": (t - dt.timedelta(days=90)).isoformat(),
        "due_on": (t - dt.timedelta(days=60)).isoformat(),
        "currency": "NOK",
        "original_amount": 124900,
        "outstanding_amount": 124900,
        "fees": 3500,
        "description": "Subscription January 2026",
        "payment_reference": "RF71234567890123456789",
        "reminders": [{"sent_on": (t - dt.timedelta(days=30)).isoformat(), "fee": 3500}],
        "disputed": False,
    }
    inv.update(invoice_overrides)
    return {
        "your_reference": "cus_551",
        "service": "collection",
        "invoice": inv,
        "debtor": {
            "customer_number": "551",
            "customer_type": "consumer",
            "name": "Kari Nordmann",
            "business_name": None,
            "org_number": None,
            "national_id": None,
            "date_of_birth": "1985-04-12",
            "email": "kari@example.no",
            "phone": "+4791234567",
            "extra_fields": [{"purpose": "phone_number", "value": "912 34 567"}],
            "language": "nb",
            "address": {"line1": "Storgata 1", "line2": None, "postal_code": "0155",
                        "city": "Oslo", "country": "NO"},
        },
    }


SESSION = {}  # the session's service, for the failure report below


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with the session service's last warnings
    and errors (its log is gone with its temporary directory afterwards)."""
    outcome = yield
    report = outcome.get_result()
    svc = SESSION.get("service")
    if report.when == "call" and report.failed and svc is not None:
        try:
            lines = [l for l in svc.read_log().splitlines() if '"level":"error"' in l or '"level":"warn"' in l]
            report.sections.append(("inkasso (session service): last warnings and errors", "\n".join(lines[-25:])))
        except OSError:
            pass


@pytest.fixture(scope="session")
def service():
    with tempfile.TemporaryDirectory(prefix="inkasso-http-") as d:
        s = Service(d).start()
        SESSION["service"] = s
        yield s
        rc = s.stop()
        assert rc == 0, f"inkasso exited {rc} on SIGTERM:\n{s.read_log()[-4000:]}"


@pytest.fixture(scope="session")
def prism(service):
    with prism_proxy(service.url) as url:
        yield url


@pytest.fixture(scope="session")
def api(prism):
    """Client through the validating proxy: every answer is checked against openapi.yaml."""
    return Api(prism)


@pytest.fixture(scope="session")
def direct(service):
    """Client straight to the service, for what a proxy would hide (keep-alive, raw bytes)."""
    return Api(service.url)


@pytest.fixture
def tenant(api):
    """A fresh, configured tenant per test: tests never see each other's cases."""
    t = "t_" + uuid.uuid4().hex[:10]
    api.configure(t)
    return t


# --- helpers shared by the test modules (added with the HTTP tests) -------
import base64
import hashlib
import hmac
import http.client
import json as _json


def b64url(raw):
    if isinstance(raw, str):
        raw = raw.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_sign(claims, secret=SECRET, alg="HS256", header=None):
    """A compact JWS signed by hand (independent of the binary under test).
    alg selects the HMAC hash: HS256, HS384, HS512; header overrides it all."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    h = b64url(_json.dumps(hdr, separators=(",", ":")))
    p = b64url(claims if isinstance(claims, (bytes, str)) else _json.dumps(claims, separators=(",", ":")))
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    key = secret.encode() if isinstance(secret, str) else secret
    sig = hmac.new(key, f"{h}.{p}".encode(), digest).digest()
    return f"{h}.{p}.{b64url(sig)}"


def claims_for(tenant, scope=ALL_SCOPES, ttl=3600, **extra):
    c = {"tenant": tenant, "scope": scope, "exp": int(time.time()) + ttl}
    c.update(extra)
    return c


def bearer(token):
    return {"Authorization": "Bearer " + token}


def fnr(born, individual=123):
    """A valid Norwegian fødselsnummer (mod-11 control digits) for a birth date;
    tries the next individual numbers until both control digits exist."""
    for ind in range(individual, individual + 50):
        d = [int(c) for c in born.strftime("%d%m%y") + f"{ind % 1000:03d}"]
        k1 = 11 - sum(w * x for w, x in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), d)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(w * x for w, x in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d + [k1])) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 == 10:
            continue
        return "".join(map(str, d + [k1, k2]))
    raise AssertionError("no valid fødselsnummer found")


def no_org_number(base8="92360901"):
    """A valid Norwegian organisasjonsnummer: 8 digits + mod-11 check digit."""
    for n in range(int(base8), int(base8) + 100):
        d = [int(c) for c in f"{n:08d}"]
        k = 11 - sum(w * x for w, x in zip((3, 2, 7, 6, 5, 4, 3, 2), d)) % 11
        k = 0 if k == 11 else k
        if k != 10:
            return "".join(map(str, d + [k]))
    raise AssertionError("no valid org number found")


def luhn_complete(digits9):
    """Appends the Luhn check digit (Swedish personnummer, organisationsnummer)."""
    total = 0
    for i, c in enumerate(digits9):
        v = int(c) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return digits9 + str((10 - total % 10) % 10)


def raw_request(port, data, timeout=10):
    """Sends raw bytes on a fresh connection; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, resp.headers, resp.read()


def assert_problem(r, status, code):
    """r is an RFC 9457 problem with this status and code; returns its JSON."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/problem+json"), r.headers
    p = r.json()
    assert p["status"] == status and p["code"] == code and p["type"] == "/problems/" + code, p
    assert p["title"], p
    return p


def field_errors(r):
    """The (pointer, code) pairs of a 422 validation_failed answer."""
    p = assert_problem(r, 422, "validation_failed")
    return {(e["pointer"], e["code"]) for e in p["errors"]}


def new_tenant(api, **settings):
    """A fresh tenant configured with these settings (on top of Api.configure's)."""
    t = "t_" + uuid.uuid4().hex[:10]
    api.configure(t, **settings)
    return t


def create_case(api, tenant, body=None, **kw):
    r = api.post("/v1/collection-cases", tenant, json=body if body is not None else valid_case(), **kw)
    assert r.status_code == 201, r.text
    return r.json()


def list_all(api, tenant, query=""):
    """Every case of the listing (following the cursor), newest first."""
    out, cursor = [], None
    for _ in range(100):
        q = query + (("&" if query else "") + "cursor=" + cursor if cursor else "")
        r = api.get("/v1/collection-cases" + ("?" + q if q else ""), tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return out
        cursor = page["next_cursor"]
    raise AssertionError("pagination did not end")


def wait_until(pred, timeout=10.0, interval=0.02):
    """Polls pred() until it is truthy; returns its value or fails."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1fs" % timeout)
        time.sleep(interval)


@pytest.fixture
def fresh_service():
    """A service of its own (own temp DB) for tests that stop or kill it."""
    with tempfile.TemporaryDirectory(prefix="inkasso-own-") as d:
        s = Service(d)
        yield s
        s.stop(signal.SIGKILL)  # no-op when the test already stopped it


# --- the agency simulator and services wired to it (agency tests) ---------
import contextlib
import types

# Case lifecycle timings for tests that drive the simulator by hand: case ids
# come quickly, but nothing moves on by itself (no surprise `paid`).
SIM_STILL = ("--assign-delay", "0.2", "--advance-seconds", "0.1", "--reminder-seconds", "3600",
             "--collection-seconds", "3600", "--settle-seconds", "3600")


class Sim:
    """One bin/agency-sim on a loopback port, :memory: state, --fast timings
    (overridden by extra args); its control API as methods."""

    def __init__(self, workdir, accept_duplicates=False, args=SIM_STILL):
        self.workdir = workdir
        self.port = free_port()
        self.log_path = os.path.join(workdir, "agency-sim.log")
        self.args = [SIM_BIN, "--listen", f"127.0.0.1:{self.port}", "--db", ":memory:", "--fast"]
        if accept_duplicates:
            self.args.append("--accept-duplicates")
        self.args += list(args)
        self.proc = None
        self.http = requests.Session()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        wait_http(self.url + "/healthz", self.proc)
        return self

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        rc = stop_process(self.proc, signal.SIGTERM, timeout)
        self.proc = None
        self.log.close()
        self.http.close()
        return rc

    def _call(self, method, path, **kw):
        r = self.http.request(method, self.url + path, timeout=30, **kw)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        return r.json()

    def faults(self, **cfg):
        """Replaces the fault configuration; no arguments: no faults."""
        return self._call("POST", "/sim/faults", json=cfg)

    def clear_faults(self):
        return self._call("POST", "/sim/faults", data=b"")

    def config(self, **cfg):
        return self._call("POST", "/sim/config", json=cfg)

    def advance(self, api_key, number, to, amount=None):
        body = {"apiKey": api_key, "invoiceNumber": number, "to": to}
        if amount is not None:
            body["amount"] = amount
        return self._call("POST", "/sim/advance", json=body)

    def settle(self, api_key=None):
        return self._call("POST", "/sim/settle", json={"apiKey": api_key} if api_key else {})

    def stats(self, api_key=None):
        return self._call("GET", "/sim/stats", params={"apiKey": api_key} if api_key else None)

    def invoices(self, api_key):
        return self._call("GET", "/sim/invoices", params={"apiKey": api_key})["invoices"]


def agency_env(sim, **overrides):
    """The environment of a service wired to sim, with test-sized timings."""
    env = {
        "INKASSO_AGENCY_URL": sim.url,
        "INKASSO_SYNC_INTERVAL": "1",
        "INKASSO_RETRY_BASE_MS": "50",
        "INKASSO_RETRY_CAP_MS": "1000",
        "INKASSO_AGENCY_TIMEOUT_MS": "1000",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@contextlib.contextmanager
def prism_proxy(target_url, validate_requests=False):
    """A Prism proxy in front of target_url that turns every answer breaking
    openapi.yaml into a 500 (as the session `prism` fixture); yields its URL
    and stops it (its process group) on exit. validate_requests: it also
    checks each request against openapi.yaml, as a generated client types it,
    and answers one that breaks it itself, without forwarding it: a 422 whose
    type is PRISM_INVALID_REQUEST."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [PRISM, "proxy", os.path.join(ROOT, "openapi.yaml"), target_url, "--errors",
         "--validate-request=" + ("true" if validate_requests else "false"), "-h", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=log, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        log.close()


PRISM_INVALID_REQUEST = "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY"


@contextlib.contextmanager
def agency_rig(accept_duplicates=False, sim_args=SIM_STILL, proxy=True, **env):
    """A simulator, a service of its own wired to it (own temp DB; env
    overrides agency_env's), and optionally a Prism proxy in front of the
    service. Yields a namespace: sim, service, api (through Prism when proxy,
    else direct), direct. Everything is stopped by pid on exit; a service
    still running must stop cleanly (exit 0 on SIGTERM)."""
    with tempfile.TemporaryDirectory(prefix="inkasso-agency-") as d:
        sim = Sim(d, accept_duplicates=accept_duplicates, args=sim_args).start()
        svc = Service(d, env=agency_env(sim, **env))
        try:
            svc.start()
            with (prism_proxy(svc.url) if proxy else contextlib.nullcontext(svc.url)) as base:
                yield types.SimpleNamespace(sim=sim, service=svc, api=Api(base), direct=Api(svc.url))
            if svc.proc is not None:
                rc = svc.stop()
                assert rc == 0, f"inkasso exited {rc} on SIGTERM:\n{svc.read_log()[-4000:]}"
        finally:
            svc.stop(signal.SIGKILL)
            sim.stop()


def agency_key(tenant):
    """The agency api key Api.configure gives a tenant (the simulator's client)."""
    return "key-" + tenant


def case_detail(api, tenant, case_id):
    """GET /v1/collection-cases/{id}, asserted 200."""
    r = api.get(f"/v1/collection-cases/{case_id}", tenant)
    assert r.status_code == 200, r.text
    return r.json()


def wait_case(api, tenant, case_id, pred, timeout=15.0, what="condition"):
    """Polls the case until pred(case) holds; returns the case."""
    last = {}

    def probe():
        last["case"] = case_detail(api, tenant, case_id)
        return last["case"] if pred(last["case"]) else None

    try:
        return wait_until(probe, timeout=timeout, interval=0.1)
    except AssertionError:
        c = last.get("case", {})
        raise AssertionError(f"{what} not reached within {timeout}s: status {c.get('status')}, "
                             f"stage {c.get('stage')}, events {c.get('events')}") from None
