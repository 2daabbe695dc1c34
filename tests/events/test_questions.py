"""Registration questions: the definitions and `validate_answers`."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hackops.events.questions.service import InvalidAnswers, Question, validate_answers
from hackops.models import Event

QUESTIONS: list[dict[str, Any]] = [
    {"id": "bio", "kind": "text", "label": "About you"},
    {"id": "shirt", "kind": "choice", "label": "Shirt", "required": True, "options": ["S", "M"]},
    {"id": "langs", "kind": "multi_choice", "label": "Languages", "options": ["py", "go", "rs"]},
    {"id": "coc", "kind": "checkbox", "label": "Code of conduct", "required": True},
    {"id": "photos", "kind": "checkbox", "label": "Photos are fine"},
]


def event() -> Event:
    return Event(questions=QUESTIONS)


def test_valid_answers_are_normalized() -> None:
    answers = {"bio": "  hi  ", "shirt": "M", "langs": ["rs", "py", "rs"], "coc": True}
    assert validate_answers(event(), answers) == {
        "bio": "hi",
        "shirt": "M",
        "langs": ["py", "rs"],
        "coc": True,
        "photos": False,
    }
    assert validate_answers(Event(questions=[]), {}) == {}


def test_every_problem_is_reported_with_its_field() -> None:
    answers = {"bio": 42, "langs": ["cobol"], "coc": False, "extra": "x"}
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers(event(), answers)
    assert caught.value.status_code == 422
    assert caught.value.details == [
        {"field": "answers.extra", "message": "there is no such question"},
        {"field": "answers.bio", "message": "must be text"},
        {"field": "answers.shirt", "message": "an answer is required"},
        {"field": "answers.langs", "message": "unknown options: cobol"},
        {"field": "answers.coc", "message": "must be checked"},
    ]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"shirt": "XL", "coc": True}, "answers.shirt"),
        ({"shirt": "S", "coc": "yes"}, "answers.coc"),
        ({"shirt": "S", "coc": True, "langs": "py"}, "answers.langs"),
        ({"shirt": "S", "coc": True, "bio": "x" * 2001}, "answers.bio"),
        ({"shirt": ["S"], "coc": True}, "answers.shirt"),
    ],
)
def test_wrong_types_and_values(answers: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        validate_answers(event(), answers)
    assert [d["field"] for d in caught.value.details] == [field]


def test_required_text_must_not_be_blank() -> None:
    required = Event(questions=[{"id": "why", "kind": "text", "label": "Why", "required": True}])
    with pytest.raises(InvalidAnswers):
        validate_answers(required, {"why": "   "})
    assert validate_answers(required, {"why": " because "}) == {"why": "because"}


@pytest.mark.parametrize(
    "definition",
    [
        {"id": "a", "kind": "choice", "label": "A"},
        {"id": "a", "kind": "multi_choice", "label": "A", "options": ["x", "x"]},
        {"id": "a", "kind": "text", "label": "A", "options": ["x"]},
        {"id": "a", "kind": "date", "label": "A"},
        {"id": "A b", "kind": "text", "label": "A"},
        {"id": "a", "kind": "text", "label": ""},
        {"id": "a", "kind": "text", "label": "A", "hint": "smuggled"},
    ],
)
def test_invalid_definitions(definition: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Question.model_validate(definition)
