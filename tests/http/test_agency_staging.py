# SPDX-License-Identifier: MIT
"""agency_environment per tenant (DESIGN.md "Agency settings"): a service wired
to two simulators, production (INKASSO_AGENCY_URL) and staging
(INKASSO_AGENCY_STAGING_URL). A tenant's key check, cases and sync go to its
environment's simulator only; staging on a service without a staging URL is
422; the settings show who changed them last."""
import contextlib
import os
import signal
import subprocess
import tempfile
import types
import uuid

import pytest

from conftest import (BIN, SECRET, Api, Service, Sim, agency_env, agency_key, assert_problem, field_errors,
                      mint, prism_proxy, valid_case, wait_case, wait_until)

VALIDATE = "/api/v1/partner/validate"
INVOICE = "/api/v1/partner/invoice"


def fresh():
    return "t_" + uuid.uuid4().hex[:10]


@contextlib.contextmanager
def two_agency_rig():
    """Two simulators and one service using both, behind the validating proxy."""
    with tempfile.TemporaryDirectory(prefix="inkasso-staging-") as d:
        prod_dir, stage_dir = os.path.join(d, "production"), os.path.join(d, "staging")
        os.mkdir(prod_dir)
        os.mkdir(stage_dir)
        prod = Sim(prod_dir).start()
        stage = Sim(stage_dir).start()
        svc = Service(d, env=agency_env(prod, INKASSO_AGENCY_STAGING_URL=stage.url))
        try:
            svc.start()
            with prism_proxy(svc.url) as base:
                yield types.SimpleNamespace(prod=prod, stage=stage, service=svc, api=Api(base))
            rc = svc.stop()
            assert rc == 0, f"inkasso exited {rc} on SIGTERM:\n{svc.read_log()[-4000:]}"
        finally:
            svc.stop(signal.SIGKILL)
            prod.stop()
            stage.stop()


@pytest.fixture(scope="module")
def rig():
    with two_agency_rig() as r:
        yield r


def calls(sim, tenant):
    """The simulator's calls with the tenant's api key, by path."""
    return sim.stats(agency_key(tenant))["calls"]


def settings(tenant, environment=None):
    body = {"creditor_reference": "CR-" + tenant, "api_key": agency_key(tenant)}
    if environment is not None:
        body["agency_environment"] = environment
    return body


def send_and_follow(api, tenant):
    """Creates a case and waits until the sync has its agency case id."""
    r = api.post("/v1/collection-cases", tenant, json=valid_case())
    assert r.status_code == 201, r.text
    case = wait_case(api, tenant, r.json()["id"], lambda c: c["agency_case_id"] is not None, timeout=20,
                     what="an agency case id")
    return case


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_each_tenant_reaches_its_environment_only(rig, environment):
    t = fresh()
    r = rig.api.put("/v1/agency-settings", t, json=settings(t, environment))
    assert r.status_code == 200, r.text
    assert r.json()["agency_environment"] == environment
    assert r.json()["api_key_valid"] is True  # the key check asked the tenant's environment
    assert rig.api.get("/v1/agency-settings", t).json()["agency_environment"] == environment
    case = send_and_follow(rig.api, t)
    mine, other = (rig.stage, rig.prod) if environment == "staging" else (rig.prod, rig.stage)
    number = case["invoice"]["number"]
    assert [i["invoiceNumber"] for i in mine.invoices(agency_key(t))] == [number]
    assert mine.stats(agency_key(t))["invoices_received"] == 1
    got = calls(mine, t)
    assert got[VALIDATE]["ok"] >= 1 and got[INVOICE]["ok"] == 1
    # The sync's calls (distribution, case, payments) went there too.
    assert any(p.startswith("/api/v1/partner/invoice/") or p == "/api/v1/partner/payments" for p in got), got
    assert other.invoices(agency_key(t)) == []
    assert calls(other, t) == {}, "nothing for this tenant reaches the other environment"


def test_default_is_production(rig):
    t = fresh()
    r = rig.api.put("/v1/agency-settings", t, json=settings(t))
    assert r.status_code == 200, r.text
    assert r.json()["agency_environment"] == "production"
    wait_until(lambda: calls(rig.prod, t).get(VALIDATE))
    assert calls(rig.stage, t) == {}


def test_moving_from_staging_to_production(rig):
    t = fresh()
    assert rig.api.put("/v1/agency-settings", t, json=settings(t, "staging")).status_code == 200
    first = send_and_follow(rig.api, t)
    r = rig.api.put("/v1/agency-settings", t, json={"creditor_reference": "CR-" + t,
                                                     "agency_environment": "production"})
    assert r.status_code == 200, r.text
    assert r.json()["agency_environment"] == "production" and r.json()["api_key_set"] is True
    second = send_and_follow(rig.api, t)
    assert [i["invoiceNumber"] for i in rig.stage.invoices(agency_key(t))] == [first["invoice"]["number"]]
    assert [i["invoiceNumber"] for i in rig.prod.invoices(agency_key(t))] == [second["invoice"]["number"]]
    # A PUT that leaves agency_environment out takes the default again.
    assert rig.api.put("/v1/agency-settings", t, json=settings(t, "staging")).status_code == 200
    r = rig.api.put("/v1/agency-settings", t, json={"creditor_reference": "CR-" + t})
    assert r.json()["agency_environment"] == "production"


def test_the_settings_show_who_changed_them(rig):
    t = fresh()
    tok = mint(t, "settings:write cases:read", sub="onboarding@acme")
    h = {"Authorization": "Bearer " + tok, "X-Request-Id": "req-staging-1"}
    r = rig.api.put("/v1/agency-settings", json=settings(t, "staging"), headers=h)
    assert r.status_code == 200, r.text
    want = {"sub": "onboarding@acme", "request_id": "req-staging-1"}
    assert r.json()["actor"] == want
    g = rig.api.get("/v1/agency-settings", headers={"Authorization": "Bearer " + tok, "X-Request-Id": "req-2"})
    assert g.json()["actor"] == want and g.json()["agency_environment"] == "staging"
    # Another change by a token without a sub, with the service's own request id.
    r = rig.api.put("/v1/agency-settings", t, json=settings(t, "production"))
    assert r.status_code == 200, r.text
    actor = r.json()["actor"]
    assert actor == {"sub": None, "request_id": r.headers["X-Request-Id"]}
    assert rig.api.get("/v1/agency-settings", t).json()["actor"] == actor


def test_staging_without_a_staging_url_is_422(api):
    """The session service has no agency at all, so no staging URL either."""
    t = fresh()
    r = api.put("/v1/agency-settings", t, json=settings(t, "staging"))
    assert_problem(r, 422, "validation_failed")
    assert field_errors(r) == {("/agency_environment", "environment_not_configured")}
    assert "INKASSO_AGENCY_STAGING_URL" in r.json()["errors"][0]["detail"]
    assert api.get("/v1/agency-settings", t).status_code == 404, "nothing saved"
    # Reported with the other errors at once.
    r = api.put("/v1/agency-settings", t, json={"agency_environment": "staging", "min_days_overdue": -1})
    assert sorted(p for p, _ in field_errors(r)) == [
        "/agency_environment", "/api_key", "/creditor_reference", "/min_days_overdue"]
    # Production is always there.
    r = api.put("/v1/agency-settings", t, json=settings(t, "production"))
    assert r.status_code == 200, r.text
    assert r.json()["agency_environment"] == "production"


def test_unknown_environment_is_422(api):
    t = fresh()
    r = api.put("/v1/agency-settings", t, json=settings(t, "sandbox"))
    assert_problem(r, 422, "validation_failed")
    assert field_errors(r) == {("/agency_environment", "invalid_value")}


def start_refused(env):
    """bin/inkasso serve with env (a SQLite file of its own): its exit code and stderr."""
    with tempfile.TemporaryDirectory(prefix="inkasso-staging-cfg-") as d:
        e = dict(os.environ)
        e.update({"INKASSO_LISTEN": "127.0.0.1:0", "INKASSO_DB": os.path.join(d, "i.db"),
                  "INKASSO_JWT_SECRET": SECRET})
        e.update(env)
        p = subprocess.run([BIN, "serve"], env=e, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stderr


@pytest.mark.parametrize("env,says", [
    # The URL checks of INKASSO_AGENCY_URL apply to the staging URL too.
    ({"INKASSO_AGENCY_URL": "https://agency.example", "INKASSO_AGENCY_STAGING_URL": "http://10.0.0.7:8090"},
     "INKASSO_AGENCY_STAGING_URL: the agency URL must be https://"),
    ({"INKASSO_AGENCY_URL": "https://agency.example", "INKASSO_AGENCY_STAGING_URL": "https://u:p@stage.example"},
     "INKASSO_AGENCY_STAGING_URL: the agency URL must not have user info"),
    ({"INKASSO_AGENCY_STAGING_URL": "https://stage.example"}, "INKASSO_AGENCY_STAGING_URL needs INKASSO_AGENCY_URL"),
])
def test_a_bad_staging_configuration_stops_the_start(env, says):
    rc, err = start_refused(env)
    assert rc != 0 and says in err, (rc, err)


NO_STAGING_URL = "the tenant's agency environment staging has no URL configured"


def waits_without_url(c):
    d = c["delivery"]
    return d is not None and d["attempts"] >= 1 and d["last_error"] == NO_STAGING_URL and d["next_attempt_at"]


def test_a_staging_tenant_after_a_restart_without_the_staging_url():
    """A tenant onboarded on staging, then the service restarted (on the same
    database) without INKASSO_AGENCY_STAGING_URL: the settings still answer,
    nothing of the tenant's goes to production, its cases and actions wait
    with the reason as their delivery's last_error and fail visibly after
    the attempts; with the URL back, a retry delivers to staging."""
    with tempfile.TemporaryDirectory(prefix="inkasso-staging-gone-") as d:
        prod_dir, stage_dir = os.path.join(d, "production"), os.path.join(d, "staging")
        os.mkdir(prod_dir)
        os.mkdir(stage_dir)
        prod, stage = Sim(prod_dir).start(), Sim(stage_dir).start()
        svc = Service(d, env=agency_env(prod, INKASSO_AGENCY_STAGING_URL=stage.url, INKASSO_MAX_ATTEMPTS=1000))
        try:
            svc.start()
            with prism_proxy(svc.url) as base:
                api, t = Api(base), fresh()
                assert api.put("/v1/agency-settings", t, json=settings(t, "staging")).status_code == 200
                sent = send_and_follow(api, t)  # at staging, followed by the sync

                # 1. Restarted without the staging URL: it starts, and the settings answer as stored.
                svc.stop()
                del svc.extra_env["INKASSO_AGENCY_STAGING_URL"]
                svc.start()
                g = api.get("/v1/agency-settings", t)
                assert g.status_code == 200, g.text
                assert g.json()["agency_environment"] == "staging" and g.json()["api_key_set"] is True
                # A new case is taken (durably) and waits, saying why; so does an action on the sent one.
                waiting = api.post("/v1/collection-cases", t, json=valid_case())
                assert waiting.status_code == 201, waiting.text
                c = wait_case(api, t, waiting.json()["id"], waits_without_url, what="waiting without a URL")
                assert c["status"] == "pending"
                r = api.post(f"/v1/collection-cases/{sent['id']}/actions", t, json={"type": "comment", "comment": "hi"})
                assert r.status_code == 202, r.text
                c = wait_case(api, t, sent["id"], waits_without_url, what="the action waiting without a URL")
                assert c["actions"][0]["state"] == "pending"
                # Staging cannot be chosen again while the URL is missing; nothing is changed by trying.
                r = api.put("/v1/agency-settings", t, json=settings(t, "staging"))
                assert field_errors(r) == {("/agency_environment", "environment_not_configured")}
                assert api.get("/v1/agency-settings", t).json()["agency_environment"] == "staging"
                wait_until(lambda: "sync: the tenant's agency environment has no URL" in svc.read_log())

                # 2. Out of attempts (restarted with fewer): failed, visibly, the reason kept.
                svc.stop()
                svc.extra_env["INKASSO_MAX_ATTEMPTS"] = "2"
                svc.start()
                c = wait_case(api, t, waiting.json()["id"], lambda c: c["status"] == "failed", what="failed")
                assert c["events"][-1]["detail"] == NO_STAGING_URL, c["events"]
                assert c["delivery"]["last_error"] == NO_STAGING_URL and c["delivery"]["next_attempt_at"] is None
                c = wait_case(api, t, sent["id"], lambda c: c["actions"][0]["state"] == "failed", what="action failed")
                failed = api.get(f"/v1/events?case_id={sent['id']}&type=case.action_failed", t).json()["data"]
                assert len(failed) == 1, failed

                # Nothing of this tenant ever reached production; staging has the first case only.
                assert calls(prod, t) == {} and prod.invoices(agency_key(t)) == []
                assert [i["invoiceNumber"] for i in stage.invoices(agency_key(t))] == [sent["invoice"]["number"]]

                # 3. The URL back: a retry sends the failed case to staging.
                svc.stop()
                svc.extra_env["INKASSO_AGENCY_STAGING_URL"] = stage.url
                svc.start()
                assert api.post(f"/v1/collection-cases/{waiting.json()['id']}/retry", t).status_code == 202
                wait_case(api, t, waiting.json()["id"], lambda c: c["status"] in ("submitted", "open"),
                          what="delivered to staging")
                assert sorted(i["invoiceNumber"] for i in stage.invoices(agency_key(t))) == sorted(
                    [sent["invoice"]["number"], waiting.json()["invoice"]["number"]])
                assert calls(prod, t) == {}
            rc = svc.stop()
            assert rc == 0, f"inkasso exited {rc} on SIGTERM:\n{svc.read_log()[-4000:]}"
        finally:
            svc.stop(signal.SIGKILL)
            prod.stop()
            stage.stop()
