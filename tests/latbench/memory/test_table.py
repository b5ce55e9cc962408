"""Memory tables: rows per subject and config, resume under the same protocol, OOM as data."""

from __future__ import annotations

from latbench.architecture import INPUT, Architecture, Edge
from latbench.memory.steps import TrainConfig
from latbench.memory.table import MEMORY, arch_id, measure_into_table, subject_columns
from latbench.opspec import OpSpec
from latbench.tables import read_table


def chain() -> Architecture:
    op = OpSpec.make("conv", (1, 8, 16, 16, 16), norm="in", act="relu")
    return Architecture("hand3d", (Edge((INPUT,), "n1", op), Edge(("n1",), "n2", op)), "n2")


def fake_measure(subject):
    if isinstance(subject, OpSpec) and subject.input_shape[1] == 64:
        return {"status": "oom", "error": "CUDA out of memory. Tried to allocate 9 GiB"}
    return {"status": "ok", "error": "", "rss_growth_mib": 12.5, "nvml_process_mib": None}


def test_rows_are_written_resumed_and_failures_recorded(tmp_path):
    path = tmp_path / "memory-x.csv"
    subjects = [
        chain(),
        OpSpec.make("conv", (1, 8, 8, 8, 8)),
        OpSpec.make("conv", (1, 64, 8, 8, 8)),
    ]
    first = measure_into_table(subjects, path, fake_measure, "cpu", TrainConfig(), threads=1)
    again = measure_into_table(subjects, path, fake_measure, "cpu", TrainConfig(), threads=1)
    other = measure_into_table(
        subjects[:1], path, fake_measure, "cpu", TrainConfig(optimizer="sgd"), threads=1
    )
    df = read_table(path)
    assert len(first) == 3 and not again and len(other) == 1 and len(df) == 4
    assert df.attrs["meta"]["schema"] == MEMORY.name
    assert list(df["status"][:3]) == ["ok", "ok", "oom"] and "out of memory" in df["error"][2]
    assert df["key"][0] == f"arch:{arch_id(chain())}" and df["rss_growth_mib"][0] == 12.5
    assert set(df["source"]) == {"measured"}


def test_subject_columns_apply_the_batch():
    cols = subject_columns(OpSpec.make("conv", (1, 8, 8, 8, 8)), TrainConfig(batch=4))
    assert cols["input_shape"] == "4x8x8x8x8" and cols["mode"] == "train" and cols["batch"] == 4
    arch_cols = subject_columns(chain(), TrainConfig(batch=2))
    assert arch_cols["subject"] == "arch" and arch_cols["input_shape"].startswith("2x")
