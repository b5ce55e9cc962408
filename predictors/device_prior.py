"""A prior on a device's per-op costs, learned across other devices' whole-network latencies.

For each known device d (a column of measured networks, e.g. the shared HELP file), the
per-op costs θ_d are fitted on all its networks (``transfer_fit.prior_ridge`` with a weak
prior shaped like the source device's costs, which only decides how to split costs the
networks cannot tell apart, such as the same op in every cell of a stage) and normalised by
the device's mean network latency. Their mean μ and covariance Σ over devices (plus a small
diagonal ``jitter``) form the Gaussian prior a new device's few-shot fit shrinks toward:
θ_target ~ N(s·μ, s²·Σ), s fitted on the shots; or the single device whose scaled costs
explain the shots best is the prior (``nearest``, kept per device in ``phis``). Relative op costs that vary together across
devices (e.g. all convolutions on GPUs) are thus learned from the data, as in HELP's
meta-learning (Lee et al., NeurIPS 2021), with a linear-Gaussian model instead of a network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.predictors.batch import ArchBatch
from latbench.predictors.transfer_fit import diagonal_prior, prior_ridge

JITTER = 0.05
"""Diagonal added to Σ: (``JITTER`` × the mean normalised cost)², so no direction is certain."""


def design(counts: np.ndarray) -> np.ndarray:
    """``[1, counts]``: the constant (per-network overhead) then one column per op."""
    return np.column_stack([np.ones(len(counts)), counts])


def fit_op_costs(counts: np.ndarray, y: np.ndarray, source_costs: np.ndarray,
                 alpha: float) -> np.ndarray:
    """θ = [const, per-op costs] (ms) for one device from many networks, shrunk toward the
    source's costs scaled by the median ratio of measured to source-summed latency."""
    s = float(np.median(y / np.maximum(counts @ source_costs, 1e-12)))
    prior = diagonal_prior(np.concatenate([[0.0], s * source_costs]), float(np.mean(y)))
    return prior_ridge(design(counts), y, prior, alpha)


@dataclass
class DevicePrior:
    """Mean and covariance of normalised ``[const, θ_op...]`` over ``devices``; ops by key."""

    keys: list[str]
    mean: np.ndarray  # (p+1,)
    cov: np.ndarray  # (p+1, p+1)
    devices: list[str]
    phis: np.ndarray  # (n_devices, p+1): each device's normalised costs

    @classmethod
    def fit(cls, batch: ArchBatch, measured: Mapping[str, np.ndarray],
            source_costs: np.ndarray, *, alpha: float = 1e-3, max_networks: int = 3000,
            seed: int = 0) -> "DevicePrior":
        """Learn from ``measured`` (device name -> ms per network of ``batch``; >= 2 devices).

        ``source_costs`` (len(batch.ops),) shapes the split of costs the networks cannot
        identify; at most ``max_networks`` random networks per device are used.
        """
        return cls.fit_devices({name: (batch, y) for name, y in measured.items()},
                               lambda ops: source_costs, alpha=alpha,
                               max_networks=max_networks, seed=seed)

    @classmethod
    def fit_devices(cls, devices: Mapping[str, tuple[ArchBatch, np.ndarray]],
                    source_costs: Callable[[list[OpSpec]], np.ndarray], *,
                    alpha: float = 1e-3, max_networks: int = 3000, seed: int = 0
                    ) -> "DevicePrior":
        """Learn from each device's own networks (name -> (batch, ms per network)); the prior
        covers the ops all devices' networks share. ``source_costs(ops)`` gives the source's
        cost of each op."""
        if len(devices) < 2:
            raise LatbenchError(f"a device prior needs >= 2 devices; got {len(devices)}")
        fits: dict[str, dict[str, float]] = {}
        for name, (batch, y) in devices.items():
            y = np.asarray(y, dtype=np.float64)
            if y.shape != (batch.n,) or not np.all(y > 0):
                raise LatbenchError(f"device {name!r}: need one positive latency per network "
                                    f"({batch.n}); got shape {y.shape}")
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(batch.n, size=min(max_networks, batch.n), replace=False))
            theta = fit_op_costs(batch.counts()[rows], y[rows], source_costs(batch.ops), alpha)
            phi = theta / y[rows].mean()
            fits[name] = {"": phi[0], **{op.key: v for op, v in zip(batch.ops, phi[1:])}}
        shared = set.intersection(*(set(f) for f in fits.values())) - {""}
        keys = [k for k in next(iter(fits.values())) if k in shared]
        phi = np.array([[f[""]] + [f[k] for k in keys] for f in fits.values()])
        mean = phi.mean(axis=0)
        cov = np.cov(phi.T) + np.diag((JITTER * np.maximum(np.abs(mean), 1e-3 * mean.max()))
                                      ** 2)
        return cls(keys, mean, cov, list(devices), phi)

    def covers(self, keys: Sequence[str]) -> bool:
        """Whether every op key of ``keys`` has a learned cost."""
        known = set(self.keys)
        return all(k in known for k in keys)

    def restrict(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, covariance and per-device costs of ``[const] + keys`` (in that order); the
        keys must be covered."""
        pos = {k: i + 1 for i, k in enumerate(self.keys)}
        idx = np.array([0] + [pos[k] for k in keys])
        return self.mean[idx], self.cov[np.ix_(idx, idx)], self.phis[:, idx]

    def to_state(self) -> dict[str, Any]:
        return {"keys": self.keys, "mean": self.mean.tolist(), "cov": self.cov.tolist(),
                "devices": self.devices, "phis": self.phis.tolist()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "DevicePrior":
        return cls(list(state["keys"]), np.array(state["mean"], dtype=np.float64),
                   np.array(state["cov"], dtype=np.float64), list(state["devices"]),
                   np.array(state["phis"], dtype=np.float64))
