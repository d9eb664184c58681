"""Bearer tokens of the archive server: JWTs it signs itself, and optionally an OIDC issuer's.

Own tokens: HS256 with the archive's ``secret.key``, claims ``sub`` (user name), ``iss``
(``heradecode-archive``), ``aud`` (``heradecode-archive``), ``iat`` and ``exp`` (default one hour);
all are required.  The role is read from the catalogue at every request, so a removed user or a
changed role takes effect at once.

OIDC: tokens whose ``iss`` is the configured issuer are checked against its JWKS (RS256/ES256),
audience and expiry; the user's role is the ``heradecode_role`` claim (admin, team or public;
public when absent or unknown).

Anything else (bad signature, ``alg: none``, expired, wrong audience or issuer, missing claims)
is refused with HTTP 401.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from heradecode.archive.access import AccessDenied, Principal

ISSUER = "heradecode-archive"
AUDIENCE = "heradecode-archive"
ALGORITHM = "HS256"
REQUIRED = ["exp", "iat", "sub", "aud", "iss"]


@dataclass(frozen=True)
class OidcConfig:
    """An external OpenID Connect issuer whose tokens the server accepts."""

    issuer: str
    audience: str
    jwks_url: str
    role_claim: str = "heradecode_role"


class TokenService:
    """Issues and checks bearer tokens."""

    def __init__(self, secret: str, *, ttl_s: float = 3600.0, oidc: OidcConfig | None = None) -> None:
        self.secret = secret
        self.ttl_s = ttl_s
        self.oidc = oidc
        self._jwks = jwt.PyJWKClient(oidc.jwks_url, cache_keys=True) if oidc else None

    def issue(self, name: str, now_s: float | None = None) -> str:
        """A signed token for user ``name``."""
        now = int(time.time() if now_s is None else now_s)
        claims = {"sub": name, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + int(self.ttl_s)}
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> tuple[str, str | None]:
        """(user name, role from the token or None for own tokens); AccessDenied(401) when not valid."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AccessDenied("malformed token", 401) from None
        try:
            if self.oidc is not None and unverified.get("iss") == self.oidc.issuer:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(token, key.key, algorithms=["RS256", "ES256"], audience=self.oidc.audience,
                                    issuer=self.oidc.issuer, options={"require": REQUIRED})
                role = claims.get(self.oidc.role_claim)
                name = str(claims.get("preferred_username") or claims["sub"])
                return f"oidc:{name}", role if role in ("admin", "team", "public") else "public"
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                                options={"require": REQUIRED})
        except jwt.ExpiredSignatureError:
            raise AccessDenied("token expired", 401) from None
        except jwt.InvalidAudienceError:
            raise AccessDenied("token not for this server (audience)", 401) from None
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            raise AccessDenied("invalid token", 401) from None
        return str(claims["sub"]), None


def principal_from(name: str, role: str | None, lookup) -> Principal:
    """The principal of a verified token; own tokens take the role stored for the user (401 if gone)."""
    if role is not None:
        return Principal(name, role)
    who = lookup(name)
    if who is None:
        raise AccessDenied("unknown user", 401)
    return who
