"""Input refused by a pydantic model, said in sentences written for people.

pydantic's own wording ("String should have at least 1 character", "Input should be a valid
UUID, invalid length: found 0") is written for programmers. Every refusal a person can see —
a form's field message (`web.kit.validated`), a flashed small form, the API's 422 envelope
(`errors._validation_handler`) — goes through `sentence`, which names the field by its label
("Name", "Track") and says what to do. A validator's own message (a `ValueError` raised in a
model) is already written for people and is kept as it is, without pydantic's "Value error, "
prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: pydantic's prefixes on a validator's own message.
_PREFIXES = ("Value error, ", "Assertion failed, ")
#: Said of a field whose name the location does not give (the body itself).
_WHOLE = "The request"


def label(loc: Sequence[Any]) -> str:
    """A field's label from its location: ("body", "track_id") → "Track", ("skills", 3) →
    "Skills"; the body itself (or nothing) → "The request"."""
    names = [str(p) for p in loc if isinstance(p, str) and p not in {"body", "query", "path"}]
    if not names:
        return _WHOLE
    name = names[-1].removesuffix("_ids").removesuffix("_id").replace("_", " ").strip()
    return name[:1].upper() + name[1:] if name else _WHOLE


def _count(n: Any, one: str, many: str) -> str:
    return f"{n} {one if str(n) == '1' else many}"


def _choices(expected: Any) -> str:
    """pydantic's "'low', 'medium' or 'high'" as "low, medium or high"."""
    return str(expected).replace("'", "")


def sentence(error: Mapping[str, Any], name: str | None = None) -> str:
    """One refused value as a sentence for people; `name` is the field's label when the caller
    knows a better one than its location."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    what = name or label(error.get("loc", ()))
    given = error.get("input")
    length = len(given) if isinstance(given, str | list | tuple | set | dict) else None
    message = str(error.get("msg", ""))
    if kind in {"value_error", "assertion_error"}:
        if message.startswith("value is not a valid email address"):
            return f"{what} must be an email address, such as name@example.com."
        for prefix in _PREFIXES:
            message = message.removeprefix(prefix)
        return message or f"{what} is not valid."
    if kind == "missing":
        return f"{what} is required."
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        if str(least) == "1" or not length:
            return f"{what} cannot be empty."
        return f"{what} must be at least {_count(least, 'character', 'characters')} long."
    if kind == "string_too_long":
        most = _count(ctx.get("max_length"), "character", "characters")
        has = f"; this one has {length:,}" if length else ""
        return f"{what} can be at most {most} long{has}."
    if kind == "too_short":
        return f"{what} needs at least {_count(ctx.get('min_length'), 'item', 'items')}."
    if kind == "too_long":
        return f"{what} can have at most {_count(ctx.get('max_length'), 'item', 'items')}."
    if kind in {"string_type", "string_sub_type", "string_unicode"}:
        return f"{what} must be text."
    if kind in {"int_parsing", "int_type", "int_from_float", "int_parsing_size"}:
        return f"{what} must be a whole number, such as 3."
    if kind in {"float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"}:
        return f"{what} must be a number, such as 2.5."
    if kind in {"decimal_max_digits", "decimal_max_places", "decimal_whole_digits"}:
        return f"{what} has too many digits."
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = {
            "greater_than_equal": ("at least", "ge"),
            "greater_than": ("more than", "gt"),
            "less_than_equal": ("at most", "le"),
            "less_than": ("less than", "lt"),
        }[kind]
        return f"{what} must be {bound[0]} {ctx.get(bound[1])}."
    if kind == "multiple_of":
        return f"{what} must be a multiple of {ctx.get('multiple_of')}."
    if kind in {"bool_parsing", "bool_type"}:
        return f"{what} must be yes or no (true or false)."
    if kind in {"enum", "literal_error"}:
        return f"{what} must be one of {_choices(ctx.get('expected', ''))}."
    if kind in {"uuid_parsing", "uuid_type", "uuid_version"}:
        if given in ("", None):
            return f"{what} must be chosen."
        return f"{what} does not name anything here (it is not an id)."
    if kind.startswith("url_"):
        return f"{what} must be a full web address, such as https://example.com."
    if kind.startswith("date_"):
        return f"{what} must be a date, such as 2026-12-31."
    if kind.startswith("datetime_") or kind in {"timezone_naive", "timezone_aware"}:
        if kind == "timezone_aware":
            return f"{what} must include its time zone, such as 2026-12-31T18:00:00+01:00."
        if kind == "timezone_naive":
            return f"{what} must be given without a time zone."
        return f"{what} must be a date and time, such as 2026-12-31T18:00."
    if kind.startswith("time_"):
        return f"{what} must be a time of day, such as 18:30."
    if kind.startswith("timedelta_"):
        return f"{what} must be a duration."
    if kind == "string_pattern_mismatch":
        return f"{what} contains characters or a form it does not accept."
    if kind == "extra_forbidden":
        field = str(error.get("loc", ("",))[-1])
        return f"“{field}” is not something this accepts; leave it out."
    if kind in {"json_invalid", "json_type"}:
        return "The request body is not valid JSON."
    if kind in {"model_type", "model_attributes_type", "dict_type", "mapping_type"}:
        if what == _WHOLE:
            return "The request body must be a JSON object of fields."
        return f"{what} must be an object of fields."
    if kind in {"list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type"}:
        return f"{what} must be a list."
    if kind in {"bytes_type", "bytes_too_short", "bytes_too_long"}:
        return f"{what} is not of an accepted size or kind."
    if kind == "none_required":
        return f"{what} must be left empty."
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{what} is not of a kind this accepts."
    return f"{what} is not valid."


def summary(errors: Sequence[Mapping[str, Any]], *, most: int = 3) -> str:
    """What is wrong with a whole request, for the API's envelope: the first few sentences."""
    if not errors:
        return "The request is not valid."
    said = [sentence(e) for e in errors[:most]]
    rest = len(errors) - len(said)
    more = f" And {_count(rest, 'more problem', 'more problems')}: see details." if rest else ""
    return " ".join(said) + more
