"""Pages after publishing: the organizer switches the score breakdown on in the event settings;
the results page has a tab and a section per track, and the breakdown only while it is on; the
team's submission page shows its member the feedback and breakdown, and nothing before."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.results.test_after_publish import PRIVATE, feedback_text, judged_world, publish
from tests.web.test_account_pages import follow, submit, text_of, use_session
from tests.web.test_event_admin_pages import SETTINGS, admin, reread


async def test_the_breakdown_switch_in_the_event_settings(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    results_page = f"/orgs/{s.org.slug}/events/{s.event.slug}/results"
    use_session(client, s.tokens["olga"])
    settings = await client.get(admin(s))
    assert 'name="results_show_breakdown"' in settings.text
    assert 'name="results_show_breakdown" aria-describedby' in settings.text  # not checked
    preview = text_of(await client.get(results_page))  # the organizers' ranking, per track
    assert "Preview for organizers" in preview
    assert "Track: Hardware" in preview
    assert "Track: Software" in preview
    await publish(client, w)

    client.cookies.clear()
    page = await client.get(results_page)
    assert page.status_code == 200
    assert 'id="ranking-tabs"' in page.text
    for name, track_id in w.tracks.items():
        assert f'href="#track-{track_id}">{name}</a>' in page.text
        assert f"Track: {name}" in page.text
    assert "Score breakdown" not in page.text

    use_session(client, s.tokens["olga"])
    saved = await submit(client, admin(s), **SETTINGS, results_show_breakdown="on")
    assert saved.status_code == 303, saved.text
    assert "The settings are saved." in text_of(await follow(client, saved))
    assert (await reread(session, s)).results_show_breakdown is True
    assert "checked> Show the score breakdown" in (await client.get(admin(s))).text

    client.cookies.clear()
    shown = await client.get(results_page)
    assert 'href="#breakdown-heading">Score breakdown</a>' in shown.text
    assert "Judge 1" in shown.text
    assert "Impact <span" in shown.text
    assert PRIVATE not in shown.text
    assert "FEEDBACK-" not in shown.text

    use_session(client, s.tokens["olga"])
    await submit(client, admin(s), **SETTINGS)  # the box left unticked: off again
    assert (await reread(session, s)).results_show_breakdown is False
    client.cookies.clear()
    assert "Score breakdown" not in (await client.get(results_page)).text


async def test_the_team_reads_its_feedback_on_its_submission_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    page = w.team_page(0) + "/submission"
    use_session(client, s.tokens["p0"])
    before = text_of(await client.get(page))
    assert "Feedback from the judges" not in before
    assert "FEEDBACK-" not in before
    await publish(client, w)

    after = text_of(await client.get(page))
    assert "Feedback from the judges" in after
    assert feedback_text("judge0", 0) in after
    assert feedback_text("judge2", 0) in after
    assert feedback_text("judge0", 1) not in after  # another team's
    assert PRIVATE not in after
    assert "Winner — Grand prize" in after
    assert "Score breakdown" not in after

    use_session(client, s.tokens["p1"])  # another team's member: their own page, not ours
    assert (await client.get(page)).status_code == 404
    theirs = text_of(await client.get(w.team_page(1) + "/submission"))
    assert feedback_text("judge0", 1) in theirs
    assert feedback_text("judge0", 0) not in theirs
