"""The organizers' way from judging to results, shown on the judging, tracks, roles and settings
tabs: each step says what is missing and links where it is done, every judging mode is linked,
and the "Publish results" control is always there — with the reason it is not available yet,
the choice to close judging now, or the moment results were published. After publication the
ranking says it is frozen, and warns when evaluations changed since."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import EvaluationHistory, Event, EventRoleGrant
from tests.web.test_account_pages import follow, text_of
from tests.web.test_event_admin_pages import text_of_fragment
from tests.web.test_judging_pages import NOW, World, assign, judged, post
from tests.web.test_org_pages import as_tenant


def checklist(response: httpx2.Response) -> str:
    """The checklist's text, one space between words."""
    found = re.search(r'<details class="panel checklist".*?</details>', response.text, re.S)
    assert found, response.text
    return " ".join(text_of_fragment(re.sub(r"<[^>]+>", " ", found.group(0))).split())


async def test_every_judging_tab_shows_what_is_missing_and_where_to_do_it(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=2)
    admin = w.base + "/admin"
    w.as_(client, "olga")
    page = await client.get(w.admin)
    said = checklist(page)
    assert "From judging to results : 2 of 6 steps done · next: run the assignment" in said
    assert "Criteria defined · 2 criteria Add criteria" in said
    assert "Judges invited · 2 judges Invite judges" in said
    assert "Assignment run · Not run yet; 3 projects to judge. Run the assignment" in said
    assert "Evaluations done · Nothing assigned yet." in said
    assert "Awards chosen · No awards: the results show the ranking only. Add awards" in said
    for href in (
        f"{w.admin}#criteria-heading",
        f"{admin}/roles",
        f"{w.admin}#assign-heading",
        f"{w.admin}/leaderboard",
        f"{admin}/tracks",
        f"{w.base}/judging",
        f"{w.base}/judging/pairwise",
        f"{w.admin}?method=crowd_bt#ranking-heading",
    ):
        assert f'href="{href}"' in page.text, href
    # Judging has no end: the control offers to close it now, with what that means.
    assert "Judging is still open: publishing closes it now, and every score becomes final." in (
        said
    )
    assert f'id="publish-results" href="{admin}/publish-results"' in page.text
    assert "Close judging and publish results" in said

    await assign(session, w, "judge0", 0, 1)
    for tab in ("/judging/leaderboard", "/judging/flags", "/tracks", "/roles", ""):
        shown = checklist(await client.get(admin + tab))
        assert "Assignment run · 2 of 3 projects assigned" in shown, tab
        assert "Evaluations done · 0 of 2 done" in shown, tab
        assert "2 of 2 assigned evaluations are done" not in shown, tab

    # Public voting is a mode once the event has a voting window.
    assert "Public voting" not in said
    event = await session.get_one(Event, w.s.event.id)
    event.voting_opens_at, event.voting_closes_at = NOW - timedelta(hours=1), NOW
    await session.flush()
    assert "Public voting · 0 votes in the voting window" in checklist(await client.get(w.admin))

    # Before the submission deadline, the control is there, disabled, and says why.
    event.submissions_close_at = NOW + timedelta(days=1)
    await session.flush()
    early = await client.get(w.admin)
    assert '<button type="button" disabled aria-describedby="publish-blocked">' in early.text
    reason = re.search(r'id="publish-blocked">(.*?)</p>', early.text)
    assert reason, early.text
    assert reason.group(1).startswith("Results can be published once submissions close, on ")
    assert "(grace included)." in reason.group(1)
    assert (
        "publish-results"
        not in early.text.split('id="judging-checklist"')[1].split("</details>")[0]
    )


async def test_after_publication_the_ranking_is_frozen_and_later_changes_are_flagged(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=2, judges=1)
    await assign(session, w, "judge0", 0, 1)
    w.as_(client, "judge0")
    for n, value in ((0, "9"), (1, "4")):
        scored = await post(client, w.score_url(n), **w.scores(value, value), action="submit")
        assert scored.status_code == 303, scored.text
    w.as_(client, "olga")
    published = await post(client, w.admin, w.base + "/admin/publish-results", confirm="yes")
    assert published.status_code == 303
    flashed = text_of(await follow(client, published))
    assert "judging is closed and scores are final" in flashed

    page = await client.get(w.admin)
    assert 'id="results-frozen"' in page.text
    assert 'id="results-drift"' not in page.text
    said = checklist(page)
    assert "Results published · The results were published on " in said
    assert "Scores are final." in said
    assert "6 of 6 steps done" not in said  # awards are optional: 5 of 6
    assert "5 of 6 steps done · results published, scores final" in said
    assert "next:" not in said
    # No way back to draft from published results: the header offers archiving only.
    assert f'href="{w.base}/admin/unpublish"' not in page.text
    assert f'href="{w.base}/admin/archive"' in page.text

    # An evaluation write recorded after the publication (an event published before the
    # database refused them): the organizer is warned, the published results stay.
    await as_tenant(session, w.s.org.id)
    event = await session.get_one(Event, w.s.event.id, populate_existing=True)
    assert event.results_published_at is not None
    session.add(
        EvaluationHistory(
            org_id=w.s.org.id,
            evaluation_id=w.projects[0],
            judge_id=w.s.users["judge0"].id,
            submission_id=w.projects[0],
            scores={},
            raw_score=None,
            private_comment="",
            feedback="",
            status="submitted",
            changed_at=event.results_published_at + timedelta(minutes=5),
        )
    )
    await session.flush()
    warned = await client.get(w.admin)
    drift = re.search(r'id="results-drift"[^>]*>(.*?)</p>', warned.text, re.S)
    assert drift, warned.text
    assert "Evaluations changed after the results were published on " in drift.group(1)
    assert "(1 change since)" in drift.group(1)
    assert "The published results stay as they were frozen." in drift.group(1)


async def test_making_a_participant_a_judge_shows_the_conflict_before_it_is_done(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=2, judges=1)
    roles = w.base + "/admin/roles"
    w.as_(client, "olga")
    p0 = w.s.users["p0"]
    p0.email_verified_at = NOW  # a confirmed address: granted at once, not invited
    await session.flush()
    asked = await post(client, roles, roles, email=p0.email.upper(), role="judge")
    assert asked.status_code == 200
    warning = re.search(r'id="participant-judge"[^>]*>(.*?)</div>', asked.text, re.S)
    assert warning, asked.text
    said = " ".join(text_of_fragment(re.sub(r"<[^>]+>", " ", warning.group(1))).split())
    assert f"{p0.email.upper()} takes part in this event." in said
    assert "conflict of interest with every project" in said
    assert "until their registration is cancelled" in said
    assert "They are a member of team “Team p0”: they can never judge that team's project." in said
    assert "Make them a judge anyway" in said
    await as_tenant(session, w.s.org.id)
    assert await judges_of(session, w) == {w.s.users["judge0"].id}  # nothing granted yet

    confirmed = await post(
        client, roles, roles, email=p0.email, role="judge", confirm="participant_judge"
    )
    assert confirmed.status_code == 303, confirmed.text
    granted = text_of(await follow(client, confirmed))
    assert f"{p0.name} is now judge of this event." in granted
    await as_tenant(session, w.s.org.id)
    assert await judges_of(session, w) == {w.s.users["judge0"].id, p0.id}

    # Someone who takes no part, or another role, is granted at once.
    mentor = await post(client, roles, roles, email=w.s.users["p1"].email, role="mentor")
    assert mentor.status_code == 303
    judge = await post(client, roles, roles, email=w.s.users["otto"].email, role="judge")
    assert judge.status_code == 303


async def judges_of(session: AsyncSession, w: World) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(EventRoleGrant.user_id).where(
            EventRoleGrant.event_id == w.s.event.id, EventRoleGrant.role == "judge"
        )
    )
    return set(rows)
