from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hackops.db import SessionDep, TransactionalRoute
from hackops.errors import error_responses
from hackops.orgs import service
from hackops.orgs.schemas import OrganizationPublic

router = APIRouter(prefix="/organizations", tags=["organizations"], route_class=TransactionalRoute)


@router.get(
    "/{slug}",
    response_model=OrganizationPublic,
    summary="An organization's public profile",
    responses=error_responses(404, 422),
)
async def get_organization(
    session: SessionDep, slug: Annotated[str, Path(min_length=1, max_length=63)]
) -> OrganizationPublic:
    org = await service.get_organization_by_slug(session, slug)
    return OrganizationPublic.model_validate(org)
