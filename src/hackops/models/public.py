"""Versions of what the public pages show (`hackops.publiccache`): one counter per scope
(`event:<id>`, `content:<id>`, `org:<id>`, `listing`), bumped by triggers (migration 0029) in
the transaction of each change. No tenant data (names of scopes and counters), so no row-level
security; the application's role may not delete rows."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base


class PublicVersion(Base):
    __tablename__ = "public_versions"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="1")
