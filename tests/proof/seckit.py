# SPDX-License-Identifier: MIT
"""Shared helpers of the security proofs (hostile_tokens, isolation_matrix,
resource_limits, privacy_grep): start the real binaries on loopback ports with
their logs in a chosen directory, stop them by pid, sign tokens by hand, talk
raw HTTP, and print the closing `FIGURES <json>` line.

Standard library only (plus `requests`, a Debian package), so that every proof
runs with /usr/bin/python3 and nothing else."""
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, os.environ.get("INKASSO_BIN", "bin/inkasso"))
SIM_BIN = os.path.join(ROOT, os.environ.get("AGENCY_SIM_BIN", "bin/agency-sim"))
SECRET = "proof-sec-secret-0123456789abcdef-0123456789"
ALL_SCOPES = "cases:read cases:write settings:write webhooks:write"
# The simulator moves nothing by itself: the proofs drive it by hand.
SIM_STILL = ("--assign-delay", "0.2", "--advance-seconds", "0.1", "--reminder-seconds", "3600",
             "--collection-seconds", "3600", "--settle-seconds", "3600")


# The same loopback helpers as the HTTP tests (tests/http/conftest.py).
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
from conftest import fnr, free_port, stop_process, wait_http  # noqa: E402,F401


class LogDir:
    """Where the processes' logs go: the --logs DIR of a proof, else a temp
    directory removed at close."""

    def __init__(self, path=None, prefix="proof-sec-"):
        self._tmp = None
        if path:
            os.makedirs(path, exist_ok=True)
            self.path = path
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
            self.path = self._tmp.name

    def file(self, name):
        """A fresh log path in the directory (name-N.log if name.log exists)."""
        base = os.path.join(self.path, name)
        p, n = base + ".log", 1
        while os.path.exists(p):
            n += 1
            p = f"{base}-{n}.log"
        return p

    def write_seeds(self, values, name="personal-data"):
        """Records values that must never appear in the logs, one per line, as
        NAME.seeds in the directory: privacy_grep.py --logs DIR reads every
        *.seeds file it finds there (and does not grep those files)."""
        with open(os.path.join(self.path, name + ".seeds"), "a", encoding="utf-8") as f:
            for v in values:
                if isinstance(v, str) and v.strip() and "\n" not in v:
                    f.write(v + "\n")

    def close(self):
        if self._tmp:
            self._tmp.cleanup()


class Proc:
    """A child process with its stdout+stderr in one log file; stopped by pid."""

    def __init__(self, args, log_path, env=None, health_url=None):
        self.args, self.log_path, self.env, self.health_url = args, log_path, env, health_url
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self._log, stderr=self._log)
        if self.health_url:
            wait_http(self.health_url, self.proc)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        if self.proc is None:
            return None
        rc = stop_process(self.proc, signal.SIGTERM, timeout)
        self._log.close()
        return rc

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


class Inkasso(Proc):
    """bin/inkasso serve on a free loopback port with its own database."""

    def __init__(self, logs, name="inkasso", env=None, workdir=None):
        self.port = free_port()
        self.workdir = workdir or tempfile.mkdtemp(prefix="proof-sec-db-")
        e = dict(os.environ)
        e.update({
            "INKASSO_LISTEN": f"127.0.0.1:{self.port}",
            "INKASSO_DB": os.path.join(self.workdir, "inkasso.db"),
            "INKASSO_JWT_SECRET": SECRET,
            "INKASSO_LOG_LEVEL": "info",
            "INKASSO_THREADS": "4",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=24",
        })
        e.update({k: str(v) for k, v in (env or {}).items()})
        super().__init__([BIN, "serve"], logs.file(name), e, f"http://127.0.0.1:{self.port}/healthz")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout=20):
        rc = super().stop(timeout)
        import shutil
        shutil.rmtree(self.workdir, ignore_errors=True)
        return rc


class Sim(Proc):
    """bin/agency-sim on a free loopback port, :memory: state."""

    def __init__(self, logs, name="agency-sim", args=SIM_STILL):
        import requests
        self.port = free_port()
        super().__init__([SIM_BIN, "--listen", f"127.0.0.1:{self.port}", "--db", ":memory:", "--fast", *args],
                         logs.file(name), None, f"http://127.0.0.1:{self.port}/healthz")
        self.http = requests.Session()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def call(self, method, path, **kw):
        r = self.http.request(method, self.url + path, timeout=30, **kw)
        if r.status_code != 200:
            raise RuntimeError(f"sim {method} {path}: {r.status_code} {r.text}")
        return r.json()

    def advance(self, api_key, number, to):
        return self.call("POST", "/sim/advance", json={"apiKey": api_key, "invoiceNumber": number, "to": to})

    def settle(self, api_key):
        return self.call("POST", "/sim/settle", json={"apiKey": api_key})


def agency_env(sim):
    return {"INKASSO_AGENCY_URL": sim.url, "INKASSO_SYNC_INTERVAL": "1", "INKASSO_RETRY_BASE_MS": "50",
            "INKASSO_RETRY_CAP_MS": "1000", "INKASSO_AGENCY_TIMEOUT_MS": "1000"}


# --- tokens -------------------------------------------------------------------

def b64url(raw):
    if isinstance(raw, str):
        raw = raw.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jenc(obj):
    if isinstance(obj, (bytes, str)):
        return b64url(obj)
    return b64url(json.dumps(obj, separators=(",", ":")))


def hs_sign(claims, secret=SECRET, alg="HS256", header=None):
    """A compact JWS signed by hand with HMAC (independent of the binary)."""
    hdr = header if header is not None else {"alg": alg, "typ": "JWT"}
    signing = f"{jenc(hdr)}.{jenc(claims)}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    key = secret.encode() if isinstance(secret, str) else secret
    return signing + "." + b64url(hmac.new(key, signing.encode(), digest).digest())


def rs_sign(claims, private_pem, header=None):
    """RS256 by the openssl CLI."""
    signing = f"{jenc(header or {'alg': 'RS256', 'typ': 'JWT'})}.{jenc(claims)}"
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_pem], input=signing.encode(),
                         capture_output=True, check=True).stdout
    return signing + "." + b64url(sig)


def rsa_keypair(directory):
    priv, pub = os.path.join(directory, "priv.pem"), os.path.join(directory, "pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True, capture_output=True)
    return priv, pub


def claims(tenant, scope=ALL_SCOPES, ttl=3600, **extra):
    c = {"tenant": tenant, "scope": scope, "exp": int(time.time()) + ttl}
    c.update(extra)
    return c


def token(tenant, scope=ALL_SCOPES):
    return hs_sign(claims(tenant, scope))


# --- HTTP ---------------------------------------------------------------------

class Client:
    """A small JSON client on requests, one token per tenant."""

    def __init__(self, base):
        import requests
        self.base = base
        self.s = requests.Session()
        self.count = 0

    def call(self, method, path, tenant=None, json_body=None, headers=None, tok=None, **kw):
        h = dict(headers or {})
        if tenant is not None or tok is not None:
            h["Authorization"] = "Bearer " + (tok or token(tenant))
        self.count += 1
        return self.s.request(method, self.base + path, json=json_body, headers=h, timeout=30, **kw)

    def configure(self, tenant, **over):
        body = {"creditor_reference": "CR-" + tenant, "api_key": "key-" + tenant, "service": "collection",
                "customer_type": "auto"}
        body.update(over)
        r = self.call("PUT", "/v1/agency-settings", tenant, body)
        assert r.status_code == 200, r.text
        return r.json()


def raw_exchange(port, data, timeout=10, host="127.0.0.1", source=None):
    """Sends raw bytes (a send error after the server answered early is fine)
    and reads one response: (status or None, headers dict, body bytes)."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        if source:
            s.bind((source, 0))
        s.connect((host, port))
        try:
            s.sendall(data)
        except OSError:
            pass  # the server refused early and closed: read what it said
        try:
            resp = http.client.HTTPResponse(s)
            resp.begin()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        except (OSError, http.client.HTTPException):
            return None, {}, b""
    finally:
        s.close()


def healthz_ok(port, timeout=5):
    try:
        st, _, _ = raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout)
        return st == 200
    except OSError:
        return False


# --- test data ----------------------------------------------------------------

def today():
    return dt.datetime.now(dt.timezone.utc).date()


def case_body(number=None, name="Kari Nordmann", national_id=None, dob="1985-04-12", email="kari@example.no",
              phone="+4791234567", your_reference="cus_551"):
    """The DESIGN.md example (as tests/http/conftest.py valid_case) with dates that make it sendable today."""
    t = today()
    return {
        "your_reference": your_reference, "service": "collection",
        "invoice": {
            "number": number or uuid.uuid4().hex[:12],
            "issued_on": (t - dt.timedelta(days=90)).isoformat(), "due_on": (t - dt.timedelta(days=60)).isoformat(),
            "currency": "NOK", "original_amount": 124900, "outstanding_amount": 124900, "fees": 3500,
            "description": "Subscription January 2026", "payment_reference": "RF71234567890123456789",
            "reminders": [{"sent_on": (t - dt.timedelta(days=30)).isoformat(), "fee": 3500}], "disputed": False},
        "debtor": {
            "customer_number": "551", "customer_type": "consumer", "name": name, "business_name": None,
            "org_number": None, "national_id": national_id, "date_of_birth": dob, "email": email, "phone": phone,
            "extra_fields": [{"purpose": "phone_number", "value": "912 34 567"}], "language": "nb",
            "address": {"line1": "Storgata 1", "line2": None, "postal_code": "0155", "city": "Oslo",
                        "country": "NO"}},
    }


def wait_until(pred, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1fs" % timeout)
        time.sleep(interval)


# --- figures --------------------------------------------------------------------

def pct(values, p):
    """The p-th percentile (nearest rank) of values; None when empty."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def median(values):
    return statistics.median(values) if values else None


def finish(figures, ok):
    """Prints the closing FIGURES line; returns the exit code."""
    figures = dict(figures)
    figures["ok"] = bool(ok)
    print("FIGURES " + json.dumps(figures, sort_keys=True, separators=(",", ":")), flush=True)
    return 0 if ok else 1


def openapi_operations(text):
    """[(path, method, operation dict or None)] of an OpenAPI document, from
    PyYAML when present, else from an indentation-based reading of `paths:`."""
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    try:
        import yaml
        doc = yaml.safe_load(text)

        def deref(x):
            while isinstance(x, dict) and "$ref" in x:
                node = doc
                for part in x["$ref"].lstrip("#/").split("/"):
                    node = node[part]
                x = node
            return x
        out = []
        for p, item in doc["paths"].items():
            for m, op in item.items():
                if m not in methods:
                    continue
                params = [deref(x) for x in item.get("parameters", []) + op.get("parameters", [])]
                op = dict(op, **{"x-query": [x["name"] for x in params if x.get("in") == "query"]})
                out.append((p, m.upper(), op))
        return out
    except ImportError:
        pass
    out, in_paths, path = [], False, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ind = len(line) - len(line.lstrip())
        if ind == 0:
            in_paths = line.startswith("paths:")
            continue
        if not in_paths:
            continue
        key = line.strip().split(":", 1)[0].strip("'\"")
        if ind == 2:
            path = key
        elif ind == 4 and key in methods:
            out.append((path, key.upper(), None))
    return out
