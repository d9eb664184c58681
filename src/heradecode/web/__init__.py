"""The archive on the web: server-rendered pages and a REST API (FastAPI), with roles and an embargo."""

from heradecode.web.app import create_app
from heradecode.web.auth import OidcConfig, TokenService

__all__ = ["OidcConfig", "TokenService", "create_app"]
