"""The catalogue of domain events: one pydantic schema per type, its version and its category.

A domain event says what happened, once, in the transaction of the change (`outbox.emit`). Its
payload holds ids and plain values only — never an email address, a token or free text a person
typed in confidence — because it leaves the platform: the organization's webhooks and its
RabbitMQ consumers receive exactly this JSON. What a person reads (titles, links, names) is
looked up by the fan-out when it runs (`hackops.notifications`).

Adding a type: declare a class here with `type`, `category` and (when its shape changes in a
way a consumer would notice) a new `version`; `docs/events.md` lists every type and
`tests/outbox/test_catalog.py` holds the list, the OpenAPI document shows every schema under
`webhooks`.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """The body of one domain event (`type`, `version` and `category` are class-level)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    version: ClassVar[int] = 1
    #: The preference category people choose channels for (`notifications.categories`).
    category: ClassVar[str]
    #: What the subject of the event is (`subject_type` of the row); its id is `subject_id()`.
    subject: ClassVar[str]
    summary: ClassVar[str] = ""

    def subject_id(self) -> uuid.UUID | None:
        value = getattr(self, f"{self.subject}_id", None)
        return value if isinstance(value, uuid.UUID) else None


# ── registrations ──────────────────────────────────────────────────────────────────────────


class RegistrationCreated(Payload):
    type = "registration.created"
    category = "registration"
    subject = "registration"
    summary = "A person registered for an event (seated or on the waitlist)."
    registration_id: uuid.UUID
    user_id: uuid.UUID
    status: Literal["registered", "waitlisted"]


class RegistrationPromoted(Payload):
    type = "registration.promoted"
    category = "registration"
    subject = "registration"
    summary = "A waitlisted person got a seat."
    registration_id: uuid.UUID
    user_id: uuid.UUID


class RegistrationCancelled(Payload):
    type = "registration.cancelled"
    category = "registration"
    subject = "registration"
    summary = "A registration was cancelled by its holder or removed by an organizer."
    registration_id: uuid.UUID
    user_id: uuid.UUID
    by_organizer: bool


class RegistrationCheckedIn(Payload):
    type = "registration.checked_in"
    category = "registration"
    subject = "registration"
    summary = "A registered person was checked in at the venue."
    registration_id: uuid.UUID
    user_id: uuid.UUID


class RegistrationCheckInUndone(Payload):
    type = "registration.check_in_undone"
    category = "registration"
    subject = "registration"
    summary = "An organizer undid a mistaken check-in: the person is registered, not checked in."
    registration_id: uuid.UUID
    user_id: uuid.UUID


class RegistrationRequested(Payload):
    type = "registration.requested"
    category = "registration"
    subject = "registration"
    summary = "A person asked to register for an event whose registrations need approval."
    registration_id: uuid.UUID
    user_id: uuid.UUID


class RegistrationApproved(Payload):
    type = "registration.approved"
    category = "registration"
    subject = "registration"
    summary = "An organizer approved a pending registration (a seat, or the waitlist when full)."
    registration_id: uuid.UUID
    user_id: uuid.UUID
    status: Literal["registered", "waitlisted"]


class RegistrationDeclined(Payload):
    type = "registration.declined"
    category = "registration"
    subject = "registration"
    summary = "An organizer declined a pending registration."
    registration_id: uuid.UUID
    user_id: uuid.UUID


# ── teams ──────────────────────────────────────────────────────────────────────────────────


class TeamInvitationSent(Payload):
    type = "team.invitation_sent"
    category = "team"
    subject = "team"
    summary = "A team invited a person (by account; invitations by address carry no account)."
    team_id: uuid.UUID
    invitation_id: uuid.UUID
    invited_user_id: uuid.UUID | None


class TeamMemberJoined(Payload):
    type = "team.member_joined"
    category = "team"
    subject = "team"
    summary = "A person joined a team (code, invitation, accepted request or creation)."
    team_id: uuid.UUID
    user_id: uuid.UUID
    #: How: `created` (the creator, its first member and captain), `code` (the team's join
    #: code), `invitation` (accepted), `request` (their join request, approved by the captain).
    via: Literal["created", "code", "invitation", "request"]


class TeamMemberLeft(Payload):
    type = "team.member_left"
    category = "team"
    subject = "team"
    summary = "A person left a team or was removed from it."
    team_id: uuid.UUID
    user_id: uuid.UUID
    #: Someone else took them out (the captain, an organizer removing their registration).
    removed: bool
    #: Why: `left` (they left), `removed` (the captain removed them), `registration_cancelled`
    #: (their registration was cancelled or removed), `disbanded` (the team was disbanded).
    reason: Literal["left", "removed", "registration_cancelled", "disbanded"]


# ── submissions ────────────────────────────────────────────────────────────────────────────


class SubmissionSubmitted(Payload):
    type = "submission.submitted"
    category = "submission"
    subject = "submission"
    summary = "A team submitted a new version of its project."
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version_id: uuid.UUID
    version_number: int
    #: Submitted after the deadline, accepted because the event allows late submissions.
    late: bool


class SubmissionProcessed(Payload):
    type = "submission.processed"
    category = "submission"
    subject = "submission"
    summary = "Every processing step of a submitted version finished (once per version)."
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version_id: uuid.UUID
    version_number: int


class SubmissionProcessingFailed(Payload):
    type = "submission.processing_failed"
    category = "submission"
    subject = "submission"
    summary = "A processing step of a submitted version failed for good (once per version)."
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version_id: uuid.UUID
    version_number: int
    step: Literal["validate_files", "extract_text", "fetch_links", "similarity"]


class SubmissionApproved(Payload):
    type = "submission.approved"
    category = "submission"
    subject = "submission"
    summary = "An organizer approved a submission."
    submission_id: uuid.UUID
    team_id: uuid.UUID


class SubmissionRejected(Payload):
    type = "submission.rejected"
    category = "submission"
    subject = "submission"
    summary = "An organizer rejected (or disqualified) a submission; the team sees the reason."
    submission_id: uuid.UUID
    team_id: uuid.UUID
    #: Disqualified rather than rejected (both need a reason, which the team reads on its page).
    disqualified: bool


# ── judging ────────────────────────────────────────────────────────────────────────────────


class JudgeAssigned(Payload):
    type = "judging.judge_assigned"
    category = "judging"
    subject = "judge"
    summary = "A judge was handed projects to review (an assignment run or a re-balance)."
    judge_id: uuid.UUID
    assigned: int


class EvaluationReminder(Payload):
    type = "judging.evaluation_reminder"
    category = "judging"
    subject = "judge"
    summary = "A judge still has unfinished evaluations (the daily judging reminder)."
    judge_id: uuid.UUID
    unfinished: int


class FlagRaised(Payload):
    type = "judging.flag_raised"
    category = "judging"
    subject = "flag"
    summary = "A judge flagged a project to the organizers."
    flag_id: uuid.UUID
    submission_id: uuid.UUID
    judge_id: uuid.UUID
    reason: Literal["broken", "code_of_conduct", "ineligible", "other"]


class FlagResolved(Payload):
    type = "judging.flag_resolved"
    category = "judging"
    subject = "flag"
    summary = "An organizer resolved a judge's flag (or the judge withdrew it)."
    flag_id: uuid.UUID
    submission_id: uuid.UUID
    judge_id: uuid.UUID
    #: The judge who raised it took it back (resolved by them, not by an organizer).
    withdrawn: bool


# ── results and communication ──────────────────────────────────────────────────────────────


class ResultsPublished(Payload):
    type = "results.published"
    category = "results"
    subject = "event"
    summary = "The organizers published an event's results."
    event_id: uuid.UUID


class AnnouncementSent(Payload):
    type = "announcement.sent"
    category = "announcements"
    subject = "announcement"
    summary = "An organizer's announcement went out to its audience."
    announcement_id: uuid.UUID
    audience: str
    channels: list[str]


class ReminderDue(Payload):
    type = "reminder.due"
    category = "reminders"
    subject = "event"
    summary = "A scheduled reminder of an event fell due (registration, submission, results)."
    event_id: uuid.UUID
    kind: str


class WebhookTest(Payload):
    type = "webhook.test"
    category = "system"
    subject = "endpoint"
    summary = "A test event sent to one webhook endpoint from its page."
    endpoint_id: uuid.UUID


CATALOG: dict[str, type[Payload]] = {
    cls.type: cls
    for cls in (
        RegistrationCreated,
        RegistrationPromoted,
        RegistrationCancelled,
        RegistrationCheckedIn,
        RegistrationCheckInUndone,
        RegistrationRequested,
        RegistrationApproved,
        RegistrationDeclined,
        TeamInvitationSent,
        TeamMemberJoined,
        TeamMemberLeft,
        SubmissionSubmitted,
        SubmissionProcessed,
        SubmissionProcessingFailed,
        SubmissionApproved,
        SubmissionRejected,
        JudgeAssigned,
        EvaluationReminder,
        FlagRaised,
        FlagResolved,
        ResultsPublished,
        AnnouncementSent,
        ReminderDue,
        WebhookTest,
    )
}


def parse(type_: str, payload: dict[str, Any]) -> Payload:
    """The typed payload of a stored event (its class from the catalogue)."""
    return CATALOG[type_].model_validate(payload)
