"""Plain async factories, one per model: `create_<model>(session, parents…, **overrides)`.

Each creates one row with sensible defaults and flushes it (the database checks it at once);
any parent not given is created too, so every factory works with the session alone. Tenant
rows set the session's tenant to their organization. `MODEL_FACTORIES` names the factory of
each mapped class (tests/test_factories.py holds it to every model).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hackops.models import (
    Announcement,
    AnnouncementRecipient,
    AuditEntry,
    AuthToken,
    Award,
    AwardWinner,
    Criterion,
    DuplicateFlag,
    Evaluation,
    EvaluationHistory,
    Event,
    EventReminders,
    EventResult,
    EventRoleGrant,
    EventRoleInvitation,
    IdempotencyKey,
    Invitation,
    JoinRequest,
    JudgeAssignment,
    JudgeConflict,
    JudgingChange,
    JudgingFlag,
    JudgingVersion,
    LinkCheck,
    Membership,
    Notification,
    NotificationDigestItem,
    NotificationPreference,
    OAuthIdentity,
    OneTimeToken,
    Organization,
    OutboundEmail,
    OutboxEvent,
    PairwiseCurrent,
    PairwiseEntry,
    PipelineStep,
    PublicVote,
    Registration,
    ReminderClaim,
    Submission,
    SubmissionBand,
    SubmissionFile,
    SubmissionFingerprint,
    SubmissionVersion,
    Task,
    Team,
    TeamInvitation,
    TeamMember,
    Track,
    User,
    VersionText,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories.accounts import (
    create_auth_token,
    create_oauth_identity,
    create_one_time_token,
    create_user,
)
from tests.factories.announcements import (
    create_announcement,
    create_announcement_recipient,
    create_event_reminders,
    create_reminder_claim,
)
from tests.factories.events import (
    create_award,
    create_event,
    create_event_role,
    create_event_role_invitation,
    create_track,
)
from tests.factories.judging import (
    create_criterion,
    create_evaluation,
    create_evaluation_history,
    create_judge,
    create_judge_assignment,
    create_judge_conflict,
    create_judging_change,
    create_judging_flag,
    create_judging_version,
    create_pairwise_current,
    create_pairwise_entry,
    create_public_vote,
)
from tests.factories.notifications import create_notification_digest_item
from tests.factories.orgs import create_membership, create_org_invitation, create_organization
from tests.factories.outbox import (
    create_notification,
    create_notification_preference,
    create_outbox_event,
)
from tests.factories.platform import (
    create_audit_entry,
    create_idempotency_key,
    create_outbound_email,
)
from tests.factories.registrations import create_registration
from tests.factories.results import create_award_winner, create_event_result
from tests.factories.rows import add_in_savepoint
from tests.factories.submissions import (
    create_duplicate_flag,
    create_link_check,
    create_pipeline_step,
    create_submission,
    create_submission_band,
    create_submission_file,
    create_submission_fingerprint,
    create_submission_version,
    create_submitted,
    create_version_text,
)
from tests.factories.tasks import create_personal_task, create_task
from tests.factories.teams import (
    create_join_request,
    create_team,
    create_team_invitation,
    create_team_member,
)
from tests.factories.webhooks import (
    create_webhook_attempt,
    create_webhook_delivery,
    create_webhook_endpoint,
)

Factory = Callable[..., Awaitable[Any]]

MODEL_FACTORIES: dict[type[Any], Factory] = {
    # accounts
    User: create_user,
    AuthToken: create_auth_token,
    OneTimeToken: create_one_time_token,
    OAuthIdentity: create_oauth_identity,
    # organizations
    Organization: create_organization,
    Membership: create_membership,
    Invitation: create_org_invitation,
    # events
    Event: create_event,
    Track: create_track,
    Award: create_award,
    EventRoleGrant: create_event_role,
    EventRoleInvitation: create_event_role_invitation,
    # registrations, teams, tasks
    Registration: create_registration,
    Team: create_team,
    TeamMember: create_team_member,
    TeamInvitation: create_team_invitation,
    JoinRequest: create_join_request,
    Task: create_task,
    # submissions
    Submission: create_submission,
    SubmissionVersion: create_submission_version,
    SubmissionFile: create_submission_file,
    PipelineStep: create_pipeline_step,
    VersionText: create_version_text,
    LinkCheck: create_link_check,
    SubmissionFingerprint: create_submission_fingerprint,
    SubmissionBand: create_submission_band,
    DuplicateFlag: create_duplicate_flag,
    # judging, voting, results
    Criterion: create_criterion,
    JudgeConflict: create_judge_conflict,
    JudgeAssignment: create_judge_assignment,
    Evaluation: create_evaluation,
    EvaluationHistory: create_evaluation_history,
    JudgingVersion: create_judging_version,
    JudgingChange: create_judging_change,
    PairwiseEntry: create_pairwise_entry,
    PairwiseCurrent: create_pairwise_current,
    JudgingFlag: create_judging_flag,
    PublicVote: create_public_vote,
    AwardWinner: create_award_winner,
    EventResult: create_event_result,
    # mail, audit, idempotency
    OutboundEmail: create_outbound_email,
    AuditEntry: create_audit_entry,
    IdempotencyKey: create_idempotency_key,
    # communication
    OutboxEvent: create_outbox_event,
    Notification: create_notification,
    NotificationPreference: create_notification_preference,
    Announcement: create_announcement,
    AnnouncementRecipient: create_announcement_recipient,
    EventReminders: create_event_reminders,
    ReminderClaim: create_reminder_claim,
    # webhooks
    WebhookEndpoint: create_webhook_endpoint,
    WebhookDelivery: create_webhook_delivery,
    WebhookAttempt: create_webhook_attempt,
    NotificationDigestItem: create_notification_digest_item,
}

__all__ = [
    "MODEL_FACTORIES",
    "add_in_savepoint",
    "create_announcement",
    "create_announcement_recipient",
    "create_audit_entry",
    "create_auth_token",
    "create_award",
    "create_award_winner",
    "create_criterion",
    "create_duplicate_flag",
    "create_evaluation",
    "create_evaluation_history",
    "create_event",
    "create_event_reminders",
    "create_event_result",
    "create_event_role",
    "create_event_role_invitation",
    "create_idempotency_key",
    "create_join_request",
    "create_judge",
    "create_judge_assignment",
    "create_judge_conflict",
    "create_judging_change",
    "create_judging_flag",
    "create_judging_version",
    "create_link_check",
    "create_membership",
    "create_notification",
    "create_notification_digest_item",
    "create_notification_preference",
    "create_oauth_identity",
    "create_one_time_token",
    "create_org_invitation",
    "create_organization",
    "create_outbound_email",
    "create_outbox_event",
    "create_pairwise_current",
    "create_pairwise_entry",
    "create_personal_task",
    "create_pipeline_step",
    "create_public_vote",
    "create_registration",
    "create_reminder_claim",
    "create_submission",
    "create_submission_band",
    "create_submission_file",
    "create_submission_fingerprint",
    "create_submission_version",
    "create_submitted",
    "create_task",
    "create_team",
    "create_team_invitation",
    "create_team_member",
    "create_track",
    "create_user",
    "create_version_text",
    "create_webhook_attempt",
    "create_webhook_delivery",
    "create_webhook_endpoint",
]
