"""Event admin pages, continued: custom registration questions (tracks and awards:
`web.events.tracks`; event roles and invitations: `web.events.roles`).

Same rules as `web.events.admin` (organizers only, `OrganizerPageDep`; form posts through
`kit.form_action` with the API's input models). Questions are the event's JSON list: a change
locks the event row, edits the list and saves it through `events.service.update_event`, so two
organizers editing at once cannot lose each other's question. A question keeps its id for life
(answers are stored under it); a new one gets an id made from its label.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Path
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.browser import flash
from hackops.errors import NotFound
from hackops.events import service
from hackops.events.access import EventAccess
from hackops.events.questions.service import CHOICE_KINDS, Question, QuestionKind, questions_of
from hackops.events.schemas import EventUpdate
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

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
    page: eventkit.AdminPage, add: kit.Form | None = None, status_code: int = 200
) -> Response:
    return await page.render(
        "events/admin/questions.html",
        "questions",
        status_code=status_code,
        questions=questions_of(page.access.event),
        kinds=dict(KIND_OPTIONS),
        kind_options=KIND_OPTIONS,
        add=add or kit.Form(values={"kind": QuestionKind.TEXT.value}),
    )


async def _edit_question_page(
    page: eventkit.AdminPage, question: Question, form: kit.Form, status_code: int = 200
) -> Response:
    return await page.render(
        "events/admin/question_edit.html",
        "questions",
        status_code=status_code,
        question=question,
        form=form,
        kind_options=KIND_OPTIONS,
    )


def _questions_update(questions: list[Question]) -> dict[str, Any]:
    """The whole list as the API's `EventUpdate` carries it."""
    return {"questions": [q.model_dump(mode="json") for q in questions]}


def _list_refused(form: kit.Form) -> None:
    """The list as a whole is refused (too many questions …): say it on the form."""
    form.error = form.errors.pop("questions", None) or "The questions are not valid."


async def _save_questions(
    page: eventkit.AdminPage,
    questions: list[Question],
    form: kit.Form,
    again: Callable[[kit.Form, int], Awaitable[Response]],
    done: str,
) -> Response:
    """Save the whole list through the service, as `kit.form_action` (`again`: the form's page
    with a refusal)."""
    access = page.access
    return await page.form_action(
        form,
        model=EventUpdate,
        data=_questions_update(questions),
        invalid=_list_refused,
        call=lambda body: service.update_event(page.session, access.actor, access.event, body),
        page=again,
        expire=[access.event],
        done=done,
        then=page.at("/questions"),
    )


async def _locked_questions(session: AsyncSession, access: EventAccess) -> list[Question]:
    """The questions as they are now, the event row locked until the transaction ends."""
    await session.refresh(access.event, with_for_update=True)
    return questions_of(access.event)


@router.get(kit.ADMIN + "/questions", name="event_questions")
async def event_questions(page: OrganizerPageDep) -> Response:
    return await _questions_page(page)


@router.post(kit.ADMIN + "/questions")
async def add_question(page: OrganizerPageDep) -> Response:
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(page.session, page.access)
    ident = _question_id(data.get("label", ""), {q.id for q in questions})

    async def again(form: kit.Form, status: int) -> Response:
        return await _questions_page(page, form, status)

    question = _checked_question(data, ident, form)
    if question is None:
        return await again(form, 422)
    done = f"Question “{question.label}” added."
    return await _save_questions(page, [*questions, question], form, again, done)


def _find(questions: list[Question], ident: str) -> int:
    for index, question in enumerate(questions):
        if question.id == ident:
            return index
    raise QuestionNotFound


@router.get(kit.ADMIN + "/questions/{question_id}/edit")
async def edit_question_form(question_id: QuestionIdPath, page: OrganizerPageDep) -> Response:
    questions = questions_of(page.access.event)
    question = questions[_find(questions, question_id)]
    return await _edit_question_page(page, question, kit.Form(values=_question_values(question)))


@router.post(kit.ADMIN + "/questions/{question_id}/edit")
async def edit_question(question_id: QuestionIdPath, page: OrganizerPageDep) -> Response:
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, *QUESTION_FIELDS))
    questions = await _locked_questions(page.session, page.access)
    index = _find(questions, question_id)

    async def again(form: kit.Form, status: int) -> Response:
        original = questions_of(page.access.event)[index]
        return await _edit_question_page(page, original, form, status)

    question = _checked_question(data, question_id, form)
    if question is None:
        return await again(form, 422)
    questions[index] = question
    done = f"Question “{question.label}” saved."
    return await _save_questions(page, questions, form, again, done)


@router.post(kit.ADMIN + "/questions/{question_id}/delete")
async def delete_question(question_id: QuestionIdPath, page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    back = page.at("/questions")
    questions = await _locked_questions(session, access)
    removed = questions.pop(_find(questions, question_id))
    form = kit.Form()
    body = kit.validated(EventUpdate, _questions_update(questions), form)
    if body is None:
        _list_refused(form)
        flash(page.request, form.error or "The question could not be removed.", "error")
        return kit.redirect(back)
    return await page.act(
        back,
        lambda: service.update_event(session, access.actor, access.event, body),
        f"Question “{removed.label}” removed.",
    )
