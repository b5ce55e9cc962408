"""README stays a front page (at most 250 lines) and every relative link in README.md and
docs/*.md reaches a file, and a heading where it names one (GitHub's anchor rules)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [
    REPO / "README.md",
    REPO / "device_profiles" / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
]
# Pages that another branch adds; checked like any other once they exist.
PENDING: dict[str, str] = {}


def _prose(path: Path) -> str:
    """The page without its fenced code blocks (a `#` there is a comment, not a heading)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+ (.*)$", _prose(path), flags=re.M)}


def test_readme_is_at_most_250_lines():
    n = len((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= 250, f"README.md has {n} lines; move detail into a docs/ page and link it"


def test_relative_links_reach_a_file_and_a_heading():
    bad, pending = [], []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(REPO)} -> {target}"
            if not dest.exists():
                rel = dest.relative_to(REPO).as_posix() if dest.is_relative_to(REPO) else ""
                (pending if rel in PENDING else bad).append(where)
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{where} (no such heading)")
    assert not bad, "broken links:\n" + "\n".join(bad)
    if pending:
        pytest.skip("links to pages not merged yet: " + "; ".join(pending))
