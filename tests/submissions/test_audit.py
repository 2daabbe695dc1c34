"""Every write route of submissions, files, review, flags and the gallery records exactly one
audit row (its listed action)."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import DuplicateFlag, Submission
from tests.factories import create_team
from tests.security.audit import EVENT, TEAM, Recorder, owned_by
from tests.submissions.filehelpers import pdf_bytes
from tests.submissions.test_api import scene

SUBMISSION = TEAM + "/submission"
REVIEW = EVENT + "/submissions"


async def test_submission_routes_write_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, url = await scene(session)
    r = Recorder(client, connection)
    alice, olga = s.auth("alice"), s.auth("olga")

    await r.call("PATCH", SUBMISSION, url, headers=alice, json={"title": "Greenhouse"})
    file = (
        await r.call(
            "POST",
            SUBMISSION + "/files",
            url + "/files",
            headers=alice,
            params={"name": "pitch.pdf"},
            content=pdf_bytes(),
        )
    ).json()
    await r.call(
        "POST",
        SUBMISSION + "/files/{file_id}/link",
        f"{url}/files/{file['id']}/link",
        headers=alice,
    )
    await r.call(
        "PATCH",
        SUBMISSION + "/files/{file_id}",
        f"{url}/files/{file['id']}",
        headers=alice,
        json={"public": True},
    )
    await r.call("POST", SUBMISSION + "/submit", url + "/submit", headers=s.auth("bob"))
    await r.call(
        "DELETE", SUBMISSION + "/files/{file_id}", f"{url}/files/{file['id']}", headers=alice
    )
    submission_id = (await client.get(url, headers=alice)).json()["id"]
    review = f"{s.base}/submissions"

    await r.call(
        "POST",
        REVIEW + "/{submission_id}/decision",
        f"{review}/{submission_id}/decision",
        headers=olga,
        json={"status": "under_review"},
    )
    await r.call(
        "POST",
        REVIEW + "/decisions",
        f"{review}/decisions",
        headers=olga,
        json={"submission_ids": [submission_id], "status": "approved"},
    )
    await r.call("POST", EVENT + "/gallery/open", f"{s.base}/gallery/open", headers=olga)
    await r.call("POST", EVENT + "/gallery/close", f"{s.base}/gallery/close", headers=olga)

    # A flag as the similarity step would leave it (that step has tests of its own).
    rival_team = await create_team(session, s.event, s.users["carol"])
    rival = Submission(
        org_id=s.org.id, event_id=s.event.id, team_id=rival_team.id, title="Greenhouse too"
    )
    session.add(rival)
    await session.flush()
    flag = DuplicateFlag(
        org_id=s.org.id,
        event_id=s.event.id,
        submission_id=rival.id,
        other_submission_id=submission_id,
        kind="text",
        score=0.91,
    )
    session.add(flag)
    await session.flush()
    await r.call(
        "POST",
        EVENT + "/duplicate-flags/{flag_id}/decision",
        f"{s.base}/duplicate-flags/{flag.id}/decision",
        headers=olga,
        json={"status": "confirmed", "note": "Same text"},
    )
    await r.call(
        "POST",
        REVIEW + "/{submission_id}/reopen",
        f"{review}/{submission_id}/reopen",
        headers=olga,
        json={},
    )
    await r.call(
        "POST",
        REVIEW + "/{submission_id}/pipeline/{step}/rerun",
        f"{review}/{submission_id}/pipeline/extract_text/rerun",
        headers=olga,
    )

    ours = owned_by(
        (SUBMISSION, REVIEW, EVENT + "/duplicate-flags", EVENT + "/gallery"), excluding=()
    )
    assert len(ours) == 13
    assert r.covered == ours, ours - r.covered
