"""Regulariser overhead as a share of a supernet training step (CPU, medians).

Decoder supernet of the stnas-decoder space (small) and CAKES layer (small): one step =
forward + backward + Adam; the regulariser adds its term. Costs are a FLOPs proxy (labelled:
the overhead does not depend on the values). Run: python bench/nas_regularizer_overhead.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from latbench.nas.regularizers import cost_lasso
from latbench.papers.cakes.search import ChannelwiseKernelMix, beta_from_params
from latbench.papers.stnas.search import DecoderSupernet, MixedOp, sum_expected_latency
from latbench.spaces import get_space

REPS = 15


def step_ms(net, x, loss_fn) -> float:  # noqa: ANN001
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    times = []
    for _ in range(REPS + 2):
        t0 = time.perf_counter_ns()
        loss = loss_fn(net(x))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return float(np.median(times[2:]))


def reg_ms(fn) -> float:  # noqa: ANN001
    times = []
    for _ in range(200):
        t0 = time.perf_counter_ns()
        fn().backward()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return float(np.median(times))


def main() -> None:
    torch.manual_seed(0)
    layers = [list(layer.values()) for layer in get_space("stnas-decoder").layout("small").layers]
    net = DecoderSupernet([MixedOp([s.build() for s in c]) for c in layers])
    lat = torch.tensor([[s.features()["flops"] * 1e-6 for s in c] for c in layers])
    x = layers[0][0].example_inputs()[0]
    base = step_ms(net, x, lambda y: y.square().mean())
    alone = reg_ms(lambda: sum_expected_latency(net, list(lat)))  # the search's own term
    print(
        f"stnas decoder: step {base:.2f} ms, expected-latency term fwd+bwd {alone:.4f} ms "
        f"= {100 * alone / base:.3f} % of a step"
    )
    cands = list(get_space("cakes").layout("small").candidates.values())
    layer = ChannelwiseKernelMix([s.build() for s in cands], cands[0].input_shape[1])
    beta = beta_from_params(cands)
    x = cands[0].example_inputs()[0]
    base = step_ms(layer, x, lambda y: y.square().mean())
    alone = reg_ms(lambda: cost_lasso(layer.alpha, beta, 1e-4))
    print(
        f"cakes layer: step {base:.2f} ms, lasso term fwd+bwd {alone:.4f} ms "
        f"= {100 * alone / base:.3f} % of a step"
    )


if __name__ == "__main__":
    main()
