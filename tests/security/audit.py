"""Audit expectations: every write route of the API and the one audit action it records.

`test_audit_coverage.test_every_write_route_is_listed_with_its_audit_action` checks this list
against the OpenAPI document. Scenario tests call routes through `Recorder`, which asserts that
each call adds exactly the listed row, and then that they covered the routes they own.
"""

from __future__ import annotations

from typing import Any

import httpx2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

TEAM_TASKS = "/api/v1/organizations/{slug}/events/{event_slug}/teams/{team_id}/tasks"

EVENT = "/api/v1/organizations/{slug}/events/{event_slug}"
TEAM = EVENT + "/teams/{team_id}"
WEBHOOKS = "/api/v1/organizations/{slug}/webhooks"

AUDITED: dict[tuple[str, str], str] = {
    ("post", "/api/v1/auth/register"): "user.registered",
    ("post", "/api/v1/auth/verify-email"): "user.email_verified",
    ("post", "/api/v1/auth/token"): "session_token.created",
    ("post", "/api/v1/auth/logout"): "session_token.revoked",
    ("post", "/api/v1/auth/verify-email/resend"): "user.verification_requested",
    ("post", "/api/v1/auth/password-reset"): "user.password_reset_requested",
    ("post", "/api/v1/auth/password-reset/confirm"): "user.password_reset",
    ("patch", "/api/v1/me"): "user.profile_updated",
    ("post", "/api/v1/me/password"): "user.password_changed",
    ("post", "/api/v1/me/email"): "user.email_changed",
    ("post", "/api/v1/me/delete"): "user.deleted",
    ("post", "/api/v1/me/tokens"): "api_token.created",
    ("delete", "/api/v1/me/tokens/{token_id}"): "api_token.revoked",
    ("delete", "/api/v1/me/sessions/{token_id}"): "session_token.revoked",
    ("delete", "/api/v1/me/identities/{identity_id}"): "identity.unlinked",
    # The notification centre (tests/notifications/test_audit.py).
    ("post", "/api/v1/me/notifications/{notification_id}/read"): "notification.read",
    ("post", "/api/v1/me/notifications/read-all"): "notifications.read_all",
    ("put", "/api/v1/me/notification-preferences"): "notification_preferences.updated",
    ("post", "/api/v1/organizations"): "organization.created",
    ("patch", "/api/v1/organizations/{slug}"): "organization.updated",
    ("post", "/api/v1/organizations/{slug}/invitations"): "invitation.created",
    ("delete", "/api/v1/organizations/{slug}/invitations/{invitation_id}"): "invitation.revoked",
    ("patch", "/api/v1/organizations/{slug}/members/{user_id}"): "membership.role_changed",
    ("delete", "/api/v1/organizations/{slug}/members/{user_id}"): "membership.removed",
    ("post", "/api/v1/invitations/accept"): "invitation.accepted",
    ("patch", "/api/v1/admin/organizations/{slug}"): "organization.plan_changed",
    ("post", "/api/v1/admin/users/{user_id}/disable"): "user.disabled",
    # An organization's webhooks (tests/webhooks/test_audit.py).
    ("post", WEBHOOKS): "webhook_endpoint.created",
    ("patch", WEBHOOKS + "/{endpoint_id}"): "webhook_endpoint.updated",
    ("delete", WEBHOOKS + "/{endpoint_id}"): "webhook_endpoint.deleted",
    ("post", WEBHOOKS + "/{endpoint_id}/rotate-secret"): "webhook_endpoint.secret_rotated",
    ("post", WEBHOOKS + "/{endpoint_id}/test"): "webhook_endpoint.test_sent",
    ("post", WEBHOOKS + "/{endpoint_id}/deliveries/{delivery_id}/redeliver"): (
        "webhook_delivery.redelivered"
    ),
    # Events, their tracks, awards and roles (tests/events/test_audit.py).
    ("post", "/api/v1/organizations/{slug}/events"): "event.created",
    ("patch", EVENT): "event.updated",
    ("post", EVENT + "/publish"): "event.published",
    ("post", EVENT + "/unpublish"): "event.unpublished",
    ("post", EVENT + "/publish-results"): "event.results_published",
    ("post", EVENT + "/archive"): "event.archived",
    ("post", EVENT + "/tracks"): "track.created",
    ("patch", EVENT + "/tracks/{track_id}"): "track.updated",
    ("delete", EVENT + "/tracks/{track_id}"): "track.deleted",
    ("post", EVENT + "/awards"): "award.created",
    ("patch", EVENT + "/awards/{award_id}"): "award.updated",
    ("delete", EVENT + "/awards/{award_id}"): "award.deleted",
    # An event's schedule (tests/events/test_schedule.py).
    ("post", EVENT + "/schedule"): "schedule_item.created",
    ("patch", EVENT + "/schedule/{schedule_item_id}"): "schedule_item.updated",
    ("delete", EVENT + "/schedule/{schedule_item_id}"): "schedule_item.deleted",
    # For an address without an account, POST /roles invites instead (202,
    # "event_role_invitation.created"); granting or revoking a judge after the assignment has run
    # adds the re-balance's "judging.assigned" (tests/judging/test_rebalance.py).
    ("post", EVENT + "/roles"): "event_role.granted",
    ("delete", EVENT + "/roles/{grant_id}"): "event_role.revoked",
    # Role invitations (tests/events/test_role_invitations.py). Accepting without being signed
    # in also writes "user.registered" (a new account) and "session_token.created".
    ("delete", EVENT + "/role-invitations/{invitation_id}"): "event_role_invitation.revoked",
    ("post", EVENT + "/role-invitations/{invitation_id}/resend"): "event_role_invitation.resent",
    ("post", "/api/v1/events/invitations/accept"): "event_role_invitation.accepted",
    # Task boards: a team's board and my own list (tests/tasks/test_audit.py).
    ("post", TEAM_TASKS): "task.created",
    ("patch", TEAM_TASKS + "/{task_id}"): "task.updated",
    ("delete", TEAM_TASKS + "/{task_id}"): "task.deleted",
    ("post", TEAM_TASKS + "/{task_id}/move"): "task.moved",
    ("post", "/api/v1/me/tasks"): "task.created",
    ("patch", "/api/v1/me/tasks/{task_id}"): "task.updated",
    ("delete", "/api/v1/me/tasks/{task_id}"): "task.deleted",
    ("post", "/api/v1/me/tasks/{task_id}/move"): "task.moved",
    # Teams and the team finder (tests/teams/test_audit.py).
    ("post", EVENT + "/teams"): "team.created",
    ("post", EVENT + "/teams/join"): "team_member.joined",
    ("post", EVENT + "/team-invitations/accept"): "team_invitation.accepted",
    ("post", EVENT + "/team-invitations/decline"): "team_invitation.declined",
    ("patch", TEAM): "team.updated",
    ("post", TEAM + "/leave"): "team_member.left",
    ("post", TEAM + "/captain"): "team.captain_transferred",
    ("post", TEAM + "/disband"): "team.disbanded",
    ("delete", TEAM + "/members/{user_id}"): "team_member.removed",
    ("post", TEAM + "/invitations"): "team_invitation.created",
    ("delete", TEAM + "/invitations/{invitation_id}"): "team_invitation.revoked",
    ("post", TEAM + "/join-requests"): "join_request.created",
    ("post", TEAM + "/join-requests/{request_id}/approve"): "join_request.approved",
    ("post", TEAM + "/join-requests/{request_id}/decline"): "join_request.declined",
    ("delete", TEAM + "/join-requests/{request_id}"): "join_request.withdrawn",
    ("patch", EVENT + "/finder/me"): "registration.finder_updated",
    # Registrations and check-in (tests/registrations/test_audit.py).
    ("post", EVENT + "/registrations"): "registration.created",
    ("post", EVENT + "/registrations/me/cancel"): "registration.cancelled",
    ("delete", EVENT + "/registrations/{registration_id}"): "registration.removed",
    ("post", EVENT + "/registrations/import"): "registration.imported",
    ("post", EVENT + "/checkin"): "registration.checked_in",
    ("post", EVENT + "/registrations/{registration_id}/checkin"): "registration.checked_in",
    (
        "post",
        EVENT + "/registrations/{registration_id}/undo-checkin",
    ): "registration.check_in_undone",
    ("post", EVENT + "/registrations/{registration_id}/promote"): "registration.promoted",
    ("post", EVENT + "/registrations/{registration_id}/approve"): "registration.approved",
    ("post", EVENT + "/registrations/{registration_id}/decline"): "registration.declined",
    # Submissions (tests/submissions/test_audit.py).
    ("patch", TEAM + "/submission"): "submission.updated",
    ("post", TEAM + "/submission/submit"): "submission.submitted",
    ("post", TEAM + "/submission/files"): "submission_file.added",
    ("delete", TEAM + "/submission/files/{file_id}"): "submission_file.removed",
    ("patch", TEAM + "/submission/files/{file_id}"): "submission_file.visibility_changed",
    ("post", TEAM + "/submission/files/{file_id}/link"): "submission_file.link_issued",
    ("post", EVENT + "/submissions/{submission_id}/decision"): "submission.decided",
    ("post", EVENT + "/submissions/decisions"): "submission.decided",
    ("post", EVENT + "/submissions/{submission_id}/reopen"): "submission.reopened",
    ("post", EVENT + "/submissions/{submission_id}/pipeline/{step}/rerun"): (
        "submission.pipeline_rerun"
    ),
    ("post", EVENT + "/duplicate-flags/{flag_id}/decision"): "duplicate_flag.decided",
    ("post", EVENT + "/gallery/open"): "event.gallery_opened",
    ("post", EVENT + "/gallery/close"): "event.gallery_closed",
    # Judging (tests/judging/test_api.py).
    ("post", EVENT + "/criteria"): "criterion.created",
    ("patch", EVENT + "/criteria/{criterion_id}"): "criterion.updated",
    ("delete", EVENT + "/criteria/{criterion_id}"): "criterion.deleted",
    ("post", EVENT + "/judging/conflicts"): "judge_conflict.declared",
    ("post", EVENT + "/judging/assignments"): "judging.assigned",
    ("put", EVENT + "/judging/submissions/{submission_id}/evaluation"): "evaluation.saved",
    ("put", EVENT + "/results/awards/{award_id}/winners"): "award_winners.picked",
    ("post", EVENT + "/judging/pairwise/vote"): "pairwise.compared",
    ("post", EVENT + "/judging/pairwise/skip"): "pairwise.skipped",
    ("post", EVENT + "/judging/pairwise/undo"): "pairwise.undone",
    ("post", EVENT + "/votes"): "vote.cast",
    # Judges' flags to the organizers (tests/judging/test_flags.py).
    ("post", EVENT + "/judging/submissions/{submission_id}/flags"): "judging_flag.created",
    ("post", EVENT + "/judging/flags/{flag_id}/resolve"): "judging_flag.resolved",
    ("post", EVENT + "/judging/flags/{flag_id}/withdraw"): "judging_flag.withdrawn",
    # Announcements and reminders (tests/announcements/test_audit.py). A scheduled one that goes
    # out adds the job's "announcement.sent" (no actor).
    ("post", EVENT + "/announcements"): "announcement.created",
    ("patch", EVENT + "/announcements/{announcement_id}"): "announcement.updated",
    ("post", EVENT + "/announcements/{announcement_id}/send"): "announcement.sent",
    ("post", EVENT + "/announcements/{announcement_id}/schedule"): "announcement.scheduled",
    ("post", EVENT + "/announcements/{announcement_id}/cancel"): "announcement.cancelled",
    ("put", EVENT + "/reminders"): "event_reminders.updated",
}


def owned_by(
    prefixes: tuple[str, ...],
    *,
    excluding: tuple[str, ...] = ("/events", "/tasks", "/me/notification", "/webhooks"),
) -> set[tuple[str, str]]:
    """The listed routes under `prefixes` (and not under another scenario's `excluding`)."""
    return {
        key
        for key in AUDITED
        if key[1].startswith(prefixes) and not any(part in key[1] for part in excluding)
    }


class Recorder:
    def __init__(self, client: httpx2.AsyncClient, connection: AsyncConnection) -> None:
        self.client = client
        self.connection = connection
        self.covered: set[tuple[str, str]] = set()

    async def audit_actions(self) -> list[str]:
        await self.connection.execute(
            text("SELECT set_config('hackops.platform_admin', 'on', true)")
        )
        rows = (
            await self.connection.execute(
                text("SELECT action FROM audit_log ORDER BY created_at, id")
            )
        ).scalars()
        actions = list(rows)
        await self.connection.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
        return actions

    async def call(
        self,
        method: str,
        template: str,
        url: str | None = None,
        *,
        expect: str | None = None,
        **kwargs: Any,
    ) -> httpx2.Response:
        """Call `template` (at `url`); exactly one audit row, the listed action, must appear."""
        listed = AUDITED.get((method.lower(), template))
        assert listed is not None, f"{method} {template} is not in tests/security/audit.py"
        assert expect is None or expect == listed, (expect, listed)
        expect = listed
        before = await self.audit_actions()
        response = await self.client.request(method, url or template, **kwargs)
        assert 200 <= response.status_code < 300, (method, template, response.text)
        after = await self.audit_actions()
        added = after[len(before) :]
        assert added == [expect], (method, template, added)
        self.covered.add((method.lower(), template))
        return response
