"""The isolation matrix: with every role of organization A, every API route that takes an id is
called with organization B's ids. Nothing succeeds, everything is 404, and B is unchanged.

The route list comes from the OpenAPI document, so a new route joins the matrix by itself (and
the test fails until it knows how to fill the route's ids and body).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Event
from tests.accounts.helpers import bearer
from tests.security.world import ROLES, Tenant, build_tenant, example

#: Routes whose {slug} is public by design (an organization's public profile and its public
#: events: tests/events/test_showcase.py shows they carry nothing unpublished or private).
PUBLIC = {
    ("get", "/api/v1/organizations/{slug}"),
    ("get", "/api/v1/organizations/{slug}/public-events"),
}
#: Routes that take a signed capability instead of an id: whoever holds a valid link may use it
#: until it expires (tests/submissions/test_file_links.py covers forged, expired and foreign ones).
CAPABILITY = {("get", "/api/v1/files/{token}")}
#: Platform-admin routes: refused (403) to everyone else, whatever the id.
PLATFORM_ADMIN_PREFIX = "/api/v1/admin/"


def fill(path: str, tenant: Tenant, role: str) -> str:
    ids = {
        "slug": tenant.slug,
        "user_id": tenant.user_ids["member"],
        "invitation_id": tenant.invitation_id,
        "token_id": tenant.session_ids[role],
        "identity_id": tenant.identity_id,
        "event_slug": tenant.event_slug,
        "track_id": tenant.track_id,
        "award_id": tenant.award_id,
        "schedule_item_id": tenant.schedule_item_id,
        "grant_id": tenant.grant_id,
        "team_id": tenant.team_id,
        "task_id": tenant.task_id,
        "request_id": tenant.join_request_id,
        "registration_id": tenant.registration_id,
        "submission_id": tenant.submission_id,
        "file_id": tenant.file_id,
        "flag_id": tenant.flag_id,
        "criterion_id": tenant.criterion_id,
        "announcement_id": tenant.announcement_id,
        "notification_id": tenant.notification_id,
        "endpoint_id": tenant.endpoint_id,
        "delivery_id": tenant.delivery_id,
        "step": "validate_files",
        "fmt": "json",
        "dataset": "registrations",
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"the isolation matrix does not know how to fill {{{name}}} in {path}"
        return ids[name]

    return re.sub(r"\{(\w+)\}", one, path)


async def call(
    client: httpx2.AsyncClient,
    method: str,
    url: str,
    op: dict[str, Any],
    components: dict[str, Any],
    headers: dict[str, str],
) -> httpx2.Response:
    """Call a route with a small valid body: JSON from its schema, or a tiny PDF upload."""
    content = op.get("requestBody", {}).get("content", {})
    kwargs: dict[str, Any] = {}
    if "application/json" in content:
        kwargs["json"] = example(content["application/json"]["schema"], components)
    elif "application/octet-stream" in content:
        kwargs["content"] = b"%PDF-1.4\n%%EOF\n"
        kwargs["params"] = {"name": "mine.pdf"}
    return await client.request(method.upper(), url, headers=headers, **kwargs)


async def snapshot(connection: AsyncConnection, slug: str) -> list[Any]:
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = await connection.execute(
        text(
            """
            SELECT 'org', o.name || o.plan || o.branding::text FROM organizations o
              WHERE o.slug = :s
            UNION ALL
            SELECT 'member', m.user_id::text || m.role FROM org_memberships m
              JOIN organizations o ON o.id = m.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'invitation', i.id::text || coalesce(i.revoked_at::text, '')
              FROM org_invitations i JOIN organizations o ON o.id = i.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'token', t.id::text || coalesce(t.revoked_at::text, '') FROM auth_tokens t
              JOIN org_memberships m ON m.user_id = t.user_id
              JOIN organizations o ON o.id = m.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'event', e.id::text || coalesce(e.gallery_opened_at::text, '') FROM events e
              JOIN organizations o ON o.id = e.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'submission', x.id::text || x.status || x.version_count || x.title
                   || coalesce(x.reopened_until::text, '') || x.decision_reason
              FROM submissions x JOIN organizations o ON o.id = x.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'file', f.id::text || coalesce(f.deleted_at::text, '') FROM submission_files f
              JOIN organizations o ON o.id = f.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'flag', d.id::text || d.status FROM duplicate_flags d
              JOIN organizations o ON o.id = d.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'step', p.id::text || p.state || p.attempts FROM pipeline_steps p
              JOIN organizations o ON o.id = p.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'announcement', x.id::text || x.status || x.title FROM announcements x
              JOIN organizations o ON o.id = x.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'schedule', x.id::text || x.title || x.starts_at::text FROM schedule_items x
              JOIN organizations o ON o.id = x.org_id WHERE o.slug = :s
            UNION ALL
            SELECT 'jobs', count(*)::text FROM procrastinate_jobs j
              JOIN organizations o ON o.id::text = j.args->>'org_id' WHERE o.slug = :s
            UNION ALL
            SELECT 'audit', count(*)::text FROM audit_log a
              JOIN organizations o ON o.id = a.org_id WHERE o.slug = :s
            ORDER BY 1, 2
            """
        ),
        {"s": slug},
    )
    result = [tuple(r) for r in rows]
    await connection.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    return result


async def test_no_role_of_a_reaches_anything_of_b(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, app: Any
) -> None:
    a = await build_tenant(client, session, "tenant-a")
    b = await build_tenant(client, session, "tenant-b")
    before = await snapshot(connection, b.slug)
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    routes = [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "{" in path and (method, path) not in PUBLIC | CAPABILITY
    ]
    assert len(routes) >= 9

    outcomes: list[tuple[str, str, str, int]] = []
    for role in ROLES:
        for method, path, op in routes:
            url = fill(path, b, role)  # B's slug, B's people, B's sessions, tokens, identities
            body = None
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content:
                body = example(content["schema"], components)
            response = await client.request(
                method.upper(), url, headers=bearer(a.tokens[role]), json=body
            )
            outcomes.append((role, method.upper(), url, response.status_code))
            expected = 403 if path.startswith(PLATFORM_ADMIN_PREFIX) else 404
            assert response.status_code == expected, (role, method, url, response.text)
            if expected == 404:
                assert response.json()["error"]["code"].endswith("not_found"), response.text
        # Mixed: A's own slug with B's child ids.
        for method, path, op in routes:
            if "{slug}" not in path or path.count("{") < 2:
                continue
            url = fill(path, b, role).replace(f"/{b.slug}/", f"/{a.slug}/")
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            body = example(content["schema"], components) if content else None
            response = await client.request(
                method.upper(), url, headers=bearer(a.tokens[role]), json=body
            )
            assert response.status_code in (403, 404), (role, method, url, response.text)
            if role in ("owner", "admin"):
                assert response.status_code == 404, (role, method, url, response.text)

    assert not [o for o in outcomes if 200 <= o[3] < 300]
    assert await snapshot(connection, b.slug) == before


async def test_outsiders_of_a_team_reach_none_of_its_submission_routes(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, app: Any
) -> None:
    """A participant of the same event in another team, and an anonymous visitor, on every
    submission route filled with the team's own ids: 404 (401 for the visitor), nothing
    changes. Organizers of other organizations are in the matrix above."""
    b = await build_tenant(client, session, "tenant-sub")
    # Published and open, so that the event itself lets everyone in: the team's and the
    # organizers' own checks are what is under test.
    await session.execute(
        update(Event)
        .where(Event.slug == b.event_slug)
        .values(published_at=datetime.now(UTC) - timedelta(days=1), visibility="public")
    )
    team_view = fill(
        "/api/v1/organizations/{slug}/events/{event_slug}/teams/{team_id}/submission", b, "member"
    )
    organizer_view = fill(
        "/api/v1/organizations/{slug}/events/{event_slug}/submissions/{submission_id}",
        b,
        "organizer",
    )
    # The ids are right: the team and the organization's organizer do reach them.
    mine = await client.get(team_view, headers=bearer(b.tokens["member"]))
    assert mine.status_code == 200, mine.text
    assert (
        await client.get(organizer_view, headers=bearer(b.tokens["organizer"]))
    ).status_code == 200
    before = await snapshot(connection, b.slug)
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    routes = [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "submissions" in op.get("tags", []) and (method, path) not in CAPABILITY
    ]
    assert len(routes) >= 20
    for who, headers in (("rival", bearer(b.rival_token)), ("anonymous", {})):
        for method, path, op in routes:
            url = fill(path, b, "member")
            response = await call(client, method, url, op, components, headers)
            allowed = (404,) if who == "rival" else (401, 404)
            assert response.status_code in allowed, (who, method, url, response.text)
            if response.status_code == 404:
                assert response.json()["error"]["code"].endswith("not_found"), response.text
    assert await snapshot(connection, b.slug) == before


#: Path parameters naming the team's work: a route taking one of them is in the judges' matrix.
TEAM_WORK = ("{team_id}", "{submission_id}", "{file_id}")
#: Refusals a judge of the event may get instead of 404: organizer routes answer 403 to staff
#: before reading any id (they know the event has an organizer side; nothing about the team).
STAFF_REFUSALS = {"not_an_organizer"}


async def test_judges_reach_only_what_they_judge(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, app: Any
) -> None:
    """A judge sees the latest submitted version of what is handed to them, never the working
    copy, never a file that was not submitted. A judge with a declared conflict with the team
    (its assignment row still 'assigned') and a judge of another event of the organization get
    404 from every route that takes the team's ids (and the team list), and nothing changes."""
    b = await build_tenant(client, session, "tenant-judge")
    await session.execute(
        update(Event)
        .where(Event.slug == b.event_slug)
        .values(published_at=datetime.now(UTC) - timedelta(days=1), visibility="public")
    )
    judge = bearer(b.judge_tokens["judge"])
    team_url = fill("/api/v1/organizations/{slug}/events/{event_slug}/teams/{team_id}", b, "member")
    seen = await client.get(team_url + "/submission", headers=judge)
    assert seen.status_code == 200, seen.text
    assert seen.json()["title"] == "tenant-judge greenhouse"  # the version, not the draft
    assert [f["id"] for f in seen.json()["files"]] == [b.file_id]
    versions = await client.get(team_url + "/submission/versions", headers=judge)
    assert [v["number"] for v in versions.json()] == [1]
    files = team_url + "/submission/files"
    assert (await client.post(f"{files}/{b.file_id}/link", headers=judge)).status_code == 200
    unsubmitted = await client.post(f"{files}/{b.draft_file_id}/link", headers=judge)
    assert (unsubmitted.status_code, unsubmitted.json()["error"]["code"]) == (
        404,
        "file_not_found",
    )
    assert (await client.get(team_url, headers=judge)).status_code == 200
    # The team's members still see their working copy.
    mine = await client.get(team_url + "/submission", headers=bearer(b.tokens["member"]))
    assert mine.json()["title"] == "tenant-judge greenhouse (unsubmitted draft)"

    before = await snapshot(connection, b.slug)
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    routes = [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if (any(p in path for p in TEAM_WORK) or (method, path[-6:]) == ("get", "/teams"))
        and (method, path) not in CAPABILITY
    ]
    assert len(routes) >= 40
    outcomes = []
    for who in ("conflicted", "elsewhere"):
        headers = bearer(b.judge_tokens[who])
        for method, path, op in routes:
            url = fill(path, b, "member")
            response = await call(client, method, url, op, components, headers)
            outcomes.append((who, method.upper(), url, response.status_code))
            error = response.json().get("error", {}) if response.content else {}
            if who == "conflicted" and error.get("code") in STAFF_REFUSALS:
                assert response.status_code == 403, (who, method, url, response.text)
                continue
            assert response.status_code == 404, (who, method, url, response.text)
            # A public route's own 404 before publishing says so (everyone gets it alike).
            code = error["code"].replace("results_not_published", "not_found")
            assert code.endswith("not_found"), (who, method, url, response.text)
    assert not [o for o in outcomes if 200 <= o[3] < 300]
    assert await snapshot(connection, b.slug) == before
