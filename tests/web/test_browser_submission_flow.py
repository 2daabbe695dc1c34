"""A project from draft to the public gallery, as real people in headless Chromium against the
live server, with a real `hackops worker` processing the submission.

An organizer creates and publishes an event; a participant registers, creates a team, drafts the
project on the team's submission page, uploads a PDF (made with pypdf), submits and watches the
four processing steps finish (the page reloads itself while they run); the organizer finds the
project in the review queue, approves it and opens the gallery; a signed-out visitor, who got a
404 while the gallery was closed, finds the project there with its team.

The live server runs no worker, so this test starts one as a subprocess on the live server's
database and storage, serving the `processing` queue only, and stops it by its pid.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import APP_ROLE, as_role
from tests.submissions.filehelpers import pdf_bytes
from tests.web.test_browser_event_flow import _organizer_creates_and_publishes, _register
from tests.web.test_browser_flows import (
    flash_text,
    log_in,
    person,
    sign_up_and_confirm,
)

pytestmark = pytest.mark.browser

TITLE = "Sock Sorter 3000"
STEPS = ("validate_files", "extract_text", "fetch_links", "similarity")


@contextmanager
def pipeline_worker(database_url: str, storage_dir: Path, base_url: str) -> Iterator[Path]:
    """`hackops worker --queue processing` on the live server's database and files; its log."""
    handle, name = tempfile.mkstemp(prefix="hackops-worker-", suffix=".log")
    os.close(handle)
    log = Path(name)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HACKOPS_ENV": "dev",
        "SECRET_KEY": "test-" + "s" * 40,
        "DATABASE_URL": as_role(database_url, APP_ROLE),
        "DATABASE_ADMIN_URL": database_url,
        "STORAGE_URL": f"file://{storage_dir}",
        "DATA_DIR": str(storage_dir),
        "BASE_URL": base_url,
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "WORKER_POLLING_INTERVAL": "0.2",
    }
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hackops",
                "worker",
                "--queue",
                "processing",
                "--concurrency",
                "2",
            ],
            env=env,
            cwd=storage_dir,  # no stray .env file is read
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
    log.unlink(missing_ok=True)


async def _team_of(page: Any, event_url: str, name: str) -> str:
    """Create a team from the event's teams area; the team page's URL."""
    from playwright.async_api import expect

    await page.goto(event_url)
    await page.get_by_role("link", name="Teams and team finder").click()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Create team").click()
    assert "Team created." in await flash_text(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return str(page.url)


async def test_a_project_goes_from_draft_to_the_gallery(
    live_server: str,
    live_database_url: str,
    storage_dir: Path,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer = await person(chromium)
    event_url = await _organizer_creates_and_publishes(organizer, live_server, run)

    pia_email = f"pia-{run}@example.org"
    pia = await person(chromium)
    await sign_up_and_confirm(pia, live_server, "Pia Participant", pia_email)
    await log_in(pia, pia_email)
    await pia.goto(event_url)
    await _register(pia, event_url, "A robot that sorts socks")
    team_url = await _team_of(pia, event_url, "Sock Sorters")

    # The team drafts its project and uploads the pitch deck.
    await pia.get_by_role("link", name="Submission", exact=True).click()
    await expect(pia).to_have_url(f"{team_url}/submission")
    await expect(pia.locator("#submission-status")).to_have_text("not started")
    await pia.get_by_label("Title").fill(TITLE)
    await pia.get_by_label("Tagline").fill("Pairs your socks while you sleep")
    await pia.get_by_label("Description").fill("A **robot arm** and a camera sort the laundry.")
    await pia.get_by_label("Technologies").fill("Python, OpenCV")
    await pia.get_by_role("button", name="Save").click()
    assert "Saved." in await flash_text(pia)
    await expect(pia.locator("#submission-status")).to_have_text("draft")
    await pia.get_by_label("Add a file").set_input_files(
        {"name": "pitch.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(2)}
    )
    await pia.get_by_role("button", name="Upload").click()
    assert "Uploaded “pitch.pdf”." in await flash_text(pia)
    await expect(pia.locator("#file-list")).to_contain_text("pitch.pdf")

    # Submitting starts the processing; the page reloads itself until every step is done.
    with pipeline_worker(live_database_url, storage_dir, live_server) as worker_log:
        await pia.get_by_role("button", name="Submit", exact=True).click()
        assert "Version 1 is submitted; processing has started." in await flash_text(pia)
        await expect(pia.locator("#submission-status")).to_have_text("submitted")
        try:
            for step in STEPS:
                state = pia.locator(f"#step-{step} .step-state")
                await expect(state).to_have_text("done", timeout=60_000)
        except AssertionError as exc:
            raise AssertionError(f"worker log:\n{worker_log.read_text()}") from exc
    await expect(pia.locator("#processing-note")).to_have_count(0)
    await expect(pia.locator("#versions")).to_contain_text("Pia Participant")

    # A visitor finds no gallery yet.
    visitor = await person(chromium)
    closed = await visitor.request.get(f"{event_url}/gallery")
    assert closed.status == 404

    # The organizer approves the project from the review queue and opens the gallery.
    await organizer.goto(event_url)
    await organizer.get_by_role("link", name="Manage this event").click()
    admin_nav = organizer.get_by_role("navigation", name="Event admin sections")
    await admin_nav.get_by_role("link", name="Projects and judging").click()
    await admin_nav.get_by_role("link", name="Submissions", exact=True).click()
    await expect(organizer).to_have_url(f"{event_url}/admin/submissions")
    queue = organizer.locator("#review-queue")
    await expect(queue).to_contain_text(TITLE)
    await expect(queue).to_contain_text("Sock Sorters")
    await organizer.get_by_label(f"Select {TITLE} by Sock Sorters").check()
    await organizer.get_by_role("button", name="Approve selected").click()
    assert "1 submission marked approved." in await flash_text(organizer)
    await expect(queue).to_contain_text("approved")
    await organizer.get_by_role("button", name="Open the gallery").click()
    assert "The gallery is open: approved projects are public." in await flash_text(organizer)

    # Anyone now sees it in the gallery, with its team.
    await visitor.goto(f"{event_url}/gallery")
    await visitor.get_by_label("Search").fill("socks")
    await visitor.get_by_role("button", name="Search").click()
    await visitor.get_by_role("link", name=TITLE).click()
    await expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    await expect(visitor.locator("#team-members")).to_have_text(re.compile("Pia Participant"))
    await expect(visitor.get_by_role("link", name="pitch.pdf")).to_have_count(0)  # not public

    await pia.goto(f"{team_url}/submission")
    await expect(pia.locator("#decision")).to_contain_text("The organizers approved")

    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert pia.problems == []
    assert visitor.problems == []
