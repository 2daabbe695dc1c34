"""People: global accounts (one person, many organizations), sign-in secrets, identities."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, SoftDeleteMixin, TimestampMixin


class User(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """A person. `email` is stored normalized (trim, NFKC, casefold) and unique."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_normalized"),)

    email: Mapped[str] = mapped_column(String(320), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(200), server_default="")
    bio: Mapped[str] = mapped_column(String(2000), server_default="")
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    interests: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    links: Mapped[list[str]] = mapped_column(ARRAY(String(500)), server_default="{}")
    is_platform_admin: Mapped[bool] = mapped_column(server_default=text("false"))
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None and self.disabled_at is None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class TokenKind(enum.StrEnum):
    SESSION = "session"
    API = "api"


class AuthToken(IdMixin, Base):
    """A session (web cookie or OAuth2 password flow) or a personal API token. Only the SHA-256
    of the secret is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        CheckConstraint("kind IN ('session', 'api')", name="kind_valid"),
        Index("ix_auth_tokens_user_id_kind", "user_id", "kind"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[TokenKind] = mapped_column(EnumText(TokenKind, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), server_default="")
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    ip: Mapped[str | None] = mapped_column(INET, default=None)
    user_agent: Mapped[str] = mapped_column(String(400), server_default="")


class OneTimePurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret
    SIGN_IN = "sign_in"  # a magic link for invited judges/mentors who have no password


class OneTimeToken(IdMixin, Base):
    """Single-use tokens (email verification, password reset): hashed, short-lived, superseded
    by a newer one of the same purpose."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('verify_email', 'reset_password', 'sign_in')", name="purpose_valid"
        ),
        Index("ix_one_time_tokens_user_id_purpose", "user_id", "purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[OneTimePurpose] = mapped_column(EnumText(OneTimePurpose, 32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthIdentity(IdMixin, Base):
    """A provider account linked to a user. `linked_while_unproven`: linked while the user's
    email was not confirmed, so removed once the inbox holder proves it (`accounts.ownership`)."""

    __tablename__ = "oauth_identities"
    __table_args__ = (
        Index("uq_oauth_identities_provider_subject", "provider", "subject", unique=True),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320), server_default="")
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    linked_while_unproven: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
