"""After ``./quickstart.sh`` the ``latbench`` command lives in ``.venv``, not on PATH: the
script and README say how to reach it before any ``latbench ...`` command."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_says_to_activate_the_venv_before_the_first_latbench_command():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_command = text.index("\nlatbench ")
    assert text.index("source .venv/bin/activate") < first_command
    assert ".venv/bin/latbench" in text


def test_quickstart_ends_by_saying_where_latbench_is(tmp_path):
    script = (REPO / "quickstart.sh").read_text(encoding="utf-8")
    main_job = script[
        script.index("main_job() {") : script.index("\n}\n", script.index("main_job() {"))
    ]
    assert '"(or call $VENV/bin/latbench)"' in main_job
    assert "source $VENV/bin/activate" in main_job


def test_quickstart_ends_by_saying_what_to_do_next():
    """The closing lines said where the outputs went and where latbench is, not what to run
    next; the last line names the tour, another space and the own-model guide, each of which
    exists."""
    script = (REPO / "quickstart.sh").read_text(encoding="utf-8")
    main_job = script[
        script.index("main_job() {") : script.index("\n}\n", script.index("main_job() {"))
    ]
    last = main_job[main_job.rindex('echo "next:') :]
    assert "five-minute tour" in last and "LATBENCH_SPACE=msnas ./quickstart.sh" in last
    assert "## A five-minute tour" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/models.md" in last and (REPO / "docs/models.md").is_file()
    assert subprocess.run(["bash", "-n", str(REPO / "quickstart.sh")]).returncode == 0
