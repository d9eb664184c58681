"""Tokens of an external OpenID Connect issuer, checked against its JWKS."""

from __future__ import annotations

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from heradecode.web import OidcConfig, create_app
from tests.web.helpers import build_archive

ISSUER = "https://login.example.org/realms/hera"
AUDIENCE = "heradecode"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def oidc_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    arc = build_archive(tmp)
    key = _key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    (tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    app = create_app(arc.folder, oidc=OidcConfig(ISSUER, AUDIENCE, (tmp / "jwks.json").as_uri()))
    return arc, TestClient(app, follow_redirects=False), key


def _tok(key, kid="k1", **over):
    now = int(time.time())
    claims = {"sub": "u-123", "preferred_username": "carla", "iss": ISSUER, "aud": AUDIENCE, "iat": now,
              "exp": now + 300, **over}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _get(client, url, token):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_oidc_roles_and_embargo(oidc_site):
    arc, client, key = oidc_site
    team = _tok(key, heradecode_role="team")
    public = _tok(key)  # no role claim: public
    assert _get(client, f"/api/v1/items/{arc.embargoed}", team).status_code == 200
    assert _get(client, f"/api/v1/items/{arc.embargoed}", public).status_code == 404
    assert _get(client, f"/api/v1/items/{arc.released}", public).status_code == 200
    assert _get(client, "/api/v1/users", _tok(key, heradecode_role="team")).status_code == 403
    assert _get(client, "/api/v1/users", _tok(key, heradecode_role="superuser")).status_code == 403


@pytest.mark.parametrize("bad", ["other-key", "wrong-audience", "expired", "unknown-kid"])
def test_oidc_bad_tokens(oidc_site, bad):
    arc, client, key = oidc_site
    if bad == "other-key":
        token = _tok(_key(), heradecode_role="team")
    elif bad == "wrong-audience":
        token = _tok(key, aud="another-app", heradecode_role="team")
    elif bad == "expired":
        token = _tok(key, exp=int(time.time()) - 10, heradecode_role="team")
    else:
        token = _tok(key, kid="k9", heradecode_role="team")
    assert _get(client, f"/api/v1/items/{arc.released}", token).status_code == 401
