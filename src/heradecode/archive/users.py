"""Users of an archive: names, roles, and Argon2id password hashes (argon2-cffi)."""

from __future__ import annotations

import re
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from heradecode.archive.access import Principal
from heradecode.archive.models import ROLES, User
from heradecode.errors import UserError

_hasher = PasswordHasher()
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 8
# verified against when the user does not exist, so that a login takes as long either way
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def _check(name: str, role: str | None = None, password: str | None = None) -> None:
    if not _NAME.fullmatch(name):
        raise UserError(f"user names are 1-64 letters, digits or _ . @ -, not {name!r}")
    if role is not None and role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose from {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserError(f"passwords have at least {MIN_PASSWORD} characters")


def add_user(conn: Connection, name: str, role: str, password: str) -> None:
    """Add a user; UserError when the name is taken."""
    _check(name, role, password)
    if conn.execute(select(User.id).where(User.name == name)).first() is not None:
        raise UserError(f"user {name!r} exists already")
    conn.execute(insert(User).values(name=name, role=role, password_hash=_hasher.hash(password),
                                     created_unix_s=time.time()))


def set_user(conn: Connection, name: str, *, role: str | None = None, password: str | None = None) -> None:
    """Change a user's role or password."""
    _check(name, role, password)
    values = {}
    if role is not None:
        values["role"] = role
    if password is not None:
        values["password_hash"] = _hasher.hash(password)
    if conn.execute(update(User).where(User.name == name).values(**values)).rowcount == 0:
        raise UserError(f"no such user: {name!r}")


def remove_user(conn: Connection, name: str) -> None:
    """Remove a user."""
    if conn.execute(delete(User).where(User.name == name)).rowcount == 0:
        raise UserError(f"no such user: {name!r}")


def list_users(conn: Connection) -> list[dict]:
    """Every user's name, role and creation time."""
    return [dict(r._mapping) for r in conn.execute(select(User.name, User.role, User.created_unix_s)
                                                   .order_by(User.name))]


def user_principal(conn: Connection, name: str) -> Principal | None:
    """The principal of an existing user, or None."""
    r = conn.execute(select(User.name, User.role).where(User.name == name)).first()
    return Principal(r.name, r.role) if r is not None else None


def authenticate(conn: Connection, name: str, password: str) -> Principal | None:
    """The user's principal when the password is right, else None (same work either way)."""
    r = conn.execute(select(User.name, User.role, User.password_hash).where(User.name == name)).first()
    try:
        _hasher.verify(r.password_hash if r is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal(r.name, r.role) if r is not None else None
