#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Webhook crash soak: the soak of webhook_soak.py (cases living their life
on the agency simulator, direct payments and withdrawals retried with one
Idempotency-Key, two endpoints per tenant whose receivers fail ~30 % of the
requests) while inkasso is SIGKILLed every 0.5-3 s and restarted on the
same database and port (PRAGMA integrity_check between kill and restart).

Targets: >= 20 kills; 0 events missing from the feed compared with the
cases' histories (GET /v1/collection-cases/{id}: one case.created, one
case.status_changed per status change, one case.payment_received per
payment, stage changes chained) and 0 events for changes that did not
commit; sequence dense 1..n per case; every event of the subscribed types
at every endpoint at least once, after the last restart too; every
signature verified by the standardwebhooks npm library; first deliveries
per case in sequence order; 0 requests before a Retry-After elapsed except
right after a kill that may have lost the 429 (counted apart). No 410
endpoint here: an answer the killed process never recorded is sent again
(at least once), see webhook_soak.py for the 410.

Full run: 2,000 cases, >= 20 kills. `--quick`: 150 cases, >= 3 kills.
Prints its figures and ends with one `FIGURES <json>` line; exits 1 when a
target is missed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import webhook_soak  # noqa: E402

FULL = dict(webhook_soak.FULL, kills=True, spread=75.0, deadline=280.0)
QUICK = dict(webhook_soak.QUICK, kills=True, spread=8.0, deadline=75.0)

if __name__ == "__main__":
    webhook_soak.main(FULL, QUICK, __doc__)
