"""The exports in the pages: the Exports tab lists every dataset in every format, the pages
showing the same data link to the same downloads, and a download through the page is the
API's file (audited the same way)."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.exports.helpers import build_scene, csv_dicts, publish, xlsx_strings
from tests.factories import create_event_result
from tests.web.test_account_pages import follow, text_of, use_session


def admin_of(s: object) -> str:
    cast = s.cast  # type: ignore[attr-defined]
    return f"/orgs/{cast.org.slug}/events/{cast.event.slug}/admin"


def links(base: str, query: str = "") -> list[str]:
    return [f'href="{base}.{fmt}{query}"' for fmt in ("csv", "xlsx", "json")]


async def test_the_exports_tab_lists_every_dataset_in_every_format(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    use_session(client, s.cast.tokens["event_organizer"])
    admin = admin_of(s)
    page = await client.get(admin + "/exports")
    assert page.status_code == 200
    assert f'href="{admin}/exports"' in page.text  # the tab
    for dataset in ("registrations", "teams", "submissions", "judges", "evaluations"):
        for link in links(f"{admin}/exports/{dataset}"):
            assert link in page.text, link
    for link in links(f"{admin}/exports/evaluations", "?anonymize=true"):
        assert link in page.text
    assert "Available once the results are published." in text_of(page)
    assert f"{admin}/exports/results.csv" not in page.text
    refused = await client.get(admin + "/exports/results.csv")
    assert "they are not published yet" in text_of(await follow(client, refused))


async def test_each_page_of_the_same_data_links_its_downloads(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    use_session(client, s.cast.tokens["event_organizer"])
    admin = admin_of(s)
    event = admin.removesuffix("/admin")
    pages = {
        admin + "/registrations": links(f"{admin}/exports/registrations"),
        event + "/teams": links(f"{admin}/exports/teams"),
        admin + "/submissions": links(f"{admin}/exports/submissions"),
        admin + "/judging": links(f"{admin}/exports/judges")
        + links(f"{admin}/exports/evaluations")
        + links(f"{admin}/exports/evaluations", "?anonymize=true"),
    }
    for path, expected in pages.items():
        page = await client.get(path)
        assert page.status_code == 200, path
        for link in expected:
            assert link in page.text, (path, link)
    # A participant sees the teams page without the organizers' downloads.
    use_session(client, s.cast.tokens["participant"])
    teams = await client.get(event + "/teams")
    assert teams.status_code == 200
    assert "/exports/" not in teams.text


async def test_the_results_page_links_the_published_results(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    await create_event_result(session, s.cast.event)
    await publish(session, s.cast.event)
    admin = admin_of(s)
    use_session(client, s.cast.tokens["event_organizer"])
    results = await client.get(admin.removesuffix("/admin") + "/results")
    for link in links(f"{admin}/exports/results"):
        assert link in results.text
    tab = await client.get(admin + "/exports")
    for link in links(f"{admin}/exports/results"):
        assert link in tab.text
    use_session(client, s.cast.tokens["participant"])
    public = await client.get(admin.removesuffix("/admin") + "/results")
    assert public.status_code == 200
    assert "/exports/" not in public.text


async def test_a_download_through_the_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await build_scene(session)
    use_session(client, s.cast.tokens["event_organizer"])
    admin = admin_of(s)
    teams = await client.get(admin + "/exports/teams.csv")
    assert teams.status_code == 200
    assert {r["team"] for r in csv_dicts(teams)} == {s.cast.team.name, "'+Second team"}
    book = await client.get(admin + "/exports/evaluations.xlsx?anonymize=true")
    assert book.headers["content-disposition"].endswith('-evaluations-anonymized.xlsx"')
    texts = xlsx_strings(book.content)
    assert "Judge 1" in texts
    assert s.judges[0].email not in "".join(texts)
    for bad in ("/exports/passwords.csv", "/exports/teams.pdf"):
        missing = await client.get(admin + bad)
        assert missing.status_code == 404, bad
    use_session(client, s.cast.tokens["judge"])
    assert (await client.get(admin + "/exports/teams.csv")).status_code == 403
