#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Greps logs for personal data and secrets, and checks that every log line is
one valid JSON object.

    privacy_grep.py --logs DIR [--seeds FILE] [--no-default-seeds] [--skip GLOB ...]
    privacy_grep.py --scenario [--logs DIR]

Seeds (one value per line in FILE, plus by default the values that
tests/http/conftest.py's valid_case() sends) are expanded to the forms they can
take in a log: national ids with and without dash or space, Swedish 10- and
12-digit forms; phone numbers in E.164, without the plus, with 00, national,
grouped; e-mails in any case. Beside the seeds, every JSON Web Token
(eyJ...eyJ...) and every `Bearer <credential>` is a finding, and so is any api
key of the HTTP tests' form (key-t_<hex>).

A line is invalid unless it is UTF-8, one JSON object, and free of raw control
characters and raw U+2028/U+2029 (CWE-117).

--scenario starts its own inkasso and agency simulator (logs into --logs DIR),
sends hostile values (CR/LF, control characters, U+2028, invalid UTF-8, in
headers, query strings and bodies) together with personal data and secrets,
stops them, then greps their logs for all of it.
"""
import argparse
import datetime as dt
import fnmatch
import importlib.util
import json
import os
import re
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seckit as K  # noqa: E402

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}")
BEARER = re.compile(rb"bearer\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
TEST_API_KEY = re.compile(rb"key-t_[0-9a-f]{10}")
PATTERNS = {"jwt": JWT, "bearer credential": BEARER, "api key (key-t_<hex>)": TEST_API_KEY}


def default_seeds():
    """The personal values tests/http/conftest.py's valid_case() sends (read
    from that file, so the list follows it), else the same DESIGN.md example."""
    body = None
    path = os.path.join(K.ROOT, "tests", "http", "conftest.py")
    try:
        spec = importlib.util.spec_from_file_location("_proof_conftest", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        body = mod.valid_case()
    except Exception:  # pytest missing, or the file moved: the built-in copy
        body = K.case_body()
    d = body["debtor"]
    vals = [d.get("name"), d.get("email"), d.get("phone"), d.get("national_id"), d.get("date_of_birth"),
            d.get("org_number")]
    vals += [x.get("value") for x in d.get("extra_fields") or []]
    return [v for v in vals if isinstance(v, str) and v]


def digits(s):
    return re.sub(r"\D", "", s)


def variants(value):
    """The forms a seeded value can take in a log line (lower case bytes)."""
    v = value.strip()
    out = {v}
    if "@" in v:
        out.add(v.lower())
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        out |= {v, v.replace("-", "")}
    elif v.startswith("+") or re.fullmatch(r"[\d ()-]{7,}", v) and " " in v:
        d = digits(v)
        nat = d[2:] if v.startswith("+") and len(d) > 9 else d  # +47 91234567 -> 91234567
        out |= {"+" + d, d, "00" + d, nat, " ".join([nat[:3], nat[3:5], nat[5:]]),
                " ".join(nat[i:i + 2] for i in range(0, len(nat), 2)), v}
    elif re.fullmatch(r"[\d -]{10,13}", v):
        d = digits(v)
        out |= {d}
        if len(d) == 11:    # NO fødselsnummer, FI-like 6+5
            out |= {d[:6] + "-" + d[6:], d[:6] + " " + d[6:]}
        if len(d) == 10:    # SE personnummer YYMMDDNNNN
            out |= {d[:6] + "-" + d[6:], d[:6] + "+" + d[6:]}
            for century in ("19", "20"):
                out |= {century + d, century + d[:6] + "-" + d[6:]}
        if len(d) == 12:    # SE YYYYMMDDNNNN
            out |= {d[2:], d[:8] + "-" + d[8:], d[2:8] + "-" + d[8:]}
    else:
        out.add(v.lower())
    return {x.lower().encode() for x in out if len(digits(x)) >= 7 or len(x) >= 8}


def mask(b):
    s = b.decode("utf-8", "replace")
    return s[:3] + "..." + s[-2:] if len(s) > 6 else "***"


def check_line(raw):
    """None if raw (without its newline) is a valid log line, else why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    if "\u2028" in text or "\u2029" in text:
        return "raw U+2028/U+2029"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return "raw control character"
    try:
        obj = json.loads(text)
    except ValueError:
        return "not JSON"
    return None if isinstance(obj, dict) else "JSON but not an object"


def log_files(logs_dir, skip=()):
    out = []
    for base, _, files in os.walk(logs_dir):
        for f in sorted(files):
            p = os.path.join(base, f)
            if f.endswith(".seeds") or any(fnmatch.fnmatch(f, g) for g in skip):
                continue
            out.append(p)
    return sorted(out)


def kinds(invalid):
    """Invalid lines grouped by their first words (digits and quoted parts dropped)."""
    out = {}
    for _, _, why, raw in invalid:
        text = raw.decode("utf-8", "replace").split("(", 1)[0].split("'", 1)[0]
        key = why + ": " + re.sub(r"\d+", "N", text)[:60].strip()
        out[key] = out.get(key, 0) + 1
    return out


def dir_seeds(logs_dir):
    """The values of every *.seeds file under logs_dir (written by the proofs)."""
    out = []
    for base, _, files in os.walk(logs_dir):
        for f in files:
            if f.endswith(".seeds"):
                out += read_seeds(os.path.join(base, f))
    return out


def scan(logs_dir, seeds, skip=(), out=print, max_report=20):
    """Greps every file under logs_dir (except *.seeds) for the seeds and for
    the values of the *.seeds files found there; returns figures."""
    seeds = list(seeds) + dir_seeds(logs_dir)
    needles = {}
    for s in seeds:
        for v in variants(s):
            needles.setdefault(v, s)
    files = log_files(logs_dir, skip)
    n_lines = 0
    found, invalid = [], []
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for no, raw in enumerate(lines, 1):
            n_lines += 1
            why = check_line(raw)
            if why:
                invalid.append((path, no, why, raw[:160]))
            low = raw.lower()
            for needle, seed in needles.items():
                if needle in low:
                    found.append((path, no, "seed " + mask(seed.encode()), mask(needle)))
            for name, rx in PATTERNS.items():
                for m in rx.finditer(raw):
                    found.append((path, no, name, mask(m.group(0))))
    rel = lambda p: os.path.relpath(p, logs_dir)  # noqa: E731
    for path, no, what, m in found[:max_report]:
        out(f"FOUND {rel(path)}:{no}: {what} ({m})")
    for path, no, why, raw in invalid[:max_report]:
        out(f"INVALID {rel(path)}:{no}: {why}: {raw!r}")
    fig = {"files": len(files), "lines": n_lines, "seeds": len(seeds), "needles": len(needles),
           "occurrences": len(found), "invalid_lines": len(invalid),
           "invalid_reasons": sorted({w for _, _, w, _ in invalid}),
           "invalid_kinds": kinds(invalid),
           "files_with_invalid_lines": sorted({rel(p) for p, _, _, _ in invalid}),
           "files_with_occurrences": sorted({rel(p) for p, _, _, _ in found})}
    for k, cnt in sorted(fig["invalid_kinds"].items(), key=lambda x: -x[1]):
        out(f"  invalid x{cnt}: {k}")
    out(f"privacy grep: {len(files)} files, {n_lines} lines, {len(seeds)} seeds ({len(needles)} forms) + JWT, "
        f"bearer and test api key patterns: {len(found)} occurrences, {len(invalid)} invalid lines")
    return fig


# --- scenario -------------------------------------------------------------------

def scenario(logs=None, out=print):
    """Hostile traffic with personal data against a real inkasso; returns
    (logs dir object, seeds) after the processes stopped."""
    ld = K.LogDir(logs, "proof-privacy-")
    sim = svc = None
    tenant = "t_priv_" + uuid.uuid4().hex[:8]
    nid = K.fnr(dt.date(1966, 6, 16), 777)
    se_pnr = "19" + "660616" + "1234"   # a Swedish-looking 12-digit number in free text
    api_key = "apikey-secret-" + uuid.uuid4().hex
    idem = "idem-secret-" + uuid.uuid4().hex
    email, phone, phone_nat = "hemmelig.person@example.org", "+4798765432", "987 65 432"
    name = "Hemmelig Loggesen"
    tok = K.token(tenant)
    seeds = [nid, se_pnr, api_key, idem, email, phone, phone_nat, name, tok]
    ld.write_seeds(seeds)
    try:
        sim = K.Sim(ld, "agency-sim-privacy").start()
        svc = K.Inkasso(ld, "inkasso-privacy", env=K.agency_env(sim)).start()
        c = K.Client(svc.url)
        n = 0
        hostile = ["\r\n{\"level\":\"error\",\"msg\":\"forged\"}", "\u2028\u2029", "\x01\x07\x1b[31m\x7f",
                   "\ud7ff\ue000\uffff", "\x00"]
        r = c.call("PUT", "/v1/agency-settings", tenant, {"creditor_reference": "CR\r\nX" + hostile[1],
                                                          "api_key": api_key + hostile[0]})
        n += 1
        c.configure(tenant, api_key=api_key)
        n += 1
        body = K.case_body(name=name, national_id=nid, email=email, phone="")
        body["debtor"]["extra_fields"] = [{"purpose": "phone_number", "value": phone_nat}]
        body["invoice"]["description"] = "desc " + se_pnr + "".join(hostile[:4])
        r = c.call("POST", "/v1/collection-cases", tenant, body, headers={"Idempotency-Key": idem})
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        n += 1
        # The same body with hostile values in every string field: a 422 quoting fields back.
        bad = K.case_body(name=name + hostile[0], national_id=nid[:-1] + str((int(nid[-1]) + 1) % 10),
                          email=email + hostile[1] + "@", phone=phone + hostile[2])
        bad["your_reference"] = hostile[0] + hostile[3] + email
        for hdr in ({"Idempotency-Key": idem + "-2"}, {}):
            c.call("POST", "/v1/collection-cases", tenant, bad, headers=hdr)
            c.call("POST", "/v1/collection-cases/preview", tenant, bad)
            n += 2
        # Raw bodies: invalid UTF-8, NUL escapes, truncated JSON carrying the secrets, trailing data.
        A = f"Authorization: Bearer {tok}\r\n"
        raws = [
            b'{"debtor":{"name":"\xff\xfe' + name.encode() + b'","national_id":"' + nid.encode() + b'"}}',
            b'{"debtor":{"name":"x\\u0000y","email":"' + email.encode() + b'"}}',
            b'{"debtor":{"national_id":"' + nid.encode() + b'","email":"' + email.encode() + b'"',
            b'{"invoice":{}} {"trailing":"' + phone.encode() + b'"}',
            b'\xed\xa0\x80' + nid.encode(),
        ]
        for raw in raws:
            req = (f"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n{A}Content-Type: application/json\r\n"
                   f"Idempotency-Key: {idem}-raw\r\nContent-Length: {len(raw)}\r\nConnection: close\r\n\r\n"
                   ).encode() + raw
            K.raw_exchange(svc.port, req)
            n += 1
        # Headers: control characters, obs-fold, invalid UTF-8, U+2028, secrets in odd places.
        hdrs = [
            b"X-Request-Id: abc\x01def\r\n",
            b"X-Request-Id: " + "\u2028inject".encode() + b"\r\n",
            b"X-Request-Id: \xff\xfe" + nid.encode() + b"\r\n",
            b"X-Request-Id: " + email.encode() + b"\r\n",
            b"User-Agent: ua\x1b[2J " + phone.encode() + b"\r\n",
            b"Idempotency-Key: " + idem.encode() + b"\xff\x00x\r\n",
            b"X-Folded: a\r\n b " + nid.encode() + b"\r\n",
            b"Referer: http://x/?national_id=" + nid.encode() + b"\r\n",
            b"Authorization: Bearer " + tok.encode() + b"\x7f\r\n",
            b"Authorization: Bearer " + tok[:-5].encode() + b"AAAAA\r\n",
            b"Authorization: Basic " + K.b64url(email + ":" + api_key).encode() + b"\r\n",
            b"Cookie: session=" + api_key.encode() + b"\r\n",
        ]
        for h in hdrs:
            auth = b"" if h.startswith(b"Authorization") else A.encode()
            K.raw_exchange(svc.port, b"GET /v1/collection-cases?national_id=" + nid.encode() +
                           b" HTTP/1.1\r\nHost: x\r\n" + auth + h + b"Connection: close\r\n\r\n")
            n += 1
        # Query strings and paths.
        queries = ["national_id=" + nid, "q=" + email, "q=%2B" + phone[1:], "q=" + phone_nat.replace(" ", "%20"),
                   "q=%0D%0A%7B%22forged%22%3A1%7D", "q=%E2%80%A8" + nid, "q=%FF%FE" + email, "q=%00" + nid,
                   "invoice_number=%1B%5B31m" + nid, "date_of_birth=" + nid, "national_id=" + nid + "%0A",
                   "cursor=" + K.b64url(json.dumps({"national_id": nid})), "limit=" + nid, "q=" + tok]
        for q in queries:
            c.call("GET", "/v1/collection-cases?" + q, tenant)
            n += 1
        for path in ("/v1/collection-cases/" + nid, "/v1/collection-cases/" + email, "/" + phone,
                     "/v1/collection-cases/%0D%0A" + nid, "/v1/settlements/" + api_key, "/" + tok):
            c.call("GET", path, tenant)
            n += 1
        K.raw_exchange(svc.port, b"GET /v1/collection-cases/\xff" + nid.encode() + b" HTTP/1.1\r\nHost: x\r\n" + A.encode()
                       + b"Connection: close\r\n\r\n")
        # Requests that libmicrohttpd itself refuses (it logs those on stderr).
        proto = [
            b"GET /v1/collection-cases HTTP/1.1\r\nHost: x\r\nX-Big: " + nid.encode() * 10000 + b"\r\n\r\n",
            b"GET /v1/collection-cases?" + b"&".join(b"a%d=" % i + nid.encode() for i in range(600)) +
            b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /" + nid.encode() * 7000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /v1/collection-cases HTTP/1.1\r\nHost: x\r\n" + A.encode() +
            b"Transfer-Encoding: chunked\r\n\r\nzz" + nid.encode() + b"\r\n",
            b"G\x01ET /" + email.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /v1/collection-cases HTTP/1.1\r\nHost: x\r\n" + nid.encode() + b"\r\n\r\n",
            b"GET /v1/collection-cases HTTP/9.9\r\nHost: x\r\n\r\n",
        ]
        for raw in proto:
            K.raw_exchange(svc.port, raw, timeout=3)
            n += 1
        # After the handoff: payment references and comments carrying personal data.
        K.wait_until(lambda: c.call("GET", f"/v1/collection-cases/{case_id}", tenant).json().get("agency_case_id"),
                     timeout=30, interval=0.2)
        yday = (K.today() - dt.timedelta(days=1)).isoformat()
        c.call("POST", f"/v1/collection-cases/{case_id}/payments", tenant,
               {"amount": 100, "paid_on": yday, "reference": "ref " + nid + hostile[0]})
        c.call("POST", f"/v1/collection-cases/{case_id}/actions", tenant,
               {"type": "comment", "comment": f"call {phone} or {email}, id {nid}" + hostile[1]})
        c.call("POST", f"/v1/collection-cases/{case_id}/actions", tenant, {"type": "comment", "comment": "x" * 301 + nid})
        n += 8
        K.wait_until(lambda: all(p["forwarded"] for p in
                                 c.call("GET", f"/v1/collection-cases/{case_id}", tenant).json()["payments"]),
                     timeout=30, interval=0.2)
        time.sleep(1.5)  # a sync round or so
        out(f"privacy scenario: {n}+ hostile requests against inkasso (pid {svc.pid}) and agency-sim (pid {sim.pid})")
        rc = svc.stop()
        svc = None
        sim.stop()
        sim = None
        return ld, seeds, rc
    except BaseException:
        ld.close()
        raise
    finally:
        for p in (svc, sim):
            if p is not None:
                p.stop()


def run_scenario(logs=None, out=print):
    ld, seeds, rc = scenario(logs, out)
    try:
        fig = scan(ld.path, default_seeds(), out=out)
        fig["inkasso_exit_code"] = rc
        ok = fig["occurrences"] == 0 and fig["invalid_lines"] == 0 and rc == 0
        return fig, ok
    finally:
        ld.close()


def read_seeds(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", help="directory of logs to grep (with --scenario: where its logs go)")
    ap.add_argument("--seeds", help="file of seeded values, one per line")
    ap.add_argument("--no-default-seeds", action="store_true", help="only the --seeds file (and the patterns)")
    ap.add_argument("--skip", action="append", default=[], help="file name glob to leave out (repeatable)")
    ap.add_argument("--scenario", action="store_true", help="run the hostile scenario, then grep its logs")
    ap.add_argument("--quick", action="store_true", help="accepted for uniformity with the other proofs")
    a = ap.parse_args()
    if a.scenario:
        fig, ok = run_scenario(a.logs)
        return K.finish(fig, ok)
    if not a.logs:
        ap.error("--logs DIR is required (or --scenario)")
    seeds = [] if a.no_default_seeds else default_seeds()
    if a.seeds:
        seeds += read_seeds(a.seeds)
    fig = scan(a.logs, seeds, skip=a.skip)
    return K.finish(fig, fig["occurrences"] == 0 and fig["invalid_lines"] == 0)


if __name__ == "__main__":
    sys.exit(main())
