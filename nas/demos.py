"""CPU-sized runs of the differentiable searches on synthetic data, each with and without its
regulariser, so the printed comparison shows what the latency term alone changes.

Every latency comes from the ``CostModel`` passed in (``cost_tensor``); op lists come from the
caller (the spaces in ``latbench.spaces``). The task loss is distillation from a teacher
(``nas.synthetic``): the λ = 0 run should move toward the teacher's choice.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from latbench.opspec import OpSpec
from nas.cakes import (ChannelwiseKernelMix, beta_from_costs, beta_from_params,
                       channelwise_latency_ms, kernel_of)
from nas.costs import cost_tensor, normalized
from nas.regularizers import ExpectedLatency, L1LatencyRegularizer, cost_lasso
from nas.stnas import DecoderSupernet, DepthStage, EncoderSupernet, MixedOp, shrink_depth
from nas.synthetic import distill
from predictors.base import CostModel


@dataclass
class Outcome:
    """One run: its λ, what it chose, the predicted latency of that choice, the final losses."""

    lam: float
    choice: Any
    latency_ms: float
    task_loss: float
    extra: dict[str, Any] = field(default_factory=dict)


def _inputs(spec: OpSpec, batch: int | None = None):
    shape = spec.input_shape if batch is None else (batch, *spec.input_shape[1:])
    return lambda gen: torch.randn(shape, generator=gen)


def stnas_encoder(stages: Sequence[Sequence[OpSpec]], between: Sequence[OpSpec | None],
                  model: CostModel, lams: Sequence[float], steps: int = 30,
                  seed: int = 0) -> list[Outcome]:
    """Depth search: α per block (init 1), λ Σ α_i s_i with s_i normalised to mean 1; the
    teacher is the same encoder with block weights α drawn from U(0.6, 1.4); only α is
    trained (with normalised blocks, weights could absorb α's scale and hide the choice)."""
    blocks = [b for stage in stages for b in stage]
    lat = cost_tensor(model, blocks)
    fixed = [b for b in between if b is not None]
    fixed_ms = float(cost_tensor(model, fixed).sum()) if fixed else 0.0
    first = between[0] if between[0] is not None else stages[0][0]
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        net = EncoderSupernet([DepthStage([b.build() for b in st]) for st in stages],
                              [b.build() if b is not None else nn.Identity() for b in between])
        teacher = copy.deepcopy(net).eval()
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for st in teacher.stages:
                st.alpha.copy_(0.6 + 0.8 * torch.rand(st.alpha.shape, generator=gen))
        reg = L1LatencyRegularizer(normalized(lat), lam)
        log = distill(net, teacher, _inputs(first), lambda t: t + reg(net.alphas()),
                      [st.alpha for st in net.stages], steps, lr=5e-2, seed=seed)
        depths, kept_ms, i = [], fixed_ms, 0
        for st in net.stages:
            k = shrink_depth(st.alpha.detach())
            depths.append(k)
            kept_ms += float(lat[i:i + k].sum())
            i += len(st.blocks)
        results.append(Outcome(lam, depths, kept_ms, log.task[-1],
                               {"alpha": [st.alpha.detach().tolist() for st in net.stages],
                                "teacher": [[shrink_depth(st.alpha.detach())]
                                            for st in teacher.stages],
                                "full_ms": fixed_ms + float(lat.sum())}))
    return results


def stnas_decoder(layers: Sequence[Sequence[OpSpec]], model: CostModel, lams: Sequence[float],
                  steps: int = 30, seed: int = 0) -> list[Outcome]:
    """Decoder op search: mixed ops, λ · expected latency (normalised), teacher = a random
    discrete decoder sharing the candidates' initial weights."""
    lat = torch.stack([cost_tensor(model, cands) for cands in layers])
    gen = torch.Generator().manual_seed(seed)
    teacher_pick = [int(torch.randint(len(c), (1,), generator=gen)) for c in layers]
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        net = DecoderSupernet([MixedOp([s.build() for s in cands]) for cands in layers])
        teacher = nn.Sequential(*[copy.deepcopy(m.ops[j]) for m, j in
                                  zip(net.layers, teacher_pick)]).eval()
        reg = ExpectedLatency(normalized(lat))
        log = distill(net, teacher, _inputs(layers[0][0]),
                      lambda t: t + lam * reg(net.alphas()), net.parameters(), steps,
                      lr=5e-2, seed=seed)
        choice = net.choices()
        ms = float(sum(lat[i, j] for i, j in enumerate(choice)))
        results.append(Outcome(lam, choice, ms, log.task[-1],
                               {"teacher": teacher_pick,
                                "names": [[s.key for s in c] for c in layers]}))
    return results


def cakes(candidates: Sequence[OpSpec], model: CostModel, lams: Sequence[float],
          beta_from: str = "latency", steps: int = 30, seed: int = 0) -> list[Outcome]:
    """Cost-priority CAKES on one layer: teacher = a channel-wise random sub-kernel layer."""
    lat = cost_tensor(model, candidates)
    beta = (beta_from_params(candidates) if beta_from == "params"
            else beta_from_costs(lat, [kernel_of(s) for s in candidates]))
    cout = candidates[0].input_shape[1] if candidates[0].p.get("out") is None \
        else int(candidates[0].p["out"])
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(candidates), (cout,), generator=gen)
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        layer = ChannelwiseKernelMix([s.build() for s in candidates], cout)
        ops = [copy.deepcopy(op).eval() for op in layer.ops]

        def teacher(x: torch.Tensor, ops=ops) -> torch.Tensor:
            outs = torch.stack([op(x) for op in ops])  # (cands, N, C, ...)
            return outs[pick, :, torch.arange(cout)].transpose(0, 1)

        log = distill(layer, teacher, _inputs(candidates[0]),
                      lambda t: t + cost_lasso(layer.alpha, beta, lam), layer.parameters(),
                      steps, lr=2e-2, seed=seed)
        choice = layer.choices()
        results.append(Outcome(lam, torch.bincount(choice, minlength=len(candidates)).tolist(),
                               channelwise_latency_ms(choice, lat), log.task[-1],
                               {"beta": beta.tolist(), "teacher": torch.bincount(
                                   pick, minlength=len(candidates)).tolist()}))
    return results
