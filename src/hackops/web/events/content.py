"""Event admin pages, continued: custom registration questions (tracks and awards:
`web.events.tracks`; event roles and invitations: `web.events.roles`).

Same rules as `web.events.admin` (organizers only, `OrganizerEventDep`; form posts through
`kit.form_action` with the API's input models). Questions are the event's JSON list: a change
locks the event row, edits the list and saves it through `events.service.update_event`, so two
organizers editing at once cannot lose each other's question. A question keeps its id for life
(answers are stored under it); a new one gets an id made from its label.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.browser import flash
from hackops.db import SessionDep
from hackops.errors import NotFound
from hackops.events import service
from hackops.events.access import EventAccess
from hackops.events.questions.service import CHOICE_KINDS, Question, QuestionKind, questions_of
from hackops.events.schemas import EventUpdate
from hackops.web import kit
from hackops.web.deps import OrganizerEventDep, page_router

router = page_router()

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


def _checked_question(data: dict[str, str], ident: str, form: kit.Form) -> Question | None:
    question = kit.validated(
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
    add: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    context = await kit.admin_context(
        session,
        access,
        "questions",
        questions=questions_of(access.event),
        kinds=dict(KIND_OPTIONS),
        kind_options=KIND_OPTIONS,
        add=add or kit.Form(values={"kind": QuestionKind.TEXT.value}),
    )
    return kit.render(request, "events/admin/questions.html", context, status_code=status_code)


def _edit_question_page(
    request: Request,
    context: dict[str, Any],
    question: Question,
    form: kit.Form,
    status_code: int = 200,
) -> Response:
    context.update(question=question, form=form, kind_options=KIND_OPTIONS)
    return kit.render(request, "events/admin/question_edit.html", context, status_code=status_code)


def _questions_update(questions: list[Question]) -> dict[str, Any]:
    """The whole list as the API's `EventUpdate` carries it."""
    return {"questions": [q.model_dump(mode="json") for q in questions]}


def _list_refused(form: kit.Form) -> None:
    """The list as a whole is refused (too many questions …): say it on the form."""
    form.error = form.errors.pop("questions", None) or "The questions are not valid."


async def _save_questions(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    questions: list[Question],
    form: kit.Form,
    *,
    page: Callable[[kit.Form, int], Awaitable[Response]],
    done: str,
) -> Response:
    """Save the whole list through the service, as `kit.form_action`."""
    return await kit.form_action(
        request,
        session,
        form,
        model=EventUpdate,
        data=_questions_update(questions),
        invalid=_list_refused,
        call=lambda body: service.update_event(session, access.actor, access.event, body),
        page=page,
        expire=[access.event],
        done=done,
        then=kit.admin_base(access) + "/questions",
    )


async def _locked_questions(session: AsyncSession, access: EventAccess) -> list[Question]:
    """The questions as they are now, the event row locked until the transaction ends."""
    await session.refresh(access.event, with_for_update=True)
    return questions_of(access.event)


@router.get(kit.ADMIN + "/questions", name="event_questions")
async def event_questions(
    request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    return await _questions_page(request, session, access)


@router.post(kit.ADMIN + "/questions")
async def add_question(
    request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(session, access)
    ident = _question_id(data.get("label", ""), {q.id for q in questions})

    async def page(form: kit.Form, status: int) -> Response:
        return await _questions_page(request, session, access, add=form, status_code=status)

    question = _checked_question(data, ident, form)
    if question is None:
        return await page(form, 422)
    return await _save_questions(
        request,
        session,
        access,
        [*questions, question],
        form,
        page=page,
        done=f"Question “{question.label}” added.",
    )


def _find(questions: list[Question], ident: str) -> int:
    for index, question in enumerate(questions):
        if question.id == ident:
            return index
    raise QuestionNotFound


@router.get(kit.ADMIN + "/questions/{question_id}/edit")
async def edit_question_form(
    question_id: QuestionIdPath, request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    questions = questions_of(access.event)
    question = questions[_find(questions, question_id)]
    context = await kit.admin_context(session, access, "questions")
    return _edit_question_page(
        request, context, question, kit.Form(values=_question_values(question))
    )


@router.post(kit.ADMIN + "/questions/{question_id}/edit")
async def edit_question(
    question_id: QuestionIdPath, request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(session, access)
    index = _find(questions, question_id)

    async def page(form: kit.Form, status: int) -> Response:
        context = await kit.admin_context(session, access, "questions")
        original = questions_of(access.event)[index]
        return _edit_question_page(request, context, original, form, status)

    question = _checked_question(data, question_id, form)
    if question is None:
        return await page(form, 422)
    questions[index] = question
    return await _save_questions(
        request,
        session,
        access,
        questions,
        form,
        page=page,
        done=f"Question “{question.label}” saved.",
    )


@router.post(kit.ADMIN + "/questions/{question_id}/delete")
async def delete_question(
    question_id: QuestionIdPath, request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    back = kit.admin_base(access) + "/questions"
    questions = await _locked_questions(session, access)
    removed = questions.pop(_find(questions, question_id))
    form = kit.Form()
    body = kit.validated(EventUpdate, _questions_update(questions), form)
    if body is None:
        _list_refused(form)
        flash(request, form.error or "The question could not be removed.", "error")
        return kit.redirect(back)
    return await kit.act(
        request,
        session,
        back,
        lambda: service.update_event(session, access.actor, access.event, body),
        f"Question “{removed.label}” removed.",
    )
