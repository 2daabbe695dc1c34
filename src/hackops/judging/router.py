"""Judging API: criteria (organizers), conflicts (judges and organizers), assignment runs and
the ranking (organizers), the judge's queue and evaluations. Scores and ranks reach no one but
organizers and the judge who wrote them."""

from __future__ import annotations

import uuid

from fastapi import Response, status

from hackops.db import FinalWriteSessionDep, SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.judging import criteria as judging_criteria
from hackops.judging import service
from hackops.judging.pairwise import service as pairwise_service
from hackops.judging.schemas import (
    AssignIn,
    AssignmentReportOut,
    ConflictIn,
    ConflictOut,
    CriterionIn,
    CriterionOut,
    CriterionUpdate,
    EvaluationIn,
    EvaluationOut,
    PairOut,
    QueueItemOut,
    QueueOut,
    RankingItemOut,
    RankingOut,
    VoteIn,
)
from hackops.judging.scoring import ranking
from hackops.judging.scoring import service as evaluations
from hackops.judging.scoring.tracks import track_ranking
from hackops.routing import Router

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["judging"],
)
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/criteria",
    response_model=list[CriterionOut],
    summary="The judging criteria (organizers and judges)",
    responses=READ_ERRORS,
)
async def list_criteria(session: SessionDep, access: EventDep) -> list[CriterionOut]:
    if not access.is_organizer:
        service.require_judge(access)
    return [
        CriterionOut.model_validate(c)
        for c in await judging_criteria.list_criteria(session, access)
    ]


@router.post(
    "/criteria",
    status_code=status.HTTP_201_CREATED,
    response_model=CriterionOut,
    summary="Add a criterion (until the first score arrives)",
    responses=WRITE_ERRORS,
)
async def create_criterion(
    body: CriterionIn, session: SessionDep, access: EventOrganizerDep
) -> CriterionOut:
    criterion = await judging_criteria.create_criterion(session, access, body)
    return CriterionOut.model_validate(criterion)


@router.patch(
    "/criteria/{criterion_id}",
    response_model=CriterionOut,
    summary="Edit a criterion (only its description once scores exist)",
    responses=WRITE_ERRORS,
)
async def update_criterion(
    criterion_id: uuid.UUID, body: CriterionUpdate, session: SessionDep, access: EventOrganizerDep
) -> CriterionOut:
    criterion = await judging_criteria.update_criterion(session, access, criterion_id, body)
    return CriterionOut.model_validate(criterion)


@router.delete(
    "/criteria/{criterion_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a criterion (until the first score arrives)",
    responses=WRITE_ERRORS,
)
async def delete_criterion(
    criterion_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    await judging_criteria.delete_criterion(session, access, criterion_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/judging/conflicts",
    status_code=status.HTTP_201_CREATED,
    response_model=ConflictOut,
    summary="Declare a conflict of interest (a judge for themselves; organizers for a judge)",
    responses=WRITE_ERRORS,
)
async def declare_conflict(body: ConflictIn, session: SessionDep, access: EventDep) -> ConflictOut:
    conflict = await service.declare_conflict(
        session, access, team_id=body.team_id, judge_id=body.judge_id, reason=body.reason
    )
    return ConflictOut.model_validate(conflict)


@router.post(
    "/judging/assignments",
    response_model=AssignmentReportOut,
    summary="Assign k judges per eligible submission (keeps started work; deterministic seed)",
    responses=WRITE_ERRORS,
)
async def run_assignment(
    body: AssignIn, session: SessionDep, access: EventOrganizerDep
) -> AssignmentReportOut:
    report = await service.run_assignment(session, access, k=body.k, seed=body.seed)
    return AssignmentReportOut.model_validate(report)


@router.get(
    "/judging/queue",
    response_model=QueueOut,
    summary="My judging queue and progress (judges)",
    responses=READ_ERRORS,
)
async def my_queue(session: SessionDep, access: EventDep) -> QueueOut:
    rows = await evaluations.queue(session, access)
    items = [
        QueueItemOut(submission_id=s.id, title=s.title, status=e.status if e is not None else None)
        for s, e in rows
    ]
    done = sum(1 for i in items if i.status == "submitted")
    return QueueOut(done=done, total=len(items), items=items)


@router.get(
    "/judging/submissions/{submission_id}/evaluation",
    response_model=EvaluationOut | None,
    summary="My evaluation of a submission in my queue (judges)",
    responses=READ_ERRORS,
)
async def my_evaluation(
    submission_id: uuid.UUID, session: SessionDep, access: EventDep
) -> EvaluationOut | None:
    evaluation = await evaluations.my_evaluation(session, access, submission_id)
    return EvaluationOut.model_validate(evaluation) if evaluation is not None else None


@router.put(
    "/judging/submissions/{submission_id}/evaluation",
    response_model=EvaluationOut,
    summary="Save (draft) or submit my scores; editable until judging closes, kept in history",
    responses=WRITE_ERRORS,
)
async def save_evaluation(
    submission_id: uuid.UUID, body: EvaluationIn, session: FinalWriteSessionDep, access: EventDep
) -> EvaluationOut:
    # The save is the route's last statement: it commits with it (`db.final_write_session`),
    # which releases the judging version's row lock (the triggers' bump) at once.
    evaluation = await evaluations.evaluate(
        session,
        access,
        submission_id,
        scores=body.scores,
        private_comment=body.private_comment,
        feedback=body.feedback,
        submit=body.submit,
    )
    return EvaluationOut.model_validate(evaluation)


@router.get(
    "/judging/ranking",
    response_model=RankingOut,
    summary="The ranking, overall or per track (organizers): normalized score and raw mean",
    responses=READ_ERRORS,
)
async def ranking_view(
    session: SessionDep,
    access: EventOrganizerDep,
    method: ranking.Method = ranking.DEFAULT_METHOD,
    track_id: uuid.UUID | None = None,
) -> RankingOut:
    """Overall, or one track's own ranking (`track_id`: ranks 1..n over the track's projects,
    scored by the event-wide fit; another event's or a made-up track is 404)."""
    if track_id is None:
        ranked, _ = await evaluations.compute_ranking(session, access, method)
    else:
        ranked = await track_ranking(session, access, method, track_id)
    return RankingOut(
        method=method.value,
        track_id=track_id,
        items=[
            RankingItemOut(
                submission_id=uuid.UUID(str(item.submission_id)),
                rank=item.rank,
                score=item.score,
                raw_mean=item.raw_mean,
                evaluations=item.evaluations,
            )
            for item in ranked
        ],
    )


async def pair_out(session: SessionDep, access: EventDep) -> PairOut:
    shown = await pairwise_service.current_pair(session, access)
    if shown is None:
        return PairOut(done=True)
    return PairOut(
        done=False,
        first_id=shown.first.id,
        first_title=shown.first.title,
        first_table=shown.first_table,
        second_id=shown.second.id,
        second_title=shown.second.title,
        second_table=shown.second_table,
        comparisons=shown.comparisons,
    )


@router.get(
    "/judging/pairwise",
    response_model=PairOut,
    summary="Pairwise mode: the pair to compare now (judges)",
    responses=READ_ERRORS,
)
async def current_pair(session: SessionDep, access: EventDep) -> PairOut:
    return await pair_out(session, access)


@router.post(
    "/judging/pairwise/vote",
    response_model=PairOut,
    summary="Pick the better of the two; returns the next pair",
    responses=WRITE_ERRORS,
)
async def vote(body: VoteIn, session: SessionDep, access: EventDep) -> PairOut:
    await pairwise_service.vote(session, access, body.winner_id)
    return await pair_out(session, access)


@router.post(
    "/judging/pairwise/skip",
    response_model=PairOut,
    summary="Skip this pair (no judgment recorded); returns the next pair",
    responses=WRITE_ERRORS,
)
async def skip(session: SessionDep, access: EventDep) -> PairOut:
    await pairwise_service.skip(session, access)
    return await pair_out(session, access)


@router.post(
    "/judging/pairwise/undo",
    response_model=PairOut,
    summary="Undo my last judgment of this session; its pair is shown again",
    responses=WRITE_ERRORS,
)
async def undo(session: SessionDep, access: EventDep) -> PairOut:
    await pairwise_service.undo(session, access)
    return await pair_out(session, access)
