"""One writer per table: concurrent runs end with every key exactly once."""

from __future__ import annotations

import pandas as pd
import pytest
from filelock import FileLock
from helpers import FAST, popen

from latbench.errors import TableError
from latbench.opspec import OpSpec
from latbench.profile import profile_specs
from latbench.tablerun.driver import lock_path
from latbench.timing import TimingConfig, make_timer


def test_a_locked_table_fails_in_one_line_after_the_timeout(tmp_path):
    table = tmp_path / "t.csv"
    notes: list[str] = []
    with FileLock(str(lock_path(table))):
        with pytest.raises(TableError, match="still locked by another run after 0.2 s"):
            profile_specs(
                [OpSpec.make("conv", (1, 4, 8, 8), kernel=1)],
                table,
                make_timer("cpu", TimingConfig(budget_ms=1), threads=1),
                lock_timeout_s=0.2,
                on_note=notes.append,
            )
    assert len(notes) == 1 and "another run is writing this table" in notes[0]


@pytest.mark.slow
def test_two_concurrent_profile_runs_write_every_op_exactly_once(tmp_path):
    table = tmp_path / "t.csv"
    procs = [popen("profile", "test-convs", *FAST, "--table", str(table)) for _ in range(2)]
    results = [p.communicate(timeout=400) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-1500:] for _, e in results]
    df = pd.read_csv(table)
    assert len(df) == 8 and df["key"].is_unique and set(df["status"]) == {"ok"}
    outs = " ".join(o for o, _ in results)
    assert "measured 8" in outs and "measured 0, already in table 8" in outs
