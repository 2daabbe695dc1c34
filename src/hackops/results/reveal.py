"""The results reveal: the published results as a ceremony's steps, one award (or place) at a
time, from the last to the winner, for a projector.

Read from the published snapshot only (`event_results`, through `published_result`): before
the results are published there are no steps (None), whatever the live ranking says, and after
publishing a judge's late edit moves nothing here. No scores are shown: a ceremony announces
who won, the results page has the numbers.

The steps: when the results name award winners, one step per award in the reverse of the
event's award order (the first award, usually the grand prize, comes last), an award's
co-winners together; otherwise the top `PLACES` places of the overall ranking, from the
lowest to the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event
from hackops.results.frozen import ordinal
from hackops.results.service import published_result

#: How many places a reveal without awards announces.
PLACES = 3


@dataclass(frozen=True)
class Winner:
    title: str
    team_name: str


@dataclass(frozen=True)
class RevealStep:
    heading: str  # the award's name, or "1st place"
    prize: str
    winners: list[Winner]
    final: bool  # the last step: the winner


def _winner(row: dict[str, Any]) -> Winner:
    return Winner(row.get("title") or "Untitled", row.get("team_name", ""))


def steps_of(ranking: list[dict[str, Any]], winners: list[dict[str, Any]]) -> list[RevealStep]:
    """The reveal's steps from a frozen ranking and its winners (see the module's docstring)."""
    awards: dict[str, tuple[str, str, list[Winner]]] = {}
    for won in winners:
        key = str(won.get("award_id") or won.get("award", ""))
        _, _, named = awards.setdefault(key, (won.get("award", ""), won.get("prize", ""), []))
        named.append(_winner(won))
    if awards:
        ordered = [(name, prize, named) for name, prize, named in awards.values()]
    else:
        ordered = [
            (f"{ordinal(row['rank'])} place", "", [_winner(row)]) for row in ranking[:PLACES]
        ]
    ordered.reverse()
    return [
        RevealStep(name, prize, named, final=n == len(ordered) - 1)
        for n, (name, prize, named) in enumerate(ordered)
    ]


async def reveal_steps(session: AsyncSession, event: Event) -> list[RevealStep] | None:
    """The published results as reveal steps; None while they are not published (none when
    they were published with nothing ranked)."""
    if event.results_published_at is None:
        return None
    result = await published_result(session, event)
    if result is None:
        return []
    return steps_of(list(result.ranking), list(result.winners))
