#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Proof (issue 11): failover. A PostgreSQL primary and a synchronous
streaming standby on loopback (scripts/pg-server.sh start, standby;
synchronous_standby_names = 'standby1'), two inkasso replicas on the
multi-host URI primary,standby with target_session_attrs=read-write, and
clients creating cases with retries on one Idempotency-Key each. During the
creates the primary's postmaster is SIGKILLed and the standby promoted.
Targets: 0 acknowledged cases missing on the new primary, 0 cases stored
twice, both replicas serving again within 30 s of the promotion without a
restart (same pids). --quick: fewer creates."""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

from proofkit import Tally, create_until_acknowledged, report  # also puts tests/http on the path

from conftest import ROOT, Api, DbConn, Service, mint, valid_case  # noqa: E402

PG_SERVER = os.path.join(ROOT, "scripts", "pg-server.sh")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--per-client", type=int, default=250)
    p.add_argument("--logs", default=None)
    a = p.parse_args(argv)
    if a.quick:
        a.clients, a.per_client = 4, 40
    return a


def pg(*args, timeout=120):
    return subprocess.run([PG_SERVER, *args], check=True, capture_output=True, text=True,
                          timeout=timeout).stdout.strip()


def run(args):
    t_start = time.monotonic()
    base = os.path.join(tempfile.gettempdir(), "inkasso-failover-" + uuid.uuid4().hex[:8])
    primary_dir, standby_dir = base + "-primary", base + "-standby"
    primary = pg("start", primary_dir)
    standby = None
    services = []
    try:
        standby = pg("standby", standby_dir, primary_dir)
        con = DbConn(primary)
        con.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
        con.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            row = con.execute("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")
            state = (row.fetchone() or [None])[0]
            if state == "sync":
                break
            time.sleep(0.2)
        con.close()
        hostport = lambda uri: uri.split("@", 1)[1].split("/", 1)[0]  # noqa: E731
        uri = (f"postgresql://inkasso@{hostport(primary)},{hostport(standby)}/inkasso"
               "?target_session_attrs=read-write&connect_timeout=2")
        work = tempfile.mkdtemp(prefix="inkasso-failover-")
        for k in range(2):
            svc = Service(work)
            svc.db = uri
            svc.log_path = os.path.join(args.logs or work, f"pg_failover-inkasso-{k + 1}.log")
            if args.logs:
                os.makedirs(args.logs, exist_ok=True)
            svc.start()
            services.append(svc)
        pids = [s.proc.pid for s in services]
        tenant = "t_" + uuid.uuid4().hex[:10]
        Api(services[0].url).configure(tenant)
        token = mint(tenant)
        tally = Tally()
        acked, lock = {}, threading.Lock()
        started = threading.Event()
        done_before_kill = [0]

        def client(k):
            s = requests.Session()
            svc = services[k % 2]
            for n in range(args.per_client):
                number, key = f"FO-{k}-{n}", f"fo-{k}-{n}-{uuid.uuid4().hex[:6]}"
                case_id = create_until_acknowledged(s, svc.url, token, valid_case(number), key, tally,
                                                    deadline_s=120.0, timeout=10.0)
                if case_id:
                    with lock:
                        acked[number] = case_id
                        if len(acked) >= args.clients * args.per_client // 4:
                            started.set()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        started.wait(120)
        with lock:
            done_before_kill[0] = len(acked)
        pg("kill", primary_dir)
        killed_at = time.monotonic()
        time.sleep(0.5)  # the machine is gone; the operator (or a tool) promotes the standby
        pg("promote", standby_dir)
        promoted_at = time.monotonic()
        # Serving again: a create acknowledged through each replica after the promotion.
        serving_s = []
        for svc in services:
            s, n = requests.Session(), 0
            while time.monotonic() - promoted_at < 60:
                n += 1
                cid = create_until_acknowledged(s, svc.url, token, valid_case(f"FO-probe-{svc.port}"),
                                                f"probe-{svc.port}", Tally(), deadline_s=1.0, timeout=2.0)
                if cid:
                    with lock:
                        acked[f"FO-probe-{svc.port}"] = cid
                    break
            serving_s.append(round(time.monotonic() - promoted_at, 1))
        for t in threads:
            t.join()
        # Everything acknowledged, on the new primary.
        con = DbConn(standby)
        stored = dict(con.execute("SELECT invoice_number, id FROM cases WHERE tenant = ?", (tenant,)).fetchall())
        per_number = con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM cases WHERE tenant = ?"
                                 " GROUP BY invoice_number) x", (tenant,)).fetchone()[0]
        in_recovery = con.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        con.close()
        missing = [n for n, cid in acked.items() if stored.get(n) != cid]
        restarted = [s.proc.pid for s in services] != pids or any(s.proc.poll() is not None for s in services)
        rcs = [s.stop() for s in services]
    finally:
        for s in services:
            if s.proc is not None:
                s.stop()
        for d in (standby_dir, primary_dir):
            subprocess.run([PG_SERVER, "stop", d], capture_output=True, timeout=120)
    figures = {
        "sync_state_before": state,
        "acknowledged_before_kill": done_before_kill[0],
        "acknowledged": len(acked),
        "stored_on_new_primary": len(stored),
        "missing": len(missing),
        "most_copies_of_one_invoice": per_number,
        "serving_again_s_after_promotion": serving_s,
        "promotion_s_after_kill": round(promoted_at - killed_at, 1),
        "gave_up": tally.get("gave_up"),
        "network_errors": tally.get("network_errors"),
        "http_503": tally.get("http_503"),
        "exit_codes": rcs,
        "seconds": round(time.monotonic() - t_start, 1),
    }
    return report("failover: primary SIGKILLed, synchronous standby promoted", figures, [
        ("the standby was synchronous", state == "sync"),
        ("the kill came during the creates", 0 < done_before_kill[0] < args.clients * args.per_client),
        ("0 acknowledged cases missing on the new primary", not missing and len(acked) > 0),
        ("0 cases stored twice", per_number == 1),
        ("every create acknowledged in the end", tally.get("gave_up") == 0),
        ("both replicas serving within 30 s of the promotion", all(s <= 30 for s in serving_s)),
        ("without a restart of inkasso", not restarted and rcs == [0, 0]),
        ("the new primary is read-write", in_recovery is False),
    ])


def main():
    f = run(parse_args())
    sys.exit(0 if f["ok"] else 1)


if __name__ == "__main__":
    main()
