"""Events through the API: create, edit, windows, plan limit, lifecycle actions, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Organization, Team, TeamMember, User
from tests.accounts.helpers import bearer, verified_user
from tests.events.helpers import load_event, make_event, org_with_staff, publish
from tests.factories import create_registration, create_team, create_user
from tests.helpers import frozen_time

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
WINDOWS = {
    "registration_opens_at": T0.isoformat(),
    "registration_closes_at": (T0 + timedelta(days=2)).isoformat(),
    "starts_at": (T0 + timedelta(days=3)).isoformat(),
    "submissions_close_at": (T0 + timedelta(days=5)).isoformat(),
    "grace_minutes": 15,
    "judging_closes_at": (T0 + timedelta(days=8)).isoformat(),
}


async def test_create_and_read_an_event(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await org_with_staff(session, "acme")
    created = await make_event(
        client,
        org,
        "spring-hack",
        name="Spring Hack",
        tagline="48 hours",
        description="**Build** things <script>alert(1)</script> [site](https://example.org)",
        mode="hybrid",
        venue="Hall 1",
        timezone="Europe/Berlin",
        capacity=100,
        waitlist_enabled=False,
        team_min=2,
        team_max=4,
        visibility="unlisted",
        allowed_email_domains=[" @Uni.EDU ", "uni.edu", "Example.ORG"],
        questions=[
            {"id": "diet", "kind": "choice", "label": "Diet", "options": ["none", "vegan"]},
            {"id": "coc", "kind": "checkbox", "label": "I accept", "required": True},
        ],
        **WINDOWS,
    )
    assert created["org_slug"] == "acme"
    assert created["state"] == "draft"
    assert created["registration_open"] is False
    assert created["allowed_email_domains"] == ["uni.edu", "example.org"]
    assert created["registered_count"] == 0
    assert created["questions"][0]["options"] == ["none", "vegan"]
    html = created["description_html"]
    assert "<strong>Build</strong>" in html
    assert "<script>" not in html
    assert 'href="https://example.org"' in html
    assert "nofollow" in html
    got = await client.get(org.events("/spring-hack"), headers=org.owner)
    assert got.status_code == 200
    assert got.json()["name"] == "Spring Hack"
    assert got.json()["starts_at"] == "2030-03-04T09:00:00Z"

    taken = await client.post(
        org.events(), headers=org.organizer, json={"slug": "spring-hack", "name": "Again"}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "event_slug_taken"
    listed = await client.get(org.events(), headers=org.organizer)
    assert [e["slug"] for e in listed.json()] == ["spring-hack"]
    # Plain members list what they can open: not the draft.
    assert (await client.get(org.events(), headers=org.member)).json() == []


async def test_who_may_create_and_edit(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await org_with_staff(session, "acme")
    denied = await client.post(org.events(), headers=org.member, json={"slug": "x", "name": "X"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "insufficient_role"
    stranger = bearer(await verified_user(client, session, "stranger@example.com"))
    hidden = await client.post(org.events(), headers=stranger, json={"slug": "x", "name": "X"})
    assert hidden.status_code == 404
    assert (await client.get(org.events(), headers=stranger)).status_code == 404

    await make_event(client, org)
    # A draft is invisible to members without a role, strangers and anonymous visitors.
    for headers in (org.member, stranger, {}):
        response = await client.get(org.events("/hack"), headers=headers)
        assert response.status_code == 404, headers
        assert response.json()["error"]["code"] == "event_not_found"
        patch = await client.patch(org.events("/hack"), headers=headers, json={"name": "Mine"})
        assert patch.status_code == 404
    assert (await client.get(org.events("/hack"), headers=org.owner)).status_code == 200


async def test_visibility_after_publishing(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await org_with_staff(session, "acme")
    await make_event(client, org, "open", visibility="public")
    await make_event(client, org, "link", visibility="unlisted")
    await make_event(client, org, "closed", visibility="private")
    for slug in ("open", "link", "closed"):
        await publish(client, org, slug)
    assert (await client.get(org.events("/open"))).status_code == 200
    assert (await client.get(org.events("/link"))).status_code == 200
    assert (await client.get(org.events("/closed"))).status_code == 404
    # Private: the organization's members see it (and may register); strangers do not.
    assert (await client.get(org.events("/closed"), headers=org.member)).status_code == 200
    # A person registered for the private event sees it.
    guest_token = await verified_user(client, session, "guest@example.com")
    guest = await session.scalar(select(User).where(User.email == "guest@example.com"))
    event = await load_event(session, "closed")
    assert guest is not None
    await create_registration(session, event, guest)
    assert (await client.get(org.events("/closed"), headers=bearer(guest_token))).status_code == 200


async def test_impossible_windows_are_rejected_naming_the_fields(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await org_with_staff(session, "acme")
    bad = await client.post(
        org.events(),
        headers=org.organizer,
        json={
            "slug": "bad",
            "name": "Bad",
            "registration_opens_at": "2030-03-10T00:00:00Z",
            "registration_closes_at": "2030-03-01T00:00:00Z",
            "starts_at": "2030-03-05T00:00:00Z",
            "submissions_close_at": "2030-03-04T00:00:00Z",
        },
    )
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["code"] == "invalid_windows"
    fields = {d["field"] for d in body["details"]}
    assert fields == {"registration_closes_at", "starts_at", "submissions_close_at"}

    naive = await client.post(
        org.events(),
        headers=org.organizer,
        json={"slug": "naive", "name": "N", "starts_at": "2030-03-05T00:00:00"},
    )
    assert naive.status_code == 422
    assert naive.json()["error"]["details"][0]["field"] == "body.starts_at"

    await make_event(client, org, **WINDOWS)
    # A patch is checked against the event as it would become.
    earlier = await client.patch(
        org.events("/hack"),
        headers=org.organizer,
        json={"submissions_close_at": (T0 + timedelta(days=3)).isoformat()},
    )
    assert earlier.status_code == 422
    assert [d["field"] for d in earlier.json()["error"]["details"]] == ["submissions_close_at"]
    grace = await client.patch(
        org.events("/hack"), headers=org.organizer, json={"grace_minutes": 1440}
    )
    assert grace.status_code == 200  # judging closes a week later
    judging = await client.patch(
        org.events("/hack"),
        headers=org.organizer,
        json={"judging_closes_at": (T0 + timedelta(days=5, hours=12)).isoformat()},
    )
    assert judging.status_code == 422
    assert judging.json()["error"]["details"][0]["field"] == "judging_closes_at"
    cleared = await client.patch(
        org.events("/hack"),
        headers=org.organizer,
        json={"starts_at": None, "registration_opens_at": None},
    )
    assert cleared.status_code == 200
    assert cleared.json()["starts_at"] is None

    for patch, field in (
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"team_min": 6}, "team_max"),
        ({"mode": "in_person"}, "venue"),
        ({"allowed_email_domains": ["not a domain"]}, "body.allowed_email_domains"),
        ({"name": None}, "body.name"),
        ({"capacity": -1}, "body.capacity"),
        ({"starts_at": "1999-12-31T00:00:00Z"}, "body.starts_at"),
        ({"questions": [{"id": "q", "kind": "choice", "label": "Q"}]}, "body.questions.0"),
        (
            {
                "questions": [
                    {"id": "q", "kind": "text", "label": "Q"},
                    {"id": "q", "kind": "checkbox", "label": "R"},
                ]
            },
            "body.questions",
        ),
        ({"registered_count": 0}, "body.registered_count"),
    ):
        response = await client.patch(org.events("/hack"), headers=org.organizer, json=patch)
        assert response.status_code == 422, (patch, response.text)
        assert response.json()["error"]["details"][0]["field"] == field, (patch, response.text)


async def test_plan_limits_active_events(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await org_with_staff(session, "acme")
    record = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert record is not None
    assert record.max_active_events == 3
    for n in range(3):
        await make_event(client, org, f"e{n}")
    refused = await client.post(
        org.events(), headers=org.organizer, json={"slug": "e3", "name": "E"}
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "event_limit_reached"
    assert error["message"] == (
        "Acme has reached its plan's limit: 3 active events (plan “free”), and 3 are active now"
        " — drafts and published events count until they are archived. To create another,"
        " archive an event that is over, or ask a platform administrator to raise the limit"
        " (they run “hackops admin plan acme --max-active-events <number>”, or use PATCH"
        " /api/v1/admin/organizations/acme)."
    )
    assert error["details"] == {
        "plan": "free",
        "max_active_events": 3,
        "active_events": 3,
        "raised_by": "a platform administrator",
        "raise_with": "hackops admin plan acme --max-active-events <number>",
    }
    archived = await client.post(org.events("/e0/archive"), headers=org.organizer)
    assert archived.json()["state"] == "archived"
    await make_event(client, org, "e3")


async def test_lifecycle_actions_and_states_with_frozen_time(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    # Sessions last 14 days: sign in the day before, so the tokens outlive the whole event.
    async with frozen_time(connection, T0 - timedelta(days=1)):
        org = await org_with_staff(session, "acme")

    async def state_at(moment: datetime) -> tuple[str, bool]:
        async with frozen_time(connection, moment):
            body = (await client.get(org.events("/hack"), headers=org.organizer)).json()
        return body["state"], body["registration_open"]

    await make_event(client, org, **WINDOWS)
    assert await state_at(T0) == ("draft", False)
    async with frozen_time(connection, T0 - timedelta(hours=1)):
        published = await publish(client, org)
    assert published["published_at"] == "2030-03-01T08:00:00Z"
    again = await client.post(org.events("/hack/publish"), headers=org.organizer)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_published"

    closes = T0 + timedelta(days=2)
    deadline = T0 + timedelta(days=5, minutes=15)
    assert await state_at(T0 - timedelta(seconds=1)) == ("published", False)
    assert await state_at(T0) == ("registration_open", True)
    assert await state_at(closes - timedelta(seconds=1)) == ("registration_open", True)
    assert await state_at(closes) == ("published", False)
    assert await state_at(T0 + timedelta(days=3)) == ("running", False)
    assert await state_at(deadline - timedelta(seconds=1)) == ("running", False)
    assert await state_at(deadline) == ("judging", False)

    async with frozen_time(connection, deadline - timedelta(seconds=1)):
        early = await client.post(org.events("/hack/publish-results"), headers=org.organizer)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "results_too_early"
    async with frozen_time(connection, deadline + timedelta(days=1)):
        results = await client.post(org.events("/hack/publish-results"), headers=org.organizer)
    assert results.status_code == 200
    assert results.json()["state"] == "results_published"

    async with frozen_time(connection, deadline + timedelta(days=2)):
        archived = await client.post(org.events("/hack/archive"), headers=org.organizer)
        assert archived.json()["state"] == "archived"
        for path in ("/hack/archive", "/hack/publish"):
            refused = await client.post(org.events(path), headers=org.organizer)
            assert refused.status_code == 409
            assert refused.json()["error"]["code"] == "event_archived"
        edit = await client.patch(org.events("/hack"), headers=org.organizer, json={"name": "X"})
        assert edit.status_code == 409


async def test_unpublish_only_without_registrations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await org_with_staff(session, "acme")
    await make_event(client, org)
    draft = await client.post(org.events("/hack/unpublish"), headers=org.organizer)
    assert draft.status_code == 409
    assert draft.json()["error"]["code"] == "not_published"
    await publish(client, org)
    back = await client.post(org.events("/hack/unpublish"), headers=org.organizer)
    assert back.json()["state"] == "draft"
    await publish(client, org)
    event = await load_event(session, "hack")
    await create_registration(session, event, await create_user(session))
    refused = await client.post(org.events("/hack/unpublish"), headers=org.organizer)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "event_has_registrations"


async def test_capacity_and_team_size_respect_what_exists(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await org_with_staff(session, "acme")
    await make_event(client, org, capacity=10, team_max=4)
    event = await load_event(session, "hack")
    people = [await create_user(session) for _ in range(3)]
    for person in people:
        await create_registration(session, event, person)
    team = await create_team(session, event, people[0])
    for person in people[1:]:
        session.add(
            TeamMember(org_id=event.org_id, event_id=event.id, team_id=team.id, user_id=person.id)
        )
    await session.flush()

    low = await client.patch(org.events("/hack"), headers=org.organizer, json={"capacity": 2})
    assert low.status_code == 409
    assert low.json()["error"]["code"] == "capacity_below_registered"
    ok = await client.patch(org.events("/hack"), headers=org.organizer, json={"capacity": 3})
    assert ok.json()["capacity"] == 3
    unlimited = await client.patch(
        org.events("/hack"), headers=org.organizer, json={"capacity": None}
    )
    assert unlimited.json()["capacity"] is None

    small = await client.patch(org.events("/hack"), headers=org.organizer, json={"team_max": 2})
    assert small.status_code == 409
    assert small.json()["error"]["code"] == "team_max_below_members"
    bigger = await client.patch(org.events("/hack"), headers=org.organizer, json={"team_max": 6})
    assert bigger.json()["team_max"] == 6
    await session.refresh(team)
    assert team.max_members == 6
    exact = await client.patch(org.events("/hack"), headers=org.organizer, json={"team_max": 3})
    assert exact.status_code == 200
    assert await session.scalar(select(Team.max_members).where(Team.id == team.id)) == 3


async def test_tracks_and_awards(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await org_with_staff(session, "acme")
    await make_event(client, org)
    await make_event(client, org, "other")
    tracks = org.events("/hack/tracks")
    ai = await client.post(tracks, headers=org.organizer, json={"name": "AI", "position": 1})
    assert ai.status_code == 201
    hw = await client.post(tracks, headers=org.organizer, json={"name": "Hardware"})
    dup = await client.post(tracks, headers=org.organizer, json={"name": "ai"})
    assert dup.status_code == 409
    assert dup.json()["error"]["code"] == "track_name_taken"
    foreign = await client.post(
        org.events("/other/tracks"), headers=org.organizer, json={"name": "Elsewhere"}
    )
    listed = await client.get(tracks, headers=org.organizer)
    assert [t["name"] for t in listed.json()] == ["Hardware", "AI"]
    renamed = await client.patch(
        f"{tracks}/{ai.json()['id']}", headers=org.organizer, json={"name": "ML"}
    )
    assert renamed.json()["name"] == "ML"

    awards = org.events("/hack/awards")
    prize = await client.post(
        awards,
        headers=org.organizer,
        json={"name": "Best ML", "prize": "A robot", "track_id": ai.json()["id"]},
    )
    assert prize.status_code == 201
    assert prize.json()["track_id"] == ai.json()["id"]
    wrong = await client.post(
        awards, headers=org.organizer, json={"name": "X", "track_id": foreign.json()["id"]}
    )
    assert wrong.status_code == 404
    assert wrong.json()["error"]["code"] == "track_not_found"
    moved = await client.patch(
        f"{awards}/{prize.json()['id']}",
        headers=org.organizer,
        json={"track_id": hw.json()["id"]},
    )
    assert moved.json()["track_id"] == hw.json()["id"]
    detached = await client.patch(
        f"{awards}/{prize.json()['id']}", headers=org.organizer, json={"track_id": None}
    )
    assert detached.json()["track_id"] is None
    # Another event's award id is not found under this event.
    other_award = await client.post(
        org.events("/other/awards"), headers=org.organizer, json={"name": "Y"}
    )
    cross = await client.delete(f"{awards}/{other_award.json()['id']}", headers=org.organizer)
    assert cross.status_code == 404
    assert cross.json()["error"]["code"] == "award_not_found"
    # Members cannot change them; once published the public reads them.
    refused = await client.post(tracks, headers=org.member, json={"name": "Z"})
    assert refused.status_code == 404
    await publish(client, org)
    assert len((await client.get(tracks)).json()) == 2
    assert (await client.post(tracks, json={"name": "Z"})).status_code in (401, 404)
    assert (
        await client.delete(f"{tracks}/{hw.json()['id']}", headers=org.organizer)
    ).status_code == 204
    assert [a["name"] for a in (await client.get(awards)).json()] == ["Best ML"]


async def test_event_roles(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    org = await org_with_staff(session, "acme")
    await make_event(client, org)
    judge = bearer(await verified_user(client, session, "judge@example.com"))
    helper = bearer(await verified_user(client, session, "helper@example.com"))
    roles = org.events("/hack/roles")
    granted = await client.post(
        roles, headers=org.organizer, json={"email": " Judge@Example.com", "role": "judge"}
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["email"] == "judge@example.com"
    again = await client.post(
        roles, headers=org.organizer, json={"email": "judge@example.com", "role": "judge"}
    )
    assert again.status_code == 409
    unknown = await client.post(
        roles, headers=org.organizer, json={"email": "nobody@example.com", "role": "mentor"}
    )
    # No account: an invitation instead (tests/events/test_role_invitations.py).
    assert unknown.status_code == 202, unknown.text
    assert (unknown.json()["email"], unknown.json()["status"]) == ("nobody@example.com", "invited")
    helper_grant = await client.post(
        roles, headers=org.owner, json={"email": "helper@example.com", "role": "organizer"}
    )
    assert helper_grant.status_code == 201

    # The judge sees the draft and is refused (403) its organizer side.
    assert (await client.get(org.events("/hack"), headers=judge)).status_code == 200
    patch = await client.patch(org.events("/hack"), headers=judge, json={"name": "Mine"})
    assert patch.status_code == 403
    assert patch.json()["error"]["code"] == "not_an_organizer"
    # An event organizer edits the event but cannot hand out roles.
    edited = await client.patch(org.events("/hack"), headers=helper, json={"name": "Ours"})
    assert edited.status_code == 200
    handout = await client.post(
        roles, headers=helper, json={"email": "member@acme.example.com", "role": "mentor"}
    )
    assert handout.status_code == 403
    assert handout.json()["error"]["code"] == "insufficient_role"
    listed = await client.get(roles, headers=helper)
    assert sorted((g["role"], g["email"]) for g in listed.json()) == [
        ("judge", "judge@example.com"),
        ("organizer", "helper@example.com"),
    ]
    revoked = await client.delete(f"{roles}/{granted.json()['id']}", headers=org.organizer)
    assert revoked.status_code == 204
    assert (await client.get(org.events("/hack"), headers=judge)).status_code == 404


async def test_submission_and_voting_settings(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    org = await org_with_staff(session, "subs")
    await make_event(client, org, "hack")
    changed = await client.patch(
        org.events("/hack"),
        headers=org.owner,
        json={
            "file_max_bytes": 5_000_000,
            "file_max_count": 3,
            "file_types": ["pdf", "zip"],
            "late_submissions": True,
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["file_max_bytes"], body["file_types"], body["late_submissions"]) == (
        5_000_000,
        ["pdf", "zip"],
        True,
    )
    for bad in ({"file_types": ["exe"]}, {"file_types": []}, {"file_max_count": None}):
        assert (
            await client.patch(org.events("/hack"), headers=org.owner, json=bad)
        ).status_code == 422
    backwards = await client.patch(
        org.events("/hack"),
        headers=org.owner,
        json={
            "voting_opens_at": "2030-01-02T00:00:00Z",
            "voting_closes_at": "2030-01-01T00:00:00Z",
        },
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["details"][0]["field"] == "voting_closes_at"
