"""FastAPI dependencies over `teams.access.load_team`: a team of the event, as the caller may
see it (`TeamDep`: 404 to whoever may not)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from hackops import gate
from hackops.db import SessionDep
from hackops.events.deps import EventDep
from hackops.teams.access import TeamView, load_team


@gate.loads(gate.TEAM)
async def team_view(team_id: uuid.UUID, session: SessionDep, access: EventDep) -> TeamView:
    return await load_team(session, access, team_id)


TeamDep = Annotated[TeamView, Depends(team_view)]
