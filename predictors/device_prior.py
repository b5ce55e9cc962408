"""A prior on a device's per-op costs, learned across other devices' whole-network latencies.

Per known device d (a column of measured networks) the per-op costs θ_d are fitted on all its
networks (``transfer_fit.prior_ridge``, weakly shrunk toward the source's op costs, or without
one the device's own ``device_model`` fit) and normalised by its mean network latency. Their
mean μ and covariance Σ (plus a diagonal ``JITTER``) form the prior θ_target ~ N(s·μ, s²·Σ);
``phis`` keeps each device's costs for ``opcost-nearest``. HELP's meta-learning (Lee et al.,
NeurIPS 2021) with a linear-Gaussian model. Ops are keyed by their batch-1 twin (``prior_key``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latbench.errors import LatbenchError
from latbench.opspec import OpSpec
from latbench.predictors.batch import ArchBatch
from latbench.predictors.device_model import fit_weights, network_terms, op_costs, op_terms
from latbench.predictors.persist import (
    check_range,
    check_strings,
    check_unique,
    damaged,
    jsonable,
    persistable_document,
)
from latbench.predictors.transfer_fit import diagonal_prior, prior_ridge

RELATIVE_MAX = 10.0
RELATIVE = f"op costs relative to a network's mean latency, within +-{RELATIVE_MAX:g}"
JITTER = 0.05
"""Diagonal added to Σ: (``JITTER`` × the mean normalised cost)², so no direction is certain."""


def refuse_prior(obj: Any, path: Any) -> None:
    """A ``LatbenchError`` when a loaded file is a prior, not a predictor (predict, evaluate)."""
    if isinstance(obj, DevicePrior):
        raise LatbenchError(
            f"{path} is a cross-device prior (`fit --kind prior`), not a "
            "predictor: pass it to `latbench fit --prior-from`"
        )


@functools.lru_cache(maxsize=65536)
def prior_key(key: str) -> str:
    """The op key with its batch (leading input dimension) set to 1: the key a prior knows
    the op by, whatever batch a column was measured at."""
    op = OpSpec.from_key(key)
    if not op.input_shape or op.input_shape[0] == 1:
        return key
    return op.replace(input_shape=(1, *op.input_shape[1:])).key


def batch_of(batch: ArchBatch) -> int:
    """The batch size a networks batch runs at (its ops' leading input dimension; 1 when
    they disagree or have none)."""
    sizes = {op.input_shape[0] for op in batch.ops if op.input_shape}
    return sizes.pop() if len(sizes) == 1 else 1


def roofline_costs(batch: ArchBatch, y: np.ndarray) -> np.ndarray:
    """Each op's cost (ms) under the device model fitted on all of ``batch``'s networks."""
    terms = op_terms(batch.ops)
    return op_costs(fit_weights(network_terms(batch.counts(), terms), y), terms)


def design(counts: np.ndarray) -> np.ndarray:
    """``[1, counts]``: the constant (per-network overhead) then one column per op."""
    return np.column_stack([np.ones(len(counts)), counts])


def fit_op_costs(
    counts: np.ndarray, y: np.ndarray, source_costs: np.ndarray, alpha: float
) -> np.ndarray:
    """θ = [const, per-op costs] (ms) for one device from many networks, shrunk toward the
    source's costs scaled by the median ratio of measured to source-summed latency."""
    s = float(np.median(y / np.maximum(counts @ source_costs, 1e-12)))
    prior = diagonal_prior(np.concatenate([[0.0], s * source_costs]), float(np.mean(y)))
    return prior_ridge(design(counts), y, prior, alpha)


@persistable_document
@dataclass
class DevicePrior:
    """Mean and covariance of normalised ``[const, θ_op...]`` over ``devices``; ops by key."""

    keys: list[str]
    mean: np.ndarray  # (p+1,)
    cov: np.ndarray  # (p+1, p+1)
    devices: list[str]
    phis: np.ndarray  # (n_devices, p+1): each device's normalised costs
    batches: list[int] = field(default_factory=list)  # each device's batch size

    @classmethod
    def fit_devices(
        cls,
        devices: Mapping[str, tuple[ArchBatch, np.ndarray]],
        source_costs: Callable[[list[OpSpec]], np.ndarray] | None = None,
        *,
        alpha: float = 1e-3,
        max_networks: int = 3000,
        seed: int = 0,
    ) -> DevicePrior:
        """Learn from each device's own networks (name -> (batch, ms per network)); the prior
        covers the ops (by ``prior_key``) all devices' networks share. ``source_costs(ops)``:
        the source's cost of each op (else each device's ``device_model`` fit). Raises
        ``LatbenchError`` for fewer than 2 devices or devices sharing no op."""
        if len(devices) < 2:
            raise LatbenchError(f"a device prior needs >= 2 devices; got {len(devices)}")
        fits: dict[str, dict[str, float]] = {}
        for name, (batch, y) in devices.items():
            y = np.asarray(y, dtype=np.float64)
            if y.shape != (batch.n,) or not np.all(y > 0):
                raise LatbenchError(
                    f"device {name!r}: need one positive latency per network "
                    f"({batch.n}); got shape {y.shape}"
                )
            rng = np.random.default_rng(seed)
            rows = np.sort(rng.choice(batch.n, size=min(max_networks, batch.n), replace=False))
            shape = (
                source_costs(batch.ops)
                if source_costs is not None
                else roofline_costs(batch.take(rows), y[rows])
            )
            theta = fit_op_costs(batch.counts()[rows], y[rows], shape, alpha)
            phi = theta / y[rows].mean()
            fits[name] = {"": phi[0], **{prior_key(op.key): v for op, v in zip(batch.ops, phi[1:])}}
        shared = set.intersection(*(set(f) for f in fits.values())) - {""}
        if not shared:
            raise LatbenchError(
                "the devices' networks share no op ("
                + "; ".join(f"{n}: {len(f) - 1} ops" for n, f in fits.items())
                + "): a prior needs tables of the same search space and size"
            )
        keys = [k for k in next(iter(fits.values())) if k in shared]
        phi = np.array([[f[""]] + [f[k] for k in keys] for f in fits.values()])
        mean = phi.mean(axis=0)
        cov = np.cov(phi.T) + np.diag((JITTER * np.maximum(np.abs(mean), 1e-3 * mean.max())) ** 2)
        return cls(
            keys, mean, cov, list(devices), phi, [batch_of(batch) for batch, _ in devices.values()]
        )

    def missing(self, keys: Sequence[str]) -> list[str]:
        """The op keys of ``keys`` (by ``prior_key``) the prior has no cost for."""
        known = set(self.keys)
        return [k for k in keys if prior_key(k) not in known]

    def covers(self, keys: Sequence[str]) -> bool:
        """Whether every op key of ``keys`` (at any batch: ``prior_key``) has a learned cost."""
        return not self.missing(keys)

    def restrict(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, covariance and per-device costs of ``[const] + keys`` (in that order); the
        keys (at any batch: ``prior_key``) must be covered."""
        pos = {k: i + 1 for i, k in enumerate(self.keys)}
        idx = np.array([0] + [pos[prior_key(k)] for k in keys])
        return self.mean[idx], self.cov[np.ix_(idx, idx)], self.phis[:, idx]

    def to_state(self) -> dict[str, Any]:
        return jsonable(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DevicePrior:
        keys = check_unique("keys", check_strings("keys", state["keys"], "a list of op keys"))
        devices = check_strings("devices", state["devices"], "a list of device names")
        p = len(keys) + 1
        mean = np.array(
            check_range("mean", state["mean"], -RELATIVE_MAX, RELATIVE_MAX, RELATIVE, p),
            dtype=np.float64,
        )
        cov = np.array(state["cov"], dtype=np.float64)  # None -> NaN, caught below
        phis = np.array(state["phis"], dtype=np.float64)
        if cov.shape != (p, p) or phis.shape != (len(devices), p):
            raise damaged(
                "cov/phis",
                f"({p}, {p}) and ({len(devices)}, {p}) numbers",
                f"{cov.shape}, {phis.shape}",
            )
        if not (np.abs(cov).max() <= RELATIVE_MAX**2 and np.abs(phis).max() <= RELATIVE_MAX):
            raise damaged("cov/phis", RELATIVE + ", variances below its square")
        if (np.diag(cov) < 0).any():
            raise damaged("cov/phis", "variances (cov's diagonal) >= 0")
        batches = state.get("batches", [1] * len(devices))
        check_range("batches", batches, 1, 2**31, "a batch size >= 1 per device", len(devices))
        return cls(list(keys), mean, cov, list(devices), phis, [int(b) for b in batches])
