"""Lookup predictor: measured latency for exact hits, interpolation between measured shapes.

A miss is priced on the curve of log latency over log cost (FLOPs, else bytes moved) of the
measured rows of its kind, dtype and mode (and hyper-parameters, when measured): *interpolated*
inside their range, *extrapolated* outside. ``strict=True`` refuses anything but hits; an op
kind without rows is an error naming the keys (or goes to ``fallback``), never a silent zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latbench.errors import LatbenchError, OpSpecError
from latbench.opspec import OpSpec
from latbench.predictors.base import (
    CostModel,
    FitDomain,
    MissingOpsError,
    OutOfDomainWarning,
    Predictor,
)
from latbench.predictors.persist import (
    check_range,
    check_strings,
    check_type,
    check_unique,
    from_state_of,
    persistable,
)
from latbench.statistics import LATENCY_RANGE_MS

LATENCIES = f"latencies of {LATENCY_RANGE_MS[0]:g}-{LATENCY_RANGE_MS[1]:g} ms (a physical range)"


@dataclass
class Coverage:
    """How each query was answered (``LookupPredictor.coverage_of``)."""

    hits: int = 0
    interpolated: list[str] = field(default_factory=list)
    extrapolated: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """How many queries each way: ``hits``, ``interpolated``, ``extrapolated``, ``fallback``."""
        return {k: v if k == "hits" else len(v) for k, v in vars(self).items()}


def _group(spec: OpSpec, with_params: bool) -> tuple:
    return (spec.kind, spec.dtype, spec.mode, spec.params if with_params else None)


def cost_axis(spec: OpSpec) -> float | None:
    """log(1 + FLOPs), or of bytes moved when it has none; None for an op that does not run on
    the meta device (e.g. ``x[x > 0]``, a ``--leaf`` block): it is looked up by key only."""
    try:
        f = spec.features()
    except OpSpecError:
        return None
    return (
        math.log1p(f["flops"])
        if f["flops"] > 0
        else math.log1p(f["bytes_read"] + f["bytes_written"])
    )


def _curve(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique x with the mean log latency at each x."""
    xs, ys = np.array(points).T
    ux = np.unique(xs)
    return ux, np.array([ys[xs == x].mean() for x in ux])


def interpolate(x: float, xs: np.ndarray, ys: np.ndarray) -> tuple[float, bool]:
    """log latency at ``x`` on the curve, and whether ``x`` lies inside the measured range."""
    if len(xs) == 1:
        return float(ys[0] + (x - xs[0])), math.isclose(x, xs[0])  # latency ∝ cost
    if xs[0] <= x <= xs[-1]:
        return float(np.interp(x, xs, ys)), True
    i = (0, 1) if x < xs[0] else (-2, -1)
    slope = (ys[i[1]] - ys[i[0]]) / (xs[i[1]] - xs[i[0]])
    return float(ys[i[0]] + slope * (x - xs[i[0]])), False


@persistable
@dataclass(repr=False, eq=False)
class LookupPredictor(Predictor):
    """Measured latency per OpSpec key (``unit`` ms), interpolated between measured shapes."""

    unit = "ms"
    input_level = "op"
    fitted_attr = "keys_"
    fitted_params = ("fallback",)
    state_keys = ("keys", "latency_ms", "device", "table_sha256")

    strict: bool = False
    fallback: CostModel | None = None

    def fit(
        self,
        X: Sequence[OpSpec],
        y: Sequence[float] | np.ndarray,
        *,
        device: str = "",
        table_sha256: str = "",
    ) -> LookupPredictor:
        """Keep ops ``X`` measured as ``y`` (ms each; a table's: ``op_data(table).xy``);
        ``device``, ``table_sha256``: where they came from (saved with the predictor)."""
        self.keys_ = [s.key for s in X]
        self.latency_ms_ = np.array(y, dtype=np.float64)
        if self.latency_ms_.shape != (len(self.keys_),):
            raise LatbenchError(f"fit needs one latency per op; got {len(X)} ops, {len(y)} values")
        self.device_, self.table_sha256_ = device, table_sha256
        self._index(X)
        return self

    def _index(self, specs: Sequence[OpSpec]) -> None:
        self._lut = dict(zip(self.keys_, self.latency_ms_.tolist()))
        self.domain_ = FitDomain.of(specs)
        groups: dict[tuple, list[tuple[float, float]]] = {}
        for spec, ms in zip(specs, self.latency_ms_):
            x = cost_axis(spec)
            if x is None:
                continue
            for with_params in (True, False):
                groups.setdefault(_group(spec, with_params), []).append((x, math.log(ms)))
        self._curves = {g: _curve(pts) for g, pts in groups.items()}

    def predict(self, X: Sequence[OpSpec]) -> np.ndarray:
        """Latency per spec in ms; see the module docstring."""
        out, cov, unknown = self._answer(X)
        missing = [X[i] for i in unknown]
        if self.strict and (unknown or cov.interpolated or cov.extrapolated):
            keys = cov.interpolated + cov.extrapolated + [spec.key for spec in missing]
            raise MissingOpsError(keys, "are not in the table (strict lookup)")
        if unknown:
            if self.fallback is None:
                self._refuse_outside(missing)
                keys = [spec.key for spec in missing]
                raise MissingOpsError(keys, "have no measured row of their kind, dtype and mode")
            out[unknown] = self.fallback.predict(missing)

        if cov.extrapolated:
            warnings.warn(
                f"{len(cov.extrapolated)} op(s) extrapolated beyond the measured "
                f"shapes, e.g. {cov.extrapolated[0]}",
                OutOfDomainWarning,
                stacklevel=2,
            )
        return out

    def coverage_of(self, X: Sequence[OpSpec]) -> Coverage:
        """How ``predict(X)`` answers each spec: hit, interpolated, extrapolated, or (no
        measured row of its kind) left to the fallback; neither raises nor warns."""
        _, cov, unknown = self._answer(X)
        cov.fallback.extend(X[i].key for i in unknown)
        return cov

    def _answer(self, specs: Sequence[OpSpec]) -> tuple[np.ndarray, Coverage, list[int]]:
        """Hits and curve values, their coverage, and the indices no curve covers."""
        self._check_fitted("call fit(specs, latency_ms) first")
        out, cov, unknown = np.empty(len(specs)), Coverage(), []
        for i, spec in enumerate(specs):
            hit = self._lut.get(spec.key)
            if hit is not None:
                out[i], cov.hits = hit, cov.hits + 1
                continue
            curve = self._curves.get(_group(spec, True)) or self._curves.get(_group(spec, False))
            x = cost_axis(spec) if curve is not None else None
            if curve is None or x is None:
                unknown.append(i)
                continue
            log_ms, inside = interpolate(x, *curve)
            out[i] = math.exp(log_ms)
            (cov.interpolated if inside else cov.extrapolated).append(spec.key)
        return out, cov, unknown

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> LookupPredictor:
        fallback = from_state_of(state["fallback"]) if state.get("fallback") is not None else None
        strict = check_type("params.strict", state["params"]["strict"], bool, "true or false")
        obj = cls(strict, fallback).restore(state)
        keys = check_strings("keys", obj.keys_, "a list of OpSpec keys")
        latency_ms = check_range(
            "latency_ms", obj.latency_ms_, *LATENCY_RANGE_MS, LATENCIES, len(keys)
        )
        obj.latency_ms_ = np.array(latency_ms, dtype=np.float64)
        specs = [OpSpec.from_key(k) for k in keys]
        check_unique("keys", [spec.key for spec in specs])  # canonical: aliases are one key
        obj._index(specs)
        return obj
