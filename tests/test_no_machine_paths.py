"""No tracked file names the shared folder beside the repository (dot-dot, slash, shared) or an
absolute path of the machine it was built on (slash, work, slash): the published data ships in
``data/public-latency/`` and every command README shows must run on a fresh clone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Assembled so that this file does not match itself.
FORBIDDEN = re.compile("|".join(re.escape(s) for s in ("../" + "shared", "/" + "work/")))


def _tracked() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [REPO / name for name in out.decode().split("\0") if name]


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_no_tracked_file_names_a_machine_path():
    hits = []
    for path in _tracked():
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):  # binary (gzip, PNG) or gone from the work tree
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}")
    assert not hits, "machine paths in tracked files:\n" + "\n".join(hits)
