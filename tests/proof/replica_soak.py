#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Replica soak (issue 11): PostgreSQL (a server of its own, on loopback),
two inkasso replicas on it behind HAProxy (deploy/haproxy.cfg's settings),
the agency simulator accepting repeated invoice numbers (so that a second
send would be stored and counted). Clients create cases through HAProxy,
retrying every answer other than 201 and every network error with the same
Idempotency-Key and body, while a killer SIGKILLs one replica, chosen at
random, every kill_min..kill_max seconds and restarts it on the same port.

Targets: >= min_kills kills while creates run; every create acknowledged;
0 acknowledged cases missing; 0 duplicates (ours, and at the simulator);
every replay 201 with the same id; every case at the agency within the
deadline after the last restart (a replica killed mid-send leaves its rows
to the other when their lease ends, looked up first); every event of those
cases in the feed once (one case.created each, no event twice).

Full run: 16 clients x 500 creates over 4 tenants, >= 20 kills every 1-4 s.
`--quick`: 4 clients x 40, >= 3 kills every 0.5-1.5 s.

`--database`: the same, but what is killed is the database: PostgreSQL
crashed and restarted (`pg_ctl restart -m immediate`, scripts/pg-server.sh
restart) every 4-8 s, >= 5 times (quick: 2), the replicas never restarted:
they reconnect by themselves, and nothing acknowledged is lost."""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import proofkit as pk  # noqa: E402
from conftest import ROOT, Service, Sim, agency_env, free_port, wait_http  # noqa: E402
from crash_soak import PACE, SERVICE_ENV  # noqa: E402

FULL = dict(clients=16, per_client=500, tenants=4, min_kills=20, kill_min=1.0, kill_max=4.0, agency_deadline=60.0)
QUICK = dict(clients=4, per_client=40, tenants=4, min_kills=3, kill_min=0.5, kill_max=1.5, agency_deadline=60.0)
DB_FULL = dict(FULL, min_kills=5, kill_min=4.0, kill_max=8.0)
DB_QUICK = dict(QUICK, min_kills=2, kill_min=1.5, kill_max=3.0)
PG_SERVER = os.path.join(ROOT, "scripts", "pg-server.sh")

HAPROXY_CFG = """global
	maxconn 4096
defaults
	mode http
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	timeout http-request 10s
	retries 2
	option redispatch
	retry-on conn-failure empty-response
	default-server check inter 500ms fall 1 rise 1
frontend api
	bind 127.0.0.1:{port}
	default_backend inkasso
backend inkasso
	balance roundrobin
	option httpchk GET /readyz
	http-check expect status 200
	server a 127.0.0.1:{a}
	server b 127.0.0.1:{b}
"""


class Chaos(threading.Thread):
    """Every kill_min..kill_max seconds, hit() (one kill and what follows),
    until the clients are done and at least min_kills happened."""

    def __init__(self, clients_done, min_kills, kill_min, kill_max, rnd):
        super().__init__(daemon=True)
        self.clients_done = clients_done
        self.min_kills, self.kill_min, self.kill_max, self.rnd = min_kills, kill_min, kill_max, rnd
        self.kills = self.kills_during_creates = self.restart_failures = 0
        self.died_by_itself = []
        self.last_restart = None
        self.error = None

    def run(self):
        try:
            while not (self.clients_done.is_set() and self.kills >= self.min_kills):
                time.sleep(self.rnd.uniform(self.kill_min, self.kill_max))
                during = not self.clients_done.is_set()
                self.hit()
                self.kills += 1
                self.kills_during_creates += during
                self.last_restart = time.monotonic()
        except Exception as e:  # reported as a figure, never silently
            self.error = repr(e)


class Killer(Chaos):
    """SIGKILLs one replica, at random, and restarts it on the same port."""

    def __init__(self, replicas, *args):
        super().__init__(*args)
        self.replicas = replicas

    def hit(self):
        svc = self.rnd.choice(self.replicas)
        rc = svc.stop(signal.SIGKILL)
        if rc != -signal.SIGKILL:
            self.died_by_itself.append(rc)
        for _ in range(5):
            try:
                svc.start()
                return
            except RuntimeError:
                self.restart_failures += 1
                svc.stop(signal.SIGKILL)
                time.sleep(0.5)
        raise RuntimeError("a replica does not restart")


class DatabaseKiller(Chaos):
    """Crashes and restarts the PostgreSQL server; the replicas stay up."""

    def __init__(self, pg_dir, *args):
        super().__init__(*args)
        self.pg_dir = pg_dir

    def hit(self):
        subprocess.run([PG_SERVER, "restart", self.pg_dir], check=True, capture_output=True, timeout=120)


def feed_check(api, names, acked):
    """Every tenant's whole feed: (event ids seen twice, acknowledged cases
    without exactly one case.created)."""
    twice, created = 0, {}
    for t in names:
        seen, after = set(), None
        while True:
            q = "/v1/events?limit=200" + (f"&after={after}" if after else "")
            page = api.get(q, t).json()
            for e in page["data"]:
                twice += e["id"] in seen
                seen.add(e["id"])
                if e["type"] == "case.created":
                    created[e["data"]["id"]] = created.get(e["data"]["id"], 0) + 1
            if not page.get("has_more"):
                break
            after = page["next_cursor"]
    not_once = sum(1 for cid in acked if created.get(cid) != 1)
    return twice, not_once


def run(clients, per_client, tenants, min_kills, kill_min, kill_max, agency_deadline, logs=None, seed=None,
        database=False):
    seed = seed if seed is not None else random.randrange(1, 2**31)
    rnd = random.Random(seed)
    run_id = uuid.uuid4().hex[:6]
    started = time.monotonic()
    pg_dir = os.path.join(tempfile.gettempdir(), "inkasso-pg-soak-" + uuid.uuid4().hex[:8])
    uri = subprocess.run([PG_SERVER, "start", pg_dir], check=True, capture_output=True, text=True,
                         timeout=120).stdout.strip()
    ha = None
    work = tempfile.mkdtemp(prefix="inkasso-replica-soak-")
    sim = Sim(work, accept_duplicates=True, args=pk.SIM_STILL)
    replicas = [Service(work, env=agency_env(sim, **SERVICE_ENV)) for _ in range(2)]
    try:
        if logs:
            os.makedirs(logs, exist_ok=True)
            sim.log_path = os.path.join(logs, "replica_soak-agency-sim.log")
        sim.start()
        for k, svc in enumerate(replicas):
            svc.db = uri
            svc.log_path = os.path.join(logs or work, f"replica_soak-inkasso-{k + 1}.log")
            svc.start()
        ha_port = free_port()
        cfg = os.path.join(work, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(port=ha_port, a=replicas[0].port, b=replicas[1].port))
        ha_log = open(os.path.join(logs or work, "replica_soak-haproxy.log"), "ab")
        ha = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=ha_log, stderr=ha_log)
        url = f"http://127.0.0.1:{ha_port}"
        wait_http(url + "/healthz", ha)
        api = pk.Api(url)
        names = pk.configure_tenants(api, tenants, "replicas")
        tokens = {t: api.token(t) for t in names}
        tally = pk.Tally()
        acked, requests_, lock = {}, [], threading.Lock()
        clients_done = threading.Event()
        spread = PACE * min_kills * (kill_min + kill_max) / 2

        def client(c):
            session = requests.Session()
            t0 = time.monotonic()
            for i in range(per_client):
                ahead = t0 + spread * i / per_client - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                tenant = names[(c * per_client + i) % tenants]
                number = f"R{run_id}-{c:02d}-{i:04d}"
                body, key = pk.valid_case(number), uuid.uuid4().hex
                case_id = pk.create_until_acknowledged(session, url, tokens[tenant], body, key, tally)
                if case_id:
                    with lock:
                        if case_id in acked:
                            tally.add("id_acknowledged_twice")
                        acked[case_id] = (tenant, number)
                        requests_.append((tenant, key, body, case_id))

        pids = [svc.proc.pid for svc in replicas]
        killer = (DatabaseKiller(pg_dir, clients_done, min_kills, kill_min, kill_max, rnd) if database
                  else Killer(replicas, clients_done, min_kills, kill_min, kill_max, rnd))
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        killer.start()
        for t in threads:
            t.join()
        creates_seconds = time.monotonic() - started
        clients_done.set()
        killer.join()
        not_restarted = [svc.proc.pid for svc in replicas] == pids and all(svc.proc.poll() is None
                                                                           for svc in replicas)
        for svc in replicas:
            if svc.proc is None:
                svc.start()
        last_restart = killer.last_restart or time.monotonic()
        # Ready again: each replica's /readyz, and HAProxy back to them.
        ready_s = None
        while time.monotonic() - last_restart < 60:
            try:
                if all(requests.get(u + "/readyz", timeout=2).status_code == 200
                       for u in [svc.url for svc in replicas] + [url]):
                    ready_s = round(time.monotonic() - last_restart, 1)
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)

        def not_at_agency():
            # A reader connection that met the restart may answer 503
            # (Retry-After) for up to its reconnect backoff (2 s): as a client
            # would, ask again.
            for _ in range(50):
                try:
                    return sum(len(pk.list_all(api, t, "status=pending,submitted&limit=200")) for t in names)
                except AssertionError:
                    time.sleep(0.2)
            return sum(len(pk.list_all(api, t, "status=pending,submitted&limit=200")) for t in names)

        while True:
            left = not_at_agency()
            if left == 0 or time.monotonic() - last_restart > agency_deadline + 30:
                break
            time.sleep(0.5)
        agency_seconds = round(time.monotonic() - last_restart, 1)
        missing, listed = pk.readable_and_listed(api, names, acked)
        without_case_id = sum(1 for cases in listed.values() for c in cases
                              if not c.get("agency_case_id") or c["status"] in ("pending", "submitted"))
        numbers_by_tenant = {t: [] for t in names}
        for tenant, number in acked.values():
            numbers_by_tenant[tenant].append(number)
        agency = pk.at_agency(sim, numbers_by_tenant)
        st = sim.stats()
        replay_samples = []
        replay_mismatch = pk.replay_all(url, tokens, requests_, samples=replay_samples)
        events_twice, created_not_once = feed_check(api, names, acked)
        exits = [svc.stop() for svc in replicas]
    finally:
        if ha is not None:
            ha.send_signal(signal.SIGTERM)
            ha.wait(timeout=10)
        for svc in replicas:
            svc.stop(signal.SIGKILL)
        sim.stop()
        subprocess.run([PG_SERVER, "stop", pg_dir], capture_output=True, timeout=120)

    total = clients * per_client
    figures = {
        "seed": seed, "clients": clients, "creates_per_client": per_client, "tenants": tenants,
        "creates_attempted": total, "creates_acknowledged": len(acked),
        "creates_gave_up": tally.get("gave_up"),
        "retries_network_error": tally.get("network_errors"),
        "retries_non_2xx": sum(v for k, v in tally.c.items() if k.startswith("http_")),
        "acknowledged_after_retry": tally.get("acknowledged_after_retry"),
        "same_key_409": tally.get("same_key_409"),
        "kills": killer.kills, "kills_during_creates": killer.kills_during_creates,
        "restart_failures": killer.restart_failures, "killer_error": killer.error,
        "died_by_itself": killer.died_by_itself,
        "acknowledged_missing": missing,
        "cases_listed": sum(len(c) for c in listed.values()),
        "duplicate_invoice_numbers_listed": pk.duplicate_numbers(listed),
        "replays_not_same_201": replay_mismatch,
        "replays_not_same_201_samples": replay_samples,
        **agency,
        "sim_invoice_creations": st["invoice_creations"], "sim_duplicates_created": st["duplicates_created"],
        "cases_not_at_agency": left, "cases_without_agency_case_id": without_case_id,
        "seconds_to_agency_after_last_restart": agency_seconds,
        "feed_events_seen_twice": events_twice, "cases_without_exactly_one_created_event": created_not_once,
        "chaos": "database restarts" if database else "replica kills",
        "seconds_ready_after_last_restart": ready_s,
        "replicas_never_restarted": not_restarted,
        "final_sigterm_exits": exits,
        "seconds_creates": round(creates_seconds, 1), "seconds_total": round(time.monotonic() - started, 1),
    }
    checks = [
        (f"{'database restarts' if database else 'kills'} >= {min_kills}, while creates ran",
         killer.kills_during_creates >= min_kills and not killer.error),
        ("no replica died but by the killer", not killer.died_by_itself),
        ("every create acknowledged", len(acked) == total),
        ("0 acknowledged cases missing", missing == 0),
        ("0 duplicate invoice numbers listed", figures["duplicate_invoice_numbers_listed"] == 0),
        ("listing holds exactly the acknowledged cases", figures["cases_listed"] == len(acked)),
        ("0 same-key 409s", figures["same_key_409"] == 0),
        ("every replay 201 with the same id", replay_mismatch == 0),
        ("0 duplicate creations at the simulator",
         st["duplicates_created"] == 0 and agency["sim_numbers_created_not_once"] == 0),
        ("every case at the simulator", agency["sim_missing_numbers"] == 0
         and agency["sim_unexpected_numbers"] == 0 and agency["sim_invoices"] == len(acked)),
        (f"every case at the agency within {agency_deadline:.0f} s of the last restart",
         left == 0 and without_case_id == 0 and agency_seconds <= agency_deadline),
        ("every event in the feed once, one case.created per case", events_twice == 0 and created_not_once == 0),
        ("clean exit 0 on the final SIGTERM", exits == [0, 0]),
    ]
    checks.append(("both replicas ready within 30 s of the last restart", ready_s is not None and ready_s <= 30))
    if database:
        checks.append(("the replicas were never restarted (they reconnected)", not_restarted))
    return pk.report("database restarts" if database else "replica soak", figures, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (4 clients x 40, >= 3 kills)")
    ap.add_argument("--database", action="store_true", help="restart the database instead of killing replicas")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--logs", help="directory for the logs of inkasso, the simulator and HAProxy")
    a = ap.parse_args()
    sizes = (DB_QUICK if a.quick else DB_FULL) if a.database else (QUICK if a.quick else FULL)
    figures = run(**sizes, logs=a.logs, seed=a.seed, database=a.database)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
