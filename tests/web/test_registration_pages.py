"""Registration pages through HTTP: registering on the event page (questions, errors per
question, the waitlist), my registration (code, QR, cancel), "My events", and the organizer's
registrations (filters, pages, remove, CSV export and import) and check-in desk."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.browser import CSRF_COOKIE
from hackops.models import EventRoleGrant, Registration
from hackops.web.eventkit import Moment
from tests.factories import create_registration, create_team, create_user
from tests.people import person
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import csrf_from, follow, submit, text_of, use_session
from tests.web.test_event_admin_pages import admin, field_error
from tests.web.test_org_pages import as_tenant

QUESTIONS = [
    {
        "id": "shirt",
        "kind": "choice",
        "label": "Shirt size",
        "required": True,
        "options": ["S", "M"],
    },
    {"id": "langs", "kind": "multi_choice", "label": "Languages", "options": ["Go", "Rust", "SQL"]},
    {"id": "about", "kind": "text", "label": "About you", "required": True},
    {"id": "rules", "kind": "checkbox", "label": "I accept the rules", "required": True},
]


def public(s: Stage) -> str:
    return f"/orgs/{s.org.slug}/events/{s.event.slug}"


async def registration_of(session: AsyncSession, s: Stage, user_id: object) -> Registration:
    await as_tenant(session, s.org.id)
    found = await session.scalar(
        select(Registration)
        .where(Registration.event_id == s.event.id, Registration.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


# --- registering --------------------------------------------------------------------------------


async def test_signed_out_visitors_are_asked_to_log_in(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    page = await client.get(public(s))
    login = f"/login?next=%2Forgs%2F{s.org.slug}%2Fevents%2F{s.event.slug}"
    assert f'href="{login}">Log in to register</a>' in page.text
    token = await csrf_from(client, "/login")
    posted = await client.post(
        public(s) + "/register",
        data={"csrf_token": token},
        headers={"Origin": "http://testserver"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == login
    assert (await client.get(public(s) + "/registration")).status_code == 303


async def test_register_with_answers_errors_per_question(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, questions=QUESTIONS)
    me, token = await person(session, name="Nina")
    use_session(client, token)
    page = await client.get(public(s))
    assert (
        '<label for="answer-about">About you <span class="muted">(required)</span></label>'
        in page.text
    )
    assert 'type="radio" name="answer-shirt" value="M"' in page.text
    wrong = await submit(
        client, public(s), public(s) + "/register", **{"answer-shirt": "XL", "answer-langs": "Rust"}
    )
    assert wrong.status_code == 422
    assert field_error(wrong, "answer-shirt") == "Must be one of the options."
    assert field_error(wrong, "answer-about") == "An answer is required."
    assert field_error(wrong, "answer-rules") == "Must be checked."
    assert 'value="Rust" checked' in wrong.text  # the answers are kept
    assert "Please correct the marked answers." in text_of(wrong)
    await as_tenant(session, s.org.id)
    assert await session.scalar(select(Registration).where(Registration.user_id == me.id)) is None

    token_value = await csrf_from(client, public(s))
    ok = await client.post(
        public(s) + "/register",
        data={
            "csrf_token": token_value,
            "answer-shirt": "M",
            "answer-langs": ["SQL", "Go"],
            "answer-about": "  I like robots ",
            "answer-rules": "on",
        },
        headers={"Origin": "http://testserver"},
    )
    assert ok.headers["location"] == public(s) + "/registration"
    mine = await follow(client, ok)
    assert f"You are registered for {s.event.name}." in text_of(mine)
    registration = await registration_of(session, s, me.id)
    assert registration.status == "registered"
    assert registration.answers == {
        "shirt": "M",
        "langs": ["Go", "SQL"],
        "about": "I like robots",
        "rules": True,
    }
    assert f'<code id="checkin-code">{registration.checkin_code}</code>' in mine.text
    qr = re.search(r'<img class="qr-code" src="([^"]+)"', mine.text)
    assert qr
    svg = await client.get(qr.group(1))
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    again = await client.get(public(s))
    assert 'id="registration-status">registered<' in again.text
    assert 'action="' + public(s) + '/register"' not in again.text


async def test_a_full_event_puts_people_on_the_waitlist_with_their_position(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, capacity=4)  # alice, bob, carol, dave hold the seats; walt waits
    me, token = await person(session)
    use_session(client, token)
    assert "registering puts you on the waitlist" in text_of(await client.get(public(s)))
    posted = await submit(client, public(s), public(s) + "/register")
    page = await follow(client, posted)
    assert "The event is full: you are on the waitlist." in text_of(page)
    assert '<strong id="waitlist-position">2</strong>' in page.text
    # No code and no QR code to show at the entrance: a waitlisted person may not come in yet.
    assert "you are number 2 in the queue" in text_of(page)
    assert "You have no check-in code yet" in text_of(page)
    assert "Show this at the entrance" not in page.text
    assert 'id="checkin-code"' not in page.text
    assert "qr.svg" not in page.text
    assert (await registration_of(session, s, me.id)).status == "waitlisted"


async def test_registration_refusals_come_back_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, capacity=4, waitlist_enabled=False)
    _, token = await person(session)
    use_session(client, token)
    full = await submit(client, public(s), public(s) + "/register")
    assert full.status_code == 409
    assert "The event is full and has no waitlist." in text_of(full)
    closed = await stage(session, registration_closes_at=datetime.now(UTC) - timedelta(hours=1))
    page = await client.get(public(closed))
    assert '<p class="empty" id="registration-closed">Registration closed on <time' in page.text
    late = await submit(client, public(closed), public(closed) + "/register")
    assert late.status_code == 409
    assert "Registration for this event is not open." in text_of(late)


async def test_cancel_frees_the_seat(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session, capacity=4)
    use_session(client, s.tokens["alice"])
    page = public(s) + "/registration"
    cancelled = await submit(client, page, page + "/cancel")
    assert cancelled.headers["location"] == public(s)
    after = await follow(client, cancelled)
    assert "Your registration is cancelled." in text_of(after)
    assert 'action="' + public(s) + '/register"' in after.text  # can register again
    assert (await registration_of(session, s, s.users["alice"].id)).status == "cancelled"
    assert (await registration_of(session, s, s.users["walt"].id)).status == "registered"
    mine = await client.get(page)
    assert 'id="registration-status">cancelled<' in mine.text
    assert "<img" not in mine.text


async def test_checked_in_people_cannot_cancel(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    registration = await registration_of(session, s, s.users["alice"].id)
    registration.status, registration.checked_in_at = "checked_in", datetime.now(UTC)
    await session.flush()
    use_session(client, s.tokens["alice"])
    page = await client.get(public(s) + "/registration")
    assert "Cancel my registration" not in page.text
    refused = await submit(client, public(s) + "/registration", public(s) + "/registration/cancel")
    assert "A checked-in registration cannot be cancelled" in text_of(await follow(client, refused))


# --- my events ----------------------------------------------------------------------------------


async def test_my_events_lists_registrations_teams_and_events_i_organize(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create_team(session, s.event, s.users["alice"], name="Owls")
    other = await stage(session)
    await create_registration(session, other.event, s.users["alice"], status="waitlisted")
    use_session(client, s.tokens["alice"])
    home = await client.get("/")
    assert 'href="/me/events">My events</a>' in home.text
    page = await client.get("/me/events")
    assert page.status_code == 200
    assert f'href="{public(s)}/teams/{team.id}">Owls</a>' in page.text
    assert f'href="{public(s)}/teams/{team.id}/tasks">Task board' in page.text
    assert f'href="{public(other)}/registration"' in page.text
    assert "on the waitlist" in page.text
    assert "None." in page.text  # alice organizes nothing

    use_session(client, s.tokens["olga"])
    organizing = await client.get("/me/events")
    assert f'href="{public(s)}/admin">Manage' in organizing.text
    assert "organization organizer" in organizing.text
    assert "You have not registered for any event yet." in organizing.text


async def test_my_events_lists_events_where_i_only_hold_a_role(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """A judge invited to one event of an organization she is not a member of (a draft event,
    even) finds it under "My events"; a role elsewhere or someone else's role is not shown."""
    s = await stage(session)
    draft = await stage(session, published_at=None)
    judge, token = await person(session, email=f"judge-{s.org.slug}@example.org", name="Jude")
    for event, role in ((s.event, "judge"), (draft.event, "mentor")):
        await as_tenant(session, event.org_id)
        session.add(
            EventRoleGrant(org_id=event.org_id, event_id=event.id, user_id=judge.id, role=role)
        )
        await session.flush()
    use_session(client, token)
    page = await client.get("/me/events")
    assert page.status_code == 200
    assert f'href="{public(s)}"' in page.text
    assert f'href="{public(draft)}"' in page.text
    assert "judge" in page.text
    assert "mentor" in page.text
    assert f'href="{public(s)}/admin">Manage' not in page.text  # judging is not organizing
    use_session(client, s.tokens["alice"])
    assert f'href="{public(draft)}"' not in (await client.get("/me/events")).text


# --- the organizer's registrations ------------------------------------------------------------


async def test_registrations_list_filters_pages_and_removes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    for n in range(55):
        user = await create_user(session, email=f"bulk{n:02}@example.net", name=f"Bulk {n:02}")
        await create_registration(session, s.event, user)
    use_session(client, s.tokens["olga"])
    page = admin(s) + "/registrations"
    first = await client.get(page)
    assert "1–50 of 60" in first.text
    assert 'href="?offset=50">Next 50' in first.text
    second = await client.get(page + "?offset=50")
    assert "51–60 of 60" in second.text
    waiting = await client.get(page + "?status=waitlisted")
    assert "1–1 of 1" in waiting.text
    assert s.users["walt"].email in waiting.text
    found = await client.get(page + "?q=bulk0")
    assert "1–10 of 10" in found.text
    exports = admin(s) + "/exports/registrations"
    for fmt in ("csv", "xlsx", "json"):
        assert f'href="{exports}.{fmt}?q=bulk0"' in found.text
    target = await registration_of(session, s, s.users["bob"].id)
    removed = await submit(client, page, page + f"/{target.id}/remove")
    assert "The registration is removed" in text_of(await follow(client, removed))
    assert (await registration_of(session, s, s.users["bob"].id)).status == "cancelled"
    # No capacity: the seat goes to the person waiting, in the same transaction.
    assert (await registration_of(session, s, s.users["walt"].id)).status == "registered"


async def test_export_downloads_the_csv(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session)
    use_session(client, s.tokens["olga"])
    export = await client.get(admin(s) + "/exports/registrations.csv?status=waitlisted")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert export.content.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["email", "name", "status"]
    assert [(r[0], r[2]) for r in rows[1:]] == [(s.users["walt"].email, "waitlisted")]


async def _import(
    client: httpx2.AsyncClient, s: Stage, body: str, partial: bool
) -> httpx2.Response:
    page = admin(s) + "/registrations"
    token = await csrf_from(client, page)
    data = {"csrf_token": token, **({"partial": "on"} if partial else {})}
    return await client.post(
        page + "/import",
        data=data,
        files={"file": ("people.csv", body.encode(), "text/csv")},
        headers={"Origin": "http://testserver"},
    )


async def test_import_reports_bad_rows_and_imports_nothing_unless_partial(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    use_session(client, s.tokens["olga"])
    body = "email,name\nnew1@example.net,New One\nnot-an-email,Bad\nnew2@example.net,\n"
    refused = await _import(client, s, body, partial=False)
    assert refused.status_code == 422
    assert "Nothing was imported" in text_of(refused)
    assert re.search(r"<td>3</td><td>email</td><td>Not a valid email address.</td>", refused.text)
    assert re.search(r"<td>4</td><td>name</td>", refused.text)
    await as_tenant(session, s.org.id)
    count = select(func.count()).where(Registration.event_id == s.event.id)
    assert await session.scalar(count) == 5
    partial = await _import(client, s, body, partial=True)
    assert partial.status_code == 200
    assert "3 rows read: 1 registered, 0 waitlisted" in text_of(partial)
    assert "(those rows were skipped)" in text_of(partial)
    await as_tenant(session, s.org.id)
    assert await session.scalar(count) == 6
    missing = await _import(client, s, "", partial=False)
    assert missing.status_code == 422
    assert field_error(missing, "import-file") == "Choose a CSV file."


# --- the check-in desk --------------------------------------------------------------------------


async def test_check_in_desk(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session)
    use_session(client, s.tokens["olga"])
    desk = admin(s) + "/checkin"
    page = await client.get(desk)
    assert re.search(r'<input id="checkin-code" name="code" type="text" autofocus', page.text)
    assert '<label for="checkin-code">Check-in code, name or email</label>' in page.text
    assert "Nobody is checked in yet." in page.text
    code = (await registration_of(session, s, s.users["alice"].id)).checkin_code
    first = await submit(client, desk, code=f" {code.lower()} ")
    assert first.status_code == 200
    result = re.search(r'id="checkin-result">\s*<p>(.*?)</p>', first.text, re.S)
    assert result, first.text
    assert re.sub(r"<[^>]+>", "", result.group(1)).startswith(
        f"Alice ({s.users['alice'].email}) is checked in at "
    )
    checked = await registration_of(session, s, s.users["alice"].id)
    assert checked.status == "checked_in"
    assert checked.checked_in_by_id == s.users["olga"].id
    assert checked.checked_in_at is not None
    moment = Moment(checked.checked_in_at, ZoneInfo(s.event.timezone))  # the event's clock
    assert result.group(1).endswith(f"is checked in at {moment.__html__()}.")
    assert 'id="recent-checkins"' in first.text
    again = await submit(client, desk, code=code)
    assert again.status_code == 200
    assert f"was already checked in at {moment.__html__()}." in again.text
    unknown = await submit(client, desk, code="ZZZZZZZZ")
    assert unknown.status_code == 404
    assert "Nobody matches “ZZZZZZZZ”: no check-in code, name or email" in text_of(unknown)
    waiting = (await registration_of(session, s, s.users["walt"].id)).checkin_code
    not_seated = await submit(client, desk, code=waiting)
    assert not_seated.status_code == 409
    assert "without a seat" in text_of(not_seated)
    blank = await submit(client, desk, code="   ")
    assert blank.status_code == 422
    assert "Type or scan a check-in code, or type a name or an email." in text_of(blank)
    assert client.cookies.get(CSRF_COOKIE)
