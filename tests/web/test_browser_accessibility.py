"""axe-core over every page a visitor, a participant, an organizer and a judge reach, at 1280 px
and 390 px, in headless Chromium against the live server: 0 violations.

"Every page they reach" is found by following links: from a few start pages each person
follows every link on the site (one page per address pattern — ids and codes aside — so a list
of fifty teams costs one visit), as far as it leads. The event is the tests' cast (someone in
every role) with what the pages show filled in: tracks and an award, criteria, a submitted
project assigned to the judge, an announcement and a notification."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.db import make_sessionmaker
from tests.factories import (
    create_announcement,
    create_award,
    create_criterion,
    create_judge_assignment,
    create_notification,
    create_submitted,
    create_track,
)
from tests.people import Cast, build_cast
from tests.web.axe import describe, violations
from tests.web.test_browser_flows import person
from tests.web.test_browser_layout import DESKTOP, PHONE, signed_in
from tests.web.test_browser_layout import live_db as live_db  # the fixture

pytestmark = pytest.mark.browser

#: Addresses that are not pages to check: downloads, the API and its docs, leaving, the dev
#: tools, and the OAuth round trips (they leave the site).
NOT_PAGES = re.compile(
    r"^/(api|docs|static|logout|auth/oauth|dev/)|\.(csv|ics|json|xlsx|pdf|png|svg)$|/files/"
    r"|/export"
)
#: An id, a code or a token in an address: one page per pattern.
VARIABLE = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f-]{27}|[A-Z0-9]{6,}|[A-Za-z0-9_-]{32,})(?=/|$)")
MOST_PAGES = 60


async def rich_cast(engine: AsyncEngine) -> Cast:
    now = datetime.now(UTC)
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        cast = await build_cast(
            session,
            timezone="Europe/Berlin",
            registration_opens_at=now - timedelta(days=3),
            starts_at=now - timedelta(days=2),
            submissions_close_at=now - timedelta(hours=2),
            judging_closes_at=now + timedelta(days=2),
            gallery_opened_at=now - timedelta(hours=1),
        )
        track = await create_track(session, cast.event, name="Robots")
        await create_award(session, cast.event, name="Best bot", track_id=track.id)
        await create_criterion(session, cast.event, name="Impact")
        await create_criterion(session, cast.event, name="Execution", position=1)
        project = await create_submitted(
            session, cast.team, title="Greenhouse robot", submitted_at=now - timedelta(hours=3)
        )
        await create_judge_assignment(session, project, judge=cast.users["judge"])
        await create_announcement(
            session, cast.event, title="Doors open at nine", status="sent", sent_at=now
        )
        await create_notification(session, cast.users["captain"], title="Room change")
    return cast


def pattern(path: str) -> str:
    return VARIABLE.sub("/{}", path)


async def sweep(
    page: Any, base: str, starts: list[str]
) -> tuple[set[str], dict[str, list[dict[str, Any]]]]:
    """Visit every page reachable by links from `starts` (one per pattern) at both widths: the
    patterns checked, and what axe-core found on each page, by address and width."""
    queue, seen, checked, found = list(starts), set(), set(), {}
    while queue and len(seen) < MOST_PAGES:
        path = queue.pop(0)
        if pattern(path) in seen:
            continue
        seen.add(pattern(path))
        # Loaded once at 1280 px, checked, then narrowed to 390 px (the stylesheet's media
        # queries apply as on a phone) and checked again: half the page loads of two visits.
        await page.set_viewport_size(DESKTOP)
        response = await page.goto(base + path)
        if response is None or not response.ok:
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        for width, size in (("1280", DESKTOP), ("390", PHONE)):
            await page.set_viewport_size(size)
            problems = await violations(page)
            if problems:
                found[f"{path} at {width} px"] = problems
        checked.add(pattern(path))
        for href in await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            address, _ = urldefrag(href)
            parts = urlsplit(address)
            if parts.netloc != urlsplit(base).netloc or NOT_PAGES.search(parts.path):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if pattern(parts.path) not in seen:
                queue.append(target)
    return checked, found


#: At least this many kinds of page each person reaches (the walk must not stop early).
LEAST = {"visitor": 6, "participant": 12, "organizer": 25, "judge": 4}

PEOPLE = {
    "visitor": None,
    "participant": "captain",
    "organizer": "owner",
    "judge": "judge",
}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("who", list(PEOPLE))
async def test_every_page_a_person_reaches_has_no_accessibility_violations(
    who: str, live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    cast = await rich_cast(live_db)
    event = f"/orgs/{cast.org.slug}/events/{cast.event.slug}"
    role = PEOPLE[who]
    page = (
        await person(chromium)
        if role is None
        else await signed_in(chromium, live_server, cast.tokens[role])
    )
    starts = {
        "visitor": ["/", event, "/login", "/signup", "/reset-password", "/sign-in-link"],
        "participant": ["/me/events", event, f"{event}/teams/{cast.team.id}", "/notifications"],
        "organizer": ["/orgs", f"/orgs/{cast.org.slug}", f"{event}/admin"],
        "judge": [f"{event}/judging", "/me/events"],
    }[who]
    checked, found = await sweep(page, live_server, starts)
    assert len(checked) >= LEAST[who], sorted(checked)
    report = "\n".join(f"{where}:\n{describe(problems)}" for where, problems in found.items())
    assert not found, f"axe-core, as the {who}:\n{report}"
