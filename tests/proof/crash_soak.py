#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash soak: concurrent creates over several tenants while a killer
SIGKILLs inkasso at random intervals and restarts it on the same database
and port, with PRAGMA integrity_check between each kill and its restart.

Clients retry every answer other than 201, and every network error, with
the same Idempotency-Key and body. Afterwards: every acknowledged case is
readable and listed, no invoice number exists twice, every acknowledged
request replays as 201 with the same id, the agency simulator (which
accepts repeated invoice numbers, so that a second send would be stored
and counted) holds each case exactly once, and every case reaches the
agency (an agency case id, no longer pending/submitted) within the bound
after the last restart.

Full run (the defaults): 16 clients x 500 creates, 4 tenants, >= 20 kills.
`--quick`: 4 clients x 40, >= 3 kills. Prints its figures and ends with one
`FIGURES <json>` line; exits 1 when a target is missed."""
import argparse
import os
import random
import signal
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import requests  # noqa: E402

import proofkit as pk  # noqa: E402

FULL = dict(clients=16, per_client=500, tenants=4, min_kills=20, min_kills_during=20, kill_min=0.5,
            kill_max=3.0, agency_deadline=60.0)
QUICK = dict(clients=4, per_client=40, tenants=4, min_kills=3, min_kills_during=1, kill_min=0.3,
             kill_max=1.0, agency_deadline=60.0)
# The creates are spread over at least PACE x the expected time of min_kills
# kills (a client's j-th create starts no earlier than j/per_client of it),
# so that the kills land while creates are in flight, however fast the
# service is; a slower service is not slowed further.
PACE = 2.0

# Test-sized agency timings: no faults here, the kills are the faults.
SERVICE_ENV = dict(INKASSO_MAX_ATTEMPTS=1000, INKASSO_SYNC_INTERVAL=1, INKASSO_RETRY_BASE_MS=50,
                   INKASSO_RETRY_CAP_MS=1000, INKASSO_AGENCY_TIMEOUT_MS=2000)


class Killer(threading.Thread):
    """SIGKILLs the service every kill_min..kill_max seconds, checks the
    database's integrity while it is down, restarts it on the same DB and
    port; until the clients are done and at least min_kills happened."""

    def __init__(self, svc, clients_done, min_kills, kill_min, kill_max, rnd):
        super().__init__(daemon=True)
        self.svc, self.clients_done = svc, clients_done
        self.min_kills, self.kill_min, self.kill_max, self.rnd = min_kills, kill_min, kill_max, rnd
        self.kills = self.restarts = self.kills_during_creates = 0
        self.checks, self.checks_ok, self.bad_checks = 0, 0, []
        self.restart_failures = 0
        self.last_restart = None
        self.error = None

    def run(self):
        try:
            while not (self.clients_done.is_set() and self.kills >= self.min_kills):
                time.sleep(self.rnd.uniform(self.kill_min, self.kill_max))
                during = not self.clients_done.is_set()
                rc = self.svc.stop(signal.SIGKILL)
                if rc != -signal.SIGKILL:
                    # It died by itself before the kill: a defect worth seeing.
                    self.bad_checks.append(f"service exit status {rc} before the kill")
                self.kills += 1
                self.kills_during_creates += during
                result = pk.integrity_check(self.svc.db)
                self.checks += 1
                if result == "ok":
                    self.checks_ok += 1
                else:
                    self.bad_checks.append(result[:300])
                for _ in range(5):
                    try:
                        self.svc.start()
                        break
                    except RuntimeError:
                        self.restart_failures += 1
                        self.svc.stop(signal.SIGKILL)
                        time.sleep(0.5)
                else:
                    raise RuntimeError("the service does not restart")
                self.restarts += 1
                self.last_restart = time.monotonic()
        except Exception as e:  # reported as a figure, never silently
            self.error = repr(e)


def run(clients, per_client, tenants, min_kills, min_kills_during, kill_min, kill_max, agency_deadline,
        logs=None, seed=None):
    seed = seed if seed is not None else random.randrange(1, 2**31)
    rnd = random.Random(seed)
    run_id = uuid.uuid4().hex[:6]
    started = time.monotonic()
    with pk.rig("crash_soak", logs=logs, accept_duplicates=True, **SERVICE_ENV) as (sim, svc, _):
        api = pk.Api(svc.url)
        names = pk.configure_tenants(api, tenants, "crash")
        tokens = {t: api.token(t) for t in names}
        tally = pk.Tally()
        acked = {}      # case id -> (tenant, number)
        requests_ = []  # (tenant, key, body, case id)
        lock = threading.Lock()
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
                number = f"C{run_id}-{c:02d}-{i:04d}"
                body, key = pk.valid_case(number), uuid.uuid4().hex
                case_id = pk.create_until_acknowledged(session, svc.url, tokens[tenant], body, key, tally)
                if case_id:
                    with lock:
                        if case_id in acked:
                            tally.add("id_acknowledged_twice")
                        acked[case_id] = (tenant, number)
                        requests_.append((tenant, key, body, case_id))

        killer = Killer(svc, clients_done, min_kills, kill_min, kill_max, rnd)
        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        for t in threads:
            t.start()
        killer.start()
        for t in threads:
            t.join()
        creates_seconds = time.monotonic() - started
        clients_done.set()
        killer.join()
        if svc.proc is None:  # the killer failed between a kill and its restart
            svc.start()
        last_restart = killer.last_restart or time.monotonic()

        # Every case at the agency: an agency case id, past pending/submitted.
        def not_at_agency():
            n = 0
            for t in names:
                n += len(pk.list_all(api, t, "status=pending,submitted&limit=200"))
            return n

        left = None
        while True:
            left = not_at_agency()
            waited = time.monotonic() - last_restart
            if left == 0 or waited > agency_deadline + 30:
                break
            time.sleep(0.5)
        agency_seconds = round(time.monotonic() - last_restart, 1)
        stuck = []
        for t in names:
            for c in pk.list_all(api, t, "status=pending,submitted&limit=5")[:5 - len(stuck)]:
                d = api.get(f"{pk.CASES}/{c['id']}", t).json()
                stuck.append({"id": c["id"], "number": c["invoice"]["number"], "status": c["status"],
                              "events": [(e["at"], e["to"], e["source"], e.get("detail")) for e in d["events"]],
                              "outbox": pk.outbox_rows(svc.db, c["id"]),
                              "sim_calls": [(a["at"], a["method"], a["path"].rsplit("/", 1)[-1], a["status"],
                                             a["outcome"])
                                            for a in pk.sim_attempts(sim, pk.agency_key(t), c["invoice"]["number"])]})

        missing, listed = pk.readable_and_listed(api, names, acked)
        without_case_id = sum(1 for cases in listed.values() for c in cases
                              if not c.get("agency_case_id") or c["status"] in ("pending", "submitted"))
        numbers_by_tenant = {t: [] for t in names}
        for tenant, number in acked.values():
            numbers_by_tenant[tenant].append(number)
        agency = pk.at_agency(sim, numbers_by_tenant)
        st = sim.stats()
        replay_mismatch = pk.replay_all(svc.url, tokens, requests_)

    total = clients * per_client
    figures = {
        "seed": seed,
        "clients": clients,
        "creates_per_client": per_client,
        "tenants": tenants,
        "creates_attempted": total,
        "creates_acknowledged": len(acked),
        "creates_gave_up": tally.get("gave_up"),
        "retries_network_error": tally.get("network_errors"),
        "retries_non_2xx": sum(v for k, v in tally.c.items() if k.startswith("http_")),
        "acknowledged_after_retry": tally.get("acknowledged_after_retry"),
        "same_key_409": tally.get("same_key_409"),
        "unexpected_4xx_samples": tally.samples.get("unexpected_4xx", []),
        "kills": killer.kills,
        "kills_during_creates": killer.kills_during_creates,
        "restarts": killer.restarts,
        "restart_failures": killer.restart_failures,
        "killer_error": killer.error,
        "integrity_checks": killer.checks,
        "integrity_ok": killer.checks_ok,
        "integrity_problems": killer.bad_checks,
        "acknowledged_missing": missing,
        "cases_listed": sum(len(c) for c in listed.values()),
        "duplicate_invoice_numbers_listed": pk.duplicate_numbers(listed),
        "replays_not_same_201": replay_mismatch,
        **agency,
        "sim_invoice_creations": st["invoice_creations"],
        "sim_duplicates_created": st["duplicates_created"],
        "sim_duplicate_numbers": st["duplicate_numbers"],
        "cases_not_at_agency": left,
        "cases_without_agency_case_id": without_case_id,
        "stuck_samples": stuck,
        "seconds_to_agency_after_last_restart": agency_seconds,
        "seconds_creates": round(creates_seconds, 1),
        "seconds_total": round(time.monotonic() - started, 1),
        "final_sigterm_exit": svc.exit_status,
    }
    checks = [
        (f"kills >= {min_kills}", killer.kills >= min_kills and killer.error is None),
        (f"kills while creates were in flight >= {min_kills_during}",
         killer.kills_during_creates >= min_kills_during),
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
        ("integrity_check ok after every kill", killer.checks == killer.kills and killer.checks_ok == killer.checks),
        ("clean exit 0 on the final SIGTERM", svc.exit_status == 0),
    ]
    return pk.report("crash soak", figures, checks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (4 clients x 40, >= 3 kills)")
    ap.add_argument("--clients", type=int)
    ap.add_argument("--per-client", type=int)
    ap.add_argument("--tenants", type=int)
    ap.add_argument("--min-kills", type=int)
    ap.add_argument("--min-kills-during", type=int, help="of them, while creates are in flight")
    ap.add_argument("--kill-min", type=float, help="seconds, shortest gap between kills")
    ap.add_argument("--kill-max", type=float, help="seconds, longest gap between kills")
    ap.add_argument("--agency-deadline", type=float, help="seconds after the last restart")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--logs", help="directory for the inkasso and simulator logs")
    a = ap.parse_args()
    cfg = dict(QUICK if a.quick else FULL)
    for k in cfg:
        v = getattr(a, k)
        if v is not None:
            cfg[k] = v
    figures = run(**cfg, logs=a.logs, seed=a.seed)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
