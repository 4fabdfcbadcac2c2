# SPDX-License-Identifier: MIT
"""A programmable webhook receiver and a verifier backed by the reference
Standard Webhooks library, for tests that watch inkasso deliver.

Receiver: a threaded HTTP server on 127.0.0.1 (never another address) that
records every request it gets and answers each by a plan, so that a test can
make inkasso meet a failing, slow, redirecting, rate-limiting or vanishing
receiver and then assert what arrived and when.

Verifier: signatures are checked by the npm package `standardwebhooks` (the
reference implementation, in .tools/node_modules), not by our own code, so a
test cannot pass because the signer and the checker share a mistake. One
node process serves a whole module: starting node per message would cost a
tenth of a second each.

API (tests/proof/ imports it too; keep it stable):
    Receiver(plan=None)       .start() / .stop() or `with`; .url; .port
        .requests             list of dicts: at (time.time()), method, path,
                              headers (lower-case names), body (bytes)
        .wait_for(pred, timeout)  pred(requests) truthy -> returns its value
        .connections          TCP connections accepted (even without a request)
        .plan = ...           may be changed at any time
    Answer(status=204, headers=None, body=b"", delay=0, drop=False)
    redirect(location, status=302)
    Verifier()                .verify(secret, headers, body) -> bool; .close()

A plan is None (answer 204), an Answer, a list of Answers (one per request in
order; the last repeats once the list runs out), or a callable
f(request_dict, index) -> Answer (index counts from 0).
"""
import http.server
import json
import os
import socket
import subprocess
import threading
import time

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NODE_MODULES = os.path.join(_ROOT, ".tools", "node_modules")


class Answer:
    """What the receiver does with one request. drop closes the connection
    without a byte of answer (after delay); body may be bytes or an int (that
    many bytes of 'x', for big answers without building them in the test)."""

    def __init__(self, status=204, headers=None, body=b"", delay=0.0, drop=False):
        self.status, self.headers, self.body = status, dict(headers or {}), body
        self.delay, self.drop = delay, drop

    def __repr__(self):
        return f"Answer({self.status}, {self.headers}, delay={self.delay}, drop={self.drop})"


def redirect(location, status=302):
    return Answer(status, {"Location": location})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do: inkasso reuses connections

    def log_message(self, *args):  # quiet: pytest shows failures, not access logs
        pass

    def _serve(self):
        rcv = self.server.receiver
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        req = {"at": time.time(), "method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        index = rcv._record(req)
        ans = rcv._answer_for(req, index)
        if ans.delay:
            time.sleep(ans.delay)
        if ans.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = b"x" * ans.body if isinstance(ans.body, int) else ans.body
        try:
            self.send_response(ans.status)
            for k, v in ans.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # the client gave up (a timeout, a capped read)

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    # Open connections are tracked so that stop() can cut them: without
    # that, a keep-alive connection inkasso holds would still be served by
    # its handler thread after the listening socket closed.
    def __init__(self, *a, **kw):
        self.conns, self.conns_lock = set(), threading.Lock()
        self.accepted = 0
        super().__init__(*a, **kw)

    def process_request(self, request, client_address):
        with self.conns_lock:
            self.conns.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def cut_connections(self):
        with self.conns_lock:
            conns, self.conns = list(self.conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Receiver:
    def __init__(self, plan=None):
        self.plan = plan
        self._lock = threading.Condition()
        self._requests = []
        self._server = None
        self._thread = None
        self._accepted_before = 0
        self.port = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, port=None):
        """Listens on 127.0.0.1:port (port 0 or None: a free one; after a
        stop, start() again reuses the previous port so a registered URL
        stays valid)."""
        want = port if port is not None else (self.port or 0)
        self._server = _Server(("127.0.0.1", want), _Handler)
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops listening (the port is then refused: a receiver that is down)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.cut_connections()
            self._accepted_before += self._server.accepted
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # -- what arrived --------------------------------------------------------
    @property
    def connections(self):
        """TCP connections accepted so far, whether or not an HTTP request
        came on them (a TLS hello to this plain server counts too): the
        proof that nothing connected at all."""
        return self._accepted_before + (self._server.accepted if self._server else 0)

    @property
    def requests(self):
        """A snapshot (a copy of the list) of the requests so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self):
        with self._lock:
            self._requests.clear()

    def wait_for(self, pred, timeout=10.0):
        """Waits until pred(requests) is truthy and returns that value;
        AssertionError after timeout seconds, naming what did arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                v = pred(list(self._requests))
                if v:
                    return v
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [(r["method"], r["path"], r["headers"].get("webhook-id")) for r in self._requests]
                    raise AssertionError(f"receiver: condition not met within {timeout}s; got {got}")
                self._lock.wait(min(left, 0.1))

    def _record(self, req):
        with self._lock:
            self._requests.append(req)
            self._lock.notify_all()
            return len(self._requests) - 1

    def _answer_for(self, req, index):
        plan = self.plan
        if plan is None:
            return Answer()
        if isinstance(plan, Answer):
            return plan
        if callable(plan):
            return plan(req, index) or Answer()
        plan = list(plan)
        return plan[min(index, len(plan) - 1)] if plan else Answer()


# Reads one JSON object a line: {"secret", "headers", "body" (base64)}; writes
# {"ok": true} or {"ok": false, "error": "..."} a line.
_VERIFY_JS = r"""
const { Webhook } = require("standardwebhooks");
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let out;
  try {
    const m = JSON.parse(line);
    new Webhook(m.secret).verify(Buffer.from(m.body, "base64"), m.headers);
    out = { ok: true };
  } catch (e) {
    out = { ok: false, error: String(e && e.message || e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
"""


class Verifier:
    def __init__(self):
        if not os.path.isfile(os.path.join(NODE_MODULES, "standardwebhooks", "package.json")):
            raise RuntimeError("standardwebhooks is missing from .tools/: run scripts/install-deps.sh")
        self._proc = subprocess.Popen(["node", "-e", _VERIFY_JS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      env={**os.environ, "NODE_PATH": NODE_MODULES}, text=True, bufsize=1)
        self._lock = threading.Lock()
        self.last_error = None

    def verify(self, secret, headers, body):
        """True if the reference library accepts body (bytes) with these
        headers (any case; only the webhook-* ones are passed) under secret;
        on False, last_error says why."""
        import base64
        hdrs = {k.lower(): v for k, v in headers.items() if k.lower().startswith("webhook-")}
        raw = body.encode() if isinstance(body, str) else body
        line = json.dumps({"secret": secret, "headers": hdrs, "body": base64.b64encode(raw).decode()})
        with self._lock:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
            out = self._proc.stdout.readline()
        if not out:
            raise RuntimeError("the node verifier died")
        res = json.loads(out)
        self.last_error = res.get("error")
        return bool(res["ok"])

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
