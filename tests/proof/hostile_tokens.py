#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile bearer tokens over HTTP against a real inkasso.

Two instances: HS256 (secret, iss and aud configured) and RS256 (a public key
file, iss and aud configured, for algorithm confusion). Every corpus entry must
answer 401 with an application/problem+json body of code `unauthorized` and a
`WWW-Authenticate: Bearer` header (openapi.yaml promises it); the controls (a
valid token on each instance, and the case-insensitive scheme of RFC 7235)
must answer 200. Each entry is sent `--reps` times on a keep-alive connection
(raw-socket entries on fresh connections) and its median and max latency are
printed; the full run's target is every entry's median under 5 ms.

    tests/proof/hostile_tokens.py [--reps 20] [--quick] [--logs DIR]
"""
import argparse
import http.client
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seckit as K  # noqa: E402

ISSUER = "https://issuer.proof.test"
AUDIENCE = "inkasso-proof"
TENANT = "t_hostile"
TARGET_MEDIAN_MS = 5.0


def unsigned(c, alg="none", sig=""):
    return f"{K.jenc({'alg': alg, 'typ': 'JWT'})}.{K.jenc(c)}.{sig}"


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def flip(s):
    i = len(s) // 2
    return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]


def big(c, size, sign):
    """A correctly signed token of at least size bytes (a padding claim)."""
    c = dict(c, pad="")
    c["pad"] = "p" * max(0, int((size - len(sign(c))) * 3 / 4))
    while len(sign(c)) < size:
        c["pad"] += "p"
    return sign(c)


def corpus(priv, pub, attacker_priv, attacker_pub_jwk_n):
    """[(name, instance 'hs'|'rs', Authorization value or ('raw', [values]))]:
    every one must be answered 401."""
    now = int(time.time())
    hc = K.claims(TENANT, iss=ISSUER, aud=AUDIENCE)   # what the HS instance accepts
    good = K.hs_sign(hc)
    h, p, s = good.split(".")
    with open(pub, "rb") as f:
        pem = f.read()
    rc = dict(hc)
    rsgood = K.rs_sign(rc, priv)
    rh, rp, rs_ = rsgood.split(".")
    hs = K.hs_sign

    def hdr(extra, secret=K.SECRET, c=hc):
        return K.hs_sign(c, secret=secret, header={"alg": "HS256", "typ": "JWT", **extra})

    B = "Bearer "
    out = [
        # alg none and friends
        ("alg none, no signature", "hs", B + unsigned(hc)),
        ("alg None", "hs", B + unsigned(hc, "None")),
        ("alg NONE", "hs", B + unsigned(hc, "NONE")),
        ("alg nOnE", "hs", B + unsigned(hc, "nOnE")),
        ("alg none with the valid signature", "hs", B + unsigned(hc, "none", s)),
        ("alg none with junk signature", "hs", B + unsigned(hc, "none", "c2ln")),
        ("alg empty string", "hs", B + unsigned(hc, "", s)),
        ("alg missing", "hs", B + f"{K.jenc({'typ': 'JWT'})}.{p}.{s}"),
        ("alg null", "hs", B + f"{K.jenc({'alg': None, 'typ': 'JWT'})}.{p}.{s}"),
        ("alg hs256 lower case", "hs", B + hdr({"alg": "hs256"})),
        ("alg HS384, right secret", "hs", B + hs(hc, alg="HS384")),
        ("alg HS512, right secret", "hs", B + hs(hc, alg="HS512")),
        ("alg RS256 header, HMAC signature", "hs", B + hs(hc, header={"alg": "RS256", "typ": "JWT"})),
        ("alg ES256 header, HMAC signature", "hs", B + hs(hc, header={"alg": "ES256", "typ": "JWT"})),
        ("typ not JWT", "hs", B + hdr({"typ": "JWE"})),
        ("crit header", "hs", B + hdr({"crit": ["exp"]})),
        # keys named by the token
        ("kid path traversal, empty HMAC key", "hs", B + hdr({"kid": "../../../../dev/null"}, secret=b"")),
        ("kid SQL injection, HMAC key 'x'", "hs", B + hdr({"kid": "x' UNION SELECT 'x"}, secret="x")),
        ("jku to an attacker URL, another secret", "hs",
         B + hdr({"jku": "http://127.0.0.1:9/jwks.json"}, secret="attacker-secret-0123456789abcdef01")),
        ("x5u to an attacker URL, another secret", "hs",
         B + hdr({"x5u": "http://127.0.0.1:9/cert.pem"}, secret="attacker-secret-0123456789abcdef01")),
        ("signed with another secret", "hs", B + hs(hc, secret="another-secret-0123456789abcdef-0123")),
        ("signed with an empty secret", "hs", B + hs(hc, secret=b"")),
        # time claims
        ("expired a minute ago", "hs", B + hs(dict(hc, exp=now - 60))),
        ("expired long ago (exp 1)", "hs", B + hs(dict(hc, exp=1))),
        ("exp negative", "hs", B + hs(dict(hc, exp=-1))),
        ("exp missing", "hs", B + hs(without(hc, "exp"))),
        ("exp as string", "hs", B + hs(dict(hc, exp=str(now + 3600)))),
        ("exp as float", "hs", B + hs(dict(hc, exp=now + 3600.5))),
        ("exp as bool", "hs", B + hs(dict(hc, exp=True))),
        ("exp null", "hs", B + hs(dict(hc, exp=None))),
        ("exp 1e400 (overflow)", "hs", B + hs(json.dumps(hc).replace(f'"exp": {hc["exp"]}', '"exp": 1e400'))),
        ("nbf in the future", "hs", B + hs(dict(hc, nbf=now + 3600))),
        ("nbf as string", "hs", B + hs(dict(hc, nbf=str(now - 10)))),
        # issuer and audience
        ("wrong iss", "hs", B + hs(dict(hc, iss="https://evil.test"))),
        ("missing iss", "hs", B + hs(without(hc, "iss"))),
        ("iss as a list", "hs", B + hs(dict(hc, iss=[ISSUER]))),
        ("wrong aud", "hs", B + hs(dict(hc, aud="someone-else"))),
        ("missing aud", "hs", B + hs(without(hc, "aud"))),
        ("aud list without ours", "hs", B + hs(dict(hc, aud=["a", "b"]))),
        ("aud as number", "hs", B + hs(dict(hc, aud=42))),
        # tenant
        ("tenant missing", "hs", B + hs(without(hc, "tenant"))),
        ("tenant empty", "hs", B + hs(dict(hc, tenant=""))),
        ("tenant with space", "hs", B + hs(dict(hc, tenant="a b"))),
        ("tenant path traversal", "hs", B + hs(dict(hc, tenant="../t_hostile"))),
        ("tenant with quote", "hs", B + hs(dict(hc, tenant='t"x'))),
        ("tenant with NUL", "hs", B + hs(dict(hc, tenant="t_hostile\u0000x"))),
        ("tenant with CRLF", "hs", B + hs(dict(hc, tenant="t\r\nx"))),
        ("tenant non-ASCII", "hs", B + hs(dict(hc, tenant="tënant"))),
        ("tenant SQL wildcard", "hs", B + hs(dict(hc, tenant="%"))),
        ("tenant 65 characters", "hs", B + hs(dict(hc, tenant="t" * 65))),
        ("tenant as number", "hs", B + hs(dict(hc, tenant=42))),
        ("tenant as list", "hs", B + hs(dict(hc, tenant=[TENANT]))),
        ("tenant null", "hs", B + hs(dict(hc, tenant=None))),
        # tampering
        ("payload tampered (other tenant), old signature", "hs",
         B + f"{h}.{K.jenc(dict(hc, tenant='t_victim'))}.{s}"),
        ("payload tampered (scope added), old signature", "hs",
         B + f"{K.jenc({'alg': 'HS256', 'typ': 'JWT'})}.{K.jenc(dict(hc, scope='cases:read admin'))}.{s}"),
        ("header tampered (kid added), old signature", "hs",
         B + f"{K.jenc({'alg': 'HS256', 'typ': 'JWT', 'kid': 'x'})}.{p}.{s}"),
        ("signature one character changed", "hs", B + f"{h}.{p}.{flip(s)}"),
        ("signature truncated by 4", "hs", B + f"{h}.{p}.{s[:-4]}"),
        ("signature truncated to 1 byte", "hs", B + f"{h}.{p}.{s[:2]}"),
        ("signature padded with '='", "hs", B + f"{h}.{p}.{s}="),
        ("signature with 'AAAA' appended", "hs", B + f"{h}.{p}.{s}AAAA"),
        ("signature empty", "hs", B + f"{h}.{p}."),
        ("signature of another token", "hs", B + f"{h}.{p}.{K.hs_sign(dict(hc, x=1)).split('.')[2]}"),
        ("signature in standard base64 (+/)", "hs", B + f"{h}.{p}.{s.replace('-', '+').replace('_', '/')}x+/"),
        # shape
        ("one segment", "hs", B + h),
        ("two segments", "hs", B + f"{h}.{p}"),
        ("four segments", "hs", B + f"{good}.x"),
        ("five segments (JWE shape)", "hs", B + f"{h}.{p}.{s}.{s}.{s}"),
        ("empty segments", "hs", B + ".."),
        ("bad base64 in header", "hs", B + f"!!!{h}.{p}.{s}"),
        ("bad base64 in payload", "hs", B + f"{h}.{p[:5]}*{p[6:]}.{s}"),
        ("header not JSON", "hs", B + f"{K.jenc('not json')}.{p}.{s}"),
        ("payload not JSON", "hs", B + hs(b"not json")),
        ("payload a JSON array", "hs", B + hs(b"[1,2]")),
        ("payload JSON with trailing data", "hs", B + hs(json.dumps(hc) + "{}")),
        ("payload deeply nested", "hs", B + hs(dict(hc, x=json.loads("[" * 200 + "]" * 200)))),
        ("garbage x.y.z", "hs", B + "x.y.z"),
        ("token 4097 bytes, signed", "hs", B + big(hc, 4097, hs)),
        ("token 28000 bytes, signed (near the 32 KiB connection memory)", "hs", B + big(hc, 28000, hs)),
        ("token 8 KiB, signed", "hs", B + big(hc, 8192, hs)),
        ("token 20 KiB, signed (within the header limit)", "hs", B + big(hc, 20000, hs)),
        # the Authorization header itself
        ("no scheme, bare token", "hs", good),
        ("scheme Basic", "hs", "Basic " + K.b64url("user:pass")),
        ("scheme Token", "hs", "Token " + good),
        ("scheme Bearer, no token", "hs", "Bearer"),
        ("scheme Bearer and a space, no token", "hs", "Bearer "),
        ("two spaces after Bearer", "hs", "Bearer  " + good),
        ("tab after Bearer", "hs", "Bearer\t" + good),
        ("BearerX (no space)", "hs", "Bearer" + good),
        ("token with trailing comma", "hs", B + good + ","),
        ("token with a space inside", "hs", B + good[:20] + " " + good[20:]),
        ("two tokens", "hs", B + good + " " + good),
        ("empty header", "hs", ""),
        ("two Authorization headers, both valid", "hs", ("raw", [B + good, B + good])),
        ("two Authorization headers, bad then valid", "hs", ("raw", [B + "x.y.z", B + good])),
        ("two Authorization headers, valid then bad", "hs", ("raw", [B + good, B + "x.y.z"])),
        # RS256 instance: algorithm confusion and foreign keys
        ("RS: HS256 signed with the public key PEM", "rs",
         B + K.hs_sign(rc, secret=pem, header={"alg": "HS256", "typ": "JWT"})),
        ("RS: HS256 signed with the PEM without newline", "rs",
         B + K.hs_sign(rc, secret=pem.rstrip(b"\n"), header={"alg": "HS256", "typ": "JWT"})),
        ("RS: alg none", "rs", B + unsigned(rc)),
        ("RS: alg none with the valid RS signature", "rs", B + unsigned(rc, "none", rs_)),
        ("RS: RS256 signed by another key", "rs", B + K.rs_sign(rc, attacker_priv)),
        ("RS: embedded jwk of another key", "rs",
         B + K.rs_sign(rc, attacker_priv, header={"alg": "RS256", "typ": "JWT",
                                                   "jwk": {"kty": "RSA", "e": "AQAB", "n": attacker_pub_jwk_n}})),
        ("RS: jku to another key", "rs",
         B + K.rs_sign(rc, attacker_priv, header={"alg": "RS256", "typ": "JWT", "jku": "http://127.0.0.1:9/j"})),
        ("RS: x5u to another key", "rs",
         B + K.rs_sign(rc, attacker_priv, header={"alg": "RS256", "typ": "JWT", "x5u": "http://127.0.0.1:9/c"})),
        ("RS: PS256 header, RS signature", "rs", B + f"{K.jenc({'alg': 'PS256', 'typ': 'JWT'})}.{rp}.{rs_}"),
        ("RS: RS512 header, RS256 signature", "rs", B + f"{K.jenc({'alg': 'RS512', 'typ': 'JWT'})}.{rp}.{rs_}"),
        ("RS: expired", "rs", B + K.rs_sign(dict(rc, exp=now - 60), priv)),
        ("RS: wrong iss", "rs", B + K.rs_sign(dict(rc, iss="https://evil.test"), priv)),
        ("RS: wrong aud", "rs", B + K.rs_sign(dict(rc, aud="other"), priv)),
        ("RS: signature one character changed", "rs", B + f"{rh}.{rp}.{flip(rs_)}"),
        ("RS: signature truncated", "rs", B + f"{rh}.{rp}.{rs_[:-8]}"),
        ("RS: signature 2 KiB", "rs", B + f"{rh}.{rp}.{rs_ * 6}"),
        ("RS: payload tampered, old signature", "rs", B + f"{rh}.{K.jenc(dict(rc, tenant='t_victim'))}.{rs_}"),
        ("RS: a valid HS token of the HS instance", "rs", B + good),
    ]
    controls = [
        ("control: valid HS256 token", "hs", B + good),
        ("control: valid RS256 token", "rs", B + rsgood),
        ("control: scheme 'bearer' lower case (RFC 7235: case-insensitive)", "hs", "bearer " + good),
    ]
    return out, controls


def jwk_n(pub):
    """The RSA modulus of a public key PEM, base64url, for an embedded jwk."""
    import subprocess
    txt = subprocess.run(["openssl", "rsa", "-pubin", "-in", pub, "-noout", "-modulus"], capture_output=True,
                         text=True, check=True).stdout
    n = bytes.fromhex(txt.strip().split("=", 1)[1])
    return K.b64url(n)


class Target:
    def __init__(self, svc):
        self.svc = svc
        self.conn = None

    def request(self, auth):
        """One GET /v1/collection-cases; returns (status, headers, body, seconds)."""
        if isinstance(auth, tuple):
            lines = "".join(f"Authorization: {v}\r\n" for v in auth[1])
            data = f"GET /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{lines}Connection: close\r\n\r\n".encode()
            t0 = time.perf_counter()
            st, hd, body = K.raw_exchange(self.svc.port, data)
            return st, hd, body, time.perf_counter() - t0
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.svc.port, timeout=10)
            try:
                t0 = time.perf_counter()
                self.conn.putrequest("GET", "/v1/collection-cases", skip_accept_encoding=True)
                self.conn.putheader("Authorization", auth)
                self.conn.endheaders()
                r = self.conn.getresponse()
                body = r.read()
                dt_ = time.perf_counter() - t0
                hd = {k.lower(): v for k, v in r.getheaders()}
                if r.will_close:
                    self.conn.close()
                    self.conn = None
                return r.status, hd, body, dt_
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    return None, {}, b"", 0.0
        return None, {}, b"", 0.0

    def close(self):
        if self.conn:
            self.conn.close()


def is_401_problem(st, hd, body):
    if st != 401:
        return False
    if not hd.get("content-type", "").startswith("application/problem+json"):
        return False
    if not hd.get("www-authenticate", "").startswith("Bearer"):
        return False
    try:
        p = json.loads(body)
    except ValueError:
        return False
    return p.get("status") == 401 and p.get("code") == "unauthorized"


def run(reps=20, logs=None, full=True, out=print):
    """Runs the corpus; returns (figures, ok)."""
    ld = K.LogDir(logs, "proof-tokens-")
    tmp = tempfile.TemporaryDirectory(prefix="proof-tokens-keys-")
    hs = rs = None
    try:
        priv, pub = K.rsa_keypair(tmp.name)
        adir = os.path.join(tmp.name, "attacker")
        os.mkdir(adir)
        apriv, apub = K.rsa_keypair(adir)
        hs = K.Inkasso(ld, "inkasso-hs256", env={"INKASSO_JWT_ISSUER": ISSUER, "INKASSO_JWT_AUDIENCE": AUDIENCE})
        hs.start()
        rs = K.Inkasso(ld, "inkasso-rs256", env={"INKASSO_JWT_SECRET": "", "INKASSO_JWT_PUBLIC_KEY_FILE": pub,
                                                  "INKASSO_JWT_ALG": "RS256", "INKASSO_JWT_ISSUER": ISSUER,
                                                  "INKASSO_JWT_AUDIENCE": AUDIENCE})
        rs.start()
        targets = {"hs": Target(hs), "rs": Target(rs)}
        bad, controls = corpus(priv, pub, apriv, jwk_n(apub))
        failures, rows = [], []
        for name, inst, auth in bad + controls:
            want_ok = name.startswith("control:")
            times, statuses, good_answer = [], set(), True
            for _ in range(reps):
                st, hd, body, secs = targets[inst].request(auth)
                statuses.add(st)
                times.append(secs * 1000)
                good_answer &= (st == 200) if want_ok else is_401_problem(st, hd, body)
            med, mx = K.median(times), max(times)
            size = len(auth) if isinstance(auth, str) else sum(map(len, auth[1]))
            rows.append((name, inst, sorted(map(str, statuses)), med, mx, good_answer))
            out(f"{'ok ' if good_answer else 'BAD'} {inst} {name:<58} {size:>7}B  status {','.join(sorted(map(str, statuses)))}"
                f"  median {med:6.2f} ms  max {mx:7.2f} ms")
            if not good_answer:
                failures.append(name)
        alive = hs.alive() and rs.alive() and K.healthz_ok(hs.port) and K.healthz_ok(rs.port)
        for t in targets.values():
            t.close()
        hs_rc, rs_rc = hs.stop(), rs.stop()
        hs = rs = None
        bad_rows = [r for r in rows if not r[0].startswith("control:")]
        medians = [r[3] for r in bad_rows]
        worst = max(bad_rows, key=lambda r: r[3])
        n401 = sum(1 for r in bad_rows if r[5])
        latency_ok = max(medians) < TARGET_MEDIAN_MS
        fig = {
            "tokens": len(bad_rows),
            "tokens_401_problem": n401,
            "tokens_401_pct": round(100.0 * n401 / len(bad_rows), 1),
            "controls": len(controls),
            "controls_200": sum(1 for r in rows if r[0].startswith("control:") and r[5]),
            "repetitions": reps,
            "requests": reps * len(rows),
            "median_of_medians_ms": round(K.median(medians), 3),
            "worst_median_ms": round(worst[3], 3),
            "worst_median_token": worst[0],
            "max_latency_ms": round(max(r[4] for r in bad_rows), 3),
            "services_alive": alive,
            "exit_codes_on_sigterm": [hs_rc, rs_rc],
            "latency_target_checked": full,
        }
        ok = not failures and alive and hs_rc == 0 and rs_rc == 0 and (latency_ok or not full)
        out(f"{n401}/{len(bad_rows)} hostile tokens answered 401 problem+json with WWW-Authenticate; "
            f"controls {fig['controls_200']}/{len(controls)} answered 200")
        out(f"latency over {reps} repetitions: median of medians {fig['median_of_medians_ms']} ms, worst median "
            f"{fig['worst_median_ms']} ms ({worst[0]}), max {fig['max_latency_ms']} ms; target: every median < "
            f"{TARGET_MEDIAN_MS} ms{' (checked)' if full else ' (not checked in --quick)'}: "
            f"{'met' if latency_ok else 'MISSED'}")
        if failures:
            out("FAILED: " + "; ".join(failures))
        fig["failures"] = failures
        return fig, ok
    finally:
        for p in (hs, rs):
            if p is not None:
                p.stop()
        tmp.cleanup()
        ld.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=20, help="repetitions per token (default 20)")
    ap.add_argument("--quick", action="store_true", help="3 repetitions, latency printed but not a target")
    ap.add_argument("--logs", help="directory for the logs of every process started")
    a = ap.parse_args()
    reps = 3 if a.quick and a.reps == 20 else a.reps
    fig, ok = run(reps=reps, logs=a.logs, full=not a.quick)
    return K.finish(fig, ok)


if __name__ == "__main__":
    sys.exit(main())
