"""Organization members and invitations (tenant-owned: every row carries org_id)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class OrgRole(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ORGANIZER = "organizer"
    MEMBER = "member"


ROLE_RANK = {OrgRole.MEMBER: 0, OrgRole.ORGANIZER: 1, OrgRole.ADMIN: 2, OrgRole.OWNER: 3}
_ROLES_SQL = "role IN ('owner', 'admin', 'organizer', 'member')"


class Membership(IdMixin, TimestampMixin, Base):
    __tablename__ = "org_memberships"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id"),
        CheckConstraint(_ROLES_SQL, name="role_valid"),
        Index("ix_org_memberships_user_id", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[OrgRole] = mapped_column(EnumText(OrgRole, 16))


class Invitation(IdMixin, Base):
    __tablename__ = "org_invitations"
    __table_args__ = (
        CheckConstraint(_ROLES_SQL, name="role_valid"),
        Index("ix_org_invitations_org_id_email", "org_id", "email"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[OrgRole] = mapped_column(EnumText(OrgRole, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
