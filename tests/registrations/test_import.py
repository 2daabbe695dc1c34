"""Bulk CSV import: every row validated first, a row-level report, all or nothing unless partial."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry, User
from tests.accounts.helpers import bearer
from tests.people import person
from tests.registrations.helpers import as_admin, registered_count, scene, statuses

CSV = {"Content-Type": "text/csv"}


def big_csv(rows: int, bad: dict[int, str]) -> bytes:
    """`rows` data rows; the data rows numbered in `bad` (file row = index + 2) are replaced."""
    lines = ["email,name"]
    for i in range(rows):
        lines.append(bad.get(i, f"person{i}@bulk.example,Person {i}"))
    return ("\n".join(lines) + "\n").encode()


async def test_ten_thousand_rows_with_three_bad_ones_reports_exactly_those(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=None)
    data = big_csv(
        10_000,
        {
            10: "not-an-email,Someone",
            5000: "person5000@bulk.example,",
            9999: "person1@bulk.example,Person One Again",
        },
    )
    url = f"{s.base}/registrations/import"
    refused = await client.post(url, headers={**bearer(s.organizer_token), **CSV}, content=data)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "import_invalid"
    assert error["details"]["errors"] == [
        {"row": 12, "column": "email", "message": "Not a valid email address."},
        {"row": 5002, "column": "name", "message": "A name of 1 to 200 characters."},
        {"row": 10001, "column": "email", "message": "Same person as row 3."},
    ]
    await as_admin(session)
    assert await statuses(session, s.event) == {}
    created = await session.scalar(
        select(func.count()).select_from(User).where(User.email.like("%@bulk.example"))
    )
    assert created == 0

    partial = await client.post(
        f"{url}?partial=true", headers={**bearer(s.organizer_token), **CSV}, content=data
    )
    assert partial.status_code == 200, partial.text
    report = partial.json()
    assert (report["rows"], report["registered"]) == (10_000, 9_997)
    assert [e["row"] for e in report["errors"]] == [12, 5002, 10001]
    assert await statuses(session, s.event) == {"registered": 9_997}
    assert await registered_count(session, s.event) == 9_997


async def test_import_respects_capacity_and_matches_existing_users(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=2)
    known, token = await person(session, "known@example.com", verified=True)
    await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    data = (
        b"Email,Name,Status\n"
        b"known@example.com,Known,registered\n"
        b" NEW1@Example.com ,New One,\n"
        b"new2@example.com,New Two,registered\n"
        b"new3@example.com,New Three,waitlisted\n"
    )
    response = await client.post(
        f"{s.base}/registrations/import", headers={**bearer(s.organizer_token), **CSV}, content=data
    )
    assert response.status_code == 200, response.text
    report = response.json()
    # Whether a row's address already had an account is not told (account enumeration).
    assert report == {
        "rows": 4,
        "registered": 1,
        "waitlisted": 2,
        "unchanged": 1,
        "not_seated": [],
        "errors": [],
    }
    assert await statuses(session, s.event) == {"registered": 2, "waitlisted": 2}
    order = await session.execute(
        text(
            "SELECT u.email, r.status, u.password_hash IS NULL, u.email_verified_at IS NULL"
            " FROM registrations r JOIN users u ON u.id = r.user_id"
            " WHERE r.event_id = :e ORDER BY r.queue_seq"
        ),
        {"e": s.event.id},
    )
    assert [tuple(r) for r in order] == [
        (known.email, "registered", True, False),  # tests' people have no password either
        ("new1@example.com", "registered", True, True),
        ("new2@example.com", "waitlisted", True, True),
        ("new3@example.com", "waitlisted", True, True),
    ]


async def test_import_without_waitlist_reports_rows_not_seated(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1, waitlist_enabled=False)
    data = b"email,name\na@example.com,A\nb@example.com,B\n"
    response = await client.post(
        f"{s.base}/registrations/import", headers={**bearer(s.organizer_token), **CSV}, content=data
    )
    assert response.json()["not_seated"] == [3]
    assert await statuses(session, s.event) == {"registered": 1}


async def test_import_header_errors_and_access(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    url = f"{s.base}/registrations/import"
    bad = await client.post(
        url, headers={**bearer(s.organizer_token), **CSV}, content=b"mail,name\nx@y.z,X\n"
    )
    assert bad.json()["error"]["details"]["errors"][0] == {
        "row": 1,
        "column": "email",
        "message": "Missing column (the header needs email,name).",
    }
    _, participant = await person(session, verified=True)
    denied = await client.post(url, headers={**bearer(participant), **CSV}, content=b"email,name\n")
    assert denied.status_code == 404


async def test_the_import_report_does_not_tell_which_addresses_had_an_account(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session)
    await person(session, "known@example.com", verified=True)
    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        response = await client.post(
            f"{s.base}/registrations/import",
            headers={**bearer(s.organizer_token), **CSV},
            content=f"email,name\n{email},Someone\n".encode(),
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers[0] == answers[1]
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    details = await session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "registration.imported")
    )
    assert [d.get("created_users") for d in details] == [None, None]
