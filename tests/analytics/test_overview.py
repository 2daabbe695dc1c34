"""Events side by side: an organization's for its organizers (`/orgs/<slug>/dashboard`), every
organization's for platform admins (`/admin/events`, the 404 page for anyone else), each with
its table as CSV, figures exact."""

from __future__ import annotations

import csv
import io

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Membership
from tests.analytics.seed import SMALL, seed_event
from tests.factories import create_event, create_registration
from tests.people import person
from tests.teams.helpers import stage
from tests.web.test_account_pages import use_session
from tests.web.test_org_pages import as_tenant

HEAD = ["Event", "State", "Starts", "Submissions close", "Judging closes", "Capacity"]
FIGURES = ["Participants", "Waitlisted", "Teams", "Projects submitted", "Judges"]


def rows_of(response: httpx2.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_an_organizer_compares_the_events_of_the_organization(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)  # alice, bob, carol, dave registered; walt waitlisted
    await as_tenant(session, s.org.id)
    busy = await create_event(session, s.org, name="Busy Hack", slug="busy-hack")
    await seed_event(session, s.org.id, busy.id, SMALL)
    use_session(client, s.tokens["olga"])

    page = await client.get(f"/orgs/{s.org.slug}/dashboard")
    assert page.status_code == 200, page.text
    assert 'role="img"' in page.text
    assert f'href="/orgs/{s.org.slug}/events/busy-hack/admin/dashboard"' in page.text
    assert 'aria-current="page">Events dashboard</a>' in page.text
    org_page = await client.get(f"/orgs/{s.org.slug}")
    assert f'href="/orgs/{s.org.slug}/dashboard"' in org_page.text

    table = rows_of(await client.get(f"/orgs/{s.org.slug}/dashboard/events.csv"))
    assert table[0] == [*HEAD, *FIGURES]
    by_name = {row[0]: row for row in table[1:]}
    assert set(by_name) == {s.event.name, "Busy Hack"}
    assert by_name[s.event.name][6:] == ["4", "1", "0", "0", "0"]
    seated = 56  # SMALL: 60 people, 1 cancelled, 3 waitlisted (tests/analytics/test_dashboard.py)
    assert by_name["Busy Hack"][5:] == [str(seated), str(seated), "3", "12", "8", "4"]
    assert by_name["Busy Hack"][1] == "draft"


async def test_members_below_organizer_and_outsiders_do_not_see_it(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await as_tenant(session, s.org.id)
    session.add(Membership(org_id=s.org.id, user_id=s.users["alice"].id, role="member"))
    await session.flush()
    url = f"/orgs/{s.org.slug}/dashboard"
    use_session(client, s.tokens["alice"])
    assert (await client.get(url)).status_code == 403
    assert (await client.get(url + "/events.csv")).status_code == 403
    use_session(client, s.tokens["otto"])  # in no organization
    assert (await client.get(url)).status_code == 404


async def test_platform_admins_see_every_organization(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    first, second = await stage(session), await stage(session, registered=("alice",))
    admin, token = await person(session, is_platform_admin=True)
    use_session(client, first.tokens["olga"])
    assert (await client.get("/admin/events")).status_code == 404
    assert (await client.get("/admin/events/events.csv")).status_code == 404

    use_session(client, token)
    page = await client.get("/admin/events")
    assert page.status_code == 200, page.text
    assert "Events across organizations" in page.text
    assert 'href="/admin/events"' in (await client.get("/orgs")).text
    table = rows_of(await client.get("/admin/events/events.csv"))
    assert table[0] == ["Organization", *HEAD, *FIGURES]
    mine = {row[1]: row for row in table[1:] if row[0] in (first.org.name, second.org.name)}
    assert mine[first.event.name][0] == first.org.name
    assert mine[first.event.name][7] == "4"
    assert mine[second.event.name][0] == second.org.name
    assert mine[second.event.name][7] == "1"
    await as_tenant(session, second.org.id)
    await create_registration(session, second.event, admin)
    table = rows_of(await client.get("/admin/events/events.csv"))
    assert {row[1]: row for row in table[1:]}[second.event.name][7] == "2"
