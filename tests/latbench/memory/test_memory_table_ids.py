"""A memory table written before canonical arch_ids is resumed, not redone."""

from __future__ import annotations

import hashlib

import pandas as pd

from latbench.archs import sample_architectures
from latbench.memory.steps import TrainConfig
from latbench.memory.table import memory_job
from latbench.tablerun.ids import ARCH_ID_SCHEME, arch_id


def test_old_rows_are_recognised_by_their_architecture():
    job = memory_job("cpu", TrainConfig(), lambda subject: {}, threads=1)
    arch = sample_architectures("nasbench201", 1, "small", seed=0)[0]
    old = hashlib.sha1(arch.to_json().encode()).hexdigest()
    table = pd.DataFrame(
        {
            "protocol_id": [job.protocol_id, job.protocol_id],
            "key": [f"arch:{old}", "conv|...|op-row"],
            "subject": ["arch", "op"],
            "arch_id": [old, ""],
            "arch_json": [arch.to_json(), None],
        }
    )
    assert job.done_keys(table) == {f"arch:{arch_id(arch)}", "conv|...|op-row"}
    table.attrs["meta"] = {"arch_id_scheme": ARCH_ID_SCHEME}  # a table of today: as stored
    assert job.done_keys(table) == {f"arch:{old}", "conv|...|op-row"}
    assert job.side_car()["arch_id_scheme"] == ARCH_ID_SCHEME
