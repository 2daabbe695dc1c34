"""Logs go to the process's current stderr, and a closed one never fails the caller (a stream
bound when logging was configured was a closed test capture: requests answered a plain-text 500
and jobs failed on their log lines)."""

from __future__ import annotations

import io
import logging
import sys

import pytest
import structlog

from hackops.observability import ACCESS_LOG
from tests.health.test_request_path import production_logs


def test_lines_follow_stderr_and_a_closed_one_drops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with production_logs():
        logged(monkeypatch)


def logged(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    structlog.get_logger("hackops.test").info("first_line")
    ACCESS_LOG("GET", "/x", "/x", 200, 1.0)
    logging.getLogger("uvicorn.error").warning("stdlib_line")
    written = first.getvalue()
    assert '"event": "first_line"' in written
    assert '"event": "request"' in written
    assert "stdlib_line" in written

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    structlog.get_logger("hackops.test").info("dropped")  # no ValueError
    ACCESS_LOG("GET", "/x", "/x", 200, 1.0)
    logging.getLogger("uvicorn.error").warning("dropped too")
