"""Every file kind is read through its own schema, called by its reader: what a reader
accepts does not depend on what was imported before, and a file that parses but breaks its
schema is one ``latbench: error: <file>: field ...`` line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import latbench
from latbench.tables import LATENCY, TableWriter

META = {"fingerprint": {"slug": "cpu-test-1t"}, "protocol": {}, "protocol_id": "p"}
BAD_KEY = "conv|kernel=[|1x16x32x32|float32|infer"
READ = (
    "from latbench.errors import TableError\n"
    "from latbench.tables import read_table\n"
    "try:\n"
    "    read_table({path!r})\n"
    "    print('accepted')\n"
    "except TableError as exc:\n"
    "    print(exc)\n"
)


def test_a_key_is_refused_whether_or_not_opspec_was_imported_first(tmp_path):
    table = tmp_path / "t.csv"
    TableWriter(table, LATENCY, META).append(
        {"key": BAD_KEY, "status": "error", "source": "measured", "error": "x"}
    )
    outputs = []
    for first in ("", "import latbench.opspec, latbench.archs\n"):
        code = first + READ.format(path=str(table))
        run = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(Path(latbench.__file__).parents[1])},
        )
        outputs.append(run.stdout.strip())
    assert outputs[0] == outputs[1], outputs
    assert outputs[0].startswith(f"{table}: line 2, field 'key': bad value for 'kernel'"), outputs
