# SPDX-License-Identifier: MIT
"""Token keys that rotate without downtime (issue 13, point 8), through the
validating proxy: a JWKS in INKASSO_JWT_PUBLIC_KEY_FILE (two RSA keys, each
token naming its key by kid; a missing or unknown kid is 401) and
INKASSO_JWT_SECRET_PREVIOUS beside the HS256 secret (both accepted, a third
refused); a broken JWKS or a short previous secret stops the service at
start. Keys are made with Debian's python3-cryptography and the JWKS written
from their numbers; tokens are signed here, not by the binary."""
import base64
import json
import os
import subprocess
import tempfile

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import BIN, Service, assert_problem, b64url, bearer, claims_for, jwt_sign, prism_proxy

OLD_SECRET = "rotation-old-secret-0123456789abcdef-0123"
NEW_SECRET = "rotation-new-secret-0123456789abcdef-4567"
THIRD_SECRET = "rotation-3rd-secret-0123456789abcdef-89ab"
CASES = "/v1/collection-cases"


def b64int(n, size=None):
    raw = n.to_bytes(size or (n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rsa_jwk(key, kid, **extra):
    pub = key.public_key().public_numbers()
    return {"kty": "RSA", "kid": kid, "n": b64int(pub.n), "e": b64int(pub.e), **extra}


def ec_jwk(key, kid):
    pub = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "x": b64int(pub.x, 32), "y": b64int(pub.y, 32)}


def sign(key, claims, header):
    h = b64url(json.dumps(header, separators=(",", ":")))
    p = b64url(json.dumps(claims, separators=(",", ":")))
    data = f"{h}.{p}".encode()
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:  # ES256: raw R || S (RFC 7518 3.4)
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{h}.{p}.{b64url(sig)}"


def rs(key, kid=None, tenant="t_jwks"):
    header = {"alg": "RS256", "typ": "JWT", **({"kid": kid} if kid is not None else {})}
    return sign(key, claims_for(tenant), header)


@pytest.fixture(scope="module")
def jwks_rig():
    """A service verifying RS256 tokens with a JWKS of two keys (and one for
    encryption, skipped), behind a Prism proxy."""
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory(prefix="inkasso-jwks-") as d:
        path = os.path.join(d, "jwks.json")
        with open(path, "w") as f:
            json.dump({"keys": [rsa_jwk(old, "2026-01", use="sig", alg="RS256"), rsa_jwk(new, "2026-07"),
                                rsa_jwk(enc, "enc-1", use="enc")]}, f)
        env = {"INKASSO_JWT_SECRET": "", "INKASSO_JWT_PUBLIC_KEY_FILE": path, "INKASSO_JWT_ALG": "RS256"}
        s = Service(d, env=env).start()
        try:
            with prism_proxy(s.url) as base:
                yield {"base": base, "old": old, "new": new, "enc": enc, "service": s}
            assert s.stop() == 0
        finally:
            s.stop()


def get(base, token):
    r = requests.get(base + CASES, headers=bearer(token), timeout=30)
    assert "sl-violations" not in r.headers, r.headers.get("sl-violations")
    return r


def test_jwks_each_key_by_its_kid_is_accepted(jwks_rig):
    for name, kid in (("old", "2026-01"), ("new", "2026-07")):
        r = get(jwks_rig["base"], rs(jwks_rig[name], kid))
        assert r.status_code == 200, (name, r.text)
        assert r.json()["data"] == []


@pytest.mark.parametrize("case", ["missing kid", "unknown kid", "kid of the other key",
                                  "kid of the skipped enc key", "kid not a string"])
def test_jwks_kid_must_name_the_signing_key(jwks_rig, case):
    old = jwks_rig["old"]
    tok = {
        "missing kid": lambda: rs(old),
        "unknown kid": lambda: rs(old, "2025-07"),
        "kid of the other key": lambda: rs(old, "2026-07"),
        "kid of the skipped enc key": lambda: rs(jwks_rig["enc"], "enc-1"),
        "kid not a string": lambda: sign(old, claims_for("t_jwks"), {"alg": "RS256", "kid": 202601}),
    }[case]()
    r = get(jwks_rig["base"], tok)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_jwks_token_from_the_cli_names_its_key(jwks_rig, tmp_path):
    pem = tmp_path / "new.pem"
    pem.write_bytes(jwks_rig["new"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    env = {**os.environ, "INKASSO_JWT_SECRET": "", "INKASSO_JWT_ALG": "RS256",
           "INKASSO_JWT_PUBLIC_KEY_FILE": jwks_rig["service"].extra_env["INKASSO_JWT_PUBLIC_KEY_FILE"]}
    mint = [BIN, "token", "--tenant", "t_cli", "--scope", "cases:read", "--key", str(pem)]
    for kid, status in (("2026-07", 200), (None, 401), ("2026-01", 401)):
        tok = subprocess.run(mint + (["--kid", kid] if kid else []), env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
        assert get(jwks_rig["base"], tok).status_code == status, kid


def test_jwks_hs256_with_a_key_as_secret_is_refused(jwks_rig):
    tok = jwt_sign(claims_for("t_jwks"), secret=json.dumps(rsa_jwk(jwks_rig["old"], "2026-01")),
                   header={"alg": "HS256", "typ": "JWT", "kid": "2026-01"})
    assert_problem(get(jwks_rig["base"], tok), 401, "unauthorized")


def test_es256_jwks(fresh_service, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [ec_jwk(key, "ec-1")]}))
    fresh_service.extra_env = {"INKASSO_JWT_SECRET": "", "INKASSO_JWT_PUBLIC_KEY_FILE": str(path),
                               "INKASSO_JWT_ALG": "ES256"}
    fresh_service.start()
    with prism_proxy(fresh_service.url) as base:
        good = sign(key, claims_for("t_es"), {"alg": "ES256", "typ": "JWT", "kid": "ec-1"})
        assert get(base, good).status_code == 200
        bad = sign(key, claims_for("t_es"), {"alg": "ES256", "typ": "JWT", "kid": "ec-2"})
        assert_problem(get(base, bad), 401, "unauthorized")
    assert fresh_service.stop() == 0


def test_previous_secret_is_accepted_beside_the_current_one(fresh_service):
    fresh_service.extra_env = {"INKASSO_JWT_SECRET": NEW_SECRET, "INKASSO_JWT_SECRET_PREVIOUS": OLD_SECRET}
    fresh_service.start()
    with prism_proxy(fresh_service.url) as base:
        for secret in (NEW_SECRET, OLD_SECRET):
            r = get(base, jwt_sign(claims_for("t_prev"), secret=secret))
            assert r.status_code == 200, r.text
        assert_problem(get(base, jwt_sign(claims_for("t_prev"), secret=THIRD_SECRET)), 401, "unauthorized")
    assert fresh_service.stop() == 0
    # The rotation's last step: PREVIOUS dropped, a restart, the old secret refused.
    fresh_service.extra_env = {"INKASSO_JWT_SECRET": NEW_SECRET}
    fresh_service.start()
    r = requests.get(fresh_service.url + CASES, headers=bearer(jwt_sign(claims_for("t_prev"), secret=OLD_SECRET)),
                     timeout=10)
    assert_problem(r, 401, "unauthorized")
    assert requests.get(fresh_service.url + CASES, timeout=10,
                        headers=bearer(jwt_sign(claims_for("t_prev"), secret=NEW_SECRET))).status_code == 200
    assert fresh_service.stop() == 0


def refused_start(tmp_path, env, says):
    e = {**os.environ, "INKASSO_LISTEN": "127.0.0.1:0", "INKASSO_DB": str(tmp_path / "x.db"), **env}
    p = subprocess.run([BIN, "serve"], env=e, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert says in p.stderr, p.stderr


@pytest.mark.parametrize("name, text, says", [
    ("not JSON", '{"keys": [', "is neither a PEM public key nor a JWKS"),
    ("no keys array", '{"keys": {}}', "is neither a PEM public key nor a JWKS"),
    ("no usable key", json.dumps({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}), "has no usable key"),
    ("broken RSA key", json.dumps({"keys": [{"kty": "RSA", "kid": "r", "n": "!!", "e": "AQAB"}]}),
     "is not a valid RSA public key"),
])
def test_a_broken_jwks_stops_the_service_at_start(tmp_path, name, text, says):
    path = tmp_path / "jwks.json"
    path.write_text(text)
    refused_start(tmp_path, {"INKASSO_JWT_SECRET": "", "INKASSO_JWT_PUBLIC_KEY_FILE": str(path),
                             "INKASSO_JWT_ALG": "RS256"}, says)


def test_a_short_previous_secret_stops_the_service_at_start(tmp_path):
    refused_start(tmp_path, {"INKASSO_JWT_SECRET": NEW_SECRET, "INKASSO_JWT_SECRET_PREVIOUS": "too-short"},
                  "INKASSO_JWT_SECRET_PREVIOUS is missing or shorter than 32 bytes")
