"""The shape of frozen results: what publishing stores in `event_results.ranking`, and what each
audience may read of it. Pure functions, no database.

A frozen ranking row (one per ranked submission, in overall rank order):

    rank, submission_id, title, team_name, score, raw_mean, evaluations   (overall)
    track_ids                      the submission's tracks when published
    tracks: [{id, name, rank}]     its rank within each of its tracks (1..n per track)
    breakdown: {criteria: [{id, name, max_score, mean}], judges: [{judge, scores}]}
    feedback: [{judge, text}]      the judges' words to the team

Judges appear as "Judge 1", "Judge 2" …: per submission, ordered by a hash of a random salt
drawn at publishing, the submission and the judge, so the numbers say nothing about who judged,
in which order, or which judge of one team is which of another, and they never move (they are
frozen). The breakdown and the feedback of one submission use the same numbers.

Who reads what: the public rows (`public_row`) carry the overall and per-track ranks, and the
breakdown only while the event's `results_show_breakdown` is on; `feedback` leaves this module
only through `team_feedback`, for the team's own members.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PUBLIC_KEYS = (
    "rank",
    "submission_id",
    "title",
    "team_name",
    "track_ids",
    "tracks",
    "score",
    "raw_mean",
    "evaluations",
)


@dataclass(frozen=True, slots=True)
class ScoredEvaluation:
    """One submitted evaluation, as the breakdown and feedback need it."""

    judge_id: str
    submission_id: str
    scores: Mapping[str, float]
    feedback: str


@dataclass(frozen=True, slots=True)
class CriterionInfo:
    id: str
    name: str
    max_score: int


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def judge_labels(submission_id: str, judge_ids: Iterable[str], salt: str) -> dict[str, str]:
    """judge id → "Judge n" for one submission (see the module docstring)."""

    def key(judge_id: str) -> str:
        return hashlib.sha256(f"{salt}:{submission_id}:{judge_id}".encode()).hexdigest()

    ordered = sorted(set(judge_ids), key=lambda j: (key(j), j))
    return {j: f"Judge {n}" for n, j in enumerate(ordered, start=1)}


def breakdown_and_feedback(
    submission_id: str,
    evaluations: Sequence[ScoredEvaluation],
    criteria: Sequence[CriterionInfo],
    salt: str,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The per-criterion means, each anonymized judge's scores, and the non-empty feedback."""
    labels = judge_labels(submission_id, (e.judge_id for e in evaluations), salt)
    by_label = sorted(evaluations, key=lambda e: int(labels[e.judge_id].rsplit(" ", 1)[1]))
    used = [c for c in criteria if any(c.id in e.scores for e in evaluations)]
    means = []
    for c in used:
        values = [float(e.scores[c.id]) for e in evaluations if c.id in e.scores]
        means.append(
            {
                "id": c.id,
                "name": c.name,
                "max_score": c.max_score,
                "mean": round(sum(values) / len(values), 2),
            }
        )
    judges = [
        {
            "judge": labels[e.judge_id],
            "scores": {c.id: float(e.scores[c.id]) for c in used if c.id in e.scores},
        }
        for e in by_label
    ]
    feedback = [
        {"judge": labels[e.judge_id], "text": e.feedback.strip()}
        for e in by_label
        if e.feedback.strip()
    ]
    return {"criteria": means, "judges": judges}, feedback


def public_row(row: Mapping[str, Any], *, breakdown: bool) -> dict[str, Any]:
    """A frozen row as participants and the public may read it (never the feedback)."""
    out = {k: row[k] for k in PUBLIC_KEYS if k in row}
    out.setdefault("tracks", [])
    if breakdown and row.get("breakdown"):
        out["breakdown"] = row["breakdown"]
    return out


def with_track_ranks(
    rows: list[dict[str, Any]], track_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Rows frozen before per-track ranks existed: each track's rows in overall order, 1..n.

    That equals `ranking.rank` over the track's subset: its sort key is the same for every
    subset (score, evaluations, raw mean, submission time order) and ties keep input order."""
    if all("tracks" in r for r in rows):
        return rows
    counters: dict[str, int] = {}
    out = []
    for row in rows:
        places = []
        for track_id in row.get("track_ids", []):
            counters[track_id] = counters.get(track_id, 0) + 1
            name = track_names.get(track_id, "")
            places.append({"id": track_id, "name": name, "rank": counters[track_id]})
        out.append({**row, "tracks": places})
    return out


def track_sections(
    rows: Sequence[Mapping[str, Any]], track_order: Sequence[str]
) -> list[dict[str, Any]]:
    """One section per track that has ranked projects: its rows by their rank in the track.

    Tracks are in the event's current order (`track_order`); tracks removed since publishing
    follow, by name."""
    sections: dict[str, dict[str, Any]] = {}
    for row in rows:
        for place in row.get("tracks", []):
            section = sections.setdefault(
                place["id"], {"track_id": place["id"], "name": place["name"], "ranking": []}
            )
            section["ranking"].append(
                {
                    "rank": place["rank"],
                    "submission_id": row["submission_id"],
                    "title": row.get("title", ""),
                    "team_name": row.get("team_name", ""),
                    "score": row.get("score", 0.0),
                    "evaluations": row.get("evaluations", 0),
                }
            )
    position = {track_id: n for n, track_id in enumerate(track_order)}
    ordered = sorted(
        sections.values(), key=lambda s: (position.get(s["track_id"], len(position)), s["name"])
    )
    for section in ordered:
        section["ranking"].sort(key=lambda r: r["rank"])
    return ordered


def standing(
    rows: Sequence[Mapping[str, Any]], winners: Sequence[Mapping[str, Any]], submission_id: str
) -> dict[str, Any] | None:
    """A submission's awards and places in the frozen results; None when it has neither."""
    awards = [
        {
            "award_id": w.get("award_id"),
            "award": w.get("award", ""),
            "prize": w.get("prize", ""),
            "label": f"Winner — {w.get('award', '')}",
        }
        for w in winners
        if w.get("submission_id") == submission_id
    ]
    row = next((r for r in rows if r.get("submission_id") == submission_id), None)
    if row is None and not awards:
        return None
    placements = []
    if row is not None:
        placements.append(
            {
                "track_id": None,
                "track": None,
                "rank": row["rank"],
                "of": len(rows),
                "label": f"{ordinal(row['rank'])} place overall",
            }
        )
        for place in row.get("tracks", []):
            size = sum(1 for r in rows if any(p["id"] == place["id"] for p in r.get("tracks", [])))
            placements.append(
                {
                    "track_id": place["id"],
                    "track": place["name"],
                    "rank": place["rank"],
                    "of": size,
                    "label": f"{ordinal(place['rank'])} place in {place['name']}",
                }
            )
    return {
        "submission_id": submission_id,
        "title": row.get("title", "") if row else "",
        "team_name": row.get("team_name", "") if row else "",
        "awards": awards,
        "placements": placements,
        "row": row,
    }


def podium(placements: Iterable[Mapping[str, Any]], places: int = 3) -> list[Mapping[str, Any]]:
    """The placements worth a badge on public pages (the first `places` ranks)."""
    return [p for p in placements if p["rank"] <= places]
