"""Custom registration questions of an event, and the validation of a participant's answers.

An event stores its questions as a JSON list (`events.questions`); each is a `Question`. The
registration flow calls `validate_answers(event, answers)` and stores what it returns.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, model_validator

from hackops.errors import ValidationFailed
from hackops.models import Event
from hackops.schemas import InputModel

MAX_QUESTIONS = 50
MAX_OPTIONS = 50
MAX_TEXT_ANSWER = 2000

QuestionId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
OptionText = Annotated[str, Field(min_length=1, max_length=200)]


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    CHECKBOX = "checkbox"


CHOICE_KINDS = frozenset({QuestionKind.CHOICE, QuestionKind.MULTI_CHOICE})


class Question(InputModel):
    id: QuestionId
    kind: QuestionKind
    label: Annotated[str, Field(min_length=1, max_length=500)]
    required: bool = False
    options: Annotated[list[OptionText], Field(max_length=MAX_OPTIONS)] = []

    @model_validator(mode="after")
    def _options_match_kind(self) -> Question:
        if self.kind in CHOICE_KINDS:
            if not self.options:
                raise ValueError(f"a {self.kind.value} question needs at least one option")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be distinct")
        elif self.options:
            raise ValueError(f"a {self.kind.value} question takes no options")
        return self


def check_question_list(questions: list[Question]) -> list[Question]:
    """Question ids are unique within an event (used as a pydantic after-validator)."""
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError("question ids must be unique")
    return questions


class InvalidAnswers(ValidationFailed):
    code = "invalid_answers"
    message = "Some answers to the registration questions are not valid; see details."


def questions_of(event: Event) -> list[Question]:
    return [Question.model_validate(raw) for raw in event.questions or []]


def validate_answers(event: Event, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check `answers` (question id -> value) against the event's questions.

    Returns the normalized answers to store: text trimmed, multi-choice de-duplicated in the
    order of the options, every checkbox present (False when left out). Raises `InvalidAnswers`
    (422) with one detail per problem: `{"field": "answers.<id>", "message": ...}`.
    """
    questions = questions_of(event)
    known = {q.id for q in questions}
    problems: list[dict[str, str]] = [
        {"field": f"answers.{key}", "message": "there is no such question"}
        for key in answers
        if key not in known
    ]
    clean: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.id)
        try:
            normalized = _normalize(question, value)
        except ValueError as exc:
            problems.append({"field": f"answers.{question.id}", "message": str(exc)})
            continue
        if normalized is not None:
            clean[question.id] = normalized
    if problems:
        raise InvalidAnswers(details=problems)
    return clean


def _normalize(question: Question, value: Any) -> Any:
    kind = question.kind
    if kind is QuestionKind.CHECKBOX:
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        if question.required and not value:
            raise ValueError("must be checked")
        return value
    if value is None or value == "" or value == []:
        if question.required:
            raise ValueError("an answer is required")
        return None
    if kind is QuestionKind.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be text")
        text = value.strip()
        if len(text) > MAX_TEXT_ANSWER:
            raise ValueError(f"must be at most {MAX_TEXT_ANSWER} characters")
        if not text:
            if question.required:
                raise ValueError("an answer is required")
            return None
        return text
    if kind is QuestionKind.CHOICE:
        if not isinstance(value, str) or value not in question.options:
            raise ValueError("must be one of the options")
        return value
    # multi-choice
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of options")
    unknown = [v for v in value if v not in question.options]
    if unknown:
        raise ValueError(f"unknown options: {', '.join(sorted(set(unknown)))}")
    chosen = set(value)
    return [option for option in question.options if option in chosen]
