"""Roles and the embargo, applied inside every catalogue query.

=========  =================================================================
role       sees
=========  =================================================================
admin      everything; may ingest and manage users
team       everything
public     items whose embargo is over: ingested at least the mission's
           ``embargo_days`` (default 30) before now
anonymous  nothing but the landing page
=========  =================================================================

:func:`visible_decodes` is the one place where this is decided: every list, item, download,
export, statistic and plot query of :mod:`heradecode.archive.query` filters on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import false, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from heradecode.archive.models import Decode, Mission

ROLES = ("admin", "team", "public", "anonymous")
DEFAULT_EMBARGO_DAYS = 30.0


class AccessDenied(Exception):
    """Not allowed; ``status`` is the HTTP status to answer with (401 or 403)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user name (None when anonymous) and a role."""

    name: str | None
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def can_read(self) -> bool:
        """True for registered users."""
        return self.role in ("admin", "team", "public")

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == "admin"


ANONYMOUS = Principal(None, "anonymous")
SYSTEM = Principal("system", "admin")  #: the local command line, which owns the archive


def require_reader(who: Principal) -> None:
    """AccessDenied(401) unless ``who`` is a registered user."""
    if not who.can_read:
        raise AccessDenied("log in to see the archive", 401)


def require_admin(who: Principal) -> None:
    """AccessDenied unless ``who`` is an administrator (401 when anonymous)."""
    require_reader(who)
    if not who.is_admin:
        raise AccessDenied("administrators only", 403)


def visible_decodes(who: Principal, now_unix_s: float | None = None) -> ColumnElement:
    """The condition on :class:`Decode` rows that ``who`` may see."""
    if who.role in ("admin", "team"):
        return true()
    if who.role != "public":
        return false()
    now = time.time() if now_unix_s is None else now_unix_s
    embargo_s = select(func.coalesce(func.max(Mission.embargo_days), DEFAULT_EMBARGO_DAYS) * 86400.0) \
        .where(Mission.name == Decode.mission).scalar_subquery()
    return Decode.ingested_unix_s + embargo_s <= now
