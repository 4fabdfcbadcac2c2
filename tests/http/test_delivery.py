# SPDX-License-Identifier: MIT
"""Why a case is stuck: the case detail's `delivery` ({attempts, last_error,
next_attempt_at}) while the case, an action or a payment waits for the
agency, null once it is delivered. The agency refuses with 503s (the
simulator's faults), or is down (the simulator stopped). Every test has its
own simulator and service, through the validating proxy (agency_rig)."""
import datetime as dt

from conftest import agency_rig, case_detail, create_case, new_tenant, wait_case

DEADLINE = 15.0
INVOICE = "/api/v1/partner/invoice"


def parse_ts(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def stuck(c):
    """The delivery once an attempt failed and the next one is scheduled."""
    d = c["delivery"]
    return d is not None and d["attempts"] >= 1 and d["last_error"] and d["next_attempt_at"]


def test_a_case_the_agency_refuses_shows_why_until_it_is_delivered():
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        rig.sim.faults(error_rate=1, status=503, path=INVOICE)
        case = create_case(rig.api, t)
        assert case_detail(rig.api, t, case["id"])["delivery"] is not None, "queued: it waits"
        c = wait_case(rig.api, t, case["id"], stuck, timeout=DEADLINE, what="a failed attempt")
        d = c["delivery"]
        assert c["status"] == "pending"
        # The agency's own text ("simulated agency failure") may echo the
        # request's personal data: never shown, only the status.
        assert d["last_error"] == "the agency answered HTTP 503", d
        assert "simulated" not in d["last_error"]
        # Due now or later, never long ago (the read's clock at the least).
        assert parse_ts(d["next_attempt_at"]) > dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5), d

        # An action queued behind the stuck invoice: the invoice is shown (it holds the comment up).
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/actions", t, json={"type": "comment", "comment": "hi"})
        assert r.status_code == 202, r.text
        c = wait_case(rig.api, t, case["id"], stuck, timeout=DEADLINE, what="still stuck")
        assert c["delivery"]["attempts"] >= 1

        rig.sim.clear_faults()
        c = wait_case(rig.api, t, case["id"],
                      lambda c: c["delivery"] is None and c["actions"][0]["state"] == "sent",
                      timeout=DEADLINE, what="delivered")
        assert c["status"] in ("submitted", "open")


def test_an_action_the_agency_refuses_shows_its_delivery():
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        case = create_case(rig.api, t)
        wait_case(rig.api, t, case["id"], lambda c: c["status"] in ("submitted", "open") and c["delivery"] is None,
                  timeout=DEADLINE, what="handed over")
        rig.sim.faults(error_rate=1, status=503, path=INVOICE + "/action")
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/actions", t, json={"type": "comment", "comment": "hi"})
        assert r.status_code == 202, r.text
        c = wait_case(rig.api, t, case["id"], stuck, timeout=DEADLINE, what="a failed action attempt")
        assert c["delivery"]["last_error"] == "the agency answered HTTP 503", c["delivery"]
        assert c["actions"][0]["state"] == "pending"
        rig.sim.clear_faults()
        c = wait_case(rig.api, t, case["id"], lambda c: c["delivery"] is None, timeout=DEADLINE, what="delivered")
        assert c["actions"][0]["state"] == "sent"


def test_a_case_whose_agency_is_down_shows_the_connection_error():
    with agency_rig(INKASSO_MAX_ATTEMPTS=1000) as rig:
        t = new_tenant(rig.api)
        rig.sim.stop()
        case = create_case(rig.api, t)
        c = wait_case(rig.api, t, case["id"], stuck, timeout=DEADLINE, what="a failed attempt")
        d = c["delivery"]
        assert "connect" in d["last_error"].lower(), d
        assert c["status"] == "pending"


def test_a_case_failed_for_good_shows_no_next_attempt_until_a_retry():
    with agency_rig(INKASSO_MAX_ATTEMPTS=2) as rig:
        t = new_tenant(rig.api)
        rig.sim.faults(error_rate=1, status=503, path=INVOICE)
        case = create_case(rig.api, t)
        c = wait_case(rig.api, t, case["id"], lambda c: c["status"] == "failed", timeout=DEADLINE, what="failed")
        assert c["delivery"] == {"attempts": 2, "last_error": "the agency answered HTTP 503",
                                 "next_attempt_at": None}, c["delivery"]
        rig.sim.clear_faults()
        r = rig.api.post(f"/v1/collection-cases/{case['id']}/retry", t)
        assert r.status_code == 202, r.text
        wait_case(rig.api, t, case["id"], lambda c: c["delivery"] is None, timeout=DEADLINE, what="delivered")
