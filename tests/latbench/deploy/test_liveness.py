"""The output comparison must be able to fail: dead networks are re-initialised, networks
whose output ignores the input are reported as such, every sampler's networks reach their
output from their input, and validate's verdict shows a busy machine."""

from __future__ import annotations

import pytest
import torch
from deploy_gpu import QUICK
from torch import nn

from latbench.archs import Architecture, sample_architectures
from latbench.deploy import validate as validate_mod
from latbench.deploy.liveness import ensure_live, input_reaches_output, relative_spread
from latbench.deploy.validate import ValidateOptions, resolve_architecture, validate


class _IgnoresInput(nn.Module):
    """conv(x) * 0 + a learned constant: the output never depends on x."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.const = nn.Parameter(torch.ones(1, 4, 1, 1))

    def forward(self, x):
        return self.conv(x) * 0.0 + self.const


class _ConstantArch(Architecture):
    def build(self, device="cpu"):  # noqa: ANN001, ANN201
        return _IgnoresInput().to(device)


def test_network_whose_output_ignores_its_input_is_reported(nb201, tmp_path):
    arch = _ConstantArch(nb201.space, nb201.edges, nb201.output, "constant")
    report = validate(
        arch, ("torch", "ort"), config=QUICK, options=ValidateOptions(out_dir=tmp_path, threads=1)
    )
    assert report.liveness["live"] is False and report.liveness["spread"] == 0.0
    assert all(b.outputs_match for b in report.backends)  # matches, and proves nothing
    assert "comparison proves nothing" in report.to_markdown()
    assert "outputs not checked" in report.verdict


@pytest.mark.slow
@pytest.mark.parametrize("name", ["msnas:3", "msnas:7"])
def test_dead_msnas_networks_are_reinitialised_until_the_check_can_fail(name):
    arch = resolve_architecture(name)
    torch.manual_seed(0)
    module = arch.build("cpu").eval()
    x = arch.example_inputs("cpu")[0]
    assert relative_spread(module, x) < 1e-4  # PyTorch's default init: numerically dead
    live = ensure_live(module, x, 1e-3)
    assert live.live and live.init == "variance-preserving" and live.spread > 1e-2


def test_live_networks_keep_their_default_init():
    arch = resolve_architecture("msnas:0")
    torch.manual_seed(0)
    module = arch.build("cpu").eval()
    before = [p.clone() for p in module.parameters()]
    live = ensure_live(module, arch.example_inputs("cpu")[0], 1e-3)
    assert live.live and live.init == "default"
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("space", ["msnas", "nasbench201", "stnas-decoder", "cakes", "dints"])
def test_sampled_networks_reach_their_output_from_their_input(space):
    archs = sample_architectures(space, 40, "small", 0)
    cut = [a.genotype for a in archs if not input_reaches_output(a)]
    # NAS-Bench-201 contains cells whose every path crosses 'none' (the benchmark has them);
    # no other space may sample a network whose output cannot depend on its input.
    assert not cut or space == "nasbench201", cut


def test_structural_check_sees_a_zero_cut():
    from latbench.archs.nasbench201 import build_network

    assert not input_reaches_output(build_network(("none",) * 6))
    assert input_reaches_output(build_network(("none",) * 3 + ("skip_connect",) + ("none",) * 2))


def test_busy_machine_shows_in_the_verdict(nb201, tmp_path, monkeypatch):
    monkeypatch.setattr(validate_mod.os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    report = validate(
        nb201,
        ("ort",),
        budget_ms=1e6,
        config=QUICK,
        options=ValidateOptions(out_dir=tmp_path, threads=1),
    )
    (ort,) = report.backends
    assert ort.busy and ort.error == "" and report.passed is True
    assert report.verdict.startswith("PASS on the median latency (")
    assert "; machine busy: timings unreliable)" in report.verdict
    assert "(busy)" in report.rows()[0][-1]


def test_idle_machine_has_no_busy_warning(nb201, tmp_path, monkeypatch):
    monkeypatch.setattr(validate_mod.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(validate_mod.os, "cpu_count", lambda: 4)
    report = validate(
        nb201,
        ("ort",),
        budget_ms=1e6,
        config=QUICK,
        options=ValidateOptions(out_dir=tmp_path, threads=1),
    )
    assert not any("load average" in w for w in report.backends[0].warnings)


class _Positive(nn.Module):
    """An output whose shape depends on the input's values (``x[x > 0]``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[x > 0]


class _Empty(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[x > 1e9]


def test_an_output_whose_shape_moves_with_the_input_is_live_not_a_traceback():
    """``validate file.py:net`` of such a model was a RuntimeError ('The size of tensor a
    (102) must match the size of tensor b (93)'); an always-empty output is constant."""
    example = torch.zeros(1, 3, 8, 8)
    assert ensure_live(_Positive(), example, 1e-4).live
    assert relative_spread(_Empty(), example) == 0.0
