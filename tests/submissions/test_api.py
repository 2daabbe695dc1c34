"""Submissions through the API: the working copy, files, submit and versions, deadlines, who sees
what, organizer decisions, reopening, the gallery; each refusal with its status and code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import PipelineStep, Submission, SubmissionVersion, Team
from tests.factories import create_team, create_team_member
from tests.helpers import frozen_time
from tests.submissions.filehelpers import pdf_bytes, png_bytes
from tests.teams.helpers import Stage, stage

NOW = datetime.now(UTC)
CLOSES = NOW + timedelta(days=1)
WINDOWS = {
    "registration_opens_at": NOW - timedelta(days=10),
    "starts_at": NOW - timedelta(days=1),
    "submissions_close_at": CLOSES,
}


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def scene(session: AsyncSession, **event_values: object) -> tuple[Stage, Team, str]:
    """alice (captain) and bob in a team; carol registered elsewhere; olga organizes."""
    s = await stage(session, **{**WINDOWS, **event_values})
    team = await create_team(session, s.event, s.users["alice"])
    await create_team_member(session, team, s.users["bob"])
    return s, team, s.team_url(team.id, "/submission")


async def fill(client: httpx2.AsyncClient, s: Stage, url: str, who: str = "alice") -> None:
    body = {
        "title": "Greenhouse",
        "tagline": "Plants that text you",
        "description": "# Hello\n\n<script>x</script> **bold**",
        "repository_url": "https://github.com/acme/greenhouse",
        "technologies": ["Python", "python", "Rust"],
    }
    response = await client.patch(url, headers=s.auth(who), json=body)
    assert response.status_code == 200, response.text


async def test_a_member_drafts_and_the_team_submits_numbered_versions(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session)
    missing = await client.get(url, headers=s.auth("alice"))
    assert (missing.status_code, code(missing)) == (404, "submission_not_found")
    await fill(client, s, url, who="bob")
    draft = (await client.get(url, headers=s.auth("alice"))).json()
    assert draft["status"] == "draft"
    assert draft["technologies"] == ["python", "rust"]
    assert "<script>" not in draft["description_html"]
    assert "<strong>bold</strong>" in draft["description_html"]

    first = await client.post(url + "/submit", headers=s.auth("alice"))
    assert first.status_code == 201, first.text
    assert first.json()["number"] == 1
    assert first.json()["snapshot"]["title"] == "Greenhouse"
    await client.patch(url, headers=s.auth("bob"), json={"title": "Greenhouse 2"})
    second = await client.post(url + "/submit", headers=s.auth("bob"))
    assert second.json()["number"] == 2
    versions = (await client.get(url + "/versions", headers=s.auth("alice"))).json()
    assert [(v["number"], v["latest"], v["snapshot"]["title"]) for v in versions] == [
        (2, True, "Greenhouse 2"),
        (1, False, "Greenhouse"),
    ]
    submission = (await client.get(url, headers=s.auth("alice"))).json()
    assert submission["status"] == "submitted"
    assert submission["version_count"] == 2
    assert submission["latest_version_id"] == second.json()["id"]
    steps = await session.scalars(
        select(PipelineStep.step).where(PipelineStep.version_id == uuid.UUID(second.json()["id"]))
    )
    assert sorted(steps) == ["extract_text", "fetch_links", "similarity", "validate_files"]


async def test_bad_input_is_refused_with_clear_errors(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session)
    for body in (
        {"repository_url": "javascript:alert(1)"},
        {"demo_url": "ftp://example.com/x"},
        {"video_url": "https://user:pw@example.com/"},
        {"title": "x" * 201},
        {"status": "approved"},
        {"team_id": str(uuid.uuid4())},
    ):
        response = await client.patch(url, headers=s.auth("alice"), json=body)
        assert response.status_code == 422, body
    unknown = await client.patch(
        url, headers=s.auth("alice"), json={"track_ids": [str(uuid.uuid4())]}
    )
    assert (unknown.status_code, code(unknown)) == (409, "unknown_track")
    untitled = await client.post(url + "/submit", headers=s.auth("alice"))
    assert (untitled.status_code, code(untitled)) == (409, "title_required")
    assert await session.scalar(select(func.count()).select_from(SubmissionVersion)) == 0


async def test_who_sees_a_submission(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s, _, url = await scene(session)
    await fill(client, s, url)
    for who in ("alice", "bob", "olga"):
        assert (await client.get(url, headers=s.auth(who))).status_code == 200, who
    for who in ("carol", "otto", "walt", "anonymous"):
        hidden = await client.get(url, headers=s.auth(who))
        assert hidden.status_code == 404, who
        edit = await client.patch(url, headers=s.auth(who), json={"title": "Mine"})
        assert edit.status_code in (401, 404), who
    olga_edit = await client.patch(url, headers=s.auth("olga"), json={"title": "Organizer's"})
    assert olga_edit.status_code == 404  # organizers review; they do not write the project


async def test_deadline_from_the_database_clock(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, url = await scene(session, grace_minutes=5)
    await fill(client, s, url)
    grace_end = CLOSES + timedelta(minutes=5)
    async with frozen_time(connection, grace_end - timedelta(seconds=1)):
        on_time = await client.post(url + "/submit", headers=s.auth("alice"))
        assert on_time.status_code == 201, on_time.text
        assert on_time.json()["late"] is False
    async with frozen_time(connection, grace_end + timedelta(seconds=1)):
        late = await client.post(url + "/submit", headers=s.auth("alice"))
        assert (late.status_code, code(late)) == (409, "submissions_closed")
        edit = await client.patch(url, headers=s.auth("alice"), json={"title": "Later"})
        assert (edit.status_code, code(edit)) == (409, "submissions_closed")


async def test_late_submissions_are_accepted_and_flagged_when_the_event_allows(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, url = await scene(session, late_submissions=True)
    await fill(client, s, url)
    async with frozen_time(connection, CLOSES + timedelta(seconds=1)):
        late = await client.post(url + "/submit", headers=s.auth("alice"))
        assert late.status_code == 201, late.text
        assert late.json()["late"] is True
    assert (await client.get(url, headers=s.auth("alice"))).json()["late"] is True


async def test_files_upload_download_and_refusals(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session, file_max_bytes=200_000, file_max_count=2)
    pdf = pdf_bytes()
    uploaded = await client.post(
        url + "/files", params={"name": "pitch.pdf"}, headers=s.auth("alice"), content=pdf
    )
    assert uploaded.status_code == 201, uploaded.text
    file = uploaded.json()
    assert (file["kind"], file["size"], file["name"]) == ("pdf", len(pdf), "pitch.pdf")
    stored = await session.scalar(select(Submission).where(Submission.team_id == team.id))
    assert stored is not None

    renamed = await client.post(
        url + "/files", params={"name": "logo.pdf"}, headers=s.auth("alice"), content=png_bytes()
    )
    assert (renamed.status_code, code(renamed)) == (422, "type_mismatch")
    too_big = await client.post(
        url + "/files",
        params={"name": "big.pdf"},
        headers=s.auth("alice"),
        content=b"%PDF-" + b"0" * 200_000,
    )
    assert (too_big.status_code, code(too_big)) == (413, "file_too_large")
    outsider = await client.post(
        url + "/files", params={"name": "x.pdf"}, headers=s.auth("carol"), content=pdf
    )
    assert outsider.status_code == 404

    weird = 'a\r\nb\x00"; filename=evil.exe' + "é" * 10 + ".png"
    second = await client.post(
        url + "/files", params={"name": weird}, headers=s.auth("bob"), content=png_bytes()
    )
    assert second.status_code == 201, second.text
    assert "\r" not in second.json()["name"]
    assert "\x00" not in second.json()["name"]
    third = await client.post(
        url + "/files", params={"name": "c.png"}, headers=s.auth("bob"), content=png_bytes()
    )
    assert (third.status_code, code(third)) == (409, "too_many_files")

    link = await client.post(url + f"/files/{second.json()['id']}/link", headers=s.auth("olga"))
    assert link.status_code == 200, link.text
    download = await client.get(link.json()["url"])
    assert download.status_code == 200
    assert download.content == png_bytes()
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert (
        await client.post(url + f"/files/{file['id']}/link", headers=s.auth("carol"))
    ).status_code == 404
    forged = await client.get(link.json()["url"][:-3] + "abc")
    assert (forged.status_code, code(forged)) == (404, "link_invalid")

    removed = await client.delete(url + f"/files/{file['id']}", headers=s.auth("alice"))
    assert removed.status_code == 204
    listed = (await client.get(url, headers=s.auth("alice"))).json()["files"]
    assert [f["id"] for f in listed] == [second.json()["id"]]


async def test_organizers_review_decide_reopen_and_open_the_gallery(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    await fill(client, s, url)
    upload = await client.post(
        url + "/files", params={"name": "pitch.pdf"}, headers=s.auth("alice"), content=pdf_bytes()
    )
    file_id = upload.json()["id"]
    draft_id = (await client.get(url, headers=s.auth("alice"))).json()["id"]
    queue = f"{s.base}/submissions"
    assert (await client.get(queue, headers=s.auth("olga"))).json()["items"] == []
    not_yet = await client.post(
        f"{queue}/{draft_id}/decision", headers=s.auth("olga"), json={"status": "approved"}
    )
    assert (not_yet.status_code, code(not_yet)) == (409, "not_submitted")
    await client.post(url + "/submit", headers=s.auth("alice"))
    items = (await client.get(queue, headers=s.auth("olga"))).json()["items"]
    assert [(i["id"], i["status"], i["team_name"]) for i in items] == [
        (draft_id, "submitted", team.name)
    ]
    for who in ("alice", "carol", "anonymous"):
        assert (await client.get(queue, headers=s.auth(who))).status_code == 404, who

    no_reason = await client.post(
        f"{queue}/{draft_id}/decision", headers=s.auth("olga"), json={"status": "rejected"}
    )
    assert (no_reason.status_code, code(no_reason)) == (409, "reason_required")
    rejected = await client.post(
        f"{queue}/{draft_id}/decision",
        headers=s.auth("olga"),
        json={"status": "rejected", "reason": "No demo"},
    )
    assert rejected.json()["status"] == "rejected"
    seen = (await client.get(url, headers=s.auth("bob"))).json()
    assert (seen["status"], seen["decision_reason"]) == ("rejected", "No demo")
    locked = await client.patch(url, headers=s.auth("alice"), json={"title": "Fixed"})
    assert (locked.status_code, code(locked)) == (409, "submission_locked")

    reopened = await client.post(f"{queue}/{draft_id}/reopen", headers=s.auth("olga"), json={})
    assert reopened.json()["status"] == "draft"
    assert (
        await client.patch(url, headers=s.auth("alice"), json={"title": "Fixed"})
    ).status_code == 200
    await client.post(url + "/submit", headers=s.auth("alice"))
    bulk = await client.post(
        f"{queue}/decisions",
        headers=s.auth("olga"),
        json={"submission_ids": [draft_id], "status": "approved"},
    )
    assert bulk.json() == {"updated": 1}

    gallery = f"{s.base}/gallery"
    closed = await client.get(gallery)
    assert (closed.status_code, code(closed)) == (404, "gallery_not_found")
    assert (await client.post(f"{gallery}/open", headers=s.auth("olga"))).status_code == 204
    public = (await client.get(gallery, params={"q": "fixed"})).json()["items"]
    assert [p["title"] for p in public] == ["Fixed"]
    project = await client.get(f"{gallery}/{draft_id}")
    assert project.json()["members"] == ["Alice", "Bob"]
    assert project.json()["files"] == []  # files are private until the team shows them
    shown = await client.patch(
        url + f"/files/{file_id}", headers=s.auth("bob"), json={"public": True}
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["public"] is True
    public_files = (await client.get(f"{gallery}/{draft_id}")).json()["files"]
    assert [f["name"] for f in public_files] == ["pitch.pdf"]
    outsider = await client.patch(
        url + f"/files/{file_id}", headers=s.auth("carol"), json={"public": False}
    )
    assert outsider.status_code == 404
    assert (await client.get(gallery, params={"technology": "cobol"})).json()["items"] == []


async def test_a_team_that_submitted_cannot_be_disbanded(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    await fill(client, s, url)
    await client.post(url + "/submit", headers=s.auth("alice"))
    refused = await client.post(s.team_url(team.id, "/disband"), headers=s.auth("alice"))
    assert (refused.status_code, code(refused)) == (409, "team_has_submission")
