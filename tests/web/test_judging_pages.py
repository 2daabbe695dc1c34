"""Judging pages through HTTP: a judge's queue (progress, links, declaring a conflict), scoring
(draft, a refused submit with the input kept, submit and next), 404 for anyone else, files and
extracted data of a project, and the organizers' judging admin (criteria and their lock, the
assignment report, conflicts, the ranking with raw and normalized scores side by side)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import (
    AuditEntry,
    Criterion,
    Evaluation,
    EventRoleGrant,
    JudgeAssignment,
    LinkCheck,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    VersionText,
)
from hackops.submissions.intake.service import file_entry
from tests.factories import create_submitted, create_team
from tests.helpers import count_queries
from tests.judging.test_judged_titles import edited_after_submitting
from tests.people import person
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import csrf_from, follow, text_of, use_session
from tests.web.test_event_admin_pages import field_error, text_of_fragment
from tests.web.test_org_pages import as_tenant

NOW = datetime.now(UTC)
ORIGIN = "http://testserver"
DESIGN = {"name": "Design", "description": "Looks", "max_score": "5", "position": "2"}


class World:
    """An event past its submission deadline: teams with submitted projects, judges, two
    criteria (Impact weighs 2, Execution 1; both 0..10)."""

    def __init__(self, s: Stage, projects: list[uuid.UUID], criteria: list[Criterion]) -> None:
        self.s, self.projects, self.criteria = s, projects, criteria

    @property
    def base(self) -> str:
        return f"/orgs/{self.s.org.slug}/events/{self.s.event.slug}"

    @property
    def queue(self) -> str:
        return self.base + "/judging"

    @property
    def admin(self) -> str:
        return self.base + "/admin/judging"

    def score_url(self, n: int) -> str:
        return f"{self.queue}/{self.projects[n]}"

    def field(self, n: int) -> str:
        return f"score-{self.criteria[n].id}"

    def scores(self, *values: str) -> dict[str, str]:
        """Form fields: the values for the criteria in order."""
        return {self.field(n): value for n, value in enumerate(values)}

    def as_(self, client: httpx2.AsyncClient, who: str) -> None:
        client.cookies.clear()
        use_session(client, self.s.tokens[who])


async def judged(session: AsyncSession, *, teams: int = 3, judges: int = 2) -> World:
    names = tuple(f"p{i}" for i in range(teams))
    s = await stage(
        session,
        registered=names,
        registration_opens_at=NOW - timedelta(days=5),
        starts_at=NOW - timedelta(days=2),
        submissions_close_at=NOW - timedelta(hours=1),
    )
    projects = []
    for n, name in enumerate(names):
        team = await create_team(session, s.event, s.users[name], name=f"Team {name}")
        submission = await create_submitted(
            session,
            team,
            title=f"Project {n}",
            tagline=f"Tagline {n}",
            submitted_at=NOW - timedelta(hours=2),
        )
        projects.append(submission.id)
    for i in range(judges):
        name = f"judge{i}"
        user, token = await person(
            session, name=f"Judge {i}", email=f"{name}-{uuid.uuid4().hex[:6]}@x.org"
        )
        s.users[name], s.tokens[name] = user, token
        session.add(
            EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=user.id, role="judge")
        )
    rubric = (("Impact", "Who gains", 2.0), ("Execution", "", 1.0))
    criteria = [
        Criterion(org_id=s.org.id, event_id=s.event.id, name=name, description=about, weight=weight)
        for name, about, weight in rubric
    ]
    for position, criterion in enumerate(criteria):
        criterion.position = position
    session.add_all(criteria)
    await session.flush()
    return World(s, projects, criteria)


async def assign(session: AsyncSession, w: World, judge: str, *projects: int) -> None:
    await as_tenant(session, w.s.org.id)
    for n in projects:
        session.add(
            JudgeAssignment(
                org_id=w.s.org.id,
                event_id=w.s.event.id,
                judge_id=w.s.users[judge].id,
                submission_id=w.projects[n],
            )
        )
    await session.flush()


async def post(
    client: httpx2.AsyncClient, page: str, target: str | None = None, /, **fields: str
) -> httpx2.Response:
    """Open `page` for its CSRF token, then post `fields` to `target` (the page itself)."""
    token = await csrf_from(client, page)
    return await client.post(
        target or page, data={**fields, "csrf_token": token}, headers={"Origin": ORIGIN}
    )


async def evaluation(session: AsyncSession, w: World, judge: str, n: int) -> Evaluation | None:
    await as_tenant(session, w.s.org.id)
    return await session.scalar(
        select(Evaluation)
        .where(
            Evaluation.judge_id == w.s.users[judge].id, Evaluation.submission_id == w.projects[n]
        )
        .execution_options(populate_existing=True)
    )


def ranking_rows(response: httpx2.Response) -> list[list[str]]:
    """The ranking table's cells: rank, project, score, raw mean, evaluations."""
    table = re.search(r'<table id="ranking">.*?<tbody>(.*?)</tbody>', response.text, re.S)
    assert table, response.text
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    return [
        [" ".join(text_of_fragment(re.sub(r"<[^>]+>", "", c)).split()) for c in r] for r in cells
    ]


def progress(response: httpx2.Response) -> tuple[int, int]:
    done = re.search(r'id="judging-done">(\d+)<', response.text)
    total = re.search(r'id="judging-total">(\d+)<', response.text)
    assert done, response.text
    assert total, response.text
    return int(done.group(1)), int(total.group(1))


# --- the judge's queue and scoring ----------------------------------------------------------------


async def test_queue_lists_my_projects_with_progress_and_the_next_one_focused(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session)
    await assign(session, w, "judge0", 0, 2)
    w.as_(client, "judge0")
    page = await client.get(w.queue)
    assert page.status_code == 200
    assert progress(page) == (0, 2)
    assert f'href="{w.score_url(0)}"' in page.text
    assert f'href="{w.score_url(2)}"' in page.text
    assert f'href="{w.score_url(1)}"' not in page.text
    first = sorted([w.projects[0], w.projects[2]])[0]  # the queue's order
    assert f'id="next-unscored" href="{w.queue}/{first}" autofocus' in page.text
    assert page.text.count('action="' + w.queue) == 2  # a conflict form per project
    assert text_of(page).count("not started") == 2


@pytest.mark.parametrize("items", [1, 6])
async def test_queue_costs_the_same_for_1_or_6_projects(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, items: int
) -> None:
    w = await judged(session, teams=6, judges=1)
    await assign(session, w, "judge0", *range(items))
    w.as_(client, "judge0")
    with count_queries(connection) as queries:
        page = await client.get(w.queue)
    assert progress(page) == (0, items)
    # the request gate (token, user, actor; the unread badge; org, tenant, event, my org role,
    # event roles, registration: `hackops.gate`); queue
    assert queries.count == 2, queries.statements


async def test_scoring_draft_refused_submit_then_submit_and_next(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session)
    await assign(session, w, "judge0", 0, 1)
    first, second = sorted([0, 1], key=lambda n: w.projects[n])
    w.as_(client, "judge0")
    page = await client.get(w.score_url(first))
    assert page.status_code == 200
    assert f"Project {first}" in page.text
    assert f"Tagline {first}" in page.text
    assert (
        f'<label for="{w.field(0)}">Impact <span class="muted">(0 to 10, weight 2)</span>'
        in page.text
    )
    assert f'id="{w.field(0)}" name="{w.field(0)}" type="number" min="0" max="10"' in page.text
    assert re.search(rf'id="{w.field(0)}"[^>]* autofocus', page.text)
    assert not re.search(rf'id="{w.field(1)}"[^>]* autofocus', page.text)
    assert f'id="{w.field(0)}-hint">Who gains<' in page.text
    # The submit button comes first: Enter in a score submits.
    assert page.text.index('value="submit"') < page.text.index('value="draft"')

    draft = await post(client, w.score_url(first), **w.scores("8"), action="draft", feedback="Y")
    assert draft.headers["location"] == w.score_url(first)
    reopened = await follow(client, draft)
    assert f"Draft saved for “Project {first}”." in text_of(reopened)
    assert re.search(rf'name="{w.field(0)}" type="number"[^>]* value="8"', reopened.text)
    saved = await evaluation(session, w, "judge0", first)
    assert saved is not None
    assert (saved.status, saved.scores, saved.feedback) == (
        "draft",
        {str(w.criteria[0].id): 8},
        "Y",
    )

    missing = await post(client, w.score_url(first), **w.scores("7.5"), private_comment="Keep")
    assert missing.status_code == 422
    assert field_error(missing, w.field(1)) == "Score this criterion before submitting."
    assert "Score every criterion before submitting, or save a draft." in text_of(missing)
    assert 'value="7.5"' in missing.text
    assert ">Keep</textarea>" in missing.text
    out_of_range = await post(client, w.score_url(first), **w.scores("11", "x"))
    assert out_of_range.status_code == 422
    assert field_error(out_of_range, w.field(0)) == "A number from 0 to 10."
    assert field_error(out_of_range, w.field(1)) == "A number from 0 to 10."
    assert 'value="11"' in out_of_range.text
    unchanged = await evaluation(session, w, "judge0", first)
    assert unchanged is not None
    assert unchanged.status == "draft"

    done = await post(client, w.score_url(first), **w.scores("8", "5"))
    assert done.headers["location"] == w.score_url(second)  # the next unscored project
    nxt = await follow(client, done)
    assert f"Scores submitted for “Project {first}”." in text_of(nxt)
    submitted = await evaluation(session, w, "judge0", first)
    assert submitted is not None
    assert (submitted.status, submitted.raw_score) == ("submitted", 70.0)  # (2*.8 + 1*.5) / 3

    last = await post(client, w.score_url(second), **w.scores("10", "10"))
    assert last.headers["location"] == w.queue  # nothing unscored left
    queue = await follow(client, last)
    assert progress(queue) == (2, 2)
    assert 'id="next-unscored"' not in queue.text
    assert "Every project in your queue is scored." in text_of(queue)


async def test_everyone_but_the_assigned_judge_gets_404(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=2)
    await assign(session, w, "judge0", 0, 1)
    await assign(session, w, "judge1", 1, 2)
    for who in ("p0", "otto"):
        w.as_(client, who)
        assert (await client.get(w.queue)).status_code == 404, who
        assert (await client.get(w.score_url(0))).status_code == 404, who
    w.as_(client, "judge1")
    assert (await client.get(w.score_url(0))).status_code == 404  # not assigned to them
    refused = await post(client, w.queue, w.score_url(0), **w.scores("1"))
    assert refused.status_code == 404
    assert await evaluation(session, w, "judge1", 0) is None

    # judge0 declares a conflict with project 0's team: it leaves the queue, its page is 404.
    w.as_(client, "judge0")
    declared = await post(client, w.queue, w.score_url(0) + "/conflict", reason="My cousin's team")
    assert declared.headers["location"] == w.queue
    queue = await follow(client, declared)
    assert "Conflict declared: “Project 0” left your queue." in text_of(queue)
    assert f'href="{w.score_url(0)}"' not in queue.text
    assert (await client.get(w.score_url(0))).status_code == 404
    assert (await client.get(w.score_url(0) + "/files/" + str(uuid.uuid4()))).status_code == 404

    client.cookies.clear()
    signed_out = await client.get(w.score_url(1))
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")


async def test_a_judge_meets_projects_by_their_submitted_version_never_the_draft(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """The team renamed its working copy after submitting: the queue, the pair, the scoring
    page and every message after a judge's action name the submitted version."""
    s, projects = await edited_after_submitting(client, session, teams=2, judges=2)
    session.add(Criterion(org_id=s.org.id, event_id=s.event.id, name="All"))
    await session.flush()
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 2, "seed": 1}
    )
    assert assigned.status_code == 200, assigned.text
    w = World(s, sorted(projects), [])
    first, second = (f"Submitted p{projects.index(p)}" for p in w.projects)
    seen: list[str] = []

    w.as_(client, "judge1")
    pair = await client.get(w.queue + "/pairwise")
    assert pair.status_code == 200
    assert {first, second} <= set(re.findall(r"<h2>(.*?)</h2>", pair.text))
    seen.append(pair.text)

    w.as_(client, "judge0")
    queue = await client.get(w.queue)
    assert "Submitted tagline p0" in queue.text
    assert f"Score the next project: {first}" in text_of(queue)
    page = await client.get(w.score_url(0))
    assert f"<h1>{first}</h1>" in page.text
    score = {f"score-{c}": "5" for c in re.findall(r'name="score-([0-9a-f-]+)"', page.text)}
    draft = await post(client, w.score_url(0), **score, action="draft")
    drafted = await follow(client, draft)
    assert f"Draft saved for “{first}”." in text_of(drafted)
    flagged = await follow(
        client, await post(client, w.score_url(0), w.score_url(0) + "/flag", reason="broken")
    )
    assert f"“{first}” is flagged: the organizers have been emailed." in text_of(flagged)
    done = await follow(client, await post(client, w.score_url(0), **score))
    assert f"Scores submitted for “{first}”." in text_of(done)
    declared = await post(client, w.queue, w.score_url(1) + "/conflict", reason="Friends")
    after = await follow(client, declared)
    assert f"Conflict declared: “{second}” left your queue." in text_of(after)
    seen += [queue.text, page.text, drafted.text, flagged.text, done.text, after.text]
    assert not [p for p in seen if "Draft p" in p or "Draft tagline" in p]


async def test_scoring_page_shows_files_and_extracted_data(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=1, judges=1)
    await assign(session, w, "judge0", 0)
    project = await session.get_one(Submission, w.projects[0])
    ids = {"org_id": w.s.org.id, "event_id": w.s.event.id, "submission_id": project.id}
    assert project.latest_version_id is not None
    version = await session.get_one(SubmissionVersion, project.latest_version_id)
    key, sha = f"org/{w.s.org.id}/{uuid.uuid4()}", "0" * 64
    file = SubmissionFile(**ids, team_id=project.team_id, storage_key=key, sha256=sha, size=2048)
    file.name, file.content_type, file.kind = "pitch.pdf", "application/pdf", "pdf"
    link = LinkCheck(org_id=w.s.org.id, submission_id=project.id, version_id=version.id)
    link.url, link.status, link.http_status = "https://example.org/demo", "ok", 200
    link.title, link.data = "The demo page", {"description": "A demo"}
    session.add(file)
    await session.flush()
    # The pipeline stores a file's text under its id: the page names the file.
    text = VersionText(org_id=w.s.org.id, version_id=version.id, source=f"file:{file.id}")
    text.content = "# Hello judges"
    described = VersionText(org_id=w.s.org.id, version_id=version.id, source="description")
    described.content = "We sort socks"
    # Added to the working copy after the version was submitted: never shown to judges.
    later = SubmissionFile(**ids, team_id=project.team_id, storage_key=key + "-2", sha256=sha)
    later.name, later.content_type, later.kind, later.size = (
        "later.pdf",
        "application/pdf",
        "pdf",
        9,
    )
    session.add_all([later, link, text, described])
    await session.flush()
    version.files = [file_entry(file)]
    await session.flush()
    w.as_(client, "judge0")
    page = await client.get(w.score_url(0))
    assert page.status_code == 200
    file_url = f"{w.score_url(0)}/files/{file.id}"
    assert f'<a href="{file_url}">pitch.pdf</a>' in page.text
    assert "later.pdf" not in page.text
    assert (await client.get(f"{w.score_url(0)}/files/{later.id}")).status_code == 404
    shown = ("https://example.org/demo", "The demo page", "A demo", "# Hello judges")
    assert all(item in text_of(page) for item in shown)
    assert "<summary>Text from pitch.pdf</summary>" in page.text
    assert "<summary>Text from the description</summary>" in page.text
    assert f"file:{file.id}" not in page.text

    opened = await client.get(file_url)
    assert opened.status_code == 303
    assert opened.headers["location"].startswith("/api/v1/files/")
    await as_tenant(session, w.s.org.id)
    audited = await session.scalar(
        select(func.count()).where(
            AuditEntry.action == "submission_file.link_issued",
            AuditEntry.resource_id == str(file.id),
        )
    )
    assert audited == 1


# --- the organizers' judging admin ----------------------------------------------------------------


async def test_organizer_manages_criteria_until_scores_lock_them(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=2, judges=1)
    w.as_(client, "olga")
    settings = await client.get(w.base + "/admin")
    assert f'href="{w.admin}">Judging</a>' in settings.text
    page = await client.get(w.admin)
    assert page.status_code == 200
    assert 'aria-current="page">Judging</a>' in page.text

    empty = await post(client, w.admin, w.admin + "/criteria", **DESIGN | {"name": ""}, weight="0")
    assert empty.status_code == 422
    assert field_error(empty, "criterion-name")
    assert field_error(empty, "criterion-weight") == "A number above 0, at most 100."
    added = await post(client, w.admin, w.admin + "/criteria", **DESIGN, weight="1.5", track_id="")
    assert added.headers["location"] == w.admin
    assert "Criterion “Design” added." in text_of(await follow(client, added))
    await as_tenant(session, w.s.org.id)
    design = await session.scalar(select(Criterion).where(Criterion.name == "Design"))
    assert design is not None
    assert (design.weight, design.max_score) == (1.5, 5)
    # A second “design” (any case) is refused on the name field, on adding and on renaming.
    twice = await post(client, w.admin, w.admin + "/criteria", **DESIGN | {"name": " design "})
    assert twice.status_code == 409
    taken = "This event already has a criterion named “design”; choose another name."
    assert field_error(twice, "criterion-name") == taken
    other = await post(client, w.admin, w.admin + "/criteria", **DESIGN | {"name": "Originality"})
    assert other.status_code == 303
    originality = await session.scalar(select(Criterion).where(Criterion.name == "Originality"))
    assert originality is not None
    renamed = await post(
        client, w.admin, f"{w.admin}/criteria/{originality.id}/edit", **DESIGN | {"name": "DESIGN"}
    )
    assert renamed.status_code == 409
    assert field_error(renamed, "edit-name") == taken.replace("“design”", "“DESIGN”")
    gone = await post(client, w.admin, f"{w.admin}/criteria/{originality.id}/delete")
    assert gone.status_code == 303

    edit = await client.get(f"{w.admin}?edit={design.id}")
    assert 'id="edit-weight"' in edit.text
    assert 'value="1.5"' in edit.text
    edited = await post(
        client, w.admin, f"{w.admin}/criteria/{design.id}/edit", **DESIGN, weight="3"
    )
    assert "Criterion “Design” saved." in text_of(await follow(client, edited))
    removed = await post(client, w.admin, f"{w.admin}/criteria/{design.id}/delete")
    assert "Criterion removed." in text_of(await follow(client, removed))

    # A score arrives: criteria are locked, only descriptions change.
    await assign(session, w, "judge0", 0)
    w.as_(client, "judge0")
    await post(client, w.score_url(0), **w.scores("3"), action="draft")
    w.as_(client, "olga")
    locked = await client.get(f"{w.admin}?edit={w.criteria[0].id}")
    assert 'id="criteria-locked"' in locked.text
    assert "/delete" not in locked.text
    assert "Add a criterion" not in locked.text
    assert 'id="edit-weight"' not in locked.text
    assert 'id="edit-description"' in locked.text
    impact_url = f"{w.admin}/criteria/{w.criteria[0].id}/edit"
    refused = await post(client, w.admin, impact_url, description="New", weight="9")
    assert refused.status_code == 409
    assert "only criteria descriptions can change now" in text_of(refused)
    described = await post(client, w.admin, impact_url, description="Who gains, and how much")
    assert described.status_code == 303
    await as_tenant(session, w.s.org.id)
    impact = await session.scalar(
        select(Criterion)
        .where(Criterion.id == w.criteria[0].id)
        .execution_options(populate_existing=True)
    )
    assert impact is not None
    assert (impact.description, impact.weight) == ("Who gains, and how much", 2.0)


async def test_organizer_runs_assignment_declares_conflicts_and_reads_the_ranking(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=3)
    w.as_(client, "olga")
    bad = await post(client, w.admin, w.admin + "/assign", k="0", seed="")
    assert bad.status_code == 422
    assert field_error(bad, "assign-k") == "A whole number from 1 to 20."
    run = await post(client, w.admin, w.admin + "/assign", k="2", seed="7")
    assert run.status_code == 200
    report = re.search(r'id="assignment-report">(.*?)</div>', run.text, re.S)
    assert report, run.text
    report_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report.group(1)))
    assert "6 assignments for 3 projects and 3 judges; 0 withdrawn." in report_text
    assert "Judge loads: 2 to 2 projects each." in report_text
    assert "Every project shares judges with the others" in report_text
    assert "graph" not in report_text
    assert "Every project has its k judges." in report_text

    team_of = dict((await session.execute(select(Submission.id, Submission.team_id))).all())
    judge0 = w.s.users["judge0"]
    team0, team1 = str(team_of[w.projects[0]]), str(team_of[w.projects[1]])
    declared = await post(
        client, w.admin, w.admin + "/conflicts", judge_id=str(judge0.id), team_id=team0, reason="Ex"
    )
    assert declared.headers["location"] == w.admin
    page = await follow(client, declared)
    assert "Conflict recorded: Judge 0 will not judge Team p0." in text_of(page)
    assert '<span class="muted">Ex</span>' in page.text
    participant = str(w.s.users["p1"].id)
    no_judge = await post(
        client, w.admin, w.admin + "/conflicts", judge_id=participant, team_id=team1
    )
    assert no_judge.status_code == 422
    assert field_error(no_judge, "conflict-judge_id") == "Choose a judge."
    await as_tenant(session, w.s.org.id)
    assigned = select(JudgeAssignment.judge_id, JudgeAssignment.submission_id)
    pairs = set((await session.execute(assigned.where(JudgeAssignment.state == "assigned"))).all())
    assert (judge0.id, w.projects[0]) not in pairs

    # Every judge submits their scores; judge2 is lenient.
    for judge, bonus in (("judge0", 0), ("judge1", 0), ("judge2", 3)):
        w.as_(client, judge)
        for n, project in enumerate(w.projects):
            if (w.s.users[judge].id, project) in pairs:
                score = str(min(10, 4 + 2 * n + bonus))
                done = await post(client, w.score_url(n), **w.scores(score, score))
                assert done.status_code == 303, done.text
    w.as_(client, "olga")
    ranking = await client.get(w.admin)
    rows = ranking_rows(ranking)
    assert [(rank, project) for rank, project, *_ in rows] == [
        ("1", "Project 2 · Team p2"),  # project n was scored 4 + 2n by every judge
        ("2", "Project 1 · Team p1"),
        ("3", "Project 0 · Team p0"),
    ]
    assert all(count == "2" for *_, count in rows)
    assert any(score != raw for _, _, score, raw, _ in rows)  # the lenient judge is corrected
    assert '<option value="judge_effect" selected>' in ranking.text
    raw = await client.get(w.admin + "?method=raw_mean")
    raw_rows = ranking_rows(raw)
    assert [r[3] for r in raw_rows] == [r[3] for r in rows]  # the same raw means
    assert all(score == mean for _, _, score, mean, _ in raw_rows)  # the raw mean beside itself
    assert '<option value="raw_mean" selected>' in raw.text


async def test_organizer_pages_are_404_for_participants_and_403_for_judges(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=1, judges=1)
    for who, status in (("p0", 404), ("otto", 404), ("judge0", 403)):
        w.as_(client, who)
        assert (await client.get(w.admin)).status_code == status, who
        token = await csrf_from(client, "/account")
        for action, fields in (
            ("/criteria", {"name": "Sneaky", "weight": "1", "max_score": "10", "position": "0"}),
            ("/assign", {"k": "1"}),
            (f"/criteria/{w.criteria[0].id}/delete", {}),
        ):
            data = {**fields, "csrf_token": token}
            response = await client.post(w.admin + action, data=data, headers={"Origin": ORIGIN})
            assert response.status_code == status, (who, action)
    await as_tenant(session, w.s.org.id)
    assert await session.scalar(select(func.count()).where(Criterion.event_id == w.s.event.id)) == 2
