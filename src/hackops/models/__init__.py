"""All ORM classes, one module per aggregate."""

from hackops.models.audit import AuditEntry
from hackops.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, new_id
from hackops.models.mail import OutboundEmail
from hackops.models.membership import ROLE_RANK, Invitation, Membership, OrgRole
from hackops.models.organization import Organization
from hackops.models.user import (
    AuthToken,
    OAuthIdentity,
    OneTimePurpose,
    OneTimeToken,
    TokenKind,
    User,
)

#: Tables that carry org_id: row-level security applies to each (a catalog test checks).
TENANT_TABLES = ("org_memberships", "org_invitations", "audit_log")

__all__ = [
    "ROLE_RANK",
    "TENANT_TABLES",
    "AuditEntry",
    "AuthToken",
    "Base",
    "IdMixin",
    "Invitation",
    "Membership",
    "OAuthIdentity",
    "OneTimePurpose",
    "OneTimeToken",
    "OrgRole",
    "Organization",
    "OutboundEmail",
    "SoftDeleteMixin",
    "TimestampMixin",
    "TokenKind",
    "User",
    "new_id",
]
