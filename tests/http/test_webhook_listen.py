# SPDX-License-Identifier: MIT
"""`inkasso webhook-listen` against deliveries signed by the reference
implementation of Standard Webhooks (the npm package `standardwebhooks`,
installed into .tools/ by scripts/install-deps.sh, run with node): a good
one is printed and answered 2xx, a bad signature or an old timestamp is
401, SIGTERM stops it with 0. The npm package also signs the reference
vector that tests/unit/test_webhooks.c asserts for our own C signer, so the
two implementations agree. Loopback only."""
import base64
import json
import os
import signal
import subprocess
import time

import pytest
import requests

from conftest import BIN, ROOT, free_port, stop_process, wait_until

NODE_MODULES = os.path.join(ROOT, ".tools", "node_modules")

# The Standard Webhooks reference vector, as in tests/unit/test_webhooks.c.
VEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VEC_TS = 1614265330
VEC_BODY = '{"test": 2432232314}'
VEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Signs each [msg_id, unix_seconds, body] of argv[1] (JSON) with the secret
# argv[2]; prints the signatures as a JSON list.
SIGN_JS = """
const { Webhook } = require("standardwebhooks");
const wh = new Webhook(process.argv[2]);
const out = JSON.parse(process.argv[1]).map(([id, ts, body]) => wh.sign(id, new Date(ts * 1000), body));
console.log(JSON.stringify(out));
"""


def npm_sign(secret, deliveries):
    """The reference library's signatures of [(msg_id, ts, body), ...]."""
    if not os.path.isfile(os.path.join(NODE_MODULES, "standardwebhooks", "package.json")):
        pytest.fail("standardwebhooks is missing from .tools/: run scripts/install-deps.sh")
    out = subprocess.run(["node", "-e", SIGN_JS, json.dumps(deliveries), secret],
                         env={**os.environ, "NODE_PATH": NODE_MODULES},
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def new_secret():
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


class Listener:
    """One `inkasso webhook-listen` process on a free loopback port, its
    stdout and stderr in files."""

    def __init__(self, tmp_path, secret, extra_args=(), env=None):
        self.port = free_port()
        self.out_path, self.err_path = tmp_path / "listen.out", tmp_path / "listen.err"
        self.out, self.err = open(self.out_path, "wb"), open(self.err_path, "wb")
        args = [BIN, "webhook-listen", "--listen", f"127.0.0.1:{self.port}"]
        args += ["--secret", secret] if secret else []
        self.proc = subprocess.Popen(args + list(extra_args), stdout=self.out, stderr=self.err,
                                     env={**os.environ, **(env or {})})
        wait_until(lambda: "listening on" in self.stderr() or self.proc.poll() is not None, timeout=10)
        assert self.proc.poll() is None, self.stderr()
        assert f"webhook-listen: listening on 127.0.0.1:{self.port}" in self.stderr()
        self.url = f"http://127.0.0.1:{self.port}"

    def stdout(self):
        return self.out_path.read_text()

    def stderr(self):
        return self.err_path.read_text()

    def lines(self):
        return [l for l in self.stdout().split("\n") if l]

    def post(self, body, msg_id, ts, signature, path="/hooks"):
        headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(ts), "webhook-signature": signature}
        return requests.post(self.url + path, data=body.encode(), headers=headers, timeout=5)

    def stop(self, sig=signal.SIGTERM):
        rc = stop_process(self.proc, sig, timeout=10)
        self.out.close()
        self.err.close()
        return rc


@pytest.fixture
def secret():
    return new_secret()


@pytest.fixture
def listener(tmp_path, secret):
    lst = Listener(tmp_path, secret)
    yield lst
    if lst.proc.poll() is None:
        lst.stop()


def event(evt_id="evt_01JEXAMPLE0000000000000001", etype="case.status_changed"):
    return json.dumps({"id": evt_id, "type": etype, "created_at": "2026-12-03T08:40:01.000Z",
                       "case_id": "cc_01JEXAMPLE0000000000000001", "sequence": 3, "actor": None,
                       "data": {"id": "cc_01JEXAMPLE0000000000000001", "previous_status": "submitted",
                                "status": "open", "stage": None}})


def test_reference_library_signs_the_vector_our_c_signer_is_tested_with():
    assert npm_sign(VEC_SECRET, [[VEC_ID, VEC_TS, VEC_BODY]]) == [VEC_SIG]


def test_webhook_listen_prints_a_verified_event_and_rejects_forgeries(listener, secret):
    now = int(time.time())
    good, old = event(), event("evt_01JEXAMPLE0000000000000002")
    sig_good, sig_old, sig_other = npm_sign(secret, [["evt_1", now, good], ["evt_2", now - 600, old],
                                                     ["evt_3", now, good]])

    r = listener.post(good, "evt_1", now, sig_good)
    assert r.status_code == 204, r.text
    wait_until(lambda: len(listener.lines()) == 1, timeout=5)
    line = listener.lines()[0]
    assert line.startswith("2026-12-03T08:40:01.000Z evt_01JEXAMPLE0000000000000001 case.status_changed "), line
    assert "case=cc_01JEXAMPLE0000000000000001" in line and "seq=3" in line
    assert "previous_status=submitted status=open" in line

    # Signed by the reference library, then changed, or signed for another id.
    assert listener.post(good.replace("open", "paid"), "evt_1", now, sig_good).status_code == 401
    assert listener.post(good, "evt_1", now, sig_other).status_code == 401
    wait_until(lambda: len(listener.lines()) == 3, timeout=5)
    assert all("rejected: bad signature" in l for l in listener.lines()[1:]), listener.lines()

    # A correct signature 10 minutes old: outside the 5 minutes of tolerance.
    r = listener.post(old, "evt_2", now - 600, sig_old)
    assert r.status_code == 401
    wait_until(lambda: len(listener.lines()) == 4, timeout=5)
    assert "rejected: timestamp" in listener.lines()[3]

    # During a rotation the header carries two signatures; one that matches is enough.
    bad = "v1," + base64.b64encode(os.urandom(32)).decode()
    assert listener.post(good, "evt_1", now, f"{bad} {sig_good}").status_code == 204
    wait_until(lambda: len(listener.lines()) == 5, timeout=5)
    assert "evt_01JEXAMPLE0000000000000001 case.status_changed" in listener.lines()[4]

    assert listener.stop() == 0
    assert "stopped (SIGTERM)" in listener.stderr()


def test_webhook_listen_answers_what_is_not_an_event(listener, secret):
    now = int(time.time())
    (sig,) = npm_sign(secret, [["evt_x", now, "not json"]])
    assert listener.post("not json", "evt_x", now, sig).status_code == 400
    r = requests.post(listener.url + "/", data=b"{}", headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 401  # no webhook headers at all
    r = requests.get(listener.url + "/hooks", timeout=5)
    assert r.status_code == 405 and r.headers.get("Allow") == "POST"
    big = b"{" + b" " * (1024 * 1024) + b"}"
    r = requests.post(listener.url + "/", data=big, headers={"webhook-id": "evt_big"}, timeout=10)
    assert r.status_code == 413
    # Still serving after all of that.
    (sig,) = npm_sign(secret, [["evt_y", now, event()]])
    assert listener.post(event(), "evt_y", now, sig).status_code == 204
    assert listener.stop(signal.SIGINT) == 0


def test_webhook_listen_reads_its_secret_from_a_file_or_the_environment(tmp_path, secret):
    now = int(time.time())
    (sig,) = npm_sign(secret, [["evt_f", now, event()]])
    path = tmp_path / "secret"
    path.write_text(secret + "\n")
    lst = Listener(tmp_path, None, ["--secret-file", str(path)])
    try:
        assert lst.post(event(), "evt_f", now, sig).status_code == 204
    finally:
        assert lst.stop() == 0
    lst = Listener(tmp_path, None, env={"INKASSO_WEBHOOK_LISTEN_SECRET": secret})
    try:
        assert lst.post(event(), "evt_f", now, sig).status_code == 204
    finally:
        assert lst.stop() == 0


@pytest.mark.parametrize("args, message", [
    (["--listen", "localhost:8099", "--secret", VEC_SECRET], "--listen must be"),
    (["--listen", "127.0.0.1:99999", "--secret", VEC_SECRET], "--listen must be"),
    (["--listen", "127.0.0.1", "--secret", VEC_SECRET], "--listen must be"),
    (["--listen", "127.0.0.1:0", "--secret", "whsec_not base64!"], "the secret must be"),
    (["--listen", "127.0.0.1:0"], "no secret"),
    (["--listen", "127.0.0.1:0", "--secret", VEC_SECRET, "--bogus", "1"], "unknown argument"),
])
def test_webhook_listen_refuses_to_start_on_bad_flags(args, message):
    env = {k: v for k, v in os.environ.items() if k != "INKASSO_WEBHOOK_LISTEN_SECRET"}
    out = subprocess.run([BIN, "webhook-listen"] + args, capture_output=True, text=True, timeout=10, env=env)
    assert out.returncode == 2, out
    assert message in out.stderr, out.stderr
