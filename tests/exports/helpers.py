"""An event with something in every export: questions and answers, a track, criteria, teams,
projects with links and files, judges with assignments and evaluations."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Registration, Submission, User
from tests.factories import (
    create_criterion,
    create_evaluation,
    create_event_role,
    create_judge_assignment,
    create_submission_file,
    create_submitted,
    create_team,
    create_track,
)
from tests.people import Cast, build_cast, person

QUESTIONS = [
    {"id": "shirt", "kind": "choice", "label": "T-shirt size", "options": ["S", "M", "L"]},
    {"id": "diet", "kind": "multi_choice", "label": "Dietary needs", "options": ["vegan", "halal"]},
    {"id": "photo_ok", "kind": "checkbox", "label": "Photos allowed"},
    {"id": "note", "kind": "text", "label": "Anything else"},
]
NON_LATIN = "Zoë Łukasz 李雷 Ωμέγα Жанна"


@dataclass
class Scene:
    cast: Cast
    judges: list[User]
    submission: Submission
    other: Submission

    @property
    def base(self) -> str:
        return self.cast.base

    def auth(self, name: str) -> dict[str, str]:
        return self.cast.auth(name)


async def build_scene(session: AsyncSession) -> Scene:
    cast = await build_cast(session, questions=QUESTIONS)
    event = cast.event
    await session.execute(
        update(Registration)
        .where(Registration.user_id == cast.users["participant"].id)
        .values(answers={"shirt": "M", "diet": ["vegan", "halal"], "photo_ok": True})
    )
    await session.execute(
        update(Registration)
        .where(Registration.user_id == cast.users["captain"].id)
        .values(answers={"shirt": "L", "note": "=1+2"})
    )
    await session.execute(
        update(User).where(User.id == cast.users["member"].id).values(name=NON_LATIN)
    )
    await session.execute(
        update(User).where(User.id == cast.users["judge"].id).values(name="Secret Judge 1")
    )
    await session.refresh(cast.users["judge"])
    track = await create_track(session, event, name="Health")
    design = await create_criterion(session, event, name="Design", max_score=5)
    impact = await create_criterion(session, event, name="Impact", max_score=10, position=1)
    submission = await create_submitted(
        session,
        cast.team,
        title="@SUM(A1)",
        repository_url="https://example.org/repo",
        track_ids=[track.id],
        technologies=["python", "postgres"],
    )
    await create_submission_file(session, submission, name="pitch.pdf")
    await create_submission_file(session, submission, name="слайды.pdf")
    second_team = await create_team(session, event, name="+Second team")
    other = await create_submitted(session, second_team, title="Other project")
    judges = [cast.users["judge"]]
    for n in (2, 3):
        judge, _ = await person(session, verified=True, name=f"Secret Judge {n}")
        await create_event_role(session, event, judge, role="judge")
        judges.append(judge)
    for judge in judges:
        await create_judge_assignment(session, submission, judge)
    # judges[1] evaluates first, then judges[0]; judges[2] has started nothing.
    now = datetime.now(UTC)
    for judge, minutes in ((judges[1], 10), (judges[0], 5)):
        await create_evaluation(
            session,
            submission,
            judge,
            scores={str(design.id): 4, str(impact.id): 8},
            feedback="Clear pitch; the demo worked.",
            private_comment=f"signed {judge.email}",
            created_at=now - timedelta(minutes=minutes),
        )
    await session.flush()
    return Scene(cast=cast, judges=judges, submission=submission, other=other)


async def fetch(
    client: httpx2.AsyncClient, s: Scene, path: str, who: str = "event_organizer"
) -> httpx2.Response:
    response = await client.get(f"{s.base}/exports/{path}", headers=s.auth(who))
    assert response.status_code == 200, response.text
    return response


def csv_rows(response: httpx2.Response) -> list[list[str]]:
    assert response.content.startswith(b"\xef\xbb\xbf"), "a CSV export starts with the BOM"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def csv_dicts(response: httpx2.Response) -> list[dict[str, str]]:
    rows = csv_rows(response)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def json_rows(response: httpx2.Response) -> list[dict[str, Any]]:
    body = json.loads(response.content)
    assert isinstance(body, list)
    return body


def xlsx_parts(content: bytes) -> tuple[str, str]:
    """The first sheet's XML and the shared strings' XML of an XLSX file."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in book.namelist()
            else ""
        )
    return sheet, strings


def xlsx_strings(content: bytes) -> list[str]:
    """Every text of an XLSX file (shared strings and inline strings), unescaped."""
    sheet, strings = xlsx_parts(content)
    found = re.findall(r"<t(?: [^>]*)?>([^<]*)</t>", strings + sheet)
    return [
        t.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        for t in found
    ]


async def publish(session: AsyncSession, event: Event) -> None:
    await session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(results_published_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    await session.refresh(event)
