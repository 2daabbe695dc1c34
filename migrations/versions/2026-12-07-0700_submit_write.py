"""Submit in one statement: `submit_version(...)` (issue 15, fewer statements per write).

Submitting used to cost eleven round trips after the request's dependencies (create-if-missing,
lock, files, version, submission update, audit, outbox row, its dispatch job, notify, the four
steps, the first step's job). The function does all of it in one call, with the same rules:

- The team's submission row is locked (`FOR UPDATE`) before its version number is chosen, so
  versions are numbered 1..n without gaps; UNIQUE (submission_id, number) still backs it.
- The clock is `app_now()` (the database's, which tests freeze), as the ORM path read it; the
  event's start, close + grace and `late_submissions`, and the team's reopened deadline are
  read in this same statement, the submission under its lock.
- Refusals change nothing and come back as an outcome (`locked` with the status, `not_open`,
  `closed` with the deadline, `title_required` — also when the team has no submission yet —,
  `not_found` for an event gone); the caller raises the domain's errors for them.
- On success: the version (snapshot of the working copy and its files' hashes), the submission
  row updated, the audit row, the outbox row (`submission.submitted`; its subject and the
  payload's `submission_id`, `version_number` and `late` completed here), the four pipeline
  steps, the jobs (the outbox dispatch and the first step) through procrastinate's own
  `procrastinate_defer_jobs_v1`, and `pg_notify` for the outbox relay. Ids, job specs and the
  rest of the payload come from the application (`submissions.intake.service.submit`), so
  each stays defined in one place.

It runs as the caller (SECURITY INVOKER): row-level security applies with the tenant the request
already set.

Revision ID: 0032_submit_write
Revises: 0030_request_gate
Create Date: 2026-12-07 07:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032_submit_write"
down_revision: str | None = "0030_request_gate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Python's str.isspace(): a title made only of these is no title (`TitleRequired`).
BLANK = (
    r"[^\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)

SUBMIT = """
CREATE FUNCTION submit_version(
  p_event_id uuid, p_team_id uuid, p_user_id uuid,
  p_version_id uuid, p_step_ids uuid[], p_steps text[],
  p_audit jsonb, p_outbox jsonb, p_jobs jsonb, p_notify text,
  OUT o_outcome text, OUT o_detail text, OUT o_deadline timestamptz, OUT o_number integer,
  OUT o_snapshot jsonb, OUT o_files jsonb, OUT o_submitted_at timestamptz, OUT o_late boolean
) LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
DECLARE
  v_now timestamptz := app_now();
  s submissions%ROWTYPE;
  e events%ROWTYPE;
  v_deadline timestamptz;
  v_payload jsonb;
BEGIN
  SELECT * INTO e FROM events WHERE id = p_event_id;
  IF NOT FOUND THEN
    o_outcome := 'not_found';
    RETURN;
  END IF;
  SELECT * INTO s FROM submissions WHERE event_id = p_event_id AND team_id = p_team_id
     FOR UPDATE;
  IF FOUND AND s.status NOT IN ('draft', 'submitted') THEN
    o_outcome := 'locked';
    o_detail := s.status;
    RETURN;
  END IF;
  IF e.starts_at IS NOT NULL AND v_now < e.starts_at THEN
    o_outcome := 'not_open';
    RETURN;
  END IF;
  v_deadline := coalesce(
    s.reopened_until, e.submissions_close_at + make_interval(mins => e.grace_minutes));
  o_late := v_deadline IS NOT NULL AND v_now >= v_deadline;
  IF o_late AND NOT e.late_submissions THEN
    o_outcome := 'closed';
    o_deadline := v_deadline;
    RETURN;
  END IF;
  IF s.id IS NULL OR s.title !~ '__BLANK__' THEN
    o_outcome := 'title_required';
    RETURN;
  END IF;

  o_number := s.version_count + 1;
  o_submitted_at := v_now;
  o_snapshot := jsonb_build_object(
    'title', s.title, 'tagline', s.tagline, 'description', s.description,
    'repository_url', s.repository_url, 'demo_url', s.demo_url, 'video_url', s.video_url,
    'technologies', to_jsonb(s.technologies), 'track_ids', to_jsonb(s.track_ids::text[]));
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', f.id::text, 'name', f.name, 'sha256', f.sha256, 'size', f.size,
           'kind', f.kind, 'content_type', f.content_type, 'storage_key', f.storage_key)
           ORDER BY f.created_at, f.id), '[]'::jsonb)
    INTO o_files
    FROM submission_files f WHERE f.submission_id = s.id AND f.deleted_at IS NULL;

  INSERT INTO submission_versions (id, org_id, event_id, submission_id, number, snapshot, files,
                                   submitted_by, submitted_at, late)
  VALUES (p_version_id, s.org_id, s.event_id, s.id, o_number, o_snapshot, o_files,
          p_user_id, v_now, o_late);
  UPDATE submissions
     SET version_count = o_number, latest_version_id = p_version_id, submitted_at = v_now,
         late = o_late, status = 'submitted'
   WHERE id = s.id;
  INSERT INTO pipeline_steps (id, org_id, event_id, submission_id, version_id, step, state)
  SELECT step_id, s.org_id, s.event_id, s.id, p_version_id, step, 'queued'
    FROM unnest(p_step_ids, p_steps) AS t(step_id, step);

  INSERT INTO audit_log (id, org_id, actor_id, action, resource_type, resource_id, details, ip,
                         user_agent)
  VALUES ((p_audit->>'id')::uuid, s.org_id, p_user_id, 'submission.submitted', 'submission',
          s.id::text,
          coalesce(p_audit->'details', '{}'::jsonb)
            || jsonb_build_object('version', o_number, 'late', o_late),
          (p_audit->>'ip')::inet, coalesce(p_audit->>'user_agent', ''));
  v_payload := (p_outbox->'payload') || jsonb_build_object(
    'submission_id', s.id, 'version_number', o_number, 'late', o_late);
  INSERT INTO outbox_events (id, type, version, org_id, event_id, actor_id, subject_type,
                             subject_id, payload)
  VALUES ((p_outbox->>'id')::uuid, p_outbox->>'type', (p_outbox->>'version')::integer,
          s.org_id, s.event_id, p_user_id, p_outbox->>'subject_type', s.id, v_payload);
  PERFORM procrastinate_defer_jobs_v1(ARRAY(
    SELECT jsonb_populate_record(NULL::procrastinate_job_to_defer_v1, j)
      FROM jsonb_array_elements(p_jobs) AS j));
  PERFORM pg_notify(p_notify, '');
  o_outcome := 'ok';
END
$$;
""".replace("__BLANK__", BLANK)


def upgrade() -> None:
    op.execute(SUBMIT)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION submit_version(uuid, uuid, uuid, uuid, uuid[], text[], jsonb, jsonb,"
        " jsonb, text)"
    )
