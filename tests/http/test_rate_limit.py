# SPDX-License-Identifier: MIT
"""The per-tenant rate limit (issue 13, point 9), through the validating
proxy: a tenant over INKASSO_TENANT_RATE gets 429 rate_limited with
Retry-After while another tenant is served; requests without a valid token
are 401 and cost their tenant nothing; the public endpoints are never
limited. The short version of tests/proof/tenant_flood.py: counts only, no
timing assertions. The quiet tenant sends fewer requests than its burst, and
the flooder hundreds at a rate of 2 a second, so neither outcome depends on
how fast this machine is."""
import os
import subprocess
import tempfile
import uuid

import pytest
import requests

from conftest import BIN, Service, assert_problem, bearer, claims_for, jwt_sign, prism_proxy

RATE, BURST = "2", "10"
CASES = "/v1/collection-cases"


@pytest.fixture(scope="module")
def limited():
    with tempfile.TemporaryDirectory(prefix="inkasso-rate-") as d:
        s = Service(d, env={"INKASSO_TENANT_RATE": RATE, "INKASSO_TENANT_BURST": BURST}).start()
        try:
            with prism_proxy(s.url) as base:
                yield base
            assert s.stop() == 0
        finally:
            s.stop()


def tenant():
    return "t_rl_" + uuid.uuid4().hex[:8]


def call(session, base, path, token=None):
    r = session.get(base + path, headers=bearer(token) if token else {}, timeout=30)
    assert "sl-violations" not in r.headers, r.headers.get("sl-violations")
    return r


def test_flooder_gets_429_with_retry_after_while_another_tenant_is_served(limited):
    flood_tok, quiet_tok = jwt_sign(claims_for(tenant())), jwt_sign(claims_for(tenant()))
    s = requests.Session()
    statuses, quiet, retry_after = {}, [], set()
    for i in range(300):
        r = call(s, limited, CASES, flood_tok)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code == 429:
            p = assert_problem(r, 429, "rate_limited")
            assert p["title"] and p["detail"], p
            retry_after.add(r.headers["Retry-After"])
        if i % 40 == 0:  # 8 requests in all: within the quiet tenant's burst of 10
            quiet.append(call(s, limited, CASES, quiet_tok).status_code)
    assert set(statuses) == {200, 429}, statuses
    assert statuses[429] >= 200, statuses  # at most the burst and 2 a second pass
    assert all(v.isdigit() and int(v) >= 1 for v in retry_after), retry_after
    assert quiet == [200] * 8, quiet


def test_requests_without_a_valid_token_do_not_count(limited):
    t = tenant()
    s = requests.Session()
    for _ in range(3 * int(BURST)):
        bad = jwt_sign(claims_for(t), secret="not-the-service-secret-0123456789abcdef")
        assert_problem(call(s, limited, CASES, bad), 401, "unauthorized")
    # The whole burst is still there for the tenant's valid token.
    good = jwt_sign(claims_for(t))
    assert [call(s, limited, CASES, good).status_code for _ in range(int(BURST))] == [200] * int(BURST)


def test_public_endpoints_are_never_limited(limited):
    t = tenant()
    s = requests.Session()
    tok = jwt_sign(claims_for(t))
    while call(s, limited, CASES, tok).status_code != 429:
        pass
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.yaml"):
        for _ in range(20):
            assert call(s, limited, path).status_code == 200, path


@pytest.mark.parametrize("env, says", [
    ({"INKASSO_TENANT_RATE": "fast"}, "INKASSO_TENANT_RATE: expected a number"),
    ({"INKASSO_TENANT_RATE": "-1"}, "INKASSO_TENANT_RATE: expected a number"),
    ({"INKASSO_TENANT_RATE": "inf"}, "INKASSO_TENANT_RATE: expected a number"),
    ({"INKASSO_TENANT_RATE": "5", "INKASSO_TENANT_BURST": "1.5"}, "INKASSO_TENANT_BURST: expected an integer"),
])
def test_a_bad_limit_stops_the_service_at_start(tmp_path, env, says):
    e = {**os.environ, "INKASSO_LISTEN": "127.0.0.1:0", "INKASSO_DB": str(tmp_path / "x.db"),
         "INKASSO_JWT_SECRET": "rate-test-secret-0123456789abcdef-0123", **env}
    p = subprocess.run([BIN, "serve"], env=e, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert says in p.stderr, p.stderr
