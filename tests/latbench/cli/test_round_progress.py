"""With --rounds the progress bar moves every round, not only when a group ends."""

from __future__ import annotations

from rich.progress import Progress

from latbench.cli.measuring import RowAdvancer


def test_the_bar_advances_per_round_and_per_row():
    bar = Progress(disable=True)
    task = bar.add_task("t", total=10, status="")
    advance = RowAdvancer(bar, task, str)
    advance("cached-op", None)
    assert bar.tasks[0].completed == 1
    advance.on_round(1, 4, 8)
    assert bar.tasks[0].completed == 3  # 1 done + 8 items x 1/4 of their rounds
    advance.on_round(3, 4, 8)
    assert bar.tasks[0].completed == 7
    for i in range(8):
        advance(f"op{i}", {"status": "ok", "latency_median_ms": 1.0})
    assert bar.tasks[0].completed == 9 and "op7: 1.000 ms" in bar.tasks[0].fields["status"]
