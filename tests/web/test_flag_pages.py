"""Judges' flag pages through HTTP: the "Flag to organizers" form on the scoring page (refusals
re-render with the input kept, the flag's state after, withdrawing), the organizers' flags page
(filter, resolve), the flags on a project's review page and counted in the review queue, the
link from the judging admin, and 404 / 403 / log-in for everyone else."""

from __future__ import annotations

import re

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import JudgingFlag, OutboundEmail, Submission, Team
from tests.web.test_account_pages import follow, text_of
from tests.web.test_event_admin_pages import field_error
from tests.web.test_judging_pages import World, assign, judged, post
from tests.web.test_org_pages import as_tenant


async def stored_flags(session: AsyncSession, w: World) -> list[JudgingFlag]:
    await as_tenant(session, w.s.org.id)
    rows = await session.scalars(
        select(JudgingFlag)
        .where(JudgingFlag.event_id == w.s.event.id)
        .order_by(JudgingFlag.created_at)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def flags_page(w: World) -> str:
    return w.admin + "/flags"


def review_page(w: World, n: int) -> str:
    return f"{w.base}/admin/submissions/{w.projects[n]}"


async def test_a_judge_flags_from_the_scoring_page_and_sees_its_state(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=2, judges=1)
    await assign(session, w, "judge0", 0)
    w.as_(client, "judge0")
    page = await client.get(w.score_url(0))
    assert page.status_code == 200
    assert 'id="flag-heading">Flag to organizers</h2>' in page.text
    assert f'action="{w.score_url(0)}/flag"' in page.text
    assert '<option value="code_of_conduct">Code of conduct</option>' in page.text
    assert re.search(r'<select id="flag-reason" name="reason" required>', page.text)
    assert re.search(rf'id="{w.field(0)}"[^>]* autofocus', page.text)  # scores come first

    no_reason = await post(client, w.score_url(0), w.score_url(0) + "/flag", note="Odd")
    assert no_reason.status_code == 422
    assert field_error(no_reason, "flag-reason") == "Choose a reason."
    assert ">Odd</textarea>" in no_reason.text
    assert re.search(r'id="flag-reason"[^>]* autofocus', no_reason.text)
    assert not re.search(rf'id="{w.field(0)}"[^>]* autofocus', no_reason.text)
    no_note = await post(
        client, w.score_url(0), w.score_url(0) + "/flag", reason="code_of_conduct", note="  "
    )
    assert no_note.status_code == 422
    assert "a note is required for a code-of-conduct report" in field_error(no_note, "flag-note")
    assert '<option value="code_of_conduct" selected>' in no_note.text
    assert await stored_flags(session, w) == []

    flagged = await post(
        client,
        w.score_url(0),
        w.score_url(0) + "/flag",
        reason="code_of_conduct",
        note="Slide 3 insults another team.",
    )
    assert flagged.headers["location"] == w.score_url(0) + "#flag"
    shown = await follow(client, flagged)
    assert "“Project 0” is flagged: the organizers have been emailed." in text_of(shown)
    assert 'flag-status">open</span>' in shown.text
    assert "Slide 3 insults another team." in shown.text
    assert "Your flag is with the organizers." in text_of(shown)
    assert f'action="{w.score_url(0)}/flag"' not in shown.text  # one open flag at a time
    [flag] = await stored_flags(session, w)
    assert (flag.reason, flag.note, flag.status) == (
        "code_of_conduct",
        "Slide 3 insults another team.",
        "open",
    )
    mails = list(await session.scalars(select(OutboundEmail)))
    assert [m.to_address for m in mails] == [w.s.users["olga"].email]

    withdraw = f"{w.score_url(0)}/flags/{flag.id}/withdraw"
    assert f'action="{withdraw}"' in shown.text
    withdrawn = await post(client, w.score_url(0), withdraw)
    assert withdrawn.headers["location"] == w.score_url(0) + "#flag"
    after = await follow(client, withdrawn)
    assert "Flag withdrawn." in text_of(after)
    assert 'flag-status">resolved</span>' in after.text
    assert "Withdrawn by the judge." in after.text
    assert f'action="{w.score_url(0)}/flag"' in after.text  # may flag again
    [flag] = await stored_flags(session, w)
    assert (flag.status, flag.resolved_by) == ("resolved", w.s.users["judge0"].id)


async def test_organizers_read_and_resolve_flags_on_the_flags_and_review_pages(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=2)
    await assign(session, w, "judge0", 0, 1)
    await assign(session, w, "judge1", 1)
    w.as_(client, "judge0")
    await post(client, w.score_url(0), w.score_url(0) + "/flag", reason="broken", note="No demo.")
    w.as_(client, "judge1")
    await post(client, w.score_url(1), w.score_url(1) + "/flag", reason="ineligible")
    first, second = await stored_flags(session, w)
    team_of = dict((await session.execute(select(Submission.id, Team.name).join(Team))).all())

    w.as_(client, "olga")
    admin = await client.get(w.admin)
    assert (
        f'<a href="{flags_page(w)}">Judges\' flags</a> <span class="badge badge-warn">2 open'
        in (text_of(admin))
    )
    listed = await client.get(flags_page(w))
    assert listed.status_code == 200
    assert 'aria-current="page">Judging</a>' in listed.text
    body = text_of(listed)
    for flag, judge, n in ((first, "Judge 0", 0), (second, "Judge 1", 1)):
        assert f'id="judge-flag-{flag.id}"' in listed.text
        assert f'href="{review_page(w, n)}">Project {n}</a>' in listed.text
        assert team_of[w.projects[n]] in body
        assert f'class="flag-judge">{judge}</strong>' in listed.text
    assert "No demo." in body
    # Newest first while both are open.
    assert listed.text.index(f"judge-flag-{second.id}") < listed.text.index(
        f"judge-flag-{first.id}"
    )

    queue = await client.get(f"{w.base}/admin/submissions")
    assert queue.text.count('judge-flag-count">1 from judges</span>') == 2

    review = await client.get(review_page(w, 0))
    assert 'id="judge-flags-heading">Judges\' flags</h2>' in review.text
    assert f'id="judge-flag-{first.id}"' in review.text
    assert f'id="judge-flag-{second.id}"' not in review.text
    resolve = f"{flags_page(w)}/{first.id}/resolve"
    empty = await post(
        client,
        review_page(w, 0),
        resolve,
        resolution=" ",
        return_to="submission",
        submission_id=str(w.projects[0]),
    )
    assert empty.headers["location"] == review_page(w, 0) + "#judge-flags"
    assert "Say how it was resolved" in text_of(await follow(client, empty))
    assert [f.status for f in await stored_flags(session, w)] == ["open", "open"]
    done = await post(
        client,
        review_page(w, 0),
        resolve,
        resolution="The team added the demo.",
        return_to="submission",
        submission_id=str(w.projects[0]),
    )
    assert done.headers["location"] == review_page(w, 0) + "#judge-flags"
    reviewed = await follow(client, done)
    assert "The flag is resolved; the judge can read your note." in text_of(reviewed)
    assert "Resolved by Olga" in text_of(reviewed)
    assert "The team added the demo." in reviewed.text
    again = await post(client, flags_page(w), resolve, resolution="Twice", status="open")
    assert again.headers["location"] == flags_page(w) + "?status=open"
    assert "This flag is already resolved." in text_of(await follow(client, again))
    resolved = {f.id: f for f in await stored_flags(session, w)}[first.id]
    assert (resolved.status, resolved.resolved_by, resolved.resolution) == (
        "resolved",
        w.s.users["olga"].id,
        "The team added the demo.",
    )

    only_open = await client.get(flags_page(w), params={"status": "open"})
    assert f'id="judge-flag-{first.id}"' not in only_open.text
    assert f'id="judge-flag-{second.id}"' in only_open.text
    only_resolved = await client.get(flags_page(w), params={"status": "resolved"})
    assert f'id="judge-flag-{first.id}"' in only_resolved.text
    assert f'id="judge-flag-{second.id}"' not in only_resolved.text
    nothing = await client.get(flags_page(w), params={"status": "whatever"})
    assert nothing.status_code == 200  # an unknown filter shows everything
    assert nothing.text.count('class="flag"') == 2

    # The judge reads the resolution on their scoring page.
    w.as_(client, "judge0")
    score = await client.get(w.score_url(0))
    assert "The team added the demo." in score.text


async def test_everyone_else_is_refused_and_nothing_changes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=2)
    await assign(session, w, "judge0", 0)
    await assign(session, w, "judge1", 1)
    w.as_(client, "judge0")
    await post(client, w.score_url(0), w.score_url(0) + "/flag", reason="broken")
    [flag] = await stored_flags(session, w)
    resolve = f"{flags_page(w)}/{flag.id}/resolve"
    withdraw = f"{w.score_url(0)}/flags/{flag.id}/withdraw"

    for who in ("p0", "otto"):
        w.as_(client, who)
        assert (await client.get(flags_page(w))).status_code == 404, who
        # CSRF comes from a page they may open: the event's public page.
        assert (await post(client, w.base, resolve, resolution="x")).status_code == 404, who
        assert (await post(client, w.base, withdraw)).status_code == 404, who
        flagging = await post(client, w.base, w.score_url(0) + "/flag", reason="broken")
        assert flagging.status_code == 404, who
    w.as_(client, "judge1")
    assert (await client.get(flags_page(w))).status_code == 403
    assert (await post(client, w.queue, resolve, resolution="x")).status_code == 403
    not_mine = await post(client, w.queue, w.score_url(0) + "/flag", reason="broken")
    assert not_mine.status_code == 404  # not in their queue
    assert (await post(client, w.queue, withdraw)).status_code == 404
    w.as_(client, "olga")
    assert (await post(client, w.admin, withdraw)).status_code == 403  # organizers do not judge

    client.cookies.clear()
    signed_out = await client.get(flags_page(w))
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")

    [same] = await stored_flags(session, w)
    assert (same.status, same.resolution) == ("open", "")
