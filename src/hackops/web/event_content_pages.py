"""Event admin pages, continued: custom registration questions (tracks and awards:
`event_tracks_pages`; event roles and invitations: `event_roles_pages`).

Same rules as `event_admin_pages` (organizers only, the API's services and input models, the
form comes back with the message and the input). Questions are the event's JSON list: a change
locks the event row, edits the list and saves it through `events.service.update_event`, so two
organizers editing at once cannot lose each other's question. A question keeps its id for life
(answers are stored under it); a new one gets an id made from its label.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep, get_actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep
from hackops.errors import AppError, NotFound
from hackops.events import service
from hackops.events.deps import EventAccess
from hackops.events.questions.service import CHOICE_KINDS, Question, QuestionKind, questions_of
from hackops.events.schemas import EventUpdate
from hackops.routing import Router, SlugPath
from hackops.web.event_admin_pages import (
    ADMIN,
    admin_base,
    admin_context,
    organizer_event,
    reload,
)
from hackops.web.forms import (
    Form,
    all_or_nothing,
    form_data,
    kept,
    redirect,
    refuse,
    render,
    to_login,
    validated,
)

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

QuestionIdPath = Annotated[str, Path(min_length=1, max_length=64)]
KIND_OPTIONS = [
    (QuestionKind.TEXT.value, "Text"),
    (QuestionKind.CHOICE.value, "One choice"),
    (QuestionKind.MULTI_CHOICE.value, "Several choices"),
    (QuestionKind.CHECKBOX.value, "Checkbox (yes / no)"),
]
QUESTION_FIELDS = ("label", "kind", "required", "options")


class QuestionNotFound(NotFound):
    code = "question_not_found"
    message = "No such question in this event."


# --- questions --------------------------------------------------------------------------------


def _question_id(label: str, taken: set[str]) -> str:
    """A readable, unique id from the label ("T-shirt size" -> "t-shirt-size")."""
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-") or "question"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    return ident


def _question_input(data: dict[str, str], ident: str) -> dict[str, Any]:
    kind = data.get("kind", "")
    options = [line.strip() for line in data.get("options", "").splitlines() if line.strip()]
    return {
        "id": ident,
        "kind": kind,
        "label": data.get("label", ""),
        "required": data.get("required") == "on",
        # Only choice questions have options; a text field left filled in is not an error.
        "options": options if kind in CHOICE_KINDS else [],
    }


def _question_values(question: Question) -> dict[str, str]:
    return {
        "label": question.label,
        "kind": question.kind.value,
        "required": "on" if question.required else "",
        "options": "\n".join(question.options),
    }


def _checked_question(data: dict[str, str], ident: str, form: Form) -> Question | None:
    question = validated(
        Question, _question_input(data, ident), form, hints={"kind": "Choose a kind of question."}
    )
    if "" in form.errors:  # the model's own check: options that do not fit the kind
        message = form.errors.pop("").replace("multi_choice", "multiple-choice")
        form.errors["options"] = message[:1].upper() + message[1:] + "."
    return question


async def _questions_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    *,
    add: Form | None = None,
    status_code: int = 200,
) -> Response:
    context = await admin_context(
        session,
        access,
        "questions",
        questions=questions_of(access.event),
        kinds=dict(KIND_OPTIONS),
        kind_options=KIND_OPTIONS,
        add=add or Form(values={"kind": QuestionKind.TEXT.value}),
    )
    return render(request, "events/admin/questions.html", context, status_code=status_code)


def _edit_question_page(
    request: Request,
    context: dict[str, Any],
    question: Question,
    form: Form,
    status_code: int = 200,
) -> Response:
    context.update(question=question, form=form, kind_options=KIND_OPTIONS)
    return render(request, "events/admin/question_edit.html", context, status_code=status_code)


async def _save_questions(
    session: AsyncSession, access: EventAccess, questions: list[Question], form: Form
) -> int | None:
    """Save the whole list through the service; None when saved, else the refusal's status."""
    body = validated(
        EventUpdate, {"questions": [q.model_dump(mode="json") for q in questions]}, form
    )
    if body is None:
        form.error = form.errors.pop("questions", None) or "The questions are not valid."
        return 422
    try:
        async with all_or_nothing(session):
            await service.update_event(session, access.actor, access.event, body.changes())
    except AppError as exc:
        await reload(session, access.event)
        return refuse(form, exc)
    return None


async def _locked_questions(session: AsyncSession, access: EventAccess) -> list[Question]:
    """The questions as they are now, the event row locked until the transaction ends."""
    await session.refresh(access.event, with_for_update=True)
    return questions_of(access.event)


@router.get(ADMIN + "/questions", name="event_questions")
async def event_questions(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    return await _questions_page(request, session, access)


@router.post(ADMIN + "/questions")
async def add_question(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(session, access)
    ident = _question_id(data.get("label", ""), {q.id for q in questions})
    question = _checked_question(data, ident, form)
    if question is None:
        return await _questions_page(request, session, access, add=form, status_code=422)
    status = await _save_questions(session, access, [*questions, question], form)
    if status is not None:
        return await _questions_page(request, session, access, add=form, status_code=status)
    flash(request, f"Question “{question.label}” added.", "success")
    return redirect(admin_base(access) + "/questions")


def _find(questions: list[Question], ident: str) -> int:
    for index, question in enumerate(questions):
        if question.id == ident:
            return index
    raise QuestionNotFound


@router.get(ADMIN + "/questions/{question_id}/edit")
async def edit_question_form(
    slug: SlugPath,
    event_slug: SlugPath,
    question_id: QuestionIdPath,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    questions = questions_of(access.event)
    question = questions[_find(questions, question_id)]
    context = await admin_context(session, access, "questions")
    return _edit_question_page(request, context, question, Form(values=_question_values(question)))


@router.post(ADMIN + "/questions/{question_id}/edit")
async def edit_question(
    slug: SlugPath,
    event_slug: SlugPath,
    question_id: QuestionIdPath,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(session, access)
    index = _find(questions, question_id)
    question = _checked_question(data, question_id, form)
    status = 422
    if question is not None:
        questions[index] = question
        saved = await _save_questions(session, access, questions, form)
        if saved is None:
            flash(request, f"Question “{question.label}” saved.", "success")
            return redirect(admin_base(access) + "/questions")
        status = saved
    context = await admin_context(session, access, "questions")
    original = questions_of(access.event)[index]
    return _edit_question_page(request, context, original, form, status)


@router.post(ADMIN + "/questions/{question_id}/delete")
async def delete_question(
    slug: SlugPath,
    event_slug: SlugPath,
    question_id: QuestionIdPath,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    questions = await _locked_questions(session, access)
    removed = questions.pop(_find(questions, question_id))
    form = Form()
    if await _save_questions(session, access, questions, form) is not None:
        flash(request, form.error or "The question could not be removed.", "error")
    else:
        flash(request, f"Question “{removed.label}” removed.", "success")
    return redirect(admin_base(access) + "/questions")
