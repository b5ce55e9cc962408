"""A few-term device model of a network's latency: launches, compute and memory traffic.

    latency_ms ≈ w_0 + w_launch · Σ launches_op + w_flop · Σ flops_op + w_byte · Σ bytes_op

``launches_op``: kernels the op dispatches (conv + BN + ReLU is 3, identity 0), a roughly fixed
few µs each at batch 1; ``flops_op``, ``bytes_op`` (read + written): a roofline's compute and
memory terms (Williams et al., CACM 2009), summed over ops mixing both regimes. ``w ≥ 0`` is
fitted by non-negative least squares on relative error (``transfer_fit.prior_ridge``),
optionally shrunk toward a spec-sheet prior (``gpu_specs``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from latbench.features import op_features
from latbench.opspec import OpSpec
from latbench.predictors.transfer_fit import Prior, diagonal_prior, prior_ridge

PASSIVE = ("Identity", "Dropout", "Flatten")  # leaf modules launching no kernel at inference


@functools.lru_cache(maxsize=65536)
def launches(op: OpSpec) -> float:
    """Kernels ``op`` dispatches: its leaf modules that compute (``PASSIVE`` ones excluded; a
    module without children, e.g. a Zero or a pooling, counts as one). Built on ``meta``."""
    module = op.build("meta")
    leaves = [m for m in module.modules() if not any(True for _ in m.children())]
    return float(sum(type(m).__name__ not in PASSIVE for m in leaves))


def op_terms(ops: Sequence[OpSpec]) -> np.ndarray:
    """Per op ``[launches, flops, bytes read + written]``: (len(ops), 3) float64."""
    out = np.empty((len(ops), 3))
    for i, op in enumerate(ops):
        f = op_features(op)
        out[i] = (launches(op), f["flops"], f["bytes_read"] + f["bytes_written"])
    return out


def network_terms(counts: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``[1, Σ launches, Σ flops, Σ bytes]`` per network: (n, 4) from op counts (n, p) and
    ``op_terms`` (p, 3)."""
    return np.column_stack([np.ones(len(counts)), counts @ terms])


def op_costs(weights: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Each op's cost (ms) under the fitted device model: ``terms @ w[1:]`` (p,)."""
    return terms @ np.asarray(weights)[1:]


def fit_weights(
    T: np.ndarray,
    y: np.ndarray,
    train: np.ndarray | None = None,
    spec: np.ndarray | None = None,
    alpha: float = 1.0,
) -> np.ndarray:
    """``w`` (4,) on the ``train`` rows (default all) of ``T`` (``network_terms``) and
    ``y`` (ms): non-negative least squares on relative error, shrunk toward ``spec`` (a prior
    ``w``, e.g. from a spec sheet; sd of each weight = the weight itself) with strength
    ``alpha`` when given; else a plain fit (a 1e-6 ridge toward 0 only breaks ties)."""
    rows = np.arange(len(y)) if train is None else train
    nonzero = [np.abs(column[column != 0]) for column in T.T]
    sc = np.array([float(np.median(nz)) if len(nz) else 1.0 for nz in nonzero])  # terms O(1)

    if spec is None:
        prior, alpha = Prior(np.zeros(4), np.eye(4) * 1e-3), 1.0
    else:
        prior = diagonal_prior(np.asarray(spec) * sc, 10.0 * float(np.mean(y[rows])))
    return prior_ridge(T[rows] / sc, y[rows], prior, alpha) / sc
