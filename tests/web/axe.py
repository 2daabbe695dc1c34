"""axe-core accessibility checks for the browser tests.

axe-core comes from the npm registry at test time (never copied into the repository): the first
check of a run downloads the pinned tarball, verifies it against the registry's sha512 integrity,
and keeps `axe.min.js` under `.tools/` for later runs. The source is evaluated through the
DevTools protocol (Playwright's `evaluate`), which the page's Content-Security-Policy does not
govern, so pages are checked exactly as served — CSP included.

    from tests.web.axe import assert_accessible
    await assert_accessible(page)            # fails listing every violation

Where the registry cannot be reached the check skips with the reason (fails under CI=true).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

AXE_VERSION = "4.14.1"
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
AXE_INTEGRITY = (
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76"
    "ASyFNNtuFooJpZe37OgudVGtQ=="
)
CACHE = Path(__file__).resolve().parents[2] / ".tools" / f"axe-core-{AXE_VERSION}" / "axe.min.js"

# WCAG 2.1 A and AA plus axe's best practices: what a reviewer with a screen reader would flag.
RUN_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

_source: str | None = None


def _download() -> bytes:
    with urllib.request.urlopen(AXE_TARBALL, timeout=30) as response:
        payload: bytes = response.read()
    algorithm, _, expected = AXE_INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, payload).digest()).decode()
    if digest != expected:
        raise RuntimeError(f"axe-core {AXE_VERSION}: the tarball does not match its integrity")
    return payload


def axe_source() -> str:
    """The pinned axe.min.js, from the cache or the registry."""
    global _source
    if _source is not None:
        return _source
    if not CACHE.exists():
        try:
            payload = _download()
        except (OSError, RuntimeError) as exc:
            reason = f"axe-core could not be fetched from the npm registry: {exc}"
            if IN_CI:
                pytest.fail(f"CI=true and a required tool is missing: {reason}", pytrace=False)
            pytest.skip(reason)
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            script = member.read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        partial = CACHE.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(script)
        partial.replace(CACHE)  # atomic: parallel test processes never read half a file
    _source = CACHE.read_text(encoding="utf-8")
    return _source


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


async def violations(page: Any, *, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(axe_source() + "\n;void 0")
    options = dict(RUN_OPTIONS)
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    result: list[dict[str, Any]] = await page.evaluate(
        "(options) => axe.run(document, options).then(r => r.violations)", options
    )
    return result


async def assert_accessible(page: Any, *, disable: tuple[str, ...] = ()) -> None:
    """Fail with every axe-core violation of the page as it is now."""
    found = await violations(page, disable=disable)
    assert not found, f"axe-core found {len(found)} violation(s) on {page.url}:\n" + describe(found)
