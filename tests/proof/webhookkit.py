# SPDX-License-Identifier: MIT
"""Pieces of the webhook proofs (tests/proof/webhook_*.py, ssrf_guard.py,
money_retry.py, feed_pollers.py) and of their short versions in
tests/http/test_proof_webhooks.py:

- Receiver: a loopback HTTP/1.1 receiver on raw sockets that counts every
  accepted TCP connection, records every request (arrival time, webhook-*
  headers, body) and answers what its plan says: 2xx, slow 2xx, 500, 429 with
  Retry-After, an answer after the sender's timeout, a dropped connection,
  410, a redirect.
- Verifier: one long-lived node process running the reference Standard
  Webhooks library (npm `standardwebhooks` in .tools/node_modules), fed JSON
  lines on stdin; every delivery a receiver records is verified with it.
- the feed (GET /v1/events, every page), the webhook endpoints API, the
  comparison of the feed with the cases' histories, and the analysis of what
  the receivers got (at least once, order per case, Retry-After).

Loopback only (127.0.0.1, and ::1 only as a listener that must not be
reached); every thread is a daemon and every process started here is
stopped by its pid."""
import json
import os
import queue
import random
import socket
import struct
import subprocess
import threading
import time

import proofkit as pk

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NODE_MODULES = os.path.join(ROOT, ".tools", "node_modules")
HOOKS = "/v1/webhook-endpoints"
TERMINAL = ("paid", "withdrawn", "closed", "rejected")


# --- the receiver --------------------------------------------------------------

class Receiver:
    """A loopback HTTP receiver. plan(receiver, request) -> (action, arg):
    ("ok", status) · ("slow", seconds) · ("error", status) · ("retry_after", seconds)
    · ("timeout", seconds: answered 200 that late) · ("drop", None: closed
    unanswered, half of them with a RST) · ("gone", None: 410) ·
    ("redirect", location or (status, location): a 3xx). records: one dict per request, in arrival
    order: t (monotonic, when its first bytes arrived), t_answer (when the
    answer was written, None when none was), id, ts, sig, body, action, status,
    path. accepts: TCP connections accepted (counted at accept(), before any
    byte is read)."""

    def __init__(self, name, plan=None, host="127.0.0.1", family=socket.AF_INET, raw=False, port=0):
        self.name = name
        self.plan = plan or (lambda rcv, req: ("ok", 204))
        self.raw = raw  # True: accept, count, close at once (no HTTP at all)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((host, port))
        self.sock.listen(512)
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.records = []
        self.accepts = 0
        self.accept_times = []
        self.on_record = None  # callback(record), e.g. the verifier
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    @property
    def url(self):
        h = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{h}:{self.port}/hooks/{self.name}"

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.accepts += 1
                self.accept_times.append(time.monotonic())
            if self.raw:
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(30)
        buf = b""
        try:
            while not self.stopping.is_set():
                t_first = None
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    if t_first is None:
                        t_first = time.monotonic()
                    buf += chunk
                    if len(buf) > 1 << 20:
                        return
                if t_first is None:
                    t_first = time.monotonic()
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path = (lines[0].split(" ") + ["", ""])[:2]
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0") or 0)
                while len(buf) < n:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                body, buf = buf[:n], buf[n:]
                rec = {"t": t_first, "t_answer": None, "method": method, "path": path,
                       "id": headers.get("webhook-id"), "ts": headers.get("webhook-timestamp"),
                       "sig": headers.get("webhook-signature"), "body": body.decode("utf-8", "replace"),
                       "action": None, "status": None}
                action, arg = self.plan(self, rec)
                rec["action"] = action
                rec["retry_after"] = arg if action == "retry_after" else None
                with self.lock:
                    self.records.append(rec)
                if self.on_record:
                    self.on_record(self, rec)
                if not self._answer(conn, rec, action, arg):
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _answer(self, conn, rec, action, arg):
        """Writes the answer; False when the connection is to be closed."""
        extra = ""
        if action == "ok":
            status = arg or 204
        elif action == "slow":
            time.sleep(arg)
            status = 200
        elif action == "error":
            status = arg
        elif action == "retry_after":
            status, extra = 429, f"Retry-After: {arg}\r\n"
        elif action == "timeout":
            time.sleep(arg)
            status = 200
        elif action == "gone":
            status = 410
        elif action == "redirect":
            status, location = arg if isinstance(arg, tuple) else (302, arg)
            extra = f"Location: {location}\r\n"
        elif action == "drop":
            if random.random() < 0.5:  # a RST instead of a FIN
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        else:
            raise ValueError(action)
        body = b"" if status == 204 else b"{}"
        reason = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
                  307: "Temporary Redirect", 308: "Permanent Redirect", 410: "Gone", 429: "Too Many Requests",
                  500: "Internal Server Error"}.get(status, "X")
        # Taken before the write: the sender cannot have the answer earlier
        # (after it, a thread switch could make the time late).
        rec["t_answer"] = time.monotonic()
        rec["status"] = status
        conn.sendall((f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {len(body)}\r\n"
                      f"Content-Type: application/json\r\n\r\n").encode() + body)
        return True


def fault_plan(seed, error_500=0.12, error_429=0.08, drop=0.06, timeout=0.04, slow=0.05,
               retry_after=(2, 3), timeout_s=1.0, slow_s=0.1):
    """A plan failing about error_500 + error_429 + drop + timeout of the
    requests, drawn per request from its own seeded generator."""
    rnd = random.Random(seed)
    lock = threading.Lock()

    def plan(rcv, req):
        with lock:
            x = rnd.random()
            ra = rnd.choice(retry_after) if isinstance(retry_after, (list, tuple)) else retry_after
        for p, action in ((error_500, ("error", 500)), (error_429, ("retry_after", ra)), (drop, ("drop", None)),
                          (timeout, ("timeout", timeout_s)), (slow, ("slow", slow_s))):
            if x < p:
                return action
            x -= p
        return ("ok", 204)
    return plan


# A 2xx counts as delivered only when written this soon after the request
# arrived: well within the soaks' INKASSO_WEBHOOK_TIMEOUT_MS of 500.
DELIVERED_WITHIN_S = 0.4


def delivered(rec):
    """The receiver took it: a 2xx written in time (not the late answer of a
    timeout, nor an answer the sender had stopped waiting for)."""
    return (rec["action"] in ("ok", "slow") and rec["status"] is not None and 200 <= rec["status"] < 300
            and rec["t_answer"] - rec["t"] <= DELIVERED_WITHIN_S)


# --- the verifier ----------------------------------------------------------------

VERIFY_JS = r"""
const { Webhook } = require("standardwebhooks");
const readline = require("readline");
const hooks = new Map();
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let m, out;
  try {
    m = JSON.parse(line);
    let wh = hooks.get(m.secret);
    if (!wh) { wh = new Webhook(m.secret); hooks.set(m.secret, wh); }
    const ev = wh.verify(m.body, { "webhook-id": m.id, "webhook-timestamp": m.ts, "webhook-signature": m.sig });
    out = { n: m.n, ok: ev.id === m.id, err: ev.id === m.id ? null : "event id is not webhook-id" };
  } catch (e) {
    out = { n: m ? m.n : -1, ok: false, err: String((e && e.message) || e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
rl.on("close", () => process.exit(0));
"""


class Verifier:
    """One node process with the standardwebhooks library; submit() queues
    a delivery (its secret, webhook-* headers and raw body) and returns at
    once; results() waits for every answer. Stopped by its pid (stop())."""

    def __init__(self):
        if not os.path.isfile(os.path.join(NODE_MODULES, "standardwebhooks", "package.json")):
            raise RuntimeError("standardwebhooks is missing from .tools/node_modules: run scripts/install-deps.sh")
        self.proc = subprocess.Popen(["node", "-e", VERIFY_JS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env={**os.environ, "NODE_PATH": NODE_MODULES}, text=True, bufsize=1)
        self.lock = threading.Lock()
        self.n = 0
        self.pending = {}
        self.done = {}
        self.q = queue.Queue()
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer.start()
        self.reader.start()

    def submit(self, secret, rec, tag=None):
        with self.lock:
            n = self.n
            self.n += 1
            self.pending[n] = (tag, rec)
        self.q.put(json.dumps({"n": n, "secret": secret, "id": rec["id"] or "", "ts": rec["ts"] or "",
                               "sig": rec["sig"] or "", "body": rec["body"]}))
        return n

    def _write(self):
        while True:
            line = self.q.get()
            if line is None:
                return
            try:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                return

    def _read(self):
        for line in self.proc.stdout:
            m = json.loads(line)
            with self.lock:
                tag, rec = self.pending.pop(m["n"], (None, None))
                self.done[m["n"]] = (m["ok"], m["err"], tag, rec)

    def results(self, timeout=60):
        """{n: (ok, error, tag, record)} once every submitted one is answered."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if not self.pending:
                    return dict(self.done)
            time.sleep(0.05)
        with self.lock:
            return dict(self.done)

    def stop(self):
        self.q.put(None)
        self.writer.join(5)
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def verify_on_arrival(verifier, secrets):
    """A Receiver.on_record hook: every request with its endpoint's secret
    (secrets: {receiver name: secret}) to the verifier."""
    def hook(rcv, rec):
        verifier.submit(secrets[rcv.name], rec, tag=rcv.name)
    return hook


def verification_figures(results):
    """verified, failed, and a few failures."""
    bad = [(tag, rec["id"] if rec else None, err) for ok, err, tag, rec in results.values() if not ok]
    return {"signatures_checked": len(results), "signatures_verified": len(results) - len(bad),
            "signatures_failed": len(bad), "signature_failure_samples": bad[:5]}


# --- the service's API ------------------------------------------------------------

def register(api, tenant, url, types, key=None):
    """POST /v1/webhook-endpoints; returns the answer's JSON (with its secret)."""
    headers = {"Idempotency-Key": key} if key else None
    r = api.post(HOOKS, tenant, json={"url": url, "event_types": types}, headers=headers)
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


def endpoint(api, tenant, eid):
    r = api.get(f"{HOOKS}/{eid}", tenant)
    assert r.status_code == 200, r.text
    return r.json()


def attempts_log(api, tenant, eid, limit=200, max_pages=500):
    """GET /v1/webhook-endpoints/{id}/deliveries, every page (newest first)."""
    out, cursor = [], None
    for _ in range(max_pages):
        q = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(f"{HOOKS}/{eid}/deliveries{q}", tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if not page.get("has_more"):
            return out
        cursor = page["next_cursor"]
    return out


def feed(api, tenant, after=None, query="", limit=200):
    """Every event of the tenant's feed after `after`; returns (events, cursor)."""
    out = []
    for _ in range(100000):
        q = f"limit={limit}" + (f"&{query}" if query else "") + (f"&after={after}" if after else "")
        r = api.get("/v1/events?" + q, tenant)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if page["next_cursor"]:
            after = page["next_cursor"]
        if not page["has_more"]:
            return out, after
    raise AssertionError("the feed did not end")


def metric(svc_url, name):
    """One sample of /metrics (the first line starting with name), or None."""
    import requests
    try:
        text = requests.get(svc_url + "/metrics", timeout=10).text
    except requests.RequestException:
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            try:
                return float(line.rsplit(" ", 1)[1])
            except ValueError:
                return None
    return None


# --- the feed against the cases' histories -----------------------------------------

def compare_with_histories(api, tenant_cases, events_by_tenant):
    """Each case's events in the feed against GET /v1/collection-cases/{id}:
    one case.created, one case.status_changed per status history entry
    after the first (same from/to, same order), one case.payment_received
    per payment (same id); stage changes chain (previous_stage = the stage
    before) up to the case's stage; sequence dense 1..n. Returns figures."""
    missing = extra = not_dense = mismatched = cases = 0
    samples = []
    by_case = {}
    for tenant, events in events_by_tenant.items():
        for e in events:
            if e.get("case_id"):
                by_case.setdefault(e["case_id"], []).append(e)
    known = set()
    for tenant, ids in tenant_cases.items():
        for cid in ids:
            known.add(cid)
            r = api.get(f"{pk.CASES}/{cid}", tenant)
            if r.status_code != 200:
                missing += 1
                samples.append((cid, "case not readable", r.status_code))
                continue
            c = r.json()
            cases += 1
            evs = by_case.get(cid, [])
            if [e["sequence"] for e in evs] != list(range(1, len(evs) + 1)):
                not_dense += 1
                samples.append((cid, "sequence", [e["sequence"] for e in evs][:20]))
            created = [e for e in evs if e["type"] == "case.created"]
            moves = [(e["data"]["previous_status"], e["data"]["status"]) for e in evs
                     if e["type"] == "case.status_changed"]
            want_moves = [(h["from"], h["to"]) for h in c["events"][1:]]
            pays = [e["data"]["payment"]["id"] for e in evs if e["type"] == "case.payment_received"]
            want_pays = [p["id"] for p in c["payments"]]
            stages = [(e["data"]["previous_stage"], e["data"]["stage"]) for e in evs
                      if e["type"] == "case.stage_changed"]
            m = 0 if len(created) == 1 else 1
            missing += max(0, 1 - len(created))
            extra += max(0, len(created) - 1)
            if moves != want_moves:
                m += 1
                missing += max(0, len(want_moves) - len(moves))
                extra += max(0, len(moves) - len(want_moves))
                samples.append((cid, "status", moves[:8], want_moves[:8]))
            if sorted(pays) != sorted(want_pays):
                m += 1
                missing += len(set(want_pays) - set(pays))
                extra += len(set(pays) - set(want_pays)) + len(pays) - len(set(pays))
                samples.append((cid, "payments", pays, want_pays))
            prev = None
            for a, b in stages:
                if a != prev:
                    m += 1
                    samples.append((cid, "stage chain", stages))
                    break
                prev = b
            if (stages[-1][1] if stages else None) != c.get("stage"):
                m += 1
                samples.append((cid, "stage end", stages, c.get("stage")))
            mismatched += m > 0
    orphans = sum(1 for cid in by_case if cid not in known)
    return {"cases_compared": cases, "events_missing_vs_history": missing, "events_without_change": extra + orphans,
            "cases_sequence_not_dense": not_dense, "cases_feed_not_matching_history": mismatched,
            "history_mismatch_samples": samples[:5]}


# --- what the receivers got ----------------------------------------------------------

def delivery_figures(records, expected, name):
    """records: a receiver's requests; expected: the feed's events due to it
    ({id: event}). At least once, and per case in sequence order (the first
    delivery of each event, by arrival)."""
    first = {}
    for r in records:
        if delivered(r) and r["id"] not in first:
            first[r["id"]] = r["t"]
    got = set(first)
    want = set(expected)
    missing = want - got
    unexpected = got - want
    # Order: per case, the first deliveries sorted by time must be sorted by sequence.
    per_case = {}
    for i, t in first.items():
        e = expected.get(i)
        if e and e.get("case_id"):
            per_case.setdefault(e["case_id"], []).append((t, e["sequence"]))
    out_of_order = 0
    samples = []
    for cid, items in per_case.items():
        seqs = [s for _, s in sorted(items)]
        if seqs != sorted(seqs):
            out_of_order += 1
            if len(samples) < 3:
                samples.append((cid, seqs))
    return {f"{name}_expected": len(want), f"{name}_delivered": len(want & got), f"{name}_missing": len(missing),
            f"{name}_unexpected_ids": len(unexpected), f"{name}_requests": len(records),
            f"{name}_duplicate_deliveries": sum(1 for r in records if delivered(r)) - len(got),
            f"{name}_cases_out_of_order": out_of_order, f"{name}_order_samples": samples,
            f"{name}_missing_samples": sorted(missing)[:5]}


def retry_after_figures(records, kills=(), lookup=None):
    """For every 429 answered with Retry-After: R, the next request for the
    same event must arrive >= R seconds after the answer was written. An
    early one is excused (counted apart) when a kill of the service fell
    between the two (the 429 may never have been recorded), or when the
    service's own log (lookup(event id) -> {attempt number: status code},
    the k-th request of an event being attempt k) shows that it never got
    that 429: the answer came after its timeout. Returns figures."""
    by_id = {}
    for r in records:
        by_id.setdefault(r["id"], []).append(r)
    n = violations = after_kill = unseen = 0
    early, gaps, unseen_samples = [], [], []
    for eid, reqs in by_id.items():
        reqs.sort(key=lambda r: r["t"])
        for k, (a, b) in enumerate(zip(reqs, reqs[1:]), start=1):
            if a["action"] != "retry_after" or a["t_answer"] is None:
                continue
            n += 1
            gap = b["t"] - a["t_answer"]
            gaps.append(gap)
            if gap >= float(a["retry_after"]):
                continue
            if any(a["t_answer"] <= t <= b["t"] for t in kills):
                after_kill += 1
                continue
            seen = (lookup(eid) if lookup else {}).get(k)
            if lookup and seen != 429:
                unseen += 1
                unseen_samples.append((eid, k, seen, round(a["t_answer"] - a["t"], 3), round(gap, 3)))
                continue
            violations += 1
            early.append((eid, k, round(gap, 3), a["retry_after"]))
    return {"retry_after_answers_followed": n, "retry_after_violations": violations,
            "retry_after_early_after_a_kill": after_kill, "retry_after_429_not_seen_by_service": unseen,
            "retry_after_not_seen_samples": unseen_samples[:3], "retry_after_violation_samples": early[:5],
            "retry_after_min_gap_s": round(min(gaps), 3) if gaps else None}
