# SPDX-License-Identifier: MIT
"""Bearer JWT authentication and scopes. Every failure is a 401 problem with
WWW-Authenticate: Bearer; a missing scope is 403. Tokens are signed here by
hand (hmac/hashlib, openssl for RS256), independently of the binary."""
import json
import os
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import (ALL_SCOPES, BIN, Service, assert_problem, b64url, bearer, claims_for, jwt_sign,
                      raw_request, valid_case)

NOW = int(time.time())
OTHER_SECRET = "another-secret-0123456789abcdef-0123456789"


def unsigned(claims, alg="none"):
    return f"{b64url(json.dumps({'alg': alg, 'typ': 'JWT'}))}.{b64url(json.dumps(claims))}."


def flip_signature(tok):
    h, p, s = tok.split(".")
    i = len(s) // 2  # a middle character: every one of its bits is significant
    s = s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
    return f"{h}.{p}.{s}"


def swap_payload(tok, claims):
    h, _, s = tok.split(".")
    return f"{h}.{b64url(json.dumps(claims))}.{s}"


def without(d, key):
    d = dict(d)
    d.pop(key)
    return d


def big_token(size):
    """A correctly signed token padded with a claim to about size bytes."""
    c = claims_for("t_big")
    c["pad"] = ""
    base = len(jwt_sign(c))
    c["pad"] = "p" * int((size - base) * 3 / 4)
    return jwt_sign(c)


# id → Authorization header value; each must be refused with 401 through Prism.
BAD_TOKENS = {
    "alg none": lambda: unsigned(claims_for("t_auth")),
    "alg None": lambda: unsigned(claims_for("t_auth"), "None"),
    "alg none with signature": lambda: unsigned(claims_for("t_auth")) + "c2ln",
    "HS512 with the right secret": lambda: jwt_sign(claims_for("t_auth"), alg="HS512"),
    "HS384 with the right secret": lambda: jwt_sign(claims_for("t_auth"), alg="HS384"),
    "RS256 header, HMAC signature": lambda: jwt_sign(claims_for("t_auth"), header={"alg": "RS256", "typ": "JWT"}),
    "HS256 with another secret": lambda: jwt_sign(claims_for("t_auth"), secret=OTHER_SECRET),
    "expired": lambda: jwt_sign(claims_for("t_auth", ttl=-60)),
    "expired long ago": lambda: jwt_sign({**claims_for("t_auth"), "exp": 1}),
    "missing exp": lambda: jwt_sign(without(claims_for("t_auth"), "exp")),
    "exp as string": lambda: jwt_sign({**claims_for("t_auth"), "exp": str(NOW + 3600)}),
    "exp as float": lambda: jwt_sign({**claims_for("t_auth"), "exp": NOW + 3600.5}),
    "exp as bool": lambda: jwt_sign({**claims_for("t_auth"), "exp": True}),
    "exp null": lambda: jwt_sign({**claims_for("t_auth"), "exp": None}),
    "bad signature": lambda: flip_signature(jwt_sign(claims_for("t_auth"))),
    "payload swapped": lambda: swap_payload(jwt_sign(claims_for("t_auth")), claims_for("t_other")),
    "token over 4096 bytes": lambda: big_token(5000),
    "missing tenant": lambda: jwt_sign(without(claims_for("t_auth"), "tenant")),
    "tenant with space": lambda: jwt_sign(claims_for("a b")),
    "tenant with slash": lambda: jwt_sign(claims_for("../t_auth")),
    "tenant with quote": lambda: jwt_sign(claims_for('t"x')),
    "tenant non-ASCII": lambda: jwt_sign(claims_for("tënant")),
    "tenant empty": lambda: jwt_sign(claims_for("")),
    "tenant 65 chars": lambda: jwt_sign(claims_for("t" * 65)),
    "tenant as number": lambda: jwt_sign(claims_for(42)),
    "payload not JSON": lambda: jwt_sign(b"not json"),
    "payload an array": lambda: jwt_sign(b"[1,2]"),
    "header not JSON": lambda: "bm90IGpzb24." + jwt_sign(claims_for("t_auth")).split(".", 1)[1],
    "two segments": lambda: ".".join(jwt_sign(claims_for("t_auth")).split(".")[:2]),
    "four segments": lambda: jwt_sign(claims_for("t_auth")) + ".x",
    "garbage": lambda: "x.y.z",
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_bad_token_is_401(api, name):
    r = api.get("/v1/collection-cases", headers=bearer(BAD_TOKENS[name]()))
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


# Prism answers these itself (no usable Bearer credential), so they go straight
# to the service.
@pytest.mark.parametrize("authorization", [
    None,
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer ",
    "Token " + "x.y.z",
    "Bearer  " + "x.y.z",
])
def test_missing_or_non_bearer_credential_is_401(direct, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    r = direct.get("/v1/collection-cases", headers=headers)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_two_authorization_headers_are_401(service):
    tok = jwt_sign(claims_for("t_auth")).encode()
    req = (b"GET /v1/collection-cases HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tok +
           b"\r\nAuthorization: Bearer " + tok + b"\r\nConnection: close\r\n\r\n")
    status, headers, body = raw_request(service.port, req)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(body)["code"] == "unauthorized"


def test_token_just_under_the_cap_is_accepted(api):
    tok = big_token(4000)
    assert len(tok) <= 4096
    assert api.get("/v1/collection-cases", headers=bearer(tok)).status_code == 200


def test_hand_signed_token_is_accepted(api):
    # Proves the table above fails for the reason named, not for the signer.
    r = api.get("/v1/collection-cases", headers=bearer(jwt_sign(claims_for("t_auth"))))
    assert r.status_code == 200
    assert r.json()["data"] == []


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_scheme_is_case_insensitive(direct, scheme):
    # Prism only knows "Bearer"; the service follows RFC 7235 (case-insensitive).
    r = direct.get("/v1/collection-cases", headers={"Authorization": f"{scheme} {jwt_sign(claims_for('t_auth'))}"})
    assert r.status_code == 200, r.text


ROUTES = [
    ("GET", "/v1/collection-cases", None),
    ("POST", "/v1/collection-cases", valid_case()),
    ("POST", "/v1/collection-cases/preview", valid_case()),
    ("GET", "/v1/collection-cases/cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", None),
    ("GET", "/v1/agency-settings", None),
    ("PUT", "/v1/agency-settings", {"creditor_reference": "x", "api_key": "k"}),
]


@pytest.mark.parametrize("method, path, body", ROUTES)
def test_every_v1_route_requires_a_valid_token(api, method, path, body):
    r = api.call(method, path, json=body, headers=bearer(jwt_sign(claims_for("t_auth", ttl=-1))))
    assert_problem(r, 401, "unauthorized")


# --- scopes -------------------------------------------------------------------

@pytest.mark.parametrize("scope, method, path, body", [
    ("cases:read", "POST", "/v1/collection-cases", valid_case()),
    ("cases:read", "POST", "/v1/collection-cases/preview", valid_case()),
    ("cases:read", "PUT", "/v1/agency-settings", {"creditor_reference": "x", "api_key": "k"}),
    ("cases:write", "GET", "/v1/collection-cases", None),
    ("cases:write", "GET", "/v1/collection-cases/cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB", None),
    ("cases:write", "GET", "/v1/agency-settings", None),
    ("cases:write", "PUT", "/v1/agency-settings", {"creditor_reference": "x", "api_key": "k"}),
    ("settings:write", "GET", "/v1/collection-cases", None),
    ("settings:write", "POST", "/v1/collection-cases", valid_case()),
    ("", "GET", "/v1/collection-cases", None),
    ("cases:readx cases:writ settings", "GET", "/v1/collection-cases", None),
    ("CASES:READ", "GET", "/v1/collection-cases", None),
])
def test_missing_scope_is_403(api, tenant, scope, method, path, body):
    r = api.call(method, path, tenant, scope=scope, json=body)
    assert_problem(r, 403, "forbidden")
    # Nothing happened: no case, settings unchanged.
    assert api.get("/v1/collection-cases", tenant).json()["data"] == []
    assert api.get("/v1/agency-settings", tenant).json()["creditor_reference"] == "CR-" + tenant


@pytest.mark.parametrize("scope, method, path, status", [
    ("cases:read", "GET", "/v1/agency-settings", 200),
    ("settings:write", "GET", "/v1/agency-settings", 200),
    ("cases:read", "GET", "/v1/collection-cases", 200),
    ("cases:write", "POST", "/v1/collection-cases", 201),
    ("settings:write  cases:read", "GET", "/v1/collection-cases", 200),
])
def test_sufficient_scope_is_served(api, tenant, scope, method, path, status):
    r = api.call(method, path, tenant, scope=scope, json=valid_case() if method == "POST" else None)
    assert r.status_code == status, r.text


# --- RS256 with a public key: algorithm confusion, iss, aud -------------------

ISSUER = "https://issuer.test"
AUDIENCE = "inkasso-tests"


def rs256_sign(claims, private_pem, header=None):
    h = b64url(json.dumps(header or {"alg": "RS256", "typ": "JWT"}))
    p = b64url(json.dumps(claims))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_pem], input=f"{h}.{p}".encode(),
                         capture_output=True, check=True).stdout
    return f"{h}.{p}.{b64url(sig)}"


@pytest.fixture(scope="module")
def rs_service():
    with tempfile.TemporaryDirectory(prefix="inkasso-rs-") as d:
        priv, pub = os.path.join(d, "priv.pem"), os.path.join(d, "pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True, capture_output=True)
        env = {"INKASSO_JWT_SECRET": "", "INKASSO_JWT_PUBLIC_KEY_FILE": pub, "INKASSO_JWT_ALG": "RS256",
               "INKASSO_JWT_ISSUER": ISSUER, "INKASSO_JWT_AUDIENCE": AUDIENCE}
        s = Service(d, env=env).start()
        s.priv, s.pub = priv, pub
        yield s
        assert s.stop() == 0


def rs_claims(**extra):
    return {**claims_for("t_rs"), "iss": ISSUER, "aud": AUDIENCE, **extra}


def test_rs256_token_from_the_cli_is_accepted(rs_service):
    env = {**os.environ, **rs_service.env()}
    tok = subprocess.run([BIN, "token", "--tenant", "t_rs", "--scope", ALL_SCOPES, "--key", rs_service.priv],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    r = requests.get(rs_service.url + "/v1/collection-cases", headers=bearer(tok), timeout=10)
    assert r.status_code == 200, r.text


def test_rs256_hand_signed_token_is_accepted(rs_service):
    r = requests.get(rs_service.url + "/v1/collection-cases", headers=bearer(rs256_sign(rs_claims(), rs_service.priv)),
                     timeout=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", [
    "HS256 signed with the public key PEM",
    "HS256 signed with the PEM without newline",
    "alg none",
    "wrong issuer",
    "missing issuer",
    "wrong audience",
    "missing audience",
    "audience list without ours",
    "expired",
    "bad signature",
])
def test_rs256_service_refuses(rs_service, name):
    with open(rs_service.pub, "rb") as f:
        pem = f.read()
    c = rs_claims()
    tok = {
        "HS256 signed with the public key PEM": lambda: jwt_sign(c, secret=pem),
        "HS256 signed with the PEM without newline": lambda: jwt_sign(c, secret=pem.rstrip(b"\n")),
        "alg none": lambda: unsigned(c),
        "wrong issuer": lambda: rs256_sign(rs_claims(iss="https://evil.test"), rs_service.priv),
        "missing issuer": lambda: rs256_sign(without(c, "iss"), rs_service.priv),
        "wrong audience": lambda: rs256_sign(rs_claims(aud="other"), rs_service.priv),
        "missing audience": lambda: rs256_sign(without(c, "aud"), rs_service.priv),
        "audience list without ours": lambda: rs256_sign(rs_claims(aud=["a", "b"]), rs_service.priv),
        "expired": lambda: rs256_sign(rs_claims(exp=NOW - 60), rs_service.priv),
        "bad signature": lambda: flip_signature(rs256_sign(c, rs_service.priv)),
    }[name]()
    r = requests.get(rs_service.url + "/v1/collection-cases", headers=bearer(tok), timeout=10)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_rs256_audience_list_with_ours_is_accepted(rs_service):
    tok = rs256_sign(rs_claims(aud=["other", AUDIENCE]), rs_service.priv)
    r = requests.get(rs_service.url + "/v1/collection-cases", headers=bearer(tok), timeout=10)
    assert r.status_code == 200, r.text
