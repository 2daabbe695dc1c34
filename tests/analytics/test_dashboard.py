"""The event dashboard (admin tab "Dashboard"): exact figures from a seeded event (each chart's
CSV, computed here from the seed's own rules), charts as inline SVG the CSP allows, a table per
chart, CSV defused and with a BOM, a fixed number of statements whatever the event's size, and
only organizers see it."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Event
from tests.analytics.seed import SMALL, Size, seed_event
from tests.helpers import count_queries
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import use_session
from tests.web.test_org_pages import as_tenant


def dashboard_url(s: Stage, event: Event | None = None) -> str:
    return f"/orgs/{s.org.slug}/events/{(event or s.event).slug}/admin/dashboard"


async def seeded(
    session: AsyncSession, client: httpx2.AsyncClient, size: Size = SMALL, **event: Any
) -> Stage:
    s = await stage(session, registered=(), published_at=None, **event)
    await as_tenant(session, s.org.id)
    await seed_event(session, s.org.id, s.event.id, size)
    use_session(client, s.tokens["olga"])
    return s


async def table(client: httpx2.AsyncClient, s: Stage, chart: str) -> list[list[str]]:
    response = await client.get(f"{dashboard_url(s)}/{chart}.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def seed_registrations(n: int) -> list[tuple[int, str]]:
    """(n, status) of the seed's participants, by its rules."""
    out = []
    for k in range(1, n + 1):
        if k % 50 == 0:
            status = "cancelled"
        elif k > n * 0.95:
            status = "waitlisted"
        elif k % 10 < 3:
            status = "checked_in"
        else:
            status = "registered"
        out.append((k, status))
    return out


async def test_the_figures_are_exact(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await seeded(session, client)
    people = seed_registrations(SMALL.registrations)
    seated = [k for k, status in people if status in ("registered", "checked_in")]
    waitlisted = [k for k, status in people if status == "waitlisted"]
    live = [k for k, status in people if status != "cancelled"]

    page = await client.get(dashboard_url(s))
    assert page.status_code == 200, page.text

    assert await table(client, s, "registrations-source") == [
        ["Source", "Registrations"],
        ["Self-registered", str(1 + sum(1 for k in live if k % 10 != 0))],  # and walt
        ["Imported by organizers", str(sum(1 for k in live if k % 10 == 0))],
    ]
    over_time = await table(client, s, "registrations-time")
    assert over_time[0] == [
        "Day",
        "Registered (cumulative)",
        "Waitlisted (cumulative)",
        "Capacity",
    ]
    # Walt (the stage's) waits too.
    assert over_time[-1][1:] == [str(len(seated)), str(len(waitlisted) + 1), str(len(seated))]
    counts = [int(row[1]) for row in over_time[1:]]
    assert counts == sorted(counts)  # cumulative

    # Teams: the first 12 seated are captains; the next ones join team i while k // 12 < 1 + i % 4.
    free = seated[SMALL.teams :]
    sizes = [1] * SMALL.teams
    for k in range(len(free)):
        team = k % SMALL.teams
        if k // SMALL.teams < 1 + team % 4:
            sizes[team] += 1
    in_team = sum(sizes)
    assert await table(client, s, "teams-size") == [["Members", "Teams"]] + [
        [str(size), str(sizes.count(size))] for size in sorted(set(sizes))
    ]

    funnel = await table(client, s, "funnel")
    assert funnel[:4] == [
        ["Step", "People"],
        ["Registered", str(len(seated))],
        ["Checked in", str(sum(1 for k, st in people if st == "checked_in"))],
        ["In a team", str(in_team)],
    ]
    assert [row[0] for row in funnel[4:]] == ["Project submitted", "Project approved"]

    tshirt = await table(client, s, "questions-tshirt")
    assert tshirt == [["Answer", "People"]] + [
        [size, str(sum(1 for k in seated if k % 4 == i))]
        for i, size in enumerate(["S", "M", "L", "XL"])
    ]
    diet = await table(client, s, "questions-diet")
    assert diet[1:] == [
        ["Vegetarian", str(sum(1 for k in seated if k % 5 == 0))],
        ["Vegan", str(sum(1 for k in seated if k % 5 == 1))],
        ["Gluten-free", str(sum(1 for k in seated if k % 5 == 1))],
        ["Halal", "0"],
    ]
    assert (await table(client, s, "questions-photos"))[1:] == [
        ["Yes", str(sum(1 for k in seated if k % 3 != 0))],
        ["No", str(sum(1 for k in seated if k % 3 == 0))],
    ]
    assert (await table(client, s, "questions-note"))[1:] == [
        ["Anything else?", str(sum(1 for k in seated if k % 7 == 0))]
    ]

    # Projects 1..8: project 5 approved, 7 under review, none a draft (n % 20); tracks by n % 6.
    assert (await table(client, s, "submissions-status"))[1:] == [
        ["Draft", "0"],
        ["Submitted", "6"],
        ["Under review", "1"],
        ["Approved", "1"],
        ["Rejected", "0"],
        ["Disqualified", "0"],
    ]
    assert (await table(client, s, "submissions-track"))[1:] == [
        ["Health", "2"],  # n % 4 == 0: 4, 8
        ["Climate", "2"],  # 1, 5
        ["Education", "1"],  # 2 (6 has no track)
        ["Open data", "2"],  # 3, 7
        ["No track", "1"],
    ]
    processing = await table(client, s, "submissions-processing")
    assert processing[0] == ["Step", "Running", "Retrying", "Queued", "Done", "Failed"]
    assert processing[4] == ["Duplicates compared", "0", "0", "2", "6", "0"]  # titles …3, …7

    progress = await table(client, s, "judging-progress")
    assert [row[2] for row in progress[1:]] == ["6"] * 4  # 8 projects x 3 judges / 4 judges
    evaluated = sum(int(row[1]) for row in progress[1:])
    assert evaluated == 24 - 24 // 5  # four in five assignments
    per_project = await table(client, s, "judging-per-project")
    assert sum(int(row[1]) for row in per_project[1:]) == 8
    assert sum(int(r[0]) * int(r[1]) for r in per_project[1:]) == evaluated
    criteria = await table(client, s, "judging-criteria")
    assert [row[0] for row in criteria[1:]] == ["Impact", "Execution", "Presentation"]
    assert all(sum(map(int, row[4:])) == int(row[2]) == evaluated for row in criteria[1:])
    leniency = await table(client, s, "judging-leniency")
    assert [row[0] for row in leniency[1:]] == ["Judge 01", "Judge 02", "Judge 03", "Judge 04"]
    assert all(float(row[2]) > 0 for row in leniency[1:])  # points: never exactly known
    assert all(float(row[4]) >= 0 for row in leniency[1:])


async def test_charts_are_inline_svg_the_csp_allows_with_a_table_each(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await seeded(session, client)
    page = await client.get(dashboard_url(s))
    assert page.status_code == 200
    html = page.text
    svgs = re.findall(r"<svg\b[^>]*>", html)
    assert len(svgs) >= 12
    for tag in svgs:
        assert 'role="img"' in tag
        assert "aria-labelledby=" in tag
    assert "<style" not in html
    assert "<script>" not in html
    assert " style=" not in html
    assert "pygal.config" not in html
    assert "<!--" not in html.split("<main", 1)[1]
    figures = re.findall(r'<figure class="chart" id="([a-z0-9-]+)"', html)
    assert figures[:3] == ["registrations-time", "registrations-source", "funnel"]
    for key in figures:
        assert f'href="{dashboard_url(s)}/{key}.csv"' in html
    assert html.count("<summary>Show as table") == len(figures)
    assert 'aria-current="page">Dashboard</a>' in html
    assert "default-src" in page.headers["content-security-policy"]


async def test_csv_cells_are_defused_and_text_kept(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await seeded(session, client)
    await as_tenant(session, s.org.id)
    await session.execute(
        text("UPDATE events SET questions = questions || CAST(:q AS jsonb) WHERE id = :e"),
        {
            "e": s.event.id,
            "q": '[{"id": "pick", "kind": "choice", "label": "Ünïcode — pick",'
            ' "options": ["=HYPERLINK(\\"x\\")", "+1", "-2", "@a", "plain 東京"]}]',
        },
    )
    rows = await table(client, s, "questions-pick")
    assert rows[1:] == [
        ['\'=HYPERLINK("x")', "0"],
        ["'+1", "0"],
        ["'-2", "0"],
        ["'@a", "0"],
        ["plain 東京", "0"],
    ]
    assert (await client.get(f"{dashboard_url(s)}/nothing.csv")).status_code == 404
    assert (await client.get(f"{dashboard_url(s)}/judging-nothing.csv")).status_code == 404


async def test_statements_do_not_grow_with_the_event(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    small = await seeded(session, client)
    large_size = Size(registrations=400, teams=90, submissions=60, judges=12)
    large = await seeded(session, client, large_size)
    counts = []
    for s in (small, large, small):
        use_session(client, s.tokens["olga"])
        with count_queries(connection) as log:
            response = await client.get(dashboard_url(s))
        assert response.status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 25, counts


async def test_only_organizers_see_the_dashboard(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    url = dashboard_url(s)
    client.cookies.clear()
    signed_out = await client.get(url)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")
    use_session(client, s.tokens["alice"])  # a participant
    assert (await client.get(url)).status_code in (403, 404)
    assert (await client.get(url + "/funnel.csv")).status_code in (403, 404)
    use_session(client, s.tokens["olga"])
    empty = await client.get(url)
    assert empty.status_code == 200
    assert "No teams yet." in empty.text
    assert "No judges yet." in empty.text
    assert "Too few projects were evaluated by more than one judge" in empty.text


async def test_coming_up_lists_the_next_agenda_entries_in_the_event_zone(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """The dashboard's "Coming up": schedule items still to come (a past one is gone) and the
    event's own dates, on the event's clock with its offset, linking to the whole schedule."""
    from datetime import UTC, datetime, timedelta

    from hackops.models.schedule import ScheduleItem

    s = await seeded(session, client, timezone="Asia/Tokyo")
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    for title, at in (
        ("Opening keynote", soon),
        ("Past breakfast", soon - timedelta(days=2)),
    ):
        session.add(
            ScheduleItem(
                org_id=s.org.id, event_id=s.event.id, title=title, starts_at=at, kind="talk"
            )
        )
    await session.flush()

    page = await client.get(dashboard_url(s))
    assert page.status_code == 200, page.text
    coming = page.text.split('id="coming-heading"', 1)[1].split("</section>\n<nav", 1)[0]
    assert "Opening keynote" in coming
    assert "Past breakfast" not in coming
    assert soon.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M") in coming
    assert "UTC+09:00" in coming
    assert f'href="{dashboard_url(s).removesuffix("/dashboard")}/schedule"' in coming
