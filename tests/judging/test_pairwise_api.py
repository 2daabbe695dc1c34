"""Pairwise mode through the API: pairs never conflicted, busy or repeated; five comparisons with
one undo (the undone pair comes back; the entry is kept and marked); Crowd-BT ranking."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import JudgeConflict, PairwiseEntry, Submission
from tests.judging.test_api import judged_event


async def test_five_comparisons_with_one_undo(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, _ = await judged_event(session, teams=10, judges=2)
    conflicted = submissions[5]
    team = await session.scalar(select(Submission.team_id).where(Submission.id == conflicted))
    session.add(
        JudgeConflict(
            org_id=s.org.id,
            event_id=s.event.id,
            judge_id=s.users["judge0"].id,
            team_id=team,
            source="judge",
        )
    )
    await session.flush()
    url = f"{s.base}/judging/pairwise"
    auth = s.auth("judge0")
    pair = (await client.get(url, headers=auth)).json()
    other = (await client.get(url, headers=s.auth("judge1"))).json()
    busy = {pair["first_id"], pair["second_id"]}
    assert not busy & {other["first_id"], other["second_id"]} - {None}
    seen: list[tuple[str, str]] = []
    undone_pair = None
    for n in range(5):
        assert pair["done"] is False
        assert str(conflicted) not in (pair["first_id"], pair["second_id"])
        seen.append((pair["first_id"], pair["second_id"]))
        pair = (
            await client.post(f"{url}/vote", headers=auth, json={"winner_id": pair["first_id"]})
        ).json()
        if n == 2:
            undone_pair = seen[-1]
            pair = (await client.post(f"{url}/undo", headers=auth)).json()
            assert (pair["first_id"], pair["second_id"]) == undone_pair
            pair = (
                await client.post(
                    f"{url}/vote", headers=auth, json={"winner_id": pair["second_id"]}
                )
            ).json()
    entries = await session.scalar(
        select(func.count()).where(PairwiseEntry.judge_id == s.users["judge0"].id)
    )
    undone = await session.scalar(
        select(func.count()).where(
            PairwiseEntry.judge_id == s.users["judge0"].id, PairwiseEntry.undone.is_(True)
        )
    )
    assert (entries, undone) == (6, 1)
    assert pair["comparisons"] == 5
    wrong = await client.post(f"{url}/vote", headers=auth, json={"winner_id": str(conflicted)})
    assert wrong.status_code == 409
    ranking = await client.get(
        f"{s.base}/judging/ranking", params={"method": "crowd_bt"}, headers=s.auth("olga")
    )
    assert ranking.status_code == 200
    assert ranking.json()["method"] == "crowd_bt"
    assert len(ranking.json()["items"]) >= 2
    for who in ("p0", "otto", "anonymous"):
        assert (await client.get(url, headers=s.auth(who))).status_code == 404, who
