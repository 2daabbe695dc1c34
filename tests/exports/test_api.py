"""The organizer exports through the API: every dataset in every format, formula cells
defused, the BOM, non-Latin text, one column per question and per criterion, anonymized
evaluations, results only once published, who may export, the audit row."""

from __future__ import annotations

import json

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry
from tests.exports.helpers import (
    NON_LATIN,
    build_scene,
    csv_dicts,
    csv_rows,
    fetch,
    json_rows,
    publish,
    xlsx_parts,
    xlsx_strings,
)
from tests.factories import create_evaluation, create_event_result, create_registration
from tests.people import person

DATASETS = ("registrations", "teams", "submissions", "judges", "evaluations")
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@pytest.mark.parametrize("dataset", DATASETS)
async def test_every_dataset_in_every_format_holds_the_same_rows(
    client: httpx2.AsyncClient, session: AsyncSession, dataset: str
) -> None:
    s = await build_scene(session)
    as_csv = await fetch(client, s, f"{dataset}.csv")
    as_json = await fetch(client, s, f"{dataset}.json")
    as_xlsx = await fetch(client, s, f"{dataset}.xlsx")
    for fmt, response in (("csv", as_csv), ("json", as_json), ("xlsx", as_xlsx)):
        assert response.headers["content-type"] == TYPES[fmt]
        assert response.headers["content-disposition"] == (
            f'attachment; filename="{s.cast.event.slug}-{dataset}.{fmt}"'
        )
        assert response.headers["cache-control"] == "no-store"
    rows = csv_rows(as_csv)
    objects = json_rows(as_json)
    assert len(objects) == len(rows) - 1 > 0
    assert list(objects[0]) == rows[0]
    sheet, _ = xlsx_parts(as_xlsx.content)
    assert sheet.count("<row ") == len(rows)


async def test_formula_cells_are_defused_in_csv_and_never_formulas_in_xlsx(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    typed, _ = await person(session, verified=True, name="-2+3\tcmd")
    await create_registration(session, s.cast.event, typed)
    registrations = {r["name"]: r for r in csv_dicts(await fetch(client, s, "registrations.csv"))}
    assert "'-2+3\tcmd" in registrations
    assert registrations["Captain"]["Anything else"] == "'=1+2"
    submissions = csv_dicts(await fetch(client, s, "submissions.csv"))
    assert {r["title"] for r in submissions} == {"'@SUM(A1)", "Other project"}
    assert "'+Second team" in {r["team"] for r in submissions}
    # JSON keeps the text as typed.
    titles = {r["title"] for r in json_rows(await fetch(client, s, "submissions.json"))}
    assert titles == {"@SUM(A1)", "Other project"}
    # XLSX: the text is stored as text, as typed, and no cell is a formula.
    for dataset in ("registrations", "submissions", "teams"):
        content = (await fetch(client, s, f"{dataset}.xlsx")).content
        sheet, _ = xlsx_parts(content)
        assert "<f>" not in sheet
        assert "<f " not in sheet
    assert "@SUM(A1)" in xlsx_strings((await fetch(client, s, "submissions.xlsx")).content)
    assert "=1+2" in xlsx_strings((await fetch(client, s, "registrations.xlsx")).content)


async def test_non_latin_text_survives_every_format(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    teams = await fetch(client, s, "teams.csv")
    assert NON_LATIN in {r["member_name"] for r in csv_dicts(teams)}
    assert NON_LATIN in {r["member_name"] for r in json_rows(await fetch(client, s, "teams.json"))}
    assert NON_LATIN in xlsx_strings((await fetch(client, s, "teams.xlsx")).content)
    files = {r["files"] for r in csv_dicts(await fetch(client, s, "submissions.csv"))}
    assert "pitch.pdf; слайды.pdf" in files


async def test_registrations_have_one_column_per_question(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    rows = csv_rows(await fetch(client, s, "registrations.csv"))
    assert rows[0] == [
        "email",
        "name",
        "status",
        "queue_seq",
        "registered_at",
        "checked_in_at",
        "checkin_code",
        "source",
        "looking_for_team",
        "T-shirt size",
        "Dietary needs",
        "Photos allowed",
        "Anything else",
    ]
    by_name = {r["name"]: r for r in csv_dicts(await fetch(client, s, "registrations.csv"))}
    participant = by_name["Participant"]
    assert [participant[k] for k in ("T-shirt size", "Dietary needs", "Photos allowed")] == [
        "M",
        "vegan; halal",
        "yes",
    ]
    assert by_name["Checked In"]["status"] == "checked_in"
    assert by_name["Checked In"]["checked_in_at"] != ""
    assert by_name["Member"] if "Member" in by_name else by_name[NON_LATIN]
    waiting = await fetch(client, s, "registrations.csv?status=checked_in")
    assert [r["name"] for r in csv_dicts(waiting)] == ["Checked In"]


async def test_evaluations_have_one_column_per_criterion_and_name_the_judges(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    rows = csv_dicts(await fetch(client, s, "evaluations.csv"))
    assert [(r["judge_name"], r["Design (of 5)"], r["Impact (of 10)"]) for r in rows] == [
        (s.judges[1].name, "4", "8"),
        (s.judges[0].name, "4", "8"),
    ]
    assert rows[0]["private_comment"] == f"signed {s.judges[1].email}"
    judges = csv_dicts(await fetch(client, s, "judges.csv"))
    assert sorted((r["judge_email"], r["evaluation"]) for r in judges) == sorted(
        [
            (s.judges[0].email, "submitted"),
            (s.judges[1].email, "submitted"),
            (s.judges[2].email, "not started"),
        ]
    )


async def test_anonymized_evaluations_carry_no_judge_identity(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    identities = [v for j in s.judges for v in (j.name, j.email, str(j.id), j.email.split("@")[0])]
    for fmt in ("csv", "json", "xlsx"):
        response = await fetch(client, s, f"evaluations.{fmt}?anonymize=true")
        assert response.headers["content-disposition"].endswith(f'-evaluations-anonymized.{fmt}"')
        content = response.content
        if fmt == "xlsx":
            content = "\n".join(xlsx_strings(content)).encode()
        for identity in identities:
            assert identity.encode() not in content, (fmt, identity)
    rows = csv_dicts(await fetch(client, s, "evaluations.csv?anonymize=true"))
    assert list(rows[0])[:2] == ["judge", "submission_id"]
    assert "private_comment" not in rows[0]
    # Numbered by each judge's first evaluation: judges[1] scored first.
    assert [r["judge"] for r in rows] == ["Judge 1", "Judge 2"]
    # A new evaluation by the third judge adds a number and moves none.
    await create_evaluation(session, s.other, s.judges[2], feedback="fine")
    again = csv_dicts(await fetch(client, s, "evaluations.csv?anonymize=true"))
    numbered = {(r["submission_id"], r["judge"]) for r in again}
    assert numbered == {
        (str(s.submission.id), "Judge 1"),
        (str(s.submission.id), "Judge 2"),
        (str(s.other.id), "Judge 3"),
    }


async def test_results_are_exported_only_once_published(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    early = await client.get(f"{s.base}/exports/results.csv", headers=s.auth("event_organizer"))
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "results_not_published"
    assert "Publish the results first" in early.json()["error"]["message"]
    sid, other = str(s.submission.id), str(s.other.id)
    track_id = str(s.submission.track_ids[0])
    ranking = [
        {"rank": 1, "submission_id": sid, "title": "@SUM(A1)", "team_name": s.cast.team.name,
         "score": 0.8, "raw_mean": 80.0, "evaluations": 2, "track_ids": [track_id],
         "tracks": [{"id": track_id, "name": "Health", "rank": 1}]},
        {"rank": 2, "submission_id": other, "title": "Other project", "team_name": "+Second team",
         "score": 0.5, "raw_mean": 50.0, "evaluations": 0, "track_ids": [], "tracks": []},
    ]  # fmt: skip
    winners = [
        {"award_id": "x", "award": "Best overall", "prize": "A trip", "submission_id": sid,
         "title": "@SUM(A1)", "team_name": s.cast.team.name, "source": "ranking"},
    ]  # fmt: skip
    await create_event_result(session, s.cast.event, ranking=ranking, winners=winners)
    await publish(session, s.cast.event)
    rows = csv_dicts(await fetch(client, s, "results.csv"))
    assert [(r["list"], r["place"], r["title"], r["prize"]) for r in rows] == [
        ("Overall", "1", "'@SUM(A1)", ""),
        ("Overall", "2", "Other project", ""),
        ("Track: Health", "1", "'@SUM(A1)", ""),
        ("Award: Best overall", "1", "'@SUM(A1)", "A trip"),
    ]
    as_json = json_rows(await fetch(client, s, "results.json"))
    assert as_json[0]["score"] == 0.8
    assert as_json[0]["submission_id"] == sid


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("org_organizer", 200),
        ("event_organizer", 200),
        ("platform_admin", 200),
        ("judge", 403),
        ("mentor", 403),
        ("participant", 404),
        ("captain", 404),
        ("outsider", 404),
        ("anonymous", 404),
    ],
)
async def test_only_the_events_organizers_may_export(
    client: httpx2.AsyncClient, session: AsyncSession, who: str, status: int
) -> None:
    s = await build_scene(session)
    for dataset in ("registrations", "evaluations"):
        response = await client.get(f"{s.base}/exports/{dataset}.json", headers=s.auth(who))
        assert response.status_code == status, (who, dataset, response.text)
        if status != 200:
            assert s.judges[1].email not in response.text


async def test_another_organizations_organizer_gets_404(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    other = await build_scene(session)
    response = await client.get(f"{s.base}/exports/registrations.csv", headers=other.auth("owner"))
    assert response.status_code == 404


async def test_unknown_dataset_or_format_is_422(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    for path in ("passwords.csv", "teams.pdf", "teams"):
        response = await client.get(f"{s.base}/exports/{path}", headers=s.auth("owner"))
        assert response.status_code in (404, 422), path


async def test_every_export_is_audited(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await build_scene(session)
    await fetch(client, s, "evaluations.xlsx?anonymize=true", who="owner")
    await fetch(client, s, "registrations.csv?status=registered", who="event_organizer")
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    entries = (
        await session.execute(
            select(AuditEntry.actor_id, AuditEntry.resource_id, AuditEntry.details)
            .where(AuditEntry.action == "event.exported", AuditEntry.org_id == s.cast.org.id)
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    ).all()
    event_id = str(s.cast.event.id)
    assert [tuple(e) for e in entries] == [
        (
            s.cast.users["owner"].id,
            event_id,
            {"dataset": "evaluations", "format": "xlsx", "anonymized": True},
        ),
        (
            s.cast.users["event_organizer"].id,
            event_id,
            {"dataset": "registrations", "format": "csv", "filters": {"status": "registered"}},
        ),
    ]


async def test_the_first_registrations_address_serves_the_same_export(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    old = await client.get(f"{s.base}/registrations/export.csv", headers=s.auth("event_organizer"))
    new = await fetch(client, s, "registrations.csv")
    assert old.status_code == 200
    assert csv_rows(old) == csv_rows(new)


async def test_json_is_one_array_of_objects(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    body = (await fetch(client, s, "teams.json")).content
    assert body.startswith(b"[\n{")
    assert body.endswith(b"}\n]\n")
    assert json.loads(body)[0]["team"] in {s.cast.team.name, "+Second team"}
