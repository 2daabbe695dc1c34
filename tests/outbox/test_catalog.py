"""The event catalogue: every type is written by a tested emission point or owned by another part
of issue 13; each is documented in docs/events.md and in the OpenAPI document's `webhooks`;
payloads carry ids and plain values, never an address or a token."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import httpx2

from hackops.outbox.catalog import CATALOG
from hackops.outbox.openapi import TAG

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"

#: Each type written here, and the test that drives its emission point through the API (or the
#: pipeline's worker) and checks who its fan-out tells.
EMITTED = {
    "registration.created": (
        "test_emit_registrations",
        "test_registering_writes_one_event_seated_or_waitlisted",
    ),
    "registration.promoted": (
        "test_emit_registrations",
        "test_a_cancellation_promotes_the_waitlist_and_each_writes_its_event",
    ),
    "registration.cancelled": (
        "test_emit_registrations",
        "test_an_organizer_removal_tells_the_person_and_not_the_organizer",
    ),
    "registration.checked_in": (
        "test_emit_registrations",
        "test_a_check_in_writes_one_event_and_tells_the_person_in_the_app",
    ),
    "registration.check_in_undone": (
        "test_emit_registrations",
        "test_an_undone_check_in_writes_one_event_and_tells_the_person_in_the_app",
    ),
    "registration.requested": (
        "test_emit_registrations",
        "test_approval_writes_requested_approved_declined_once_each_and_tells_the_person",
    ),
    "registration.approved": (
        "test_emit_registrations",
        "test_approval_writes_requested_approved_declined_once_each_and_tells_the_person",
    ),
    "registration.declined": (
        "test_emit_registrations",
        "test_approval_writes_requested_approved_declined_once_each_and_tells_the_person",
    ),
    "team.invitation_sent": (
        "test_emit_teams",
        "test_an_invitation_writes_one_event_and_tells_the_invited_account_in_the_app",
    ),
    "team.member_joined": (
        "test_emit_teams",
        "test_every_way_into_a_team_writes_member_joined_and_tells_the_others",
    ),
    "team.member_left": (
        "test_emit_teams",
        "test_every_way_out_of_a_team_writes_member_left_and_spares_the_actor",
    ),
    "submission.submitted": (
        "test_emit_submissions",
        "test_a_submit_writes_one_event_and_tells_the_teammates",
    ),
    "submission.processed": (
        "test_emit_submissions",
        "test_processed_and_failed_are_written_once_per_version_even_after_reruns",
    ),
    "submission.processing_failed": (
        "test_emit_submissions",
        "test_processed_and_failed_are_written_once_per_version_even_after_reruns",
    ),
    "submission.approved": (
        "test_emit_submissions",
        "test_a_decision_writes_approved_or_rejected_once_and_tells_the_team",
    ),
    "submission.rejected": (
        "test_emit_submissions",
        "test_a_decision_writes_approved_or_rejected_once_and_tells_the_team",
    ),
    "judging.judge_assigned": (
        "test_emit_judging",
        "test_an_assignment_run_tells_each_judge_handed_new_work_once",
    ),
    "judging.flag_raised": (
        "test_emit_judging",
        "test_a_flag_raised_tells_the_organizers_in_the_app_and_its_resolution_the_judge",
    ),
    "judging.flag_resolved": (
        "test_emit_judging",
        "test_a_withdrawn_flag_tells_the_organizers_and_not_the_judge",
    ),
    "results.published": (
        "test_emit_judging",
        "test_publishing_results_tells_every_participant_and_judge_once",
    ),
}

#: Types another part of issue 13 writes (and tests): the reminders and announcements part, the
#: webhooks part.
OWNED_ELSEWHERE = {
    "judging.evaluation_reminder": "announcements (the daily judging reminder)",
    "announcement.sent": "announcements",
    "reminder.due": "announcements (scheduled reminders)",
    "webhook.test": "webhooks (the endpoint page's test button)",
}


def test_every_type_is_emitted_by_a_tested_point_or_owned_by_another_part() -> None:
    assert not set(EMITTED) & set(OWNED_ELSEWHERE)
    assert set(EMITTED) | set(OWNED_ELSEWHERE) == set(CATALOG)
    for type_, where in EMITTED.items():
        module_name, test_name = where
        module = importlib.import_module(f"tests.outbox.{module_name}")
        test = getattr(module, test_name, None)
        assert test is not None, where
        source = inspect.getsource(test)
        # The test reads events of this type (by name), so it checks this very emission.
        assert f'"{type_}"' in source, (type_, where)


def test_every_type_has_its_section_in_docs_events_md() -> None:
    text = DOCS.read_text(encoding="utf-8")
    headings = {line[5:-1] for line in text.splitlines() if line.startswith("### `")}
    assert headings == set(CATALOG)
    for type_, model in CATALOG.items():
        section = text.split(f"### `{type_}`", 1)[1].split("\n### ", 1)[0]
        for name in model.model_fields:
            assert f"`{name}`" in section, (type_, name)


def test_payloads_carry_ids_and_plain_values_never_addresses_or_tokens() -> None:
    for type_, model in CATALOG.items():
        for name in model.model_fields:
            assert not any(word in name for word in ("email", "token", "secret", "password")), (
                type_,
                name,
            )
        assert model.subject_id is not None
        assert model.type == type_


async def test_the_openapi_document_shows_every_type_under_webhooks(
    client: httpx2.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    webhooks = document["webhooks"]
    assert set(webhooks) == set(CATALOG)
    for type_, model in CATALOG.items():
        operation = webhooks[type_]["post"]
        assert operation["tags"] == [TAG]
        assert operation["summary"] == model.summary
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schemas = document["components"]["schemas"]
        body = schemas[ref.rsplit("/", 1)[1]]
        data = schemas[body["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
        envelope = {"id", "version", "org_id", "event_id"}
        assert set(data["properties"]) == envelope | set(model.model_fields), type_
        assert data["additionalProperties"] is False
        assert "422" not in operation["responses"]
    # Documentation only: nothing answers at those addresses.
    assert (await client.post("/registration.created", json={})).status_code in (404, 405)
