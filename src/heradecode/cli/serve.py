"""``heradecode serve``: the archive's web pages and REST API (uvicorn)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve an archive on the web: pages and the REST API /api/v1",
                       description="Serve the archive's landing page, dashboard, product pages and REST API.")
    p.add_argument("--archive", metavar="DIR", help="the archive folder (default: $HERADECODE_ARCHIVE)")
    p.add_argument("--db", metavar="URL", help="catalogue database (default: SQLite in the archive folder)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token-hours", type=float, default=1.0, help="lifetime of bearer tokens and sessions")
    p.add_argument("--secure-cookies", action="store_true", help="session cookie only over HTTPS")
    p.add_argument("--oidc-issuer", metavar="URL", help="also accept tokens of this OpenID Connect issuer")
    p.add_argument("--oidc-audience", metavar="AUD", help="the audience those tokens must carry")
    p.add_argument("--oidc-jwks", metavar="URL", help="the issuer's JWKS URL")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from heradecode.archive.db import archive_path
    from heradecode.errors import UserError
    from heradecode.web import OidcConfig, create_app

    oidc = None
    given = [args.oidc_issuer, args.oidc_audience, args.oidc_jwks]
    if any(given):
        if not all(given):
            raise UserError("OIDC needs --oidc-issuer, --oidc-audience and --oidc-jwks together")
        oidc = OidcConfig(args.oidc_issuer, args.oidc_audience, args.oidc_jwks)
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be 1..65535, not {args.port}")
    import socket

    try:
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    app = create_app(archive_path(args.archive), db_url=args.db, oidc=oidc, token_ttl_s=args.token_hours * 3600,
                     secure_cookies=args.secure_cookies)
    print(f"heradecode archive on http://{args.host}:{args.port}/ (API docs: /api/v1/docs)")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
