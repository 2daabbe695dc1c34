"""What a fetched page says about a project: title, description, main text, links, repository.

Pure functions over bytes/strings, no network, so they can be tested from HTML strings and run in a
worker thread (parsing a 2 MiB page takes long enough to stall an event loop). Everything here is
best effort: odd markup yields missing fields, never an exception that would fail the fetch.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import trafilatura
from selectolax.lexbor import LexborHTMLParser, LexborNode

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_COUNT = re.compile(r"^\s*([0-9][0-9,.]*)\s*([kKmM]?)\s*$")
_GITHUB_SUFFIX = re.compile(
    r"\s*-?\s*Contribute to [^\s]+ development by creating an account on GitHub\.?\s*$"
)
# First path segments on github.com that are site pages, not user or organisation names.
_GITHUB_RESERVED = frozenset(
    {
        "about",
        "apps",
        "collections",
        "contact",
        "customer-stories",
        "enterprise",
        "events",
        "explore",
        "features",
        "topics",
        "issues",
        "login",
        "logout",
        "marketplace",
        "new",
        "notifications",
        "orgs",
        "organizations",
        "pricing",
        "pulls",
        "search",
        "security",
        "settings",
        "site",
        "sponsors",
        "team",
        "trending",
        "users",
        "codespaces",
        "join",
        "readme",
    }
)
_BITBUCKET_RESERVED = frozenset({"account", "dashboard", "product", "repo", "site", "snippets"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    """A code-host project page: where it is and what the page shows about it."""

    host: str
    owner: str
    name: str
    description: str | None = None
    language: str | None = None
    stars: int | None = None


@dataclass(frozen=True, slots=True)
class PageData:
    """What was extracted from one HTML document."""

    title: str | None = None
    description: str | None = None
    text: str | None = None
    links: list[str] = field(default_factory=list)
    repository: RepositoryFacts | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def is_html(content_type: str | None) -> bool:
    return content_type in HTML_TYPES


def parse_content_type(header: str | None) -> tuple[str | None, str | None]:
    """('text/html', 'utf-8') from 'text/html; charset="UTF-8"'."""
    if not header:
        return None, None
    media_type, *params = header.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return media_type.strip().lower() or None, charset


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Text of an HTML body: the header's charset, else a BOM or <meta charset>, else UTF-8."""
    candidates: list[str] = []
    if charset:
        candidates.append(charset)
    if body.startswith(codecs.BOM_UTF8):
        candidates.append("utf-8-sig")
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.append("utf-16")
    sniffed = _META_CHARSET.search(body[:4096])
    if sniffed:
        candidates.append(sniffed.group(1).decode("ascii"))
    for name in candidates:
        # A hostile page names anything: an unknown codec, a bytes-to-bytes one (rot13, zlib,
        # base64: LookupError at decode), one without "replace" (idna: UnicodeError). Each is
        # skipped for the next candidate, and UTF-8 is the last word.
        try:
            if not codecs.lookup(name)._is_text_encoding:
                continue
            return body.decode(name, errors="replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return body.decode("utf-8", errors="replace")


def extract_page(
    html: str, *, url: str, max_text_chars: int = 50_000, max_links: int = 200
) -> PageData:
    """Title, description, main text, absolute links and repository facts of a page at `url`."""
    tree = LexborHTMLParser(html)
    title = _clean(_node_text(tree.css_first("title"))) or _meta(tree, "og:title", "twitter:title")
    description = _meta(tree, "description", "og:description", "twitter:description")
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True)
    return PageData(
        title=title,
        description=description,
        text=text[:max_text_chars] if text else None,
        links=_links(tree, url, max_links),
        repository=parse_repository(url, html, tree=tree),
    )


def parse_repository(
    url: str, html: str | None = None, *, tree: LexborHTMLParser | None = None
) -> RepositoryFacts | None:
    """Repository facts when `url` is a GitHub, GitLab or Bitbucket project page, else None."""
    located = _locate_repository(url)
    if located is None:
        return None
    host, owner, name = located
    if tree is None:
        if html is None:
            return RepositoryFacts(host=host, owner=owner, name=name)
        tree = LexborHTMLParser(html)
    description = _meta(tree, "og:description", "description")
    if description and host == "github.com":
        description = _GITHUB_SUFFIX.sub("", description).strip() or None
        if description and description.startswith(f"{owner}/{name}"):
            description = None  # GitHub's filler when the repository has no description
    return RepositoryFacts(
        host=host,
        owner=owner,
        name=name,
        description=description,
        language=_language(tree),
        stars=_stars(tree),
    )


def _locate_repository(url: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return None
    host = (hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host == "github.com":
        if len(segments) < 2 or segments[0].lower() in _GITHUB_RESERVED:
            return None
        owner, name = segments[0], segments[1].removesuffix(".git")
    elif host == "bitbucket.org":
        if len(segments) < 2 or segments[0].lower() in _BITBUCKET_RESERVED:
            return None
        owner, name = segments[0], segments[1].removesuffix(".git")
    elif host == "gitlab.com":
        # Groups nest (gitlab.com/group/sub/project); "/-/" starts the project's own pages.
        if "-" in segments:
            segments = segments[: segments.index("-")]
        if len(segments) < 2 or segments[0].lower() in {"explore", "users", "help", "dashboard"}:
            return None
        owner, name = "/".join(segments[:-1]), segments[-1].removesuffix(".git")
    else:
        return None
    if not all(_NAME.match(part) for part in [*owner.split("/"), name]):
        return None
    return host, owner, name


def _language(tree: LexborHTMLParser) -> str | None:
    """The primary language as the page shows it: schema.org markup, else the language bar."""
    for selector in (
        '[itemprop="programmingLanguage"]',
        # GitHub's sidebar: languages sorted by share, the first is the primary one.
        'a[href*="search?l="] span.text-bold',
        "span.color-fg-default.text-bold.mr-1",
        # GitLab's repository language bar.
        ".repository-language-bar-tooltip-language",
        "[data-testid='repository-languages'] span",
    ):
        found = _clean(_node_text(tree.css_first(selector)))
        if found:
            return found
    return None


def _stars(tree: LexborHTMLParser) -> int | None:
    for selector in (
        "#repo-stars-counter-star",
        ".js-social-count",
        'a[href$="/stargazers"] strong',
        'a[href$="/stargazers"] .Counter',
        "[data-testid='star-count']",
        ".star-count",
    ):
        node = tree.css_first(selector)
        if node is None:
            continue
        for candidate in (node.attributes.get("title"), node.attributes.get("aria-label")):
            count = _parse_count(candidate)
            if count is not None:
                return count
        count = _parse_count(_node_text(node))
        if count is not None:
            return count
    return None


def _parse_count(raw: str | None) -> int | None:
    """'1,234' → 1234, '1.2k' → 1200, '3m' → 3000000; anything else → None."""
    tokens = (raw or "").split()
    match = _COUNT.match(tokens[0]) if tokens else None
    if match is None:
        return None
    digits, suffix = match.groups()
    multiplier = {"": 1, "k": 1_000, "m": 1_000_000}[suffix.lower()]
    try:
        if suffix:
            return int(float(digits.replace(",", "")) * multiplier)
        return int(digits.replace(",", "").replace(".", ""))
    except ValueError:
        return None


def _meta(tree: LexborHTMLParser, *keys: str) -> str | None:
    """The first non-empty <meta> content among `keys`, matched on name= or property=."""
    wanted = {key.lower(): rank for rank, key in enumerate(keys)}
    best: tuple[int, str] | None = None
    for node in tree.css("meta[content]"):
        attributes = node.attributes
        key = (attributes.get("name") or attributes.get("property") or "").strip().lower()
        if key not in wanted:
            continue
        content = _clean(attributes.get("content"))
        if content and (best is None or wanted[key] < best[0]):
            best = (wanted[key], content)
    return best[1] if best else None


def _links(tree: LexborHTMLParser, url: str, limit: int) -> list[str]:
    base = url
    base_node = tree.css_first("base[href]")
    if base_node is not None and base_node.attributes.get("href"):
        try:
            base = urljoin(url, base_node.attributes["href"] or "")
        except ValueError:
            base = url  # a broken <base> is ignored, as browsers do
    seen: dict[str, None] = {}
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            absolute = urldefrag(urljoin(base, href)).url
            scheme = urlsplit(absolute).scheme
        except ValueError:
            continue  # e.g. a malformed IPv6 literal in a link
        if scheme in {"http", "https"} and absolute != url:
            seen.setdefault(absolute, None)
            if len(seen) >= limit:
                break
    return list(seen)


def _node_text(node: LexborNode | None) -> str | None:
    return node.text(separator=" ") if node is not None else None


def _clean(value: str | None) -> str | None:
    """Whitespace collapsed, capped at 1,000 characters; None when nothing is left."""
    if value is None:
        return None
    collapsed = " ".join(value.split())
    return collapsed[:1000] or None
