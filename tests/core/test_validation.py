"""pydantic's refusals as sentences for people (`hackops.validation`): each kind of refusal a
person can meet names the field by its label and says what to do, never in pydantic's words."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import pytest
from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, HttpUrl, ValidationError

from hackops import validation
from tests.web.test_form_wording import MACHINE_WORDING


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=10)] = "ok"
    code: Annotated[str, Field(min_length=4)] = "abcd"
    count: Annotated[int, Field(ge=0, le=10)] = 1
    ratio: float = 1.0
    track_id: uuid.UUID | None = None
    kind: Literal["low", "high"] = "low"
    email: EmailStr = "a@example.org"
    link: HttpUrl | None = None
    day: date | None = None
    at: AwareDatetime | None = None
    tags: Annotated[list[str], Field(max_length=2)] = []
    flag: bool = False


CASES = [
    ({"name": ""}, "Name cannot be empty."),
    ({"code": "ab"}, "Code must be at least 4 characters long."),
    ({"name": "x" * 12}, "Name can be at most 10 characters long; this one has 12."),
    ({"count": "many"}, "Count must be a whole number, such as 3."),
    ({"count": 11}, "Count must be at most 10."),
    ({"count": -1}, "Count must be at least 0."),
    ({"ratio": "half"}, "Ratio must be a number, such as 2.5."),
    ({"track_id": ""}, "Track must be chosen."),
    ({"track_id": "nope"}, "Track does not name anything here (it is not an id)."),
    ({"kind": "mid"}, "Kind must be one of low or high."),
    ({"email": "nope"}, "Email must be an email address, such as name@example.com."),
    ({"link": "not a link"}, "Link must be a full web address, such as https://example.com."),
    ({"day": "31/02/2026"}, "Day must be a date, such as 2026-12-31."),
    ({"at": "tomorrow"}, "At must be a date and time, such as 2026-12-31T18:00."),
    (
        {"at": "2026-12-31T18:00"},
        "At must include its time zone, such as 2026-12-31T18:00:00+01:00.",
    ),
    ({"tags": ["a", "b", "c"]}, "Tags can have at most 2 items."),
    ({"flag": "perhaps"}, "Flag must be yes or no (true or false)."),
    ({"colour": "red"}, "“colour” is not something this accepts; leave it out."),
]


@pytest.mark.parametrize(("data", "said"), CASES, ids=[str(c[0])[:30] for c in CASES])
def test_each_refusal_is_a_sentence_naming_the_field(data: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Sample.model_validate(data)
    (error,) = refused.value.errors()
    assert validation.sentence(error) == said
    assert not MACHINE_WORDING.search(said)


def test_a_validators_own_message_is_kept_without_pydantics_prefix() -> None:
    error = {
        "type": "value_error",
        "loc": ("body",),
        "msg": "Value error, send_at only goes with deliver 'at'",
    }
    assert validation.sentence(error) == "send_at only goes with deliver 'at'"


def test_the_summary_says_the_first_problems_and_counts_the_rest() -> None:
    with pytest.raises(ValidationError) as refused:
        Sample.model_validate({"name": "", "count": "x", "kind": "mid", "flag": "?", "day": "?"})
    assert validation.summary(refused.value.errors()) == (
        "Name cannot be empty. Count must be a whole number, such as 3. "
        "Kind must be one of low or high. And 2 more problems: see details."
    )
