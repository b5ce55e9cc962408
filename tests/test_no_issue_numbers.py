"""Tests, benchmarks and scripts say what they check, not which tracker item asked for it: none
cites an issue by number (the tracker is not part of the repository)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the word issue followed by a number, with or without "#" (a citation of another project's
# tracker names its repository, e.g. "microsoft/onnxruntime PR #26516", and is allowed)
CITATION = re.compile(r"\bissues?\s*#?\d", re.IGNORECASE)


def test_no_test_bench_or_script_cites_an_issue_number():
    hits = []
    for folder in ("tests", "bench", "scripts"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CITATION.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:100]}")
    assert not hits, "say what the test checks instead of citing an issue number:\n" + "\n".join(
        hits
    )
