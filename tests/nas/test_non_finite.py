"""No search reports NaN or inf: RT-DNAS' penalty cannot overflow at device latencies, and any
non-finite loss, cost or result is a ``NonFiniteError`` naming where it arose (the msnas table ×160
gave latency ``nan`` and task loss ``nan``, exit 0)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from latbench.errors import LatbenchError
from latbench.nas.errors import NonFiniteError
from latbench.nas.ga import GenePool, PathSelectionProblem
from latbench.nas.regularizers import RTDNAS_EXP_CAP_MS, rtdnas_loss, rtdnas_penalty
from latbench.nas.synthetic import Outcome, distill
from latbench.papers.rtdnas.search import search_cells


@pytest.mark.parametrize("over_ms", [-30.0, 0.0, 2.0, 19.5])
def test_penalty_is_the_papers_exponential_within_the_cap(over_ms):
    lt = torch.tensor(50.0 + over_ms, requires_grad=True)
    value = rtdnas_penalty(lt, 50.0)
    value.backward()
    assert value.item() == pytest.approx(math.exp(over_ms), rel=1e-5)
    assert lt.grad.item() == pytest.approx(math.exp(over_ms), rel=1e-5)


@pytest.mark.parametrize("lam", [0.0, 10.0, 1e6])
@pytest.mark.parametrize("latency_ms", [139.0, 443.0, 1e5, 3e7])
def test_loss_and_gradient_stay_finite_and_growing_at_any_device_latency(lam, latency_ms):
    lt = torch.tensor(latency_ms, requires_grad=True)
    loss = rtdnas_loss(torch.tensor(0.5), lt, lam, upper_ms=50.0)
    loss.backward()
    assert math.isfinite(loss.item()) and math.isfinite(lt.grad.item())
    # the gradient still pushes latency down, at least as hard as at the cap
    assert lt.grad.item() >= 0.5 + lam * math.exp(RTDNAS_EXP_CAP_MS) * (1 - 1e-5)
    further = rtdnas_loss(torch.tensor(0.5), torch.tensor(latency_ms * 1.5), lam, 50.0)
    assert further.item() > loss.item() or lam == 0.0


def _tiny_rtdnas(scale: float):
    """2 scales, 2 candidate ops, op latencies ×``scale`` (ms)."""
    op_ms = torch.tensor([[1.7, 0.2], [0.9, 0.1]]) * scale
    scaling_ms = torch.tensor([[0.0, 0.0, 0.3], [0.4, 0.0, 0.0]]) * scale
    cells = [[nn.Conv2d(2, 2, 3, padding=1), nn.Identity()] for _ in range(2)]
    scaling = [
        [None, nn.Identity(), nn.MaxPool2d(2)],
        [nn.Upsample(scale_factor=2), nn.Identity(), None],
    ]
    return op_ms, scaling_ms, (cells, scaling)


def test_rtdnas_on_a_slow_device_returns_finite_numbers_and_the_penalty_still_cuts():
    """Latencies ~100× the bound (the issue's ×160 table): both runs finite, λ > 0 cheaper."""
    from latbench.timing import torch_threads

    op_ms, scaling_ms, modules = _tiny_rtdnas(160.0)
    with torch_threads(1):  # 0.3 s; two threads on a loaded 2-core machine took 20 s
        base, reg = search_cells(
            op_ms,
            scaling_ms,
            modules,
            (1, 2, 8, 8),
            [0.0, 10.0],
            n_layers=2,
            n_nodes=2,
            upper_ms=50.0,
            steps=5,
        )
    for run in (base, reg):
        assert math.isfinite(run.latency_ms) and math.isfinite(run.task_loss)
    assert reg.latency_ms < base.latency_ms


def test_a_non_finite_loss_names_the_run_and_step():
    student = nn.Linear(2, 2)
    calls = []

    def regulariser(task: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return task + (float("inf") if len(calls) == 3 else 0.0)

    with pytest.raises(NonFiniteError, match=r"ST-NAS decoder λ=2: the total loss .* step 3"):
        distill(
            student,
            nn.Linear(2, 2),
            (4, 2),
            regulariser,
            student.parameters(),
            steps=5,
            where="ST-NAS decoder λ=2",
        )


@pytest.mark.parametrize("field", ["latency_ms", "task_loss"])
def test_a_non_finite_result_is_never_an_outcome(field):
    values = {"latency_ms": 1.0, "task_loss": 0.1, field: float("nan")}
    with pytest.raises(LatbenchError, match=r"λ=10 run"):
        Outcome(10.0, [0], **values)
    assert Outcome(0.0, [0], 1.0, None).task_loss is None  # nothing trained: no loss, no nan


def test_ga_refuses_nan_weights_and_costs():
    probs = np.full((3, 2, 3), 1 / 3)
    probs[0, 0, 1] = np.nan
    with pytest.raises(NonFiniteError, match="gene pool"):
        GenePool.top(probs, 2)
    pool = GenePool.top(np.full((3, 2, 3), 1 / 3), 2)
    cells = np.ones((3, 2, 3))
    cells[1, 0, 1] = np.inf
    with pytest.raises(NonFiniteError, match="GA fitness"):
        PathSelectionProblem(pool, cells, 1)


def test_an_undefined_rank_correlation_is_named_not_printed_as_nan():
    """A constant prediction has no rank correlation: evaluate's table and JSON say so."""
    import json

    from latbench.predictors.metrics import accuracy
    from latbench.predictors.report import UNDEFINED_RANK, json_metrics, metric_rows

    report = {"constant": accuracy([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])}
    (row,) = metric_rows(report)
    assert row[-2:] == [UNDEFINED_RANK, UNDEFINED_RANK] and "nan" not in str(row)
    text = json.dumps(json_metrics(report), allow_nan=False)
    assert json.loads(text)["constant"]["kendall_tau"] is None


@pytest.mark.parametrize("lam", ["nan", "inf", "-1"])
def test_a_non_finite_or_negative_lambda_is_a_usage_error(capsys, lam):
    from latbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["search", "rtdnas", "--lam", lam])
    assert exc.value.code == 2 and "--lam" in capsys.readouterr().err
