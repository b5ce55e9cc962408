"""ST-NAS: encoder depth supernet with the L1 latency regulariser, and decoder mixed ops.

Encoder (paper Eq. 1): within a stage, block i reads α_{i−1} f_{i−1} and the stage outputs
Σ_i α_i f_i; the loss adds λ Σ_i α_i s_i with s_i block i's predicted latency. After training,
each stage is shrunk from its last block backwards while α_i < 1 (SPEC §3).
Decoder: every layer is a mixed op over the candidates, Σ_j softmax(α)_j op_j(x), with
expected latency Σ_j softmax(α)_j lat_j; the choice is the argmax.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import torch
from torch import nn

from latbench.nas.costs import cost_tensor, normalized
from latbench.nas.errors import SearchError
from latbench.nas.regularizers import expected_latency, l1_latency
from latbench.nas.synthetic import Outcome, Progress, distill
from latbench.opspec import OpSpec
from latbench.papers import STNAS_KEEP_THRESHOLD as KEEP_THRESHOLD
from latbench.predictors.base import CostModel
from latbench.spaces import get_space

DEFAULT_LAMBDA = 0.5  # on costs normalised to mean 1 (nas.costs.normalized)


class DepthStage(nn.Module):
    """One encoder stage of same-shaped blocks weighted by α (initialised to 1: full depth)."""

    def __init__(self, blocks: Sequence[nn.Module], init: float = 1.0):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.alpha = nn.Parameter(torch.full((len(blocks),), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = 0.0, x
        for i, block in enumerate(self.blocks):
            h = self.alpha[i] * block(h)
            out = out + h
        return out


class EncoderSupernet(nn.Module):
    """Stages of DepthStage separated by fixed modules (patch merging); ``between[k]`` runs
    before stage k (use ``nn.Identity`` where nothing does)."""

    def __init__(self, stages: Sequence[DepthStage], between: Sequence[nn.Module]):
        super().__init__()
        if len(stages) != len(between):
            raise SearchError(
                f"{len(stages)} stages need {len(stages)} 'between' modules, got {len(between)}"
            )
        self.stages, self.between = nn.ModuleList(stages), nn.ModuleList(between)

    def alphas(self) -> torch.Tensor:
        """All block weights α, stage after stage (the order of the latency vector)."""
        return torch.cat([s.alpha for s in self.stages])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for pre, stage in zip(self.between, self.stages):
            x = stage(pre(x))
        return x


def shrink_depth(alpha: Sequence[float] | torch.Tensor, min_keep: int = 1) -> int:
    """Blocks kept in one stage: walk back from the last block, drop block i while
    α_i < 1 (``KEEP_THRESHOLD``), stop at the first α_i ≥ 1. ``min_keep`` (not in the paper,
    which does not say what an emptied stage becomes) keeps the first blocks regardless."""
    values = [float(a) for a in alpha]
    keep = len(values)
    while keep > min_keep and values[keep - 1] < KEEP_THRESHOLD:
        keep -= 1
    return keep


class MixedOp(nn.Module):
    """DARTS-style mixed op: Σ_j softmax(α)_j op_j(x) over same-shaped candidates."""

    def __init__(self, candidates: Sequence[nn.Module]):
        super().__init__()
        if not candidates:
            raise SearchError("a MixedOp needs at least one candidate op")
        self.ops = nn.ModuleList(candidates)
        self.alpha = nn.Parameter(torch.zeros(len(candidates)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.softmax(self.alpha, dim=0)
        return sum(w[j] * op(x) for j, op in enumerate(self.ops))

    def choice(self) -> int:
        return int(torch.argmax(self.alpha))


class DecoderSupernet(nn.Sequential):
    """A chain of MixedOps (ST-NAS replaces each decoder 3D conv by supernet layers)."""

    def __init__(self, layers: Sequence[MixedOp]):
        super().__init__(*layers)

    def alphas(self) -> torch.Tensor:
        """(layers, candidates) logits, the shape of the expected-latency cost matrix."""
        return torch.stack([m.alpha for m in self])

    def choices(self) -> list[int]:
        return [m.choice() for m in self]


def search_encoder(
    stages: Sequence[Sequence[OpSpec]],
    between: Sequence[OpSpec],
    model: CostModel,
    lams: Sequence[float],
    steps: int = 30,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Depth search: α per block (init 1), λ Σ α_i s_i with s_i normalised to mean 1; the
    teacher is the same encoder with block weights α drawn from U(0.6, 1.4); only α is
    trained (with normalised blocks, weights could absorb α's scale and hide the choice).
    ``between[k]`` runs before stage k. Outcome.choice: blocks kept per stage."""
    blocks = [b for stage in stages for b in stage]
    lat = cost_tensor(model, blocks)
    fixed_ms = float(cost_tensor(model, list(between)).sum())
    cost = normalized(lat)
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        net = EncoderSupernet(
            [DepthStage([b.build() for b in st]) for st in stages], [b.build() for b in between]
        )
        teacher = copy.deepcopy(net).eval()
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for st in teacher.stages:
                st.alpha.copy_(0.6 + 0.8 * torch.rand(st.alpha.shape, generator=gen))
        task_loss = distill(
            net,
            teacher,
            between[0].input_shape,
            lambda t, lam=lam, net=net: t + lam * l1_latency(net.alphas(), cost),
            [st.alpha for st in net.stages],
            steps,
            lr=5e-2,
            seed=seed,
            progress=progress,
            where=f"ST-NAS encoder λ={lam:g}",
        )
        depths = [shrink_depth(st.alpha.detach()) for st in net.stages]
        starts = itertools.accumulate((len(st) for st in stages), initial=0)
        kept_ms = fixed_ms + sum(float(lat[i : i + k].sum()) for i, k in zip(starts, depths))
        extra = {
            "alpha": [st.alpha.detach().tolist() for st in net.stages],
            "teacher": [shrink_depth(st.alpha.detach()) for st in teacher.stages],
            "full_ms": fixed_ms + float(lat.sum()),
        }
        results.append(Outcome(lam, depths, kept_ms, task_loss, extra))
    return results


def sum_expected_latency(net: DecoderSupernet, cost: Sequence[torch.Tensor]) -> torch.Tensor:
    """Σ over layers of each mixed op's expected cost (``expected_latency``), one cost vector
    per layer, so that layers may have different numbers of candidates."""
    return torch.stack([expected_latency(m.alpha, c) for m, c in zip(net, cost)]).sum()


def search_decoder(
    layers: Sequence[Sequence[OpSpec]],
    model: CostModel,
    lams: Sequence[float],
    steps: int = 30,
    seed: int = 0,
    progress: Progress | None = None,
    label: str = "ST-NAS decoder",
) -> list[Outcome]:
    """Decoder op search: mixed ops, λ · expected latency (normalised), teacher = a random
    discrete decoder sharing the candidates' initial weights. Outcome.choice: candidate index
    per layer. Any chain of same-shaped candidates works, layers with different numbers of
    candidates included (``latbench.nas.choices`` runs it on a space's ``ChoiceLayout``);
    ``label`` names the runs in ``progress``."""
    lat = [cost_tensor(model, cands) for cands in layers]
    gen = torch.Generator().manual_seed(seed)
    teacher_pick = [int(torch.randint(len(c), (1,), generator=gen)) for c in layers]
    cost = torch.split(normalized(torch.cat(lat)), [len(c) for c in layers])
    results = []
    for lam in lams:
        torch.manual_seed(seed)
        net = DecoderSupernet([MixedOp([s.build() for s in cands]) for cands in layers])
        teacher = nn.Sequential(
            *[copy.deepcopy(m.ops[j]) for m, j in zip(net, teacher_pick)]
        ).eval()
        task_loss = distill(
            net,
            teacher,
            layers[0][0].input_shape,
            lambda t, lam=lam, net=net: t + lam * sum_expected_latency(net, cost),
            net.parameters(),
            steps,
            lr=5e-2,
            seed=seed,
            progress=progress,
            where=f"{label} λ={lam:g}",
        )
        choice = net.choices()
        ms = float(sum(lat[i][j] for i, j in enumerate(choice)))
        results.append(Outcome(lam, choice, ms, task_loss, {"teacher": teacher_pick}))
    return results


def search(
    model: CostModel,
    size: str = "small",
    lam: float = DEFAULT_LAMBDA,
    steps: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
    decoder_model: CostModel | None = None,
) -> tuple[list[Outcome], list[Outcome]]:
    """ST-NAS encoder depth and decoder ops on the spaces' ``size`` layouts, λ = 0 and ``lam``:
    (encoder runs, decoder runs; choice: indices into ``decoder.OP_NAMES``); ``model`` prices
    the encoder blocks, ``decoder_model`` (default: ``model``) the decoder."""
    enc = get_space("stnas-encoder").layout(size)
    dec = get_space("stnas-decoder").layout(size)
    layers = [list(layer.values()) for layer in dec.layers]
    decoder_model = decoder_model or model
    cost_tensor(decoder_model, [op for layer in layers for op in layer])  # fails before, not after
    encoder = search_encoder(enc.stages, enc.between, model, [0.0, lam], steps, seed, progress)
    decoder = search_decoder(layers, decoder_model, [0.0, lam], steps, seed, progress)
    return encoder, decoder
