#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tenant isolation over every route of openapi.yaml, in both directions.

A real inkasso wired to the agency simulator; tenants A and B each get cases
(distinct names, national ids, e-mails, phones, invoice numbers), some opened
at the agency (agency case ids), a direct payment, actions, one paid case and an
imported settlement. Then every (path, method) that the service's own
GET /openapi.yaml lists (plus the undocumented methods of each path, which must
be 405) is called with the attacker's token on the victim's ids, with the
victim's filters (invoice_number, q, national_id, date_of_birth, cursors) and
the victim's bodies and idempotency keys. Figures: operations covered, requests,
answers containing any of the victim's data (0), victim ids answered other than
exactly like an unknown id (0), changes to the victim's snapshot (0). The
victim's events and webhook endpoints (one each tenant, on a closed loopback
port) are attacked like its cases: ids, cursors, filters, PATCH, DELETE and
every action.

    tests/proof/isolation_matrix.py [--cases 6] [--quick] [--logs DIR]
"""
import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seckit as K  # noqa: E402

EXTRA_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def unknown_like(i):
    """An id of the same shape (prefix, length) as i that exists nowhere."""
    pre, _, rest = i.partition("_")
    if not rest:
        return "0" * len(i)
    return pre + "_" + ("0" * len(rest) if rest != "0" * len(rest) else "1" * len(rest))


class Tenant:
    def __init__(self, label, n, seed):
        self.label = label
        self.id = f"t_iso_{label}_{uuid.uuid4().hex[:8]}"
        self.n = n
        self.bodies = []
        for i in range(n):
            born = dt.date(1950 + seed * 20 + i, 1 + (seed * 5 + i) % 12, 3 + i + seed * 7)
            nid = K.fnr(born, 100 + seed * 300 + i * 7)
            tag = uuid.uuid4().hex[:6]
            self.bodies.append(K.case_body(
                number=f"INV-{label}-{tag}", name=f"Secret{label.upper()} Debtor{tag}", national_id=nid,
                dob=born.isoformat(), email=f"{label}.{tag}@secret-{label}.example",
                phone=f"+479{seed}{i}{tag[:3].translate(str.maketrans('abcdef', '123456'))}{i}{seed}",
                your_reference=f"ref-{label}-{tag}"))
        self.idem = [f"idem-{label}-{uuid.uuid4().hex}" for _ in range(n)]
        self.cases = []


def wait_case(c, t, cid, pred, timeout=30):
    def probe():
        r = c.call("GET", f"/v1/collection-cases/{cid}", t.id)
        return r.json() if r.status_code == 200 and pred(r.json()) else None
    return K.wait_until(probe, timeout=timeout, interval=0.2)


def setup_tenant(c, sim, t, out):
    """Cases, agency case ids, a payment, actions, a paid case and a settlement."""
    c.configure(t.id, creditor_reference=f"CR-{t.label}-{uuid.uuid4().hex[:6]}", api_key="key-" + t.id)
    for body, key in zip(t.bodies, t.idem):
        r = c.call("POST", "/v1/collection-cases", t.id, body, headers={"Idempotency-Key": key})
        assert r.status_code == 201, r.text
        t.cases.append(r.json()["id"])
    opened = [wait_case(c, t, cid, lambda x: x["status"] == "open" and x["agency_status"], 30) for cid in t.cases[:2]]
    yday = (K.today() - dt.timedelta(days=1)).isoformat()
    r = c.call("POST", f"/v1/collection-cases/{t.cases[0]}/payments", t.id,
               {"kind": "payment", "amount": 2500, "paid_on": yday, "reference": f"BANK-{t.label}-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    for body in ({"type": "comment", "comment": f"note-{t.label}-{uuid.uuid4().hex[:6]}"}, {"type": "pause"}):
        r = c.call("POST", f"/v1/collection-cases/{t.cases[0]}/actions", t.id, body)
        assert r.status_code == 202, r.text
    sim.advance("key-" + t.id, opened[1]["invoice"]["number"], "paid")
    wait_case(c, t, t.cases[1], lambda x: x["status"] == "paid" and x["balance"]["remaining"] == 0)
    assert sim.settle("key-" + t.id)["settlements_created"] == 1
    K.wait_until(lambda: c.call("GET", "/v1/settlements", t.id).json()["data"], timeout=30, interval=0.2)
    wait_case(c, t, t.cases[1], lambda x: x["settlements"])
    # Port 9 on loopback: nothing listens; the deliveries fail and retry late.
    r = c.call("POST", "/v1/webhook-endpoints", t.id,
               {"url": f"http://127.0.0.1:9/hooks-{t.label}-{uuid.uuid4().hex[:6]}", "event_types": ["*"],
                "description": f"hook-{t.label}-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    out(f"tenant {t.id}: {len(t.cases)} cases, 2 at the agency, 1 paid and settled")


def list_all(c, tid, path, query=""):
    out, cursor = [], None
    for _ in range(200):
        q = query + (("&" if query else "") + "cursor=" + cursor if cursor else "")
        r = c.call("GET", path + ("?" + q if q else ""), tid)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]
    raise AssertionError("pagination did not end")


def snapshot(c, t):
    """Everything the tenant can read: cases with details, settings, settlements."""
    cases = list_all(c, t.id, "/v1/collection-cases")
    details = {x["id"]: c.call("GET", f"/v1/collection-cases/{x['id']}", t.id).json() for x in cases}
    sts = list_all(c, t.id, "/v1/settlements")
    hooks = list_all(c, t.id, "/v1/webhook-endpoints")
    return {"cases": cases, "details": details, "settings": c.call("GET", "/v1/agency-settings", t.id).json(),
            "settlements": sts,
            "settlement_details": {s["id"]: c.call("GET", f"/v1/settlements/{s['id']}", t.id).json() for s in sts},
            "events": feed_all(c, t.id), "webhook_endpoints": hooks}


def feed_all(c, tid):
    out, after = [], None
    for _ in range(200):
        r = c.call("GET", "/v1/events?limit=200" + ("&after=" + after if after else ""), tid)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["data"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return out
    raise AssertionError("the feed did not end")


def stable_snapshot(c, t, timeout=30):
    """Two equal snapshots 2.5 sync intervals apart (nothing left in flight)."""
    deadline = time.monotonic() + timeout
    prev = snapshot(c, t)
    while True:
        time.sleep(2.5)
        cur = snapshot(c, t)
        if cur == prev or time.monotonic() > deadline:
            return cur
        prev = cur


def strings_of(obj, acc):
    if isinstance(obj, dict):
        for v in obj.values():
            strings_of(v, acc)
    elif isinstance(obj, list):
        for v in obj:
            strings_of(v, acc)
    elif isinstance(obj, str) and len(obj) >= 6:
        acc.add(obj)
    return acc


def victim_secrets(v, snap, attacker_snap):
    """Victim values that must never reach the attacker: ids, numbers, names,
    contact data, clear and masked national ids, references (only those that the
    attacker does not have itself)."""
    own = strings_of(attacker_snap, set()) | {x.lower() for x in strings_of(attacker_snap, set())}
    s = {v.id, snap["settings"].get("creditor_reference"), "key-" + v.id}
    for d in snap["details"].values():
        s |= {d["id"], d["invoice"]["number"], d["your_reference"], d["debtor"]["name"], d["debtor"]["email"],
              d["debtor"]["phone"], d.get("agency_case_id")}
        if d["debtor"].get("national_id"):
            s.add(d["debtor"]["national_id"])        # the masked form the victim sees
        s |= {p["id"] for p in d["payments"]} | {p.get("reference") for p in d["payments"]}
        s |= {a["id"] for a in d["actions"]} | {a.get("comment") for a in d["actions"]}
    for b in v.bodies:
        s |= {b["debtor"]["national_id"], b["debtor"]["name"].lower()}
    for st in snap["settlements"]:
        s |= {st["id"], st.get("agency_settlement_id"), st.get("remittance_reference")}
    s |= {e["id"] for e in snap["events"]}
    s |= {h["id"] for h in snap["webhook_endpoints"]} | {h["url"] for h in snap["webhook_endpoints"]}
    s |= {h["description"] for h in snap["webhook_endpoints"]}
    s |= set(v.idem)
    return {x for x in s if isinstance(x, str) and len(x) >= 6 and x not in own and x.lower() not in own}


def cursors(c, tid, path):
    """Cursors of the tenant's own listing, one per page of limit=1."""
    out, cursor = [], None
    for _ in range(10):
        r = c.call("GET", path + "?limit=1" + ("&cursor=" + cursor if cursor else ""), tid)
        page = r.json()
        if not page.get("has_more"):
            return out
        cursor = page["next_cursor"]
        out.append(cursor)
    return out


def event_cursors(c, tid):
    """The feed's cursors of the tenant, one per event of its first ten."""
    out, after = [], None
    for _ in range(10):
        page = c.call("GET", "/v1/events?limit=1" + ("&after=" + after if after else ""), tid).json()
        if not page["data"]:
            return out
        after = page["next_cursor"]
        out.append(after)
    return out


def query_pool(v, vsnap, c):
    pool = {
        "invoice_number": [b["invoice"]["number"] for b in v.bodies],
        "q": ([b["debtor"]["name"] for b in v.bodies] + [b["debtor"]["name"].split()[0] for b in v.bodies[:1]]
              + [b["invoice"]["number"] for b in v.bodies] + [b["your_reference"] for b in v.bodies]
              + [d["agency_case_id"] for d in vsnap["details"].values() if d.get("agency_case_id")]
              + [b["debtor"]["email"] for b in v.bodies[:1]] + ["INV-" + v.label, "%", "_", "*"]),
        "national_id": [b["debtor"]["national_id"] for b in v.bodies],
        "date_of_birth": [b["debtor"]["date_of_birth"] for b in v.bodies],
        "state": ["open", "closed"],
        "status": ["open", "closed", "paid", "pending,open,paid,submitted,paused,disputed,failed,withdrawn,closed"],
        "debtor_type": ["consumer", "business"],
        "created_from": ["2000-01-01"], "created_to": [(K.today() + dt.timedelta(days=1)).isoformat()],
        "limit": ["200"],
    }
    return pool


def requests_for(path, method, op, v, vsnap, a, c):
    """[(method, url, body, headers, expect_unknown_like)] for one operation."""
    case_ids = [d["id"] for d in vsnap["details"].values()]
    st_ids = [s["id"] for s in vsnap["settlements"]]
    ev_ids = [e["id"] for e in vsnap["events"]][:6]
    hook_ids = [h["id"] for h in vsnap["webhook_endpoints"]]
    other_ids = ([p["id"] for d in vsnap["details"].values() for p in d["payments"]]
                 + [x["id"] for d in vsnap["details"].values() for x in d["actions"]]
                 + [d["agency_case_id"] for d in vsnap["details"].values() if d.get("agency_case_id")]
                 + [b["invoice"]["number"] for b in v.bodies])
    yday = (K.today() - dt.timedelta(days=1)).isoformat()
    out = []
    if "{id}" in path:
        kinds = {"/v1/collection-cases": case_ids, "/v1/settlements": st_ids, "/v1/events": ev_ids,
                 "/v1/webhook-endpoints": hook_ids}
        base = path[:path.index("/{id}")]
        own = kinds[base]
        ids = [(i, True) for i in own] + [(i, False) for k, v in kinds.items() if k != base for i in v] \
            + [(i, False) for i in other_ids]
        bodies = [None]
        if path.endswith("/payments"):
            bodies = [{"kind": "payment", "amount": 100, "paid_on": yday, "reference": "x"},
                      {"kind": "credit_note", "amount": 100, "paid_on": yday}]
        elif path.endswith("/actions"):
            bodies = [{"type": t, "comment": "x"} if t == "comment" else {"type": t}
                      for t in ("comment", "withdraw", "pause", "resume", "dispute")]
        elif path.endswith("/retry") or path.endswith("/rotate-secret") or path.endswith("/test"):
            bodies = [{}]
        elif path.endswith("/recover"):
            bodies = [{"since": "2000-01-01T00:00:00Z"}]
        elif base == "/v1/webhook-endpoints" and method == "PATCH":
            bodies = [{"enabled": False}, {"url": "http://127.0.0.1:9/stolen", "event_types": ["case.created"]}]
        for i, same_kind in ids:
            for b in bodies:
                out.append((method, path.replace("{id}", urllib.parse.quote(i, safe="")), b, {}, same_kind))
        return out
    if method == "GET":
        params = list((op or {}).get("x-query", []))
        params += [p for p in ("state", "status", "q", "invoice_number", "debtor_type", "date_of_birth", "national_id",
                               "created_from", "created_to", "limit", "cursor")
                   if path == "/v1/collection-cases" and p not in params]
        if path in ("/v1/settlements", "/v1/webhook-endpoints"):
            params += [p for p in ("limit", "cursor") if p not in params]
        if path == "/v1/events":
            params += [p for p in ("after", "case_id", "type", "limit") if p not in params]
        out.append((method, path, None, {}, False))
        pool = query_pool(v, vsnap, c)
        pool["cursor"] = v.cursors.get(path, [])
        pool["after"] = v.cursors.get(path, [])
        pool["case_id"] = case_ids
        pool["type"] = ["case.created", "case.payment_received,settlement.created"]
        for p in params:
            for val in pool.get(p, []):
                out.append((method, path + "?" + urllib.parse.urlencode({p: val}), None, {}, False))
        return out
    if path == "/v1/agency-settings":
        return [(method, path, {"creditor_reference": "CR-" + a.id, "api_key": "key-" + a.id,
                                "service": "collection", "customer_type": "auto"}, {}, False)]
    if path in ("/v1/collection-cases", "/v1/collection-cases/preview"):
        for b, key in zip(v.bodies, v.idem):
            # The victim's exact body with the victim's idempotency key: a case of the attacker's own
            # (no replay of the victim's answer, no duplicate_case pointing at the victim's case).
            hdr = {"Idempotency-Key": key} if path == "/v1/collection-cases" else {}
            out.append((method, path, b, hdr, False))
        return out
    return [(method, path, {}, {}, False)]


def problem_key(r):
    try:
        p = r.json()
    except ValueError:
        return (r.status_code, r.text)
    return (r.status_code, r.headers.get("Content-Type"), p.get("code"), p.get("title"), p.get("detail"))


def attack(c, a, v, asnap, vsnap, ops, out):
    """Runs every request of the matrix as a against v; returns counters."""
    secrets = victim_secrets(v, vsnap, asnap)
    lower = {s: s.lower() for s in secrets}
    n = leaks = distinguishable = 0
    not_404 = []
    public_tenant_ids = set()
    # Control: the detector sees the victim's values in the victim's own answers.
    own = c.call("GET", "/v1/collection-cases?limit=200", v.id).text.lower()
    own += c.call("GET", f"/v1/collection-cases/{v.cases[0]}", v.id).text.lower()
    control_hits = sum(1 for lo in lower.values() if lo in own)
    assert control_hits >= len(v.cases) * 3, f"leak detector control found only {control_hits} values"
    documented = {(p, m) for p, m, _ in ops}
    all_ops = list(ops) + [(p, m, None) for p in sorted({p for p, _, _ in ops}) for m in EXTRA_METHODS
                           if (p, m) not in documented]
    covered = set()
    # Creating cases from the victim's bodies last: afterwards the attacker's own
    # listing holds those values (its own copies), which are not a leak.
    all_ops.sort(key=lambda o: o[1] == "POST" and o[0] in ("/v1/collection-cases", "/v1/collection-cases/preview"))
    for path, method, op in all_ops:
        if (path, method) in documented:
            reqs = requests_for(path, method, op, v, vsnap, a, c)
        else:
            reqs = [(method, path.replace("{id}", i), None, {}, False)
                    for i in ([d["id"] for d in vsnap["details"].values()][:2] + [s["id"] for s in vsnap["settlements"]])
                    ] if "{id}" in path else [(method, path, None, {}, False)]
        for m, url, body, hdr, same_kind in reqs:
            r = c.call(m, url, a.id, body, headers=hdr)
            n += 1
            covered.add((path, method))
            sent = (url + json.dumps(body or {}) + json.dumps(hdr)).lower()
            text = (r.text + " " + " ".join(f"{k}: {val}" for k, val in r.headers.items())).lower()
            hit = [s for s, lo in lower.items()
                   if lo in text and lo not in sent and not (lo.startswith("*") and lo.lstrip("*") in sent)]
            if not path.startswith("/v1/") and v.id in hit:
                # The public operations routes (no token): /metrics labels the last
                # sync per tenant id. Counted apart: an operator-facing exposure of
                # tenant ids (no case data), reported rather than failed.
                hit.remove(v.id)
                public_tenant_ids.add(f"{m} {path}")
            if hit:
                leaks += 1
                out(f"LEAK {m} {url}: {r.status_code} contains {hit[:3]}")
            if (path, method) not in documented and r.status_code != 405:
                not_404.append(f"{m} {url}: {r.status_code} (undocumented method, 405 expected)")
            if "{id}" in path and (path, method) in documented:
                if r.status_code != 404:
                    not_404.append(f"{m} {url}: {r.status_code}")
                if same_kind:
                    parts = url.split("/")  # ['', 'v1', collection, id, ...]
                    parts[3] = unknown_like(parts[3])
                    u = c.call(m, "/".join(parts), a.id, body, headers=hdr)
                    n += 1
                    if problem_key(u) != problem_key(r):
                        distinguishable += 1
                        out(f"DISTINGUISHABLE {m} {url}: {problem_key(r)} vs unknown {problem_key(u)}")
    return {"requests": n, "leaks": leaks, "distinguishable": distinguishable, "unexpected_status": not_404,
            "covered": covered, "secrets": len(secrets), "extra": len(all_ops) - len(ops),
            "public_tenant_ids": public_tenant_ids, "control_hits": control_hits}


def diff(before, after):
    """Human-readable differences between two snapshots (paths of changed leaves)."""
    out = []

    def walk(x, y, p):
        if type(x) is not type(y):
            out.append(p)
        elif isinstance(x, dict):
            for k in set(x) | set(y):
                walk(x.get(k), y.get(k), f"{p}/{k}")
        elif isinstance(x, list):
            if len(x) != len(y):
                out.append(p + " (length)")
            for i, (u, w) in enumerate(zip(x, y)):
                walk(u, w, f"{p}/{i}")
        elif x != y:
            out.append(p)
    walk(before, after, "")
    return out


def run(n_cases=6, logs=None, out=print):
    ld = K.LogDir(logs, "proof-iso-")
    sim = svc = None
    try:
        sim = K.Sim(ld, "agency-sim-isolation").start()
        svc = K.Inkasso(ld, "inkasso-isolation", env={**K.agency_env(sim), "INKASSO_WEBHOOK_ALLOW_PRIVATE": "1",
                                                                 "INKASSO_WEBHOOK_RETRY_SCHEDULE": "1h"}).start()
        c = K.Client(svc.url)
        spec = c.s.get(svc.url + "/openapi.yaml", timeout=10).text
        ops = K.openapi_operations(spec)
        out(f"openapi.yaml served by the service: {len(ops)} operations on {len({p for p, _, _ in ops})} paths")
        A, B = Tenant("a", n_cases, 0), Tenant("b", n_cases, 1)
        for t in (A, B):
            ld.write_seeds([v for b in t.bodies for v in (b["debtor"]["national_id"], b["debtor"]["email"],
                                                          b["debtor"]["phone"], b["debtor"]["name"])]
                           + ["key-" + t.id] + t.idem)
        for t in (A, B):
            setup_tenant(c, sim, t, out)
        for t in (A, B):
            t.cursors = {p: cursors(c, t.id, p) for p in ("/v1/collection-cases", "/v1/settlements")}
            t.cursors["/v1/events"] = event_cursors(c, t.id)
        fig = {"operations_in_openapi": len(ops), "cases_per_tenant": n_cases}
        total_req = total_leaks = total_dist = total_changes = 0
        unexpected = []
        covered_all = set()
        public_tenant_ids = set()
        for att, vic in ((A, B), (B, A)):
            vbefore = stable_snapshot(c, vic)
            abefore = snapshot(c, att)
            res = attack(c, att, vic, abefore, vbefore, ops, out)
            vafter = stable_snapshot(c, vic)
            changes = diff(vbefore, vafter)
            d = f"{att.label}->{vic.label}"
            out(f"{d}: {res['requests']} requests over {len(res['covered'])} (path, method) pairs "
                f"({res['extra']} undocumented methods), {res['secrets']} victim values watched "
                f"({res['control_hits']} of them seen in the victim's own answers: detector control); "
                f"answers with victim data: {res['leaks']}; victim ids not answered like unknown ids: "
                f"{res['distinguishable']}; changes to the victim: {len(changes)}")
            for ch in changes[:10]:
                out(f"CHANGED {d}: {ch}")
            for u in res["unexpected_status"][:10]:
                out(f"UNEXPECTED {d}: {u}")
            fig[f"requests_{att.label}_on_{vic.label}"] = res["requests"]
            fig[f"leaks_{att.label}_on_{vic.label}"] = res["leaks"]
            fig[f"changes_to_{vic.label}"] = len(changes)
            total_req += res["requests"]
            total_leaks += res["leaks"]
            total_dist += res["distinguishable"]
            total_changes += len(changes)
            unexpected += res["unexpected_status"]
            covered_all |= res["covered"]
            public_tenant_ids |= res["public_tenant_ids"]
        documented = {(p, m) for p, m, _ in ops}
        skipped = sorted(f"{m} {p}" for p, m in documented - covered_all)
        fig.update({"operations_covered": len(documented & covered_all), "operations_skipped": skipped,
                    "undocumented_method_pairs": len(covered_all - documented), "requests": total_req,
                    "answers_with_victim_data": total_leaks, "victim_ids_distinguishable": total_dist,
                    "changes_to_victim": total_changes, "unexpected_statuses": len(unexpected),
                    "public_routes_showing_tenant_ids": sorted(public_tenant_ids)})
        alive = svc.alive()
        rc_svc, rc_sim = svc.stop(), sim.stop()
        svc = sim = None
        fig["exit_codes_on_sigterm"] = [rc_svc, rc_sim]
        out(f"covered {fig['operations_covered']}/{len(ops)} operations of openapi.yaml (skipped: {skipped or 'none'})"
            f" + {fig['undocumented_method_pairs']} undocumented (path, method) pairs; {total_req} requests; "
            f"answers with the other tenant's data: {total_leaks}; distinguishable from unknown ids: {total_dist}; "
            f"changes to the other tenant: {total_changes}; unexpected statuses: {len(unexpected)}")
        if public_tenant_ids:
            out(f"NOTE: the other tenant's tenant id (no case data) appears on public routes without a token: "
                f"{sorted(public_tenant_ids)} (per-tenant sync label of /metrics); not counted as a leak")
        ok = (not skipped and total_leaks == 0 and total_dist == 0 and total_changes == 0 and not unexpected
              and alive and rc_svc == 0)
        return fig, ok
    finally:
        for p in (svc, sim):
            if p is not None:
                p.stop()
        ld.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=6, help="cases per tenant (default 6, at least 2)")
    ap.add_argument("--quick", action="store_true", help="3 cases per tenant")
    ap.add_argument("--logs", help="directory for the logs of every process started")
    a = ap.parse_args()
    n = 3 if a.quick and a.cases == 6 else max(2, a.cases)
    fig, ok = run(n_cases=n, logs=a.logs)
    return K.finish(fig, ok)


if __name__ == "__main__":
    sys.exit(main())
