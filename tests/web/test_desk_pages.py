"""The event-day admin pages through HTTP: the check-in desk (one box for a code, a name or an
email; check in from the list; undo with a reason), the waitlist and approvals tab (positions,
promotion by hand with and without a free seat, approve, decline), and what a person awaiting
approval sees on their own page (no code, no QR)."""

from __future__ import annotations

import re

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import AuditEntry
from hackops.web.events.admin import settings_values
from tests.factories import create_registration
from tests.people import person
from tests.teams.helpers import stage
from tests.web.test_account_pages import submit, text_of, use_session
from tests.web.test_event_admin_pages import admin
from tests.web.test_org_pages import as_tenant
from tests.web.test_registration_pages import public, registration_of
from tests.web.test_submission_pages import flashed


async def test_desk_search_check_in_from_the_list_and_undo(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    use_session(client, s.tokens["olga"])
    desk = admin(s) + "/checkin"
    page = await client.get(desk)
    assert page.headers["permissions-policy"].startswith("camera=(self),")
    assert re.search(
        r'<p class="desk-counts" id="desk-counts"><strong>0</strong> of <strong>4', page.text
    )
    assert '<div class="camera-scan" id="camera-scan" hidden>' in page.text
    assert "/static/checkin-scan.js" in page.text
    other = await client.get(admin(s) + "/registrations")
    assert other.headers["permissions-policy"].startswith("camera=(),")

    found = await submit(client, desk, code="ALI")
    assert found.status_code == 200
    rows = re.findall(r'<li class="row-item desk-row">(.*?)</li>', found.text, re.S)
    assert len(rows) == 1, rows
    assert "Alice" in rows[0]
    assert 'value="ALI"' in found.text  # a name stays in the box to refine it
    alice = await registration_of(session, s, s.users["alice"].id)
    button = f'action="{desk}/{alice.id}"'
    assert button in rows[0]
    # The walt (waitlisted) row offers no check-in.
    walt = await submit(client, desk, code=s.users["walt"].email)
    assert "No seat: cannot check in" in text_of(walt)

    listed = await client.get(desk, params={"q": "ali"})
    assert button in listed.text
    checked = await submit(client, desk + "?q=ali", f"{desk}/{alice.id}", q="ali")
    assert await flashed(client, checked) == ("success", "Alice is checked in.")
    assert checked.headers["location"] == desk + "?q=ali"
    after = await client.get(desk, params={"q": "ali"})
    assert re.search(r'id="desk-counts"><strong>1</strong> of <strong>4', after.text)
    assert f'action="{desk}/{alice.id}/undo"' in after.text
    assert (await registration_of(session, s, s.users["alice"].id)).status == "checked_in"

    undone = await submit(
        client, desk + "?q=ali", f"{desk}/{alice.id}/undo", q="ali", reason="wrong Alice"
    )
    assert await flashed(client, undone) == (
        "success",
        "The check-in of Alice is undone: registered, not checked in.",
    )
    alice = await registration_of(session, s, s.users["alice"].id)
    assert (alice.status, alice.checked_in_at) == ("registered", None)
    audit = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "registration.check_in_undone",
            AuditEntry.resource_id == str(alice.id),
        )
    )
    assert audit is not None
    assert audit.details["reason"] == "wrong Alice"
    twice = await submit(client, desk, f"{desk}/{alice.id}/undo", q="", reason="")
    assert await flashed(client, twice) == (
        "error",
        "Alice is not checked in: there is no check-in to undo.",
    )
    too_long = await submit(client, desk, f"{desk}/{alice.id}/undo", q="", reason="x" * 501)
    assert (await flashed(client, too_long))[0] == "error"


async def test_waitlist_page_positions_promotion_and_capacity(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, capacity=4)
    use_session(client, s.tokens["olga"])
    tab = admin(s) + "/waitlist"
    await create_registration(session, s.event, s.users["otto"], status="waitlisted")
    page = await client.get(tab)
    assert page.status_code == 200
    queue = re.findall(
        r'<strong class="queue-position">(\d+)\.</strong> <strong>(\w+)</strong>', page.text
    )
    assert queue == [("1", "Walt"), ("2", "Otto")]
    assert "4 of 4 seats taken." in text_of(page)
    otto = await registration_of(session, s, s.users["otto"].id)
    promote = f"{tab}/{otto.id}/promote"
    assert f'action="{promote}"' in page.text
    assert "Add a seat and promote" in page.text

    refused = await submit(client, tab, promote)  # no raise_capacity: refused in words
    assert await flashed(client, refused) == (
        "error",
        "The event is full (4 of 4 seats): promoting Otto needs one more seat. Raise the "
        "capacity by one to promote them, or free a seat first.",
    )
    done = await submit(client, tab, promote, raise_capacity="on")
    assert await flashed(client, done) == (
        "success",
        "Otto has a seat and is told so by mail. The capacity is now 5.",
    )
    assert (await registration_of(session, s, s.users["otto"].id)).status == "registered"
    again = await submit(client, tab, promote, raise_capacity="on")
    assert await flashed(client, again) == (
        "error",
        "Otto is not on the waitlist (already registered): nothing to promote.",
    )
    after = await client.get(tab)
    assert re.findall(
        r'<strong class="queue-position">(\d+)\.</strong> <strong>(\w+)</strong>', after.text
    ) == [("1", "Walt")]
    assert "5 of 5 seats taken." in text_of(after)


async def test_approval_on_the_settings_the_tab_and_the_participant_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, capacity=10, approval_required=True)
    tab = admin(s) + "/waitlist"
    use_session(client, s.tokens["otto"])
    event_page = await client.get(public(s))
    assert "The organizers approve each registration" in text_of(event_page)
    registered = await submit(client, public(s), public(s) + "/register")
    assert await flashed(client, registered) == (
        "warning",
        f"Your registration for {s.event.name} is sent: it awaits the organizers' approval, and"
        " we will tell you when they decide.",
    )
    mine = await client.get(public(s) + "/registration")
    assert 'id="registration-status">awaiting approval</strong>' in mine.text
    assert 'id="registration-decision"' in mine.text
    assert "Awaiting approval" in mine.text
    assert 'id="checkin-code"' not in mine.text
    assert "qr.svg" not in mine.text
    otto = await registration_of(session, s, s.users["otto"].id)
    assert otto.status == "pending"

    use_session(client, s.tokens["olga"])
    settings = await client.get(admin(s))
    assert re.search(
        r'id="settings-approval_required" name="approval_required"[^>]* checked', settings.text
    )
    page = await client.get(tab)
    assert re.search(r'id="pending-count">1<', page.text)
    assert f'action="{tab}/{otto.id}/approve"' in page.text
    approved = await submit(client, tab, f"{tab}/{otto.id}/approve")
    assert await flashed(client, approved) == (
        "success",
        "Otto is approved and has a seat; they are told by mail.",
    )
    twice = await submit(client, tab, f"{tab}/{otto.id}/approve")
    assert await flashed(client, twice) == (
        "error",
        "The registration of Otto is not awaiting approval: it is already approved and registered.",
    )
    await as_tenant(session, s.org.id)
    use_session(client, s.tokens["otto"])
    seated = await client.get(public(s) + "/registration")
    assert 'id="checkin-code"' in seated.text

    use_session(client, s.tokens["olga"])
    walt = await registration_of(session, s, s.users["walt"].id)  # waitlisted by the stage
    declined_not_pending = await submit(client, tab, f"{tab}/{walt.id}/decline")
    assert (await flashed(client, declined_not_pending))[1] == (
        "The registration of Walt is not awaiting approval: it is already approved and on the"
        " waitlist."
    )
    dee, dee_token = await person(session, name="Dee")
    dee_reg = await create_registration(session, s.event, dee, status="pending")
    declined = await submit(client, tab, f"{tab}/{dee_reg.id}/decline")
    assert await flashed(client, declined) == (
        "success",
        "The registration of Dee is declined; they are told by mail.",
    )
    use_session(client, dee_token)
    theirs = await client.get(public(s) + "/registration")
    assert "Not approved" in theirs.text
    assert "The organizers declined your registration" in theirs.text
    assert 'id="checkin-code"' not in theirs.text


async def test_the_settings_page_turns_approval_on(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, capacity=10)
    use_session(client, s.tokens["olga"])
    values = settings_values(s.event)
    assert values["approval_required"] == ""
    saved = await submit(client, admin(s), **{**values, "approval_required": "on"})
    assert saved.status_code == 303, saved.text
    await as_tenant(session, s.org.id)
    await session.refresh(s.event)
    assert s.event.approval_required is True
    tab = await client.get(admin(s) + "/waitlist")
    assert "New registrations wait here for your decision" in tab.text
