"""All ORM classes, one module per aggregate."""

from hackops.models.audit import AuditEntry
from hackops.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, new_id
from hackops.models.event import (
    Award,
    Event,
    EventMode,
    EventRole,
    EventRoleGrant,
    Track,
    Visibility,
)
from hackops.models.mail import OutboundEmail
from hackops.models.membership import ROLE_RANK, Invitation, Membership, OrgRole
from hackops.models.organization import Organization
from hackops.models.registration import SEATED, Registration, RegistrationStatus
from hackops.models.task import PRIORITY_RANK, Task, TaskPriority, TaskStatus
from hackops.models.team import JoinRequest, Team, TeamInvitation, TeamMember, TeamRole
from hackops.models.user import (
    AuthToken,
    OAuthIdentity,
    OneTimePurpose,
    OneTimeToken,
    TokenKind,
    User,
)

#: Tables that carry org_id: row-level security applies to each (a catalog test checks).
TENANT_TABLES = (
    "org_memberships",
    "org_invitations",
    "audit_log",
    "events",
    "event_tracks",
    "event_awards",
    "event_roles",
    "registrations",
    "teams",
    "team_members",
    "team_invitations",
    "team_join_requests",
    "tasks",
)

__all__ = [
    "PRIORITY_RANK",
    "ROLE_RANK",
    "SEATED",
    "TENANT_TABLES",
    "AuditEntry",
    "AuthToken",
    "Award",
    "Base",
    "Event",
    "EventMode",
    "EventRole",
    "EventRoleGrant",
    "IdMixin",
    "Invitation",
    "JoinRequest",
    "Membership",
    "OAuthIdentity",
    "OneTimePurpose",
    "OneTimeToken",
    "OrgRole",
    "Organization",
    "OutboundEmail",
    "Registration",
    "RegistrationStatus",
    "SoftDeleteMixin",
    "Task",
    "TaskPriority",
    "TaskStatus",
    "Team",
    "TeamInvitation",
    "TeamMember",
    "TeamRole",
    "TimestampMixin",
    "TokenKind",
    "Track",
    "User",
    "Visibility",
    "new_id",
]
