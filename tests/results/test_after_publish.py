"""What teams see once results are published, and nothing of it before: awards and places on
the team, submission and gallery pages and in the API; the judges' feedback (anonymized, never
the private comments) for the team's own members; the per-criterion breakdown only while the
event shows it; the results mail with each team's own place."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import AuditEntry, Evaluation, Event, OutboundEmail, Submission, User
from tests.judging.test_api import add_criteria, code, judged_event
from tests.results.test_gate import every_get
from tests.teams.helpers import Stage
from tests.web.test_org_pages import as_tenant

# judge → (Impact, Execution) per project p0, p1, p2: p0 is first, p1 second, p2 third.
SCORES = {
    "judge0": ((9, 8), (7, 7), (5, 4)),
    "judge1": ((8, 9), (7, 6), (6, 5)),
    "judge2": ((10, 7), (6, 6), (4, 4)),
}
PRIVATE = "PRIVATE-NOTE"
WHO = ("p0", "p1", "otto", "anonymous")


PEN_NAMES = {"judge0": "alpha", "judge1": "", "judge2": "gamma"}  # judge1 writes nothing


def feedback_text(judge: str, n: int) -> str:
    """A recognizable line per judge and project that does not name the judge."""
    return f"FEEDBACK-{PEN_NAMES[judge]}-p{n}: keep going" if PEN_NAMES[judge] else ""


@dataclass
class World:
    s: Stage
    subs: list[uuid.UUID]
    teams: list[uuid.UUID]
    criteria: list[str]
    tracks: dict[str, str]
    judges: dict[str, uuid.UUID] = field(default_factory=dict)

    def team_page(self, n: int) -> str:
        return f"/orgs/{self.s.org.slug}/events/{self.s.event.slug}/teams/{self.teams[n]}"

    def gallery_page(self, n: int) -> str:
        return f"/orgs/{self.s.org.slug}/events/{self.s.event.slug}/gallery/{self.subs[n]}"

    def feedback_url(self, n: int) -> str:
        return f"{self.s.base}/teams/{self.teams[n]}/submission/feedback"

    def standing_url(self, n: int) -> str:
        return f"{self.s.base}/results/submissions/{self.subs[n]}"


async def judged_world(client: httpx2.AsyncClient, session: AsyncSession) -> World:
    """Three approved projects in an open gallery, two tracks, two awards, three judges who
    each scored every project (with feedback and private comments)."""
    s, subs, _judges = await judged_event(session, teams=3, judges=3)
    criteria = await add_criteria(client, s)
    tracks = {}
    for name in ("Hardware", "Software"):
        made = await client.post(f"{s.base}/tracks", headers=s.auth("olga"), json={"name": name})
        assert made.status_code == 201, made.text
        tracks[name] = made.json()["id"]
    for body in (
        {"name": "Grand prize", "prize": "A trophy"},
        {"name": "Best software", "track_id": tracks["Software"], "position": 1},
    ):
        made = await client.post(f"{s.base}/awards", headers=s.auth("olga"), json=body)
        assert made.status_code == 201, made.text
    layout = [[tracks["Hardware"]], [tracks["Software"]], [tracks["Hardware"], tracks["Software"]]]
    for sid, track_ids in zip(subs, layout, strict=True):
        await session.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(status="approved", track_ids=[uuid.UUID(t) for t in track_ids])
        )
    await session.execute(
        update(Event).where(Event.id == s.event.id).values(gallery_opened_at=datetime.now(UTC))
    )
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 3, "seed": 1}
    )
    assert assigned.status_code == 200, assigned.text
    for judge, per_project in SCORES.items():
        for n, (impact, execution) in enumerate(per_project):
            saved = await client.put(
                f"{s.base}/judging/submissions/{subs[n]}/evaluation",
                headers=s.auth(judge),
                json={
                    "scores": {criteria[0]: impact, criteria[1]: execution},
                    "feedback": feedback_text(judge, n),
                    "private_comment": f"{PRIVATE} by {judge}",
                    "submit": True,
                },
            )
            assert saved.status_code == 200, saved.text
    teams = [(await session.get(Submission, sid)).team_id for sid in subs]  # type: ignore[union-attr]
    world = World(s, subs, teams, criteria, tracks)
    world.judges = {name: s.users[name].id for name in SCORES}
    return world


def leaks(body: str) -> list[str]:
    """Anything in a body that only published results (or nobody) may show."""
    found = [
        marker
        for marker in (
            "FEEDBACK-",
            PRIVATE,
            "Winner —",
            "place overall",
            "place in ",
            "Score breakdown",
            "Feedback from the judges",
        )
        if marker in body
    ]
    return found


async def test_nothing_shows_before_publishing(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    w = await judged_world(client, session)
    s = w.s
    ids = {
        "slug": s.org.slug,
        "event_slug": s.event.slug,
        "submission_id": str(w.subs[0]),
        "team_id": str(w.teams[0]),
        "track_id": w.tracks["Hardware"],
    }
    for who in WHO:
        for url, body in await every_get(client, app, ids, s.auth(who)):
            assert not leaks(body), (who, url, leaks(body))
        for url in (w.feedback_url(0), w.standing_url(0)):
            hidden = await client.get(url, headers=s.auth(who))
            assert hidden.status_code in (401, 404), (who, url)
    # The team's own member hears why: not published yet (and sees nothing of it).
    mine = await client.get(w.feedback_url(0), headers=s.auth("p0"))
    assert (mine.status_code, code(mine)) == (404, "results_not_published")
    standing = await client.get(w.standing_url(0), headers=s.auth("p0"))
    assert (standing.status_code, code(standing)) == (404, "results_not_published")
    # Pages the team and the public see render, without any of it.
    for who, url in (("p0", w.team_page(0)), ("p0", w.team_page(0) + "/submission")):
        page = await client.get(url, headers=s.auth(who))
        assert page.status_code == 200, url
        assert 'id="standing"' not in page.text
        assert 'id="feedback"' not in page.text
    gallery = await client.get(w.gallery_page(0))
    assert gallery.status_code == 200
    assert "Grand prize" not in gallery.text


async def publish(client: httpx2.AsyncClient, w: World) -> None:
    published = await client.post(f"{w.s.base}/publish-results", headers=w.s.auth("olga"))
    assert published.status_code == 200, published.text


async def test_awards_and_places_appear_after_publishing(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    await publish(client, w)
    first = await client.get(w.standing_url(0), headers=s.auth("anonymous"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert [a["label"] for a in body["awards"]] == ["Winner — Grand prize"]
    assert body["awards"][0]["prize"] == "A trophy"
    assert [(p["track"], p["rank"], p["of"], p["label"]) for p in body["placements"]] == [
        (None, 1, 3, "1st place overall"),
        ("Hardware", 1, 2, "1st place in Hardware"),
    ]
    assert body["breakdown"] is None  # the event does not show it
    second = (await client.get(w.standing_url(1), headers=s.auth("p0"))).json()
    assert [a["label"] for a in second["awards"]] == ["Winner — Best software"]
    assert [p["label"] for p in second["placements"]] == [
        "2nd place overall",
        "1st place in Software",
    ]
    third = (await client.get(w.standing_url(2), headers=s.auth("otto"))).json()
    assert third["awards"] == []
    assert [p["label"] for p in third["placements"]] == [
        "3rd place overall",
        "2nd place in Hardware",
        "2nd place in Software",
    ]
    absent = await client.get(f"{s.base}/results/submissions/{uuid.uuid4()}")
    assert (absent.status_code, code(absent)) == (404, "submission_not_in_results")

    # Pages: the team page and the gallery show awards and podium places; the submission
    # page shows every place.
    team = await client.get(w.team_page(0), headers=s.auth("p1"))  # a participant of the event
    assert "Winner — Grand prize" in team.text
    assert "1st place overall" in team.text
    assert f'href="/orgs/{s.org.slug}/events/{s.event.slug}/results"' in team.text
    own = await client.get(w.team_page(0) + "/submission", headers=s.auth("p0"))
    assert "Winner — Grand prize" in own.text
    assert "1st place in Hardware" in own.text
    gallery = await client.get(w.gallery_page(1))
    assert "Winner — Best software" in gallery.text
    assert "2nd place overall" in gallery.text
    assert "FEEDBACK-" not in gallery.text
    assert "FEEDBACK-" not in team.text


async def test_feedback_is_for_the_team_anonymized_and_frozen(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    await publish(client, w)
    answer = await client.get(w.feedback_url(0), headers=s.auth("p0"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["submission_id"] == str(w.subs[0])
    assert body["breakdown"] is None
    texts = {item["text"] for item in body["feedback"]}
    assert texts == {feedback_text("judge0", 0), feedback_text("judge2", 0)}
    labels = [item["judge"] for item in body["feedback"]]
    assert set(labels) <= {"Judge 1", "Judge 2", "Judge 3"}
    assert len(set(labels)) == 2
    assert labels == sorted(labels)
    names = [s.users[j] for j in SCORES]
    for judge in names:
        for secret in (str(judge.id), judge.email, judge.name or "judge"):
            assert secret not in answer.text
    assert PRIVATE not in answer.text

    # Nobody else reads it: another team's member, an outsider, the public, the judges.
    for who in ("p1", "otto", "anonymous", "judge0"):
        refused = await client.get(w.feedback_url(0), headers=s.auth(who))
        assert refused.status_code in (401, 404), who
        assert "FEEDBACK-" not in refused.text
    other = (await client.get(w.feedback_url(1), headers=s.auth("p1"))).json()
    assert {i["text"] for i in other["feedback"]} == {
        feedback_text("judge0", 1),
        feedback_text("judge2", 1),
    }
    results = await client.get(f"{s.base}/results", headers=s.auth("p0"))
    assert "FEEDBACK-" not in results.text
    assert PRIVATE not in results.text

    # The submission page shows the member the same, and stays as published after an edit.
    page = await client.get(w.team_page(0) + "/submission", headers=s.auth("p0"))
    assert feedback_text("judge0", 0) in page.text
    assert PRIVATE not in page.text
    for label in labels:
        assert f"<strong>{label}</strong>" in page.text
    edited = await client.put(
        f"{s.base}/judging/submissions/{w.subs[0]}/evaluation",
        headers=s.auth("judge0"),
        json={
            "scores": {w.criteria[0]: 1, w.criteria[1]: 1},
            "feedback": "FEEDBACK-changed-after-publishing",
            "submit": True,
        },
    )
    # Publishing closes judging (tests/judging/test_windows.py); the database refuses a change
    # made behind the app too (tests/judging/test_freeze.py), and what is published stays.
    assert (edited.status_code, code(edited)) == (409, "judging_closed")
    with pytest.raises(IntegrityError, match="judging is final"):
        async with session.begin_nested():
            await session.execute(
                update(Evaluation).values(feedback="FEEDBACK-changed-after-publishing")
            )
    again = (await client.get(w.feedback_url(0), headers=s.auth("p0"))).json()
    assert again == body
    organizer_view = await client.get(w.team_page(0) + "/submission", headers=s.auth("olga"))
    assert organizer_view.status_code == 200
    assert 'id="feedback"' not in organizer_view.text


async def test_breakdown_only_while_the_event_shows_it(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    await publish(client, w)
    hidden = (await client.get(f"{s.base}/results")).json()
    assert all("breakdown" not in row for row in hidden["ranking"])
    assert hidden["breakdown_shown"] is False

    switched = await client.patch(
        s.base, headers=s.auth("olga"), json={"results_show_breakdown": True}
    )
    assert switched.status_code == 200, switched.text
    assert switched.json()["results_show_breakdown"] is True
    await as_tenant(session, s.org.id)
    audited = await session.scalar(
        select(AuditEntry.details).where(
            AuditEntry.action == "event.updated", AuditEntry.resource_id == str(s.event.id)
        )
    )
    assert audited == {"results_show_breakdown": True}
    for who in ("p0", "p1", "otto"):
        refused = await client.patch(
            s.base, headers=s.auth(who), json={"results_show_breakdown": False}
        )
        assert refused.status_code in (403, 404), who
    null = await client.patch(s.base, headers=s.auth("olga"), json={"results_show_breakdown": None})
    assert null.status_code == 422

    shown = (await client.get(f"{s.base}/results")).json()
    first = next(r for r in shown["ranking"] if r["submission_id"] == str(w.subs[0]))
    breakdown = first["breakdown"]
    assert [(c["name"], c["max_score"], c["mean"]) for c in breakdown["criteria"]] == [
        ("Execution", 10, 8.0),  # the event's criteria order: position, then name
        ("Impact", 10, 9.0),
    ]
    assert sorted(j["judge"] for j in breakdown["judges"]) == ["Judge 1", "Judge 2", "Judge 3"]
    # The same number is the same judge in the breakdown and in the feedback.
    feedback = (await client.get(w.feedback_url(0), headers=s.auth("p0"))).json()
    assert feedback["breakdown"] == breakdown
    by_label = {j["judge"]: j["scores"] for j in breakdown["judges"]}
    for item in feedback["feedback"]:
        pen_name = item["text"].split("-")[1]  # FEEDBACK-<pen name>-p0
        judge = next(j for j, name in PEN_NAMES.items() if name == pen_name)
        impact, execution = SCORES[judge][0]
        assert by_label[item["judge"]] == {w.criteria[0]: impact, w.criteria[1]: execution}
    standing = (await client.get(w.standing_url(0))).json()
    assert standing["breakdown"] == breakdown
    assert str(w.judges["judge0"]) not in str(shown)

    page = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}/results")
    assert "Score breakdown" in page.text
    assert "Judge 3" in page.text
    own = await client.get(w.team_page(0) + "/submission", headers=s.auth("p0"))
    assert 'id="breakdown"' in own.text
    # Switched off again: gone from every reader at once.
    await client.patch(s.base, headers=s.auth("olga"), json={"results_show_breakdown": False})
    off = (await client.get(f"{s.base}/results")).json()
    assert all("breakdown" not in row for row in off["ranking"])
    assert (await client.get(w.feedback_url(0), headers=s.auth("p0"))).json()["breakdown"] is None


async def test_the_results_mail_tells_each_team_its_place(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    before = set(await session.scalars(select(OutboundEmail.id)))
    await publish(client, w)
    mails = {
        m.to_address: m
        for m in await session.scalars(select(OutboundEmail).where(~OutboundEmail.id.in_(before)))
    }
    members = {name: s.users[name] for name in ("p0", "p1", "p2")}
    assert set(mails) == {u.email for u in members.values()}
    link = f"/orgs/{s.org.slug}/events/{s.event.slug}/results"
    winner = mails[members["p0"].email]
    assert winner.user_id == members["p0"].id
    assert "Winner — Grand prize (A trophy)" in winner.body_text
    assert "1st place overall (of 3)" in winner.body_text
    assert re.search(rf"https?://\S+{re.escape(link)}\n", winner.body_text)
    assert "Winner — Best software" in mails[members["p1"].email].body_text
    third = mails[members["p2"].email].body_text
    assert "3rd place overall (of 3)" in third
    assert "Winner" not in third
    assert "FEEDBACK-" not in winner.body_text
    assert PRIVATE not in winner.body_text
    judges = await session.scalars(select(User.email).where(User.id.in_(w.judges.values())))
    assert not set(judges) & set(mails)
