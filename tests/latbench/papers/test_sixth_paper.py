"""A sixth paper added the documented way, a plugin file in a temporary folder: its space is
profiled, its search is listed by ``latbench search --help`` and runs with its own report,
and ``latbench validate --protocol`` runs its protocol. Nothing of latbench is edited."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SIXTH = (REPO / "docs" / "examples" / "sixth_paper.py").read_text(encoding="utf-8")

SCRIPT = """
import sys
from latbench.cli import main
plugin = sys.argv[1]
try:
    main(["--plugin", plugin, "search", "--help"])
except SystemExit:
    pass
print("@@@")
fast = ["--threads", "1", "--budget-ms", "2", "--warmup-ms", "1", "--item-timeout", "0"]
assert main(["--plugin", plugin, "profile", "sixth", *fast, "--table", "ops.csv"]) == 0
print("@@@")
assert main(["--plugin", plugin, "search", "sixth", "--table", "ops.csv"]) == 0
print("@@@")
code = main(["--plugin", plugin, "validate", "sixth:0", "--protocol", "sixth-fps",
             "--n-frames", "4", "--out", "out", "--json"])
print("@@@")
code2 = main(["--plugin", plugin, "validate", "sixth:0", "--protocol", "no-such", "--out", "out"])
print("@@@", code, code2)
"""


@pytest.mark.slow  # one interpreter importing torch, a profile of two ops
def test_a_sixth_paper_plugin_is_searched_and_validated(tmp_path):
    (tmp_path / "sixth.py").write_text(SIXTH, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, "sixth.py"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "LATBENCH_HOME": str(tmp_path / "home"), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    help_text, _profile, search, validate, _unknown, codes = proc.stdout.split("@@@")
    assert "sixth          the sixth paper's search" in help_text
    assert "rtdnas" in help_text and "mixed-op" in help_text  # the papers' beside it
    assert "sixth: candidates" in search and "sixth chose k" in search
    report = json.loads(validate.strip().splitlines()[-1])
    assert report["protocol"] == "sixth-fps" and report["n_frames"] == 4
    assert report["notes"] == ["sixth: no encoder"] and report["fps"] > 0
    (saved,) = (tmp_path / "out").glob("*.sixth-fps.json")
    assert json.loads(saved.read_text(encoding="utf-8"))["fps"] == report["fps"]
    assert codes.split() == ["0", "2"]
    assert "unknown protocol 'no-such'; valid: dyncell, rtdnas, sixth-fps, stnas" in proc.stderr
