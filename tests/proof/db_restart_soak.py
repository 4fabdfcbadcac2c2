#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Database restarts (issue 11): replica_soak.py with the database as what
is killed: PostgreSQL crashed and restarted (pg_ctl restart -m immediate)
every 4-8 s during 16 x 500 creates through HAProxy to two replicas, which
are never restarted. Same targets, plus: the replicas reconnected by
themselves. `--quick` for the small size. (A name of its own, so that
`make proof` keeps its figures beside the replica soak's.)"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import replica_soak  # noqa: E402

if __name__ == "__main__":
    sys.argv.insert(1, "--database")
    replica_soak.main()
