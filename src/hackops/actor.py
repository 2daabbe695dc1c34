"""Who is acting and from where: passed by the edges to every service that changes state."""

from __future__ import annotations

from dataclasses import dataclass

from hackops.errors import Unauthorized
from hackops.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip: str | None = None
    user_agent: str = ""

    @property
    def user_id(self) -> object:
        return self.user.id if self.user is not None else None

    @property
    def is_platform_admin(self) -> bool:
        return self.user is not None and self.user.is_platform_admin


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"
    message = "Sign in first (session cookie or Authorization: Bearer <token>)."


SYSTEM = Actor(user=None, ip=None, user_agent="system")
