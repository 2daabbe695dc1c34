"""Submission pages through HTTP: the team's page (working copy, uploads and their refusals,
signed downloads, submit, versions, processing, failed links, the organizer's decision), the
organizers' review queue and submission page (filters, bulk decisions, re-run, reopen, duplicate
flags side by side, the gallery switch), the public gallery, and who gets the 404 page."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import (
    DuplicateFlag,
    EventRoleGrant,
    JudgeAssignment,
    JudgeConflict,
    LinkCheck,
    PipelineStep,
    Submission,
    Team,
    Track,
)
from tests.factories import create_registration, create_team, create_team_member, create_user
from tests.helpers import count_queries
from tests.people import person
from tests.submissions.filehelpers import pdf_bytes, png_bytes
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import csrf_from, text_of, use_session
from tests.web.test_event_admin_pages import field_error
from tests.web.test_org_pages import as_tenant

NOW = datetime.now(UTC)
WINDOWS = {
    "registration_opens_at": NOW - timedelta(days=10),
    "starts_at": NOW - timedelta(days=1),
    "submissions_close_at": NOW + timedelta(days=1),
}
FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.S)


async def scene(session: AsyncSession, **event_values: Any) -> tuple[Stage, Team, str]:
    """alice (captain) and bob in a team; carol registered, in no team; olga organizes."""
    s = await stage(session, **{**WINDOWS, **event_values})
    team = await create_team(session, s.event, s.users["alice"], name="Sprouts")
    await create_team_member(session, team, s.users["bob"])
    return s, team, f"/orgs/{s.org.slug}/events/{s.event.slug}/teams/{team.id}/submission"


def admin(s: Stage) -> str:
    return f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/submissions"


def gallery(s: Stage) -> str:
    return f"/orgs/{s.org.slug}/events/{s.event.slug}/gallery"


async def post(
    client: httpx2.AsyncClient,
    page: str,
    action: str,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
) -> httpx2.Response:
    """Open `page` for its CSRF token and post the form (multipart when `files` are given)."""
    token = await csrf_from(client, page)
    return await client.post(
        action,
        data={**(data or {}), "csrf_token": token},
        files=files,
        headers={"Origin": "http://testserver"},
    )


async def flashed(client: httpx2.AsyncClient, response: httpx2.Response) -> tuple[str, str]:
    """Follow a 303 and return the (category, message) it flashed."""
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    match = FLASH.search(page.text)
    assert match, "nothing flashed"
    return match.group(1), html.unescape(match.group(2))


async def draft_and_submit(
    client: httpx2.AsyncClient, s: Stage, url: str, who: str, **fields: Any
) -> None:
    use_session(client, s.tokens[who])
    saved = await post(client, url, url + "/save", {"title": "Greenhouse", **fields})
    assert saved.status_code == 303, saved.text
    assert await flashed(client, await post(client, url, url + "/submit")) == (
        "success",
        "Version 1 is submitted; processing has started.",
    )


async def reread(session: AsyncSession, s: Stage, model: Any, *where: Any) -> Any:
    await as_tenant(session, s.org.id)
    return await session.scalar(
        select(model).where(*where).execution_options(populate_existing=True)
    )


# --- the team's page ---------------------------------------------------------------------------


async def test_members_draft_save_submit_and_watch_processing(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    track = Track(org_id=s.org.id, event_id=s.event.id, name="Health")
    session.add(track)
    await session.flush()
    use_session(client, s.tokens["bob"])
    empty = await client.get(url)
    assert empty.status_code == 200
    assert '<span class="badge" id="submission-status">not started</span>' in empty.text
    assert "Refresh" not in empty.headers

    saved = await post(
        client,
        url,
        url + "/save",
        {
            "title": "  Greenhouse ",
            "tagline": "Plants that text you",
            "description": "**bold** <script>x</script>",
            "repository_url": "https://github.com/acme/greenhouse",
            "technologies": "Python, python , Rust,",
            "track_ids": [str(track.id)],
        },
    )
    assert await flashed(client, saved) == ("success", "Saved.")
    page = await client.get(url)
    assert 'value="Greenhouse"' in page.text
    assert 'value="python, rust"' in page.text
    assert f'value="{track.id}" checked' in page.text
    assert ">draft</span>" in page.text

    use_session(client, s.tokens["alice"])
    submitted = await post(client, url, url + "/submit")
    assert await flashed(client, submitted) == (
        "success",
        "Version 1 is submitted; processing has started.",
    )
    page = await client.get(url)
    assert page.headers["refresh"] == "3"
    assert "this page reloads every 3 seconds" in page.text
    versions = page.text.split('id="versions"')[1]
    assert "<td>1</td>" in versions
    assert "<td>Alice</td>" in versions
    assert "latest" in versions
    stored = await reread(session, s, Submission, Submission.team_id == team.id)
    assert (stored.status, stored.technologies, stored.track_ids) == (
        "submitted",
        ["python", "rust"],
        [track.id],
    )
    assert "<script>" not in stored.description_html

    steps = list(
        await session.scalars(
            select(PipelineStep).where(PipelineStep.version_id == stored.latest_version_id)
        )
    )
    assert sorted(step.state for step in steps) == ["queued"] * 4
    for step in steps:
        step.state = "done"
        if step.step == "fetch_links":
            step.state, step.attempts, step.reason = "failed", 4, "The page timed out."
    session.add(
        LinkCheck(
            org_id=s.org.id,
            submission_id=stored.id,
            version_id=stored.latest_version_id,
            url="https://demo.invalid/",
            status="unreachable",
            reason="The name does not resolve.",
        )
    )
    await session.flush()
    settled = await client.get(url)
    assert "refresh" not in settled.headers
    row = settled.text.split('id="step-fetch_links"')[1].split("</tr>")[0]
    assert "failed" in row
    assert "<td>4</td>" in row
    assert "The page timed out." in row
    failed = text_of(settled).split('id="failed-links"')[1].split("</div>")[0]
    assert "https://demo.invalid/" in failed
    assert "unreachable · The name does not resolve." in failed


async def test_form_refusals_come_back_on_their_fields(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session)
    use_session(client, s.tokens["alice"])
    bad = await post(
        client,
        url,
        url + "/save",
        {"title": "Kept", "repository_url": "javascript:alert(1)", "technologies": "x" * 65},
    )
    assert bad.status_code == 422
    assert field_error(bad, "submission-repository_url")
    assert field_error(bad, "submission-technologies")
    assert 'value="Kept"' in bad.text
    assert 'value="javascript:alert(1)"' in bad.text

    session.add(Track(org_id=s.org.id, event_id=s.event.id, name="Health"))
    await session.flush()
    unknown = await post(client, url, url + "/save", {"track_ids": [str(uuid.uuid4())]})
    assert unknown.status_code == 409
    assert field_error(unknown, "submission-track_ids") == (
        "That track is not one of this event's tracks."
    )
    untitled = await post(client, url, url + "/submit")
    assert await flashed(client, untitled) == (
        "error",
        "Give your project a title before submitting.",
    )


async def test_uploads_downloads_refusals_and_removal(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session, file_max_bytes=20_000, file_max_count=2)
    use_session(client, s.tokens["alice"])
    pdf = pdf_bytes(1)
    uploaded = await post(client, url, url + "/files", files={"file": ("pitch.pdf", pdf)})
    assert await flashed(client, uploaded) == ("success", "Uploaded “pitch.pdf”.")

    renamed = await post(client, url, url + "/files", files={"file": ("logo.pdf", png_bytes())})
    assert renamed.status_code == 422
    assert field_error(renamed, "upload-file") == (
        "The file's content is PNG but its name ends with '.pdf'; name it *.png."
    )
    big = b"%PDF-" + b"0" * 20_000
    too_big = await post(client, url, url + "/files", files={"file": ("big.pdf", big)})
    assert too_big.status_code == 413
    assert (
        field_error(too_big, "upload-file") == "The file is larger than the limit of 20000 bytes."
    )
    nothing = await post(client, url, url + "/files", files={"file": ("", b"")})
    assert nothing.status_code == 422
    assert field_error(nothing, "upload-file") == "Choose a file to upload."
    await post(client, url, url + "/files", files={"file": ("shot.png", png_bytes())})
    third = await post(client, url, url + "/files", files={"file": ("more.png", png_bytes())})
    assert third.status_code == 409
    assert "already has the most files" in field_error(third, "upload-file")

    page = await client.get(url)
    links = re.findall(rf'href="({re.escape(url)}/files/[0-9a-f-]+)" download>([^<]+)<', page.text)
    assert [name for _, name in links] == ["pitch.pdf", "shot.png"]
    use_session(client, s.tokens["olga"])  # organizers download too
    signed = await client.get(links[0][0])
    assert signed.status_code == 303
    assert signed.headers["location"].startswith("/api/v1/files/")
    download = await client.get(signed.headers["location"])
    assert download.content == pdf
    assert download.headers["content-disposition"].startswith("attachment;")
    use_session(client, s.tokens["carol"])
    assert (await client.get(links[0][0])).status_code == 404

    use_session(client, s.tokens["bob"])
    file_id = links[0][0].rsplit("/", 1)[1]
    shown = await post(client, url, f"{url}/files/{file_id}/visibility", {"public": "on"})
    assert await flashed(client, shown) == ("success", "pitch.pdf is shown in the gallery.")
    assert "Hide from gallery" in (await client.get(url)).text
    hidden = await post(client, url, f"{url}/files/{file_id}/visibility", {"public": "off"})
    assert await flashed(client, hidden) == ("success", "pitch.pdf is hidden from the gallery.")
    removed = await post(client, url, f"{url}/files/{file_id}/remove")
    assert await flashed(client, removed) == ("success", "The file is removed.")
    assert "pitch.pdf" not in (await client.get(url)).text


async def test_only_the_team_organizers_and_judges_see_the_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, url = await scene(session)
    assert (await client.get(url)).headers["location"].startswith("/login?next=")
    use_session(client, s.tokens["carol"])  # registered, on no team
    assert (await client.get(url)).status_code == 404
    token = await csrf_from(client, f"/orgs/{s.org.slug}/events/{s.event.slug}")
    sneaky = await client.post(
        url + "/save",
        data={"title": "Mine", "csrf_token": token},
        headers={"Origin": "http://testserver"},
    )
    assert sneaky.status_code == 404
    use_session(client, s.tokens["otto"])  # registered nowhere
    assert (await client.get(url)).status_code == 404
    await draft_and_submit(client, s, url, "alice")
    use_session(client, s.tokens["olga"])
    seen = await client.get(url)
    assert seen.status_code == 200
    assert "Greenhouse" in seen.text
    assert 'action="' + url + '/save"' not in seen.text  # read-only for organizers


async def test_a_judge_sees_the_submitted_version_of_what_they_judge_and_nothing_else(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Judges: the one the project is assigned to sees version 1 (not the team's later edits);
    a judge with a declared conflict, and one it is not assigned to, get the 404 page for the
    submission page and the team page alike."""
    s, team, url = await scene(session)
    await draft_and_submit(client, s, url, "alice", tagline="As submitted")
    saved = await post(client, url, url + "/save", {"title": "Greenhouse 2", "tagline": "Later"})
    assert saved.status_code == 303
    stored = await reread(session, s, Submission, Submission.team_id == team.id)
    judges = {}
    for name in ("jane", "jack", "joan"):
        judges[name], s.tokens[name] = await person(session, email=f"{name}-{uuid.uuid4()}@x.org")
        session.add(
            EventRoleGrant(
                org_id=s.org.id, event_id=s.event.id, user_id=judges[name].id, role="judge"
            )
        )
    for name in ("jane", "jack"):  # joan has nothing assigned
        session.add(
            JudgeAssignment(
                org_id=s.org.id,
                event_id=s.event.id,
                judge_id=judges[name].id,
                submission_id=stored.id,
            )
        )
    session.add(
        JudgeConflict(
            org_id=s.org.id,
            event_id=s.event.id,
            judge_id=judges["jack"].id,
            team_id=team.id,
            source="judge",
        )
    )
    await session.flush()
    team_page = url.removesuffix("/submission")
    use_session(client, s.tokens["jane"])
    seen = await client.get(url)
    assert seen.status_code == 200
    assert "As submitted" in seen.text
    assert "Later" not in seen.text
    assert "Submitted version 1" in text_of(seen)
    assert (await client.get(team_page)).status_code == 200
    for name in ("jack", "joan"):
        use_session(client, s.tokens[name])
        assert (await client.get(url)).status_code == 404, name
        assert (await client.get(team_page)).status_code == 404, name


# --- organizers --------------------------------------------------------------------------------


async def test_organizer_pages_are_a_404_to_participants(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    await draft_and_submit(client, s, url, "alice")
    stored = await reread(session, s, Submission, Submission.team_id == team.id)
    for who in ("alice", "carol"):
        use_session(client, s.tokens[who])
        assert (await client.get(admin(s))).status_code == 404
        assert (await client.get(f"{admin(s)}/{stored.id}")).status_code == 404
        refused = await post(
            client,
            url if who == "alice" else "/account",
            admin(s) + "/decide",
            {"ids": [str(stored.id)], "status": "approved"},
        )
        assert refused.status_code == 404
    assert (await reread(session, s, Submission, Submission.id == stored.id)).status == "submitted"


async def test_review_queue_filters_and_bulk_decisions(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    other = await create_team(session, s.event, s.users["carol"], name="Roots")
    other_url = url.replace(str(team.id), str(other.id))
    await draft_and_submit(client, s, url, "alice", technologies="python")
    await draft_and_submit(client, s, other_url, "carol", title="Compost radar")
    use_session(client, s.tokens["olga"])
    queue = await client.get(admin(s))
    assert queue.status_code == 200
    rows = re.findall(r'name="ids" value="([0-9a-f-]+)"', queue.text)
    assert len(rows) == 2
    found = await client.get(admin(s), params={"q": "compost"})
    assert "Compost radar" in found.text
    assert "Greenhouse" not in found.text
    assert "Roots" in (await client.get(admin(s), params={"q": "roots"})).text

    no_reason = await post(
        client, admin(s), admin(s) + "/decide", {"ids": rows, "status": "rejected"}
    )
    assert await flashed(client, no_reason) == (
        "error",
        "Give the team a reason when rejecting or disqualifying.",
    )
    approved = await post(
        client,
        admin(s),
        admin(s) + "/decide",
        {"ids": rows, "status": "approved", "back_query": "status=submitted"},
    )
    assert approved.headers["location"] == admin(s) + "?status=submitted"
    assert await flashed(client, approved) == ("success", "2 submissions marked approved.")
    listed = await client.get(admin(s), params={"status": "approved"})
    assert len(re.findall(r'name="ids"', listed.text)) == 2
    assert (
        "No submitted projects match"
        in (await client.get(admin(s), params={"status": "submitted"})).text
    )
    rejected = await post(
        client,
        admin(s),
        admin(s) + "/decide",
        {"ids": rows[:1], "status": "rejected", "reason": "No demo video."},
    )
    assert await flashed(client, rejected) == ("success", "1 submission marked rejected.")
    rejected_id = uuid.UUID(rows[0])
    loser = await reread(session, s, Submission, Submission.id == rejected_id)
    use_session(client, s.tokens["alice" if loser.team_id == team.id else "carol"])
    team_page = await client.get(url if loser.team_id == team.id else other_url)
    assert "The organizers rejected this submission." in team_page.text
    assert 'id="decision-reason">Reason: No demo video.</p>' in team_page.text
    assert (
        '<p class="alert alert-warning" id="locked">A rejected submission is final;'
        " an organizer must reopen it to change it.</p>"
    ) in team_page.text
    assert "/save" not in team_page.text
    # The approved one says so, and not that it is being reviewed.
    loser_is_alice = loser.team_id == team.id
    use_session(client, s.tokens["carol" if loser_is_alice else "alice"])
    approved_page = await client.get(other_url if loser_is_alice else url)
    assert "The organizers approved this submission." in approved_page.text
    assert (
        '<p class="alert alert-warning" id="locked">An approved submission is final;'
        " an organizer must reopen it to change it.</p>"
    ) in approved_page.text
    assert "being reviewed" not in approved_page.text


async def test_submission_page_rerun_decide_reopen_and_flags(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    other = await create_team(session, s.event, s.users["carol"], name="Roots")
    other_url = url.replace(str(team.id), str(other.id))
    await draft_and_submit(client, s, url, "alice", description="Sensors in the soil.")
    await draft_and_submit(client, s, other_url, "carol", description="Soil sensors, again.")
    mine = await reread(session, s, Submission, Submission.team_id == team.id)
    theirs = await reread(session, s, Submission, Submission.team_id == other.id)
    step = await reread(
        session,
        s,
        PipelineStep,
        PipelineStep.version_id == mine.latest_version_id,
        PipelineStep.step == "validate_files",
    )
    step.state, step.reason = "failed", "Storage was down."
    flag = DuplicateFlag(
        org_id=s.org.id,
        event_id=s.event.id,
        submission_id=mine.id,
        other_submission_id=theirs.id,
        kind="text",
        score=0.91,
    )
    session.add(flag)
    await session.flush()

    use_session(client, s.tokens["olga"])
    here = f"{admin(s)}/{mine.id}"
    page = await client.get(here)
    assert page.status_code == 200
    assert "Storage was down." in page.text
    assert "Similar text · score 0.91" in page.text
    compare = text_of(page).split(f'id="flag-{flag.id}"')[1].split("</article>")[0]
    assert "Sensors in the soil." in compare
    assert "Soil sensors, again." in compare
    assert "Roots" in compare

    rerun = await post(client, here, here + "/pipeline/validate_files/rerun")
    assert await flashed(client, rerun) == ("success", "File validation runs again.")
    step = await reread(session, s, PipelineStep, PipelineStep.id == step.id)
    assert (step.state, step.reason) == ("queued", "")

    dismissed = await post(client, here, f"{here}/flags/{flag.id}", {"status": "dismissed"})
    assert await flashed(client, dismissed) == ("success", "The flag is dismissed.")
    assert (await reread(session, s, DuplicateFlag, DuplicateFlag.id == flag.id)).status == (
        "dismissed"
    )

    no_reason = await post(client, here, here + "/decision", {"status": "disqualified"})
    assert (await flashed(client, no_reason))[0] == "error"
    decided = await post(client, here, here + "/decision", {"status": "under_review", "reason": ""})
    assert await flashed(client, decided) == ("success", "The submission is marked under review.")
    reopened = await post(client, here, here + "/reopen", {"until": "2031-06-04T09:30"})
    assert (await flashed(client, reopened))[0] == "success"
    mine = await reread(session, s, Submission, Submission.id == mine.id)
    assert mine.status == "draft"
    assert mine.reopened_until == datetime(2031, 6, 4, 9, 30, tzinfo=UTC)  # the event is in UTC


# --- the gallery -------------------------------------------------------------------------------


async def test_gallery_is_a_404_until_opened_then_lists_approved_projects(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, team, url = await scene(session)
    other = await create_team(session, s.event, s.users["carol"], name="Roots")
    other_url = url.replace(str(team.id), str(other.id))
    await draft_and_submit(client, s, url, "alice", technologies="Python, Rust")
    await draft_and_submit(client, s, other_url, "carol", title="Compost radar")
    mine = await reread(session, s, Submission, Submission.team_id == team.id)
    use_session(client, s.tokens["olga"])
    await post(
        client, admin(s), admin(s) + "/decide", {"ids": [str(mine.id)], "status": "approved"}
    )
    preview = await client.get(gallery(s))
    assert preview.status_code == 200
    assert 'id="gallery-preview"' in preview.text

    client.cookies.clear()
    assert (await client.get(gallery(s))).status_code == 404
    assert (await client.get(f"{gallery(s)}/{mine.id}")).status_code == 404

    use_session(client, s.tokens["olga"])
    opened = await post(client, admin(s), admin(s).removesuffix("/submissions") + "/gallery/open")
    assert await flashed(client, opened) == (
        "success",
        "The gallery is open: approved projects are public.",
    )
    client.cookies.clear()
    public = await client.get(gallery(s))
    assert public.status_code == 200
    assert "Greenhouse" in public.text
    assert "Compost radar" not in public.text  # submitted, not approved
    assert "Greenhouse" in (await client.get(gallery(s), params={"technology": "rust"})).text
    assert "No projects match" in (await client.get(gallery(s), params={"q": "banana"})).text
    project = await client.get(f"{gallery(s)}/{mine.id}")
    assert project.status_code == 200
    members = project.text.split('id="team-members"')[1].split("</ul>")[0]
    assert re.findall(r"<li>([^<]+)</li>", members) == ["Alice", "Bob"]
    assert "https://" not in members
    unapproved = await reread(session, s, Submission, Submission.team_id == other.id)
    assert (await client.get(f"{gallery(s)}/{unapproved.id}")).status_code == 404

    use_session(client, s.tokens["olga"])
    await post(client, admin(s), admin(s).removesuffix("/submissions") + "/gallery/close")
    client.cookies.clear()
    assert (await client.get(gallery(s))).status_code == 404


async def _approved_projects(session: AsyncSession, s: Stage, count: int) -> None:
    for number in range(count):
        captain = await create_user(session)
        await create_registration(session, s.event, captain)
        team = await create_team(session, s.event, captain)
        session.add(
            Submission(
                org_id=s.org.id,
                event_id=s.event.id,
                team_id=team.id,
                status="approved",
                title=f"Project {number}",
                version_count=1,
                submitted_at=NOW,
            )
        )
    await session.flush()


async def test_queue_and_gallery_cost_the_same_for_1_or_20_projects(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    counts: list[tuple[int, int]] = []
    for size in (1, 20):
        s = await stage(session, gallery_opened_at=NOW)
        await _approved_projects(session, s, size)
        use_session(client, s.tokens["olga"])
        await client.get(admin(s))  # warm caches
        with count_queries(connection) as queue_log:
            queue = await client.get(admin(s))
        with count_queries(connection) as gallery_log:
            shown = await client.get(gallery(s))
        assert len(re.findall(r'name="ids"', queue.text)) == size
        assert shown.text.count('class="card"') == size
        counts.append((queue_log.count, gallery_log.count))
    assert counts[0] == counts[1]
