#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Storage faults at the HTTP level (issue 5).

bin/inkasso-faultvfs is bin/inkasso with the fault VFS of tests/fault
registered as SQLite's default VFS and armed through a control file
(INKASSO_FAULT_FILE, see tests/fault/README.md). For each fault kind (write:
SQLITE_IOERR_WRITE, sync: SQLITE_IOERR_FSYNC, full: SQLITE_FULL) and mode
(once, persist: failing from the N-th call until disarmed) this sweeps
N = 1, 2, ... with one POST /v1/collection-cases each, until a create runs
through without meeting the fault. After each fault, on the same process:
GET /readyz and a fresh create must succeed, and a retry of the failed
request with its Idempotency-Key must answer 201. In the kill sweeps the
service is killed (SIGKILL) right after the faulted answer and restarted, so
that whatever reached the files but was not acknowledged shows; they run
twice, with the create appending to a WAL in use (warm) and with a clean
restart before each arming, so that the create starts a new WAL (cold).

At the end the service is restarted without faults (the production binary,
bin/inkasso, on the same file), every case answered 201 is read back with GET,
and the file is checked with sqlite3 (integrity_check, foreign_key_check,
every case with its outbox row, first event and idempotency record).

Targets: no 201 without its row; a non-201 answer whose row exists anyway is
allowed only when the retry with the same key replays it (same case id) and a
retry without a key answers 409 duplicate_case naming it;
the service keeps serving after every fault; every integrity check is ok.

Prints human-readable lines, then one line `FIGURES {json}`; exits 1 when a
target is missed. Traffic goes to 127.0.0.1 only; every process it starts is
stopped by its pid.
"""
import argparse
import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "storage-faults-secret-0123456789abcdef-0123456789"
TENANT = "t_storage_faults"
KINDS = ("write", "sync", "full")
MODES = ("once", "persist")
MAX_N = 400  # a sweep that has not ended by then counts as a missed target


def default_bins():
    """(fault binary, production binary): INKASSO_FAULT_BIN, else beside
    INKASSO_BIN (bin/inkasso, or build/asan/bin/inkasso for the ASan suite)."""
    plain = os.path.join(ROOT, os.environ.get("INKASSO_BIN", "bin/inkasso"))
    fault = os.environ.get("INKASSO_FAULT_BIN") or os.path.join(os.path.dirname(plain),
                                                                "inkasso-faultvfs")
    return os.path.join(ROOT, fault), plain


# --- one process ----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One inkasso process on the database db; its output goes to a log file
    of its own in logdir."""
    count = 0

    def __init__(self, binary, db, logdir, label, env):
        Proc.count += 1
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(logdir, f"storage_faults-{os.getpid()}-{Proc.count:03d}-{label}.log")
        e = dict(os.environ)
        e.update({
            "INKASSO_LISTEN": f"127.0.0.1:{self.port}",
            "INKASSO_DB": db,
            "INKASSO_JWT_SECRET": SECRET,
            "INKASSO_LOG_LEVEL": "info",
            "INKASSO_THREADS": "2",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=24",
        })
        e.pop("INKASSO_AGENCY_URL", None)  # stored and queued, never forwarded
        e.update(env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([binary, "serve"], env=e, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                self.log.close()
                raise RuntimeError(f"{binary} exited {self.proc.returncode}; see {self.log_path}")
            try:
                if http("GET", self.url + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(f"{binary} did not answer within 30 s; see {self.log_path}")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM):
        """Stops the process by its pid; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


def http(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON body or None, raw body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, raw


def mint(binary):
    out = subprocess.run([binary, "token", "--tenant", TENANT, "--scope",
                          "cases:read cases:write settings:write", "--ttl", "7200"],
                         env={**os.environ, "INKASSO_JWT_SECRET": SECRET},
                         capture_output=True, text=True, check=True, timeout=30)
    return out.stdout.strip()


def case_body(number):
    """The DESIGN.md example, sendable today."""
    t = dt.datetime.now(dt.timezone.utc).date()
    return {
        "your_reference": "cus_551", "service": "collection",
        "invoice": {"number": number, "issued_on": (t - dt.timedelta(days=90)).isoformat(),
                    "due_on": (t - dt.timedelta(days=60)).isoformat(), "currency": "NOK",
                    "original_amount": 124900, "outstanding_amount": 124900, "fees": 3500,
                    "reminders": [{"sent_on": (t - dt.timedelta(days=30)).isoformat(), "fee": 3500}]},
        "debtor": {"customer_number": "551", "customer_type": "consumer", "name": "Kari Nordmann",
                   "email": "kari@example.no", "phone": "+4791234567",
                   "address": {"line1": "Storgata 1", "postal_code": "0155", "city": "Oslo",
                               "country": "NO"}},
    }


# --- the control file and the database ------------------------------------

class Control:
    """The shim's control file: a new TAG for every arming and disarming."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "fault.ctl")
        self.fired_path = self.path + ".fired"
        self.seq = 0
        self.off()

    def _write(self, line):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, self.path)

    def arm(self, kind, n, mode):
        self.seq += 1
        tag = f"a{self.seq}"
        self._write(f"{kind} {n} {mode} {tag}")
        return tag

    def off(self):
        self.seq += 1
        self._write(f"off o{self.seq}")

    def fired(self, tag):
        """The failures the shim reported for this arming: [(call, file)]."""
        try:
            with open(self.fired_path) as f:
                rows = [line.split() for line in f]
        except FileNotFoundError:
            return []
        return [(int(r[2]), r[3]) for r in rows if len(r) == 4 and r[0] == tag]


def db_query(db, sql, args=()):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def row_ids(db, number):
    return [r[0] for r in db_query(db, "SELECT id FROM cases WHERE tenant = ? AND invoice_number = ?",
                                   (TENANT, number))]


def db_check(db):
    """The file's checks: [] when all pass, else what failed."""
    bad = []
    if db_query(db, "PRAGMA integrity_check") != [("ok",)]:
        bad.append("integrity_check")
    if db_query(db, "PRAGMA foreign_key_check"):
        bad.append("foreign_key_check")
    if db_query(db, "SELECT 1 FROM cases c WHERE NOT EXISTS (SELECT 1 FROM outbox o"
                    " WHERE o.case_id = c.id AND o.kind = 'create')"):
        bad.append("a case without its outbox row")
    if db_query(db, "SELECT 1 FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_events e"
                    " WHERE e.case_id = c.id AND e.seq = 1)"):
        bad.append("a case without its first event")
    # Every request of this proof carries an Idempotency-Key.
    if db_query(db, "SELECT (SELECT count(*) FROM cases) - (SELECT count(*) FROM idempotency)") != [(0,)]:
        bad.append("cases and idempotency records differ in number")
    return bad


# --- the sweeps -----------------------------------------------------------

class Run:
    def __init__(self, args):
        self.args = args
        self.fault_bin, self.plain_bin = args.bin, args.plain_bin
        self.workdir = args.workdir
        self.logdir = args.logs or self.workdir
        self.db = os.path.join(self.workdir, "inkasso.db")
        self.control = Control(self.workdir)
        self.env = {"INKASSO_FAULT_FILE": self.control.path}
        self.token = mint(self.plain_bin)
        self.auth = {"Authorization": "Bearer " + self.token}
        self.svc = None
        self.acked = {}       # case id -> invoice number, every 201 (first answers and retries)
        self.numbers = set()  # every invoice number sent
        self.fig = {}
        self.failures = []

    def start(self, label, binary=None):
        self.svc = Proc(binary or self.fault_bin, self.db, self.logdir, label, self.env)

    def stop(self, sig=signal.SIGTERM):
        rc = self.svc.stop(sig)
        if sig == signal.SIGTERM and rc != 0:
            self.failures.append(f"inkasso exited {rc} on SIGTERM ({self.svc.log_path})")
        self.svc = None

    def post(self, number, key):
        return http("POST", self.svc.url + "/v1/collection-cases", case_body(number),
                    {**self.auth, "Idempotency-Key": key})

    def fresh_create(self, tag):
        number = f"SF-{tag}-fresh-{uuid.uuid4().hex[:6]}"
        self.numbers.add(number)
        st, body, _ = self.post(number, "k-" + number)
        if st == 201:
            self.acked[body["id"]] = number
        return st == 201

    def configure(self):
        st, _, raw = http("PUT", self.svc.url + "/v1/agency-settings",
                          {"creditor_reference": "CR-1", "api_key": "key-1", "service": "collection",
                           "customer_type": "auto"}, self.auth)
        if st != 200:
            raise RuntimeError(f"PUT /v1/agency-settings: {st} {raw[:200]!r}")

    def sweep(self, kind, mode, kill, cold=False):
        """N = 1, 2, ... until a create meets no fault. kill: SIGKILL right
        after the faulted answer, then a restart. cold: a clean restart
        (SIGTERM: the WAL is checkpointed and removed) before each arming, so
        that the create starts a new WAL (its header written and synced);
        else the create appends to a WAL in use."""
        label = f"{kind}_{mode}" + ("_kill" if kill else "") + ("_cold" if cold else "")
        f = dict(tried=0, answered_201=0, non_201=0, ok_after_fault=0, without_row_201=0,
                 non_201_with_row=0, non_201_with_row_replayed=0, non_201_with_row_dup409=0,
                 kept_serving=0,
                 retry_201=0, integrity_ok=0, integrity_checks=0)
        answers = {}
        files = []
        for n in range(1, MAX_N + 1):
            f["tried"] += 1
            number = f"SF-{label}-{n}"
            key = "k-" + number
            self.numbers.add(number)
            if cold:
                self.stop()
                self.start(f"{label}-{n}-cold")
            tag = self.control.arm(kind, n, mode)
            st, body, raw = self.post(number, key)
            fired = self.control.fired(tag)
            if kill:
                self.stop(signal.SIGKILL)
            self.control.off()
            if kill:
                self.start(f"{label}-{n}")
            code = (body or {}).get("code", "") if st != 201 else ""
            answer = f"{st} {code}".strip()
            # The checkpointer's thread copies the WAL into the database file
            # while creates go on: a fault it meets (a write or sync of the
            # db file, which no create writes) is a failed checkpoint, logged
            # and tried again later, and the create beside it is answered
            # 201 with its row as usual.
            if st == 201 and fired and all(file == "db" for _, file in fired):
                answer = "201 beside a checkpoint fault"
            answers[answer] = answers.get(answer, 0) + 1
            if fired and (not files or files[-1] != fired[0][1]):
                files.append(fired[0][1])
            ids = row_ids(self.db, number)
            if st == 201:
                f["answered_201"] += 1
                f["ok_after_fault"] += bool(fired)
                self.acked[body["id"]] = number
                if ids != [body["id"]]:
                    f["without_row_201"] += 1
                    self.failures.append(f"{label} N={n}: 201 {body['id']} but rows {ids}")
            else:
                f["non_201"] += 1
                if not fired:
                    self.failures.append(f"{label} N={n}: {answer} without a fault")
            # The same process (or the restarted one) serves: ready, the retry
            # of the request answers 201 (a replay if the row exists), a
            # fresh create answers 201.
            ready = http("GET", self.svc.url + "/readyz")[0] == 200
            if st != 201 and ids:
                # Stored although refused: without a key, the business key
                # points at it (409 duplicate_case with its id).
                dst, dbody, _ = http("POST", self.svc.url + "/v1/collection-cases",
                                     case_body(number), self.auth)
                if dst == 409 and (dbody or {}).get("code") == "duplicate_case" \
                        and dbody.get("case_id") == ids[0]:
                    f["non_201_with_row_dup409"] += 1
                else:
                    self.failures.append(f"{label} N={n}: without a key {dst} {dbody}")
            if st != 201:
                rst, rbody, _ = self.post(number, key)
                if rst == 201:
                    f["retry_201"] += 1
                    self.acked[rbody["id"]] = number
                else:
                    self.failures.append(f"{label} N={n}: the retry answered {rst}")
                if ids:
                    f["non_201_with_row"] += 1
                    if rst == 201 and [rbody["id"]] == ids:
                        f["non_201_with_row_replayed"] += 1
                    else:
                        self.failures.append(f"{label} N={n}: {answer}, row {ids} not replayed")
            fresh = self.fresh_create(f"{label}-{n}")
            if ready and fresh:
                f["kept_serving"] += 1
            else:
                self.failures.append(f"{label} N={n}: readyz ok {ready}, fresh create ok {fresh}")
            if kill or n % self.args.check_every == 0 or not fired:
                f["integrity_checks"] += 1
                bad = db_check(self.db)
                f["integrity_ok"] += not bad
                if bad:
                    self.failures.append(f"{label} N={n}: {bad}")
            if not fired:
                if st != 201:
                    self.failures.append(f"{label} N={n}: no fault met, yet {answer}")
                break
        else:
            self.failures.append(f"{label}: still meeting the fault at N = {MAX_N}")
        print(f"{label:>16}: N = 1..{f['tried']}, answers "
              + ", ".join(f"{a} x{c}" for a, c in sorted(answers.items()))
              + f"; 201 without row {f['without_row_201']}; non-201 with row {f['non_201_with_row']}"
              f" (replayed by the keyed retry {f['non_201_with_row_replayed']},"
              f" 409 duplicate_case without a key {f['non_201_with_row_dup409']}); kept serving {f['kept_serving']}/{f['tried']};"
              f" integrity ok {f['integrity_ok']}/{f['integrity_checks']}; files hit: {' '.join(files)}",
              flush=True)
        for k, v in f.items():
            self.fig[f"{label}_{k}"] = v
        self.fig[f"{label}_answers"] = ", ".join(f"{a} x{c}" for a, c in sorted(answers.items()))
        return f

    def final_check(self):
        """Restart with the production binary: every 201 is there."""
        self.start("final-plain", self.plain_bin)
        missing = 0
        for case_id, number in self.acked.items():
            st, body, _ = http("GET", f"{self.svc.url}/v1/collection-cases/{case_id}", None, self.auth)
            if st != 200 or body["invoice"]["number"] != number:
                missing += 1
                self.failures.append(f"after the restart: GET {case_id} answered {st}")
        ready = http("GET", self.svc.url + "/readyz")[0] == 200
        self.stop()
        bad = db_check(self.db)
        stored = db_query(self.db, "SELECT invoice_number, count(*) FROM cases GROUP BY invoice_number")
        twice = [num for num, c in stored if c != 1]
        unknown = [num for num, _ in stored if num not in self.numbers]
        if bad or twice or unknown or not ready:
            self.failures.append(f"final: checks {bad}, twice {twice}, unknown {unknown}, ready {ready}")
        self.fig.update(final_acked=len(self.acked), final_get_ok=len(self.acked) - missing,
                        final_cases=len(stored), final_integrity_ok=not bad, final_ready=ready)
        print(f"after a restart with {os.path.relpath(self.plain_bin, ROOT)}: {len(self.acked) - missing}"
              f"/{len(self.acked)} acknowledged cases read back; {len(stored)} cases stored, none twice:"
              f" {not twice}; integrity {'ok' if not bad else bad}", flush=True)


def run(args):
    """Runs the sweeps of args; returns the figures (with "ok")."""
    Proc.count = 0
    own_workdir = args.workdir is None
    if own_workdir:
        tmp = tempfile.TemporaryDirectory(prefix="inkasso-storage-faults-")
        args.workdir = tmp.name
    if args.logs:
        os.makedirs(args.logs, exist_ok=True)
    try:
        r = Run(args)
        started = time.monotonic()
        r.start("setup")
        r.configure()
        try:
            for kind in args.kinds:
                for mode in args.modes:
                    r.sweep(kind, mode, kill=False)
            if r.svc is not None:
                r.stop()
            r.start("kill-sweeps")
            # A create first, so that the warm kill sweeps start, as every
            # later N does, with a WAL in use.
            if not r.fresh_create("warm-up"):
                r.failures.append("the create before the kill sweeps failed")
            for kind in args.kill_kinds:
                for cold in (False, True):
                    r.sweep(kind, "once", kill=True, cold=cold)
        finally:
            if r.svc is not None:
                r.stop()
        r.final_check()
        fig = r.fig
        sweeps = [k[:-len("_tried")] for k in fig if k.endswith("_tried")]
        total = lambda name: sum(fig[f"{s}_{name}"] for s in sweeps)  # noqa: E731
        fig.update(
            tried=total("tried"), answered_201=total("answered_201"), non_201=total("non_201"),
            without_row_201=total("without_row_201"), non_201_with_row=total("non_201_with_row"),
            non_201_with_row_replayed=total("non_201_with_row_replayed"),
            non_201_with_row_dup409=total("non_201_with_row_dup409"),
            kept_serving=total("kept_serving"), integrity_ok=total("integrity_ok"),
            integrity_checks=total("integrity_checks"), seconds=round(time.monotonic() - started, 1))
        fig["ok"] = (not r.failures and fig["without_row_201"] == 0
                     and fig["non_201_with_row"] == fig["non_201_with_row_replayed"]
                     and fig["non_201_with_row"] == fig["non_201_with_row_dup409"]
                     and fig["kept_serving"] == fig["tried"]
                     and fig["integrity_ok"] == fig["integrity_checks"]
                     and fig["final_get_ok"] == fig["final_acked"] and fig["non_201"] > 0)
        fig["failures"] = len(r.failures)
        for line in r.failures[:20]:
            print("MISSED: " + line, flush=True)
        return fig
    finally:
        if own_workdir:
            tmp.cleanup()
            args.workdir = None


def parse_args(argv=None):
    fault_bin, plain_bin = default_bins()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=fault_bin, help="the fault binary (default: %(default)s)")
    p.add_argument("--plain-bin", default=plain_bin,
                   help="the production binary for the final restart (default: %(default)s)")
    p.add_argument("--kinds", default=",".join(KINDS), help="fault kinds to sweep (default: %(default)s)")
    p.add_argument("--modes", default=",".join(MODES), help="modes to sweep (default: %(default)s)")
    p.add_argument("--kill-kinds", default=",".join(KINDS),
                   help="kinds swept with a SIGKILL after each fault (default: %(default)s; '' for none)")
    p.add_argument("--check-every", type=int, default=1,
                   help="integrity_check after every k-th N (and the last; default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes: mode once only, kill sweep of sync only, check every 4th N")
    p.add_argument("--logs", help="write the log of every inkasso process started into this directory")
    p.add_argument("--workdir", help="keep the database and control file here (default: a temp dir)")
    a = p.parse_args(argv)
    if a.quick:
        a.modes, a.kill_kinds, a.check_every = "once", "sync", 4
    a.kinds = [k for k in a.kinds.split(",") if k]
    a.modes = [m for m in a.modes.split(",") if m]
    a.kill_kinds = [k for k in a.kill_kinds.split(",") if k]
    for k in a.kinds + a.kill_kinds:
        if k not in KINDS:
            p.error(f"unknown kind {k}")
    for m in a.modes:
        if m not in MODES:
            p.error(f"unknown mode {m}")
    for b in (a.bin, a.plain_bin):
        if not os.access(b, os.X_OK):
            p.error(f"{b} is not executable; run `make all` first")
    return a


def main(argv=None):
    args = parse_args(argv)
    fig = run(args)
    print(f"storage faults: {fig['tried']} faulted creates, {fig['answered_201']} answered 201,"
          f" {fig['without_row_201']} of them without the row; {fig['non_201']} refused,"
          f" {fig['non_201_with_row']} of those stored anyway (all replayed by the retry:"
          f" {fig['non_201_with_row'] == fig['non_201_with_row_replayed']}); kept serving after"
          f" {fig['kept_serving']}/{fig['tried']}; integrity ok {fig['integrity_ok']}/{fig['integrity_checks']};"
          f" {fig['seconds']} s", flush=True)
    print("FIGURES " + json.dumps(fig, sort_keys=True), flush=True)
    return 0 if fig["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
