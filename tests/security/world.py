"""Two organizations, each with a person in every role, a pending invitation and sign-in tokens:
the world the isolation and audit tests run in. Built through the real API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Criterion,
    DuplicateFlag,
    Event,
    EventRoleGrant,
    JoinRequest,
    JudgeAssignment,
    JudgeConflict,
    OAuthIdentity,
    Organization,
    Registration,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
    Task,
    Team,
    TeamMember,
    User,
)
from hackops.submissions.intake.service import file_entry
from hackops.submissions.pipeline.tasks import start_pipeline
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer, verified_user
from tests.factories import (
    create_announcement,
    create_event,
    create_notification,
    create_registration,
    create_team,
    create_webhook_delivery,
    create_webhook_endpoint,
)
from tests.orgs.test_members import create_org, invite_and_join
from tests.people import person

ROLES = ("owner", "admin", "organizer", "member")


@dataclass
class Tenant:
    slug: str
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    user_ids: dict[str, str] = field(default_factory=dict)  # role -> user id
    invitation_id: str = ""
    session_ids: dict[str, str] = field(default_factory=dict)  # role -> a session token id
    api_token_ids: dict[str, str] = field(default_factory=dict)
    identity_id: str = ""
    event_slug: str = ""
    team_id: str = ""  # a team of the member's, on event_slug
    task_id: str = ""  # a task on that team's board
    join_request_id: str = ""  # the admin's pending request to join that team
    track_id: str = ""  # a track, an award and a role (the admin mentors) of event_slug
    award_id: str = ""
    schedule_item_id: str = ""  # an item of event_slug's schedule
    grant_id: str = ""
    registration_id: str = ""  # the member's registration for event_slug
    submission_id: str = ""  # the team's submission (one version, its pipeline steps, a file)
    file_id: str = ""
    flag_id: str = ""  # a duplicate flag between the team's submission and the rival's
    criterion_id: str = ""  # a judging criterion of event_slug
    rival_token: str = ""  # a participant of event_slug in another team (not an org member)
    # Judges (not org members): "judge" has the team's submission in their queue; "conflicted"
    # too, but declared a conflict with the team; "elsewhere" judges another event of the org.
    judge_tokens: dict[str, str] = field(default_factory=dict)
    draft_file_id: str = ""  # a file added to the working copy after the submitted version
    announcement_id: str = ""  # an organizer's draft announcement of event_slug
    notification_id: str = ""  # an unread in-app notification of the member
    endpoint_id: str = ""  # a webhook endpoint of the organization
    delivery_id: str = ""  # a pending delivery to it


async def build_tenant(client: httpx2.AsyncClient, session: AsyncSession, slug: str) -> Tenant:
    tenant = Tenant(slug=slug)
    owner = await verified_user(client, session, f"owner@{slug}.example.com")
    await create_org(client, owner, slug)
    tenant.tokens["owner"] = owner
    for role in ROLES[1:]:
        tenant.tokens[role] = await invite_and_join(
            client, session, owner, slug, f"{role}@{slug}.example.com", role
        )
    members = (
        await client.get(f"/api/v1/organizations/{slug}/members", headers=bearer(owner))
    ).json()
    tenant.user_ids = {m["role"]: m["user_id"] for m in members}
    invited = await client.post(
        f"/api/v1/organizations/{slug}/invitations",
        headers=bearer(owner),
        json={"email": f"pending@{slug}.example.com", "role": "member"},
    )
    tenant.invitation_id = invited.json()["id"]
    for role, token in tenant.tokens.items():
        sessions = (await client.get("/api/v1/me/sessions", headers=bearer(token))).json()
        tenant.session_ids[role] = sessions[0]["id"]
        created = await client.post(
            "/api/v1/me/tokens",
            headers=bearer(token),
            json={"name": f"{role}-token", "scopes": ["read", "write"]},
        )
        tenant.api_token_ids[role] = created.json()["id"]
    identity = OAuthIdentity(
        user_id=uuid.UUID(tenant.user_ids["member"]),
        provider="github",
        subject=f"gh-{slug}",
        email=f"member@{slug}.example.com",
    )
    session.add(identity)
    await session.flush()
    tenant.identity_id = str(identity.id)
    await add_event(client, tenant)
    await add_team_with_task(session, tenant)
    await add_join_request(session, tenant)
    await note_registration(session, tenant)
    await add_submissions(session, tenant)
    await add_judges(session, tenant)
    await add_notification(session, tenant)
    await add_webhook(session, tenant)
    return tenant


async def add_webhook(session: AsyncSession, tenant: Tenant) -> None:
    """A webhook endpoint of the organization and a pending delivery to it."""
    org = await session.scalar(select(Organization).where(Organization.slug == tenant.slug))
    assert org is not None
    endpoint = await create_webhook_endpoint(session, org)
    delivery = await create_webhook_delivery(session, endpoint)
    tenant.endpoint_id, tenant.delivery_id = str(endpoint.id), str(delivery.id)


async def add_notification(session: AsyncSession, tenant: Tenant) -> None:
    """An unread notification of the member, about the organization's event."""
    member = await session.get(User, uuid.UUID(tenant.user_ids["member"]))
    assert member is not None
    org = await session.scalar(select(Organization).where(Organization.slug == tenant.slug))
    assert org is not None
    note = await create_notification(session, member, org_id=org.id, title="Room change")
    tenant.notification_id = str(note.id)


async def add_event(client: httpx2.AsyncClient, tenant: Tenant) -> None:
    """A draft event (through the API) with a track, an award for it and a mentor role."""
    owner = bearer(tenant.tokens["owner"])
    base = f"/api/v1/organizations/{tenant.slug}/events"
    created = await client.post(
        base, headers=owner, json={"slug": f"{tenant.slug}-hack", "name": "Hack", "capacity": 50}
    )
    assert created.status_code == 201, created.text
    tenant.event_slug = created.json()["slug"]
    event = f"{base}/{tenant.event_slug}"
    track = await client.post(f"{event}/tracks", headers=owner, json={"name": "AI"})
    tenant.track_id = track.json()["id"]
    award = await client.post(
        f"{event}/awards", headers=owner, json={"name": "Best AI", "track_id": tenant.track_id}
    )
    tenant.award_id = award.json()["id"]
    item = await client.post(
        f"{event}/schedule",
        headers=owner,
        json={"title": "Opening", "starts_at": "2030-03-01T09:00:00+00:00", "kind": "talk"},
    )
    assert item.status_code == 201, item.text
    tenant.schedule_item_id = item.json()["id"]
    grant = await client.post(
        f"{event}/roles",
        headers=owner,
        json={"email": f"admin@{tenant.slug}.example.com", "role": "mentor"},
    )
    assert grant.status_code == 201, grant.text
    tenant.grant_id = grant.json()["id"]


async def add_team_with_task(session: AsyncSession, tenant: Tenant) -> None:
    """The member registers for the tenant's event (a draft is created when there is none), forms
    a team and puts a task on its board (database rows: the paths under test only read them).
    tests/tasks/test_access.py covers outsiders who pass the event's own check."""
    org = await session.scalar(select(Organization).where(Organization.slug == tenant.slug))
    assert org is not None
    await set_tenant(session, org.id)
    event = None
    if tenant.event_slug:
        event = await session.scalar(
            select(Event).where(Event.org_id == org.id, Event.slug == tenant.event_slug)
        )
    if event is None:
        # A draft: the event's own public routes stay out of this (they list what is public).
        event = await create_event(session, org, slug=f"{tenant.slug}-hack")
        tenant.event_slug = event.slug
    member = await _registered(session, event, tenant.user_ids["member"])
    team = await create_team(session, event, member)
    # The owner is on the team too: a board only answers its members, and the mass-assignment
    # test (as the owner) must get past that to reach the body.
    owner = await _registered(session, event, tenant.user_ids["owner"])
    session.add(TeamMember(org_id=org.id, event_id=event.id, team_id=team.id, user_id=owner.id))
    task = Task(
        org_id=org.id,
        team_id=team.id,
        title=f"{tenant.slug} secret plan",
        position=1024,
        created_by_id=member.id,
    )
    session.add(task)
    await session.flush()
    tenant.team_id, tenant.task_id = str(team.id), str(task.id)


async def _registered(session: AsyncSession, event: Event, user_id: str) -> User:
    """The user, registered for `event` (a registration is added when there is none)."""
    user = await session.get(User, uuid.UUID(user_id))
    assert user is not None
    registered = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event.id, Registration.user_id == user.id
        )
    )
    if registered is None:
        await create_registration(session, event, user)
    return user


async def add_join_request(session: AsyncSession, tenant: Tenant) -> None:
    """The admin registers for the team's event and asks to join the team (pending)."""
    team = await session.get(Team, uuid.UUID(tenant.team_id))
    assert team is not None
    admin = uuid.UUID(tenant.user_ids["admin"])
    event = await session.get(Event, team.event_id)
    assert event is not None
    registered = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == event.id, Registration.user_id == admin
        )
    )
    if registered is None:
        await create_registration(session, event, await session.get_one(User, admin))
    request = JoinRequest(
        org_id=team.org_id, event_id=team.event_id, team_id=team.id, user_id=admin
    )
    session.add(request)
    await session.flush()
    tenant.join_request_id = str(request.id)


async def note_registration(session: AsyncSession, tenant: Tenant) -> None:
    """The member's registration for the tenant's event (made with the team above)."""
    registration = await session.scalar(
        select(Registration.id)
        .join(Event, Event.id == Registration.event_id)
        .join(Organization, Organization.id == Event.org_id)
        .where(
            Organization.slug == tenant.slug,
            Event.slug == tenant.event_slug,
            Registration.user_id == uuid.UUID(tenant.user_ids["member"]),
        )
    )
    assert registration is not None
    tenant.registration_id = str(registration)


async def add_submissions(session: AsyncSession, tenant: Tenant) -> None:
    """The team's submitted project (a version with its pipeline steps and job, a file), a rival
    team of the same event with its own submission, an open duplicate flag between the two, and
    a judging criterion (database rows: the routes under test only read or change them)."""
    team = await session.get_one(Team, uuid.UUID(tenant.team_id))
    event = await session.get_one(Event, team.event_id)
    await set_tenant(session, team.org_id)
    rival, tenant.rival_token = await person(session, email=f"rival@{tenant.slug}.example.com")
    await create_registration(session, event, rival)
    rival_team = await create_team(session, event, rival)
    ours = await _submitted(session, team, f"{tenant.slug} greenhouse")
    theirs = await _submitted(session, rival_team, f"{tenant.slug} greenhouse again")
    file = SubmissionFile(
        org_id=team.org_id,
        event_id=event.id,
        team_id=team.id,
        submission_id=ours.id,
        storage_key=f"org/{team.org_id}/event/{event.id}/team/{team.id}/{uuid.uuid4()}",
        name="pitch.pdf",
        content_type="application/pdf",
        kind="pdf",
        size=1234,
        sha256="0" * 64,
    )
    flag = DuplicateFlag(
        org_id=team.org_id,
        event_id=event.id,
        submission_id=ours.id,
        other_submission_id=theirs.id,
        kind="text",
        score=0.93,
    )
    criterion = Criterion(org_id=team.org_id, event_id=event.id, name="Impact")
    session.add_all([file, flag, criterion])
    await session.flush()
    tenant.submission_id, tenant.file_id = str(ours.id), str(file.id)
    tenant.flag_id, tenant.criterion_id = str(flag.id), str(criterion.id)
    tenant.announcement_id = str((await create_announcement(session, event)).id)


async def add_judges(session: AsyncSession, tenant: Tenant) -> None:
    """Three judges, none an org member. `judge` has the team's submission in their queue;
    `conflicted` too (the assignment row is still 'assigned': the declared conflict must win
    by itself); `elsewhere` judges another event of the organization. The version holds the
    team's file; afterwards the working copy moves on (a new title, a file not submitted)."""
    team = await session.get_one(Team, uuid.UUID(tenant.team_id))
    event = await session.get_one(Event, team.event_id)
    org = await session.get_one(Organization, team.org_id)
    submission = await session.get_one(Submission, uuid.UUID(tenant.submission_id))
    version = await session.get_one(SubmissionVersion, submission.latest_version_id)
    file = await session.get_one(SubmissionFile, uuid.UUID(tenant.file_id))
    version.files = [file_entry(file)]
    submission.title = f"{submission.title} (unsubmitted draft)"
    draft = SubmissionFile(
        org_id=team.org_id,
        event_id=event.id,
        team_id=team.id,
        submission_id=submission.id,
        storage_key=f"org/{team.org_id}/event/{event.id}/team/{team.id}/{uuid.uuid4()}",
        name="draft-notes.pdf",
        content_type="application/pdf",
        kind="pdf",
        size=99,
        sha256="1" * 64,
    )
    session.add(draft)
    other = await create_event(session, org, slug=f"{tenant.slug}-other")
    for name, judged in (("judge", event), ("conflicted", event), ("elsewhere", other)):
        user, tenant.judge_tokens[name] = await person(
            session, email=f"{name}-judge@{tenant.slug}.example.com"
        )
        session.add(
            EventRoleGrant(org_id=org.id, event_id=judged.id, user_id=user.id, role="judge")
        )
        if judged is event:
            session.add(
                JudgeAssignment(
                    org_id=org.id, event_id=event.id, judge_id=user.id, submission_id=submission.id
                )
            )
        if name == "conflicted":
            session.add(
                JudgeConflict(
                    org_id=org.id,
                    event_id=event.id,
                    judge_id=user.id,
                    team_id=team.id,
                    source="judge",
                    reason="my cousin's team",
                )
            )
    await session.flush()
    tenant.draft_file_id = str(draft.id)


async def _submitted(session: AsyncSession, team: Team, title: str) -> Submission:
    submission = Submission(
        org_id=team.org_id,
        event_id=team.event_id,
        team_id=team.id,
        title=title,
        status=SubmissionStatus.SUBMITTED.value,
    )
    session.add(submission)
    await session.flush()
    version = SubmissionVersion(
        org_id=team.org_id,
        event_id=team.event_id,
        submission_id=submission.id,
        number=1,
        snapshot={"title": title},
    )
    session.add(version)
    await session.flush()
    submission.version_count, submission.latest_version_id = 1, version.id
    await start_pipeline(session, version)
    await session.flush()
    return submission


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A small valid value for a JSON schema (required fields only)."""
    if "$ref" in schema:
        return example(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return example(options[0], components)
    if "enum" in schema:
        return schema["enum"][-1]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: example(prop, components)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [example(schema["items"], components)] * schema.get("minItems", 1)
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    return "someone@example.com" if "email" in schema.get("title", "").lower() else "x"
