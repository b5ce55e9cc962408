"""bench/ofa_ceiling.py: the encoding features, the same-batch partner, the mapped agreement
and the cross-validated many-shot bound (small synthetic tables, well under a second each)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from latbench.archs.ofa_mbv3 import sample_config

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("ofa_ceiling", ROOT / "bench" / "ofa_ceiling.py")
ofa_ceiling = importlib.util.module_from_spec(_spec)
sys.modules["ofa_ceiling"] = ofa_ceiling
_spec.loader.exec_module(ofa_ceiling)

COLUMNS = ["2080ti_1", "2080ti_32", "titan_xp_1", "titan_xp_32"]


def _join(values) -> str:
    return "-".join(str(v) for v in values)


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    configs = [sample_config(rng) for _ in range(n)]
    return pd.DataFrame(
        {
            "ks": [_join(c.ks) for c in configs],
            "e": [_join(c.e) for c in configs],
            "d": [_join(c.d) for c in configs],
            "r": [c.r for c in configs],
        }
    )


def test_encoding_features_mask_unused_slots_and_keep_depth_and_resolution():
    row = {"ks": _join([7, 5, 3, 3] * 5), "e": _join([6, 4, 3, 3] * 5), "d": "2-3-4-2-2", "r": 160}
    unused = [2, 3, 7, 14, 15, 18, 19]  # slots past the stage depths 2-3-4-2-2
    other = dict(
        row,
        ks=_join([5 if i in unused else k for i, k in enumerate([7, 5, 3, 3] * 5)]),
        e=_join([4 if i in unused else x for i, x in enumerate([6, 4, 3, 3] * 5)]),
    )
    x = ofa_ceiling.encoding_features(pd.DataFrame([row, other]))
    assert x.shape == (2, 46)
    np.testing.assert_array_equal(x[0], x[1])
    assert list(x[0, :4]) == [7, 5, 0, 0] and list(x[0, 8:12]) == [7, 5, 3, 3]
    assert list(x[0, 40:45]) == [2, 3, 4, 2, 2] and x[0, 45] == 160


def test_same_batch_partner():
    assert ofa_ceiling.same_batch_partner("2080ti_1", COLUMNS) == "titan_xp_1"
    assert ofa_ceiling.same_batch_partner("titan_xp_32", COLUMNS) == "2080ti_32"
    assert ofa_ceiling.same_batch_partner("2080ti_64", COLUMNS) is None


def test_mapped_agreement_is_exact_for_a_power_law_and_not_for_noise():
    x = np.random.default_rng(0).uniform(5, 50, 400)
    exact = ofa_ceiling.mapped_agreement(x, 3.0 * x**0.7)
    assert exact["spearman_rho"] == pytest.approx(1.0) and exact["within_10pct"] == 1.0
    noisy = ofa_ceiling.mapped_agreement(x, np.random.default_rng(1).uniform(5, 50, 400))
    assert abs(noisy["spearman_rho"]) < 0.2 and noisy["within_10pct"] < 0.5


def test_gbm_cv_learns_an_encoding_function_and_not_noise():
    df = _table(300)
    x = ofa_ceiling.encoding_features(df)
    learnable = np.exp(0.02 * x[:, 45] + 0.1 * x[:, 40:45].sum(axis=1))
    good = ofa_ceiling.gbm_cv(x, learnable, folds=3)
    assert good["spearman_rho"] > 0.95 and good["n"] == 300
    noise = ofa_ceiling.gbm_cv(x, np.random.default_rng(2).uniform(5, 50, 300), folds=3)
    assert abs(noise["spearman_rho"]) < 0.2


def test_stage_depth_cv_fits_per_stage_block_costs_out_of_fold():
    df = _table(300)
    x = ofa_ceiling.encoding_features(df)
    depths = x[:, 40:45]
    y = 1.0 + depths @ np.array([0.45, 0.77, 0.55, 0.96, 0.93])  # ms: a cost per block by stage
    pred = ofa_ceiling.stage_depth_cv(x, y, folds=3)
    assert pred.shape == (300,) and np.all(np.abs(pred / y - 1) < 0.05)
    resolution_only = ofa_ceiling.stage_depth_cv(x, x[:, 45] ** 2, folds=3)
    assert np.corrcoef(resolution_only, x[:, 45])[0, 1] < 0.3  # depths cannot see r
