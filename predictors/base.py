"""What every predictor is: a scikit-learn estimator (``Predictor``) with one ``costs()`` and
one ``input_level`` ("op": OpSpecs, "network": Architectures). Searches (``nas/``) only call
``costs(specs)``; they never read tables."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Tags

from latbench.errors import LatbenchError
from latbench.notfitted import NotFittedError
from latbench.opspec import OpSpec
from latbench.predictors.persist import check_numbers, check_type, damaged, jsonable

INPUT_LEVELS = ("op", "network")


class MissingOpsError(LatbenchError, KeyError):
    """Queried ops a predictor cannot price: not in its table (exactly, or at all), or outside
    what it was fitted on (``OutOfDomainError``)."""

    def __init__(self, keys: Sequence[str], why: str):
        self.keys = list(keys)
        shown = ", ".join(self.keys[:5]) + (
            f" (+{len(self.keys) - 5} more)" if len(self.keys) > 5 else ""
        )
        super().__init__(
            f"{len(self.keys)} op(s) {why}: {shown}; profile them (`latbench profile`), or fit "
            "a predictor that prices unmeasured ops (`latbench fit --kind learned`; in Python "
            "strict=False or a fallback predictor)"
        )

    def __str__(self) -> str:
        return self.args[0]


class OutOfDomainError(MissingOpsError):
    """Ops of a dtype or mode the predictor never saw (float16 on a CPU ran ~13x slower than
    float32; a training step ~4x an inference)."""


class OutOfDomainWarning(UserWarning):
    """Ops priced by extrapolation: an op kind, batch or input size beyond the fit's."""


@dataclass
class FitDomain:
    """What an op predictor was fitted on: per ``kind|dtype|mode`` the batch and input-size
    (elements) ranges (``Predictor.check_domain``: a dtype or mode never fitted is refused,
    an unseen op kind or a batch or size beyond its kind's range flagged)."""

    groups: dict[str, dict[str, list[float]]]

    @classmethod
    def of(cls, specs: Sequence[OpSpec]) -> FitDomain:
        found: dict[str, dict[str, list[float]]] = {}
        for spec in specs:
            g = found.setdefault(
                f"{spec.kind}|{spec.dtype}|{spec.mode}", {"batch": [], "input_elems": []}
            )
            g["batch"].append(spec.input_shape[0])
            g["input_elems"].append(_elems(spec))
        return cls(
            {k: {n: [float(min(v)), float(max(v))] for n, v in g.items()} for k, g in found.items()}
        )

    def outside(self, specs: Sequence[OpSpec]) -> tuple[dict[str, str], dict[str, str]]:
        """(refused, flagged): op key -> why, for the specs outside this domain."""
        split = [k.split("|") for k in self.groups]
        dtypes, modes = {d for _, d, _ in split}, {m for _, _, m in split}
        refused, flagged = {}, {}
        for spec in specs:
            if spec.dtype not in dtypes or spec.mode not in modes:
                refused[spec.key] = (
                    f"dtype {spec.dtype} / mode {spec.mode} never fitted (fitted: "
                    f"{', '.join(sorted(dtypes))} / {', '.join(sorted(modes))})"
                )
                continue
            group = self.groups.get(f"{spec.kind}|{spec.dtype}|{spec.mode}")
            if group is None:
                flagged[spec.key] = (
                    f"op kind {spec.kind} ({spec.dtype}, {spec.mode}) was not in the fit table"
                )
                continue
            for name, value in (("batch", spec.input_shape[0]), ("input_elems", _elems(spec))):
                lo, hi = group[name]
                if not lo <= value <= hi:
                    flagged[spec.key] = (
                        f"{name} {value:g} outside the fitted {lo:g}-{hi:g} of {spec.kind}"
                    )
                    break
        return refused, flagged

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> FitDomain:
        groups = check_type("domain.groups", state["groups"], dict, "an object")
        for key, g in groups.items():
            if not isinstance(key, str) or key.count("|") != 2 or not isinstance(g, dict):
                raise damaged("domain.groups", "kind|dtype|mode -> {batch, input_elems}", key)
            for name in ("batch", "input_elems"):
                lo, hi = check_numbers(f"domain.groups.{key}.{name}", g.get(name), 2, positive=True)
                if lo > hi:
                    raise damaged(
                        f"domain.groups.{key}.{name}", "[low, high], low <= high", g.get(name)
                    )
        return cls({k: {n: list(v) for n, v in g.items()} for k, g in groups.items()})


def _elems(spec: OpSpec) -> float:
    return float(math.prod(spec.input_shape))


@runtime_checkable
class CostModel(Protocol):
    """Predicts one cost per OpSpec (latency in ms, or memory in MiB: ``unit`` says which)."""

    unit: str

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        """Costs as a float64 array, one per spec, in ``unit``."""
        ...

    def costs(
        self,
        specs: Sequence[OpSpec],
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Costs as a tensor on ``device`` (constants for the differentiable regularisers)."""
        ...


class Predictor(BaseEstimator):
    """Base of every latbench predictor (scikit-learn estimator contract).

    Subclasses set ``unit``, ``input_level``, ``fitted_attr`` (set by ``fit``; ``None``:
    stateless), ``fitted_params`` (constructor parameters that are fitted predictors or
    handles, which ``clone`` shares) and ``state_keys`` (the fitted attributes a saved file
    holds; key ``k`` is attribute ``k_``). ``fit(X, y)``/``predict(X)`` take X OpSpecs ("op")
    or architectures ("network"), y one value per item in ``unit`` (``predictors.data``).
    """

    unit: ClassVar[str] = "ms"
    input_level: ClassVar[str] = "op"
    fitted_attr: ClassVar[str | None] = None
    fitted_params: ClassVar[tuple[str, ...]] = ()
    state_keys: ClassVar[tuple[str, ...]] = ()

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.requires_fit = self.fitted_attr is not None
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return self.fitted_attr is None or self.fitted_attr in vars(self)

    def __sklearn_clone__(self) -> Predictor:
        params = self.get_params(deep=False)
        fresh = {
            k: v if k in self.fitted_params else clone(v, safe=False) for k, v in params.items()
        }
        return type(self)(**fresh)

    def _check_fitted(self, hint: str = "call fit first") -> None:
        """Raise ``NotFittedError`` (also scikit-learn's) naming the class and ``hint``."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"{type(self).__name__} is not fitted; {hint}")

    def check_domain(self, specs: Sequence[OpSpec], *, stacklevel: int = 3) -> None:
        """Refuse (``OutOfDomainError``) or flag (``OutOfDomainWarning``) the ``specs``
        outside ``domain_`` (``FitDomain``); nothing for a predictor without one."""
        if getattr(self, "domain_", None) is None:
            return
        flagged = self._refuse_outside(specs)
        if flagged:
            key, why = next(iter(flagged.items()))
            warnings.warn(
                f"{len(flagged)} op(s) priced by extrapolation by "
                f"{type(self).__name__}: {why}, e.g. {key}",
                OutOfDomainWarning,
                stacklevel=stacklevel,
            )

    def _refuse_outside(self, specs: Sequence[OpSpec]) -> dict[str, str]:
        """Refuse a dtype or mode never fitted; the flagged specs' keys -> why."""
        refused, flagged = self.domain_.outside(specs)
        if refused:
            first = next(iter(refused.values()))
            raise OutOfDomainError(
                list(refused), f"are outside what {type(self).__name__} was fitted on ({first})"
            )
        return flagged

    def to_state(self) -> dict[str, Any]:
        """``{"params": ..., <fitted_params>..., <state_keys>...}`` as plain JSON values."""
        self._check_fitted("nothing to save")
        params = self.get_params(deep=False)
        apart = {k: params.pop(k) for k in self.fitted_params}
        fitted = {k: getattr(self, _attr(k)) for k in self.state_keys}
        return jsonable({"params": params, **apart, **fitted})

    def restore(self, state: Mapping[str, Any], arrays: Sequence[str] = (), **absent: Any) -> Self:
        """Set the ``state_keys`` attributes from ``state`` (``arrays`` as float64 arrays; those
        in ``absent``, missing in older files, default to its value)."""

        for k in self.state_keys:
            value = state.get(k, absent[k]) if k in absent else state[k]
            array = k in arrays and value is not None
            setattr(self, _attr(k), np.array(value, dtype=np.float64) if array else value)
        return self

    def costs(
        self,
        items: Sequence[Any],
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """``predict(items)`` as a tensor on ``device`` (in ``unit``, one value per item)."""
        return torch.as_tensor(np.asarray(self.predict(items)), dtype=dtype, device=device)


def _attr(key: str) -> str:
    return key if key.endswith("_") else f"{key}_"


def check_param(name: str, value: Any, valid: Sequence[str]) -> None:
    """``LatbenchError`` naming a parameter whose value is not one of ``valid``."""
    if value not in valid:
        raise LatbenchError(f"{name}={value!r} is not one of {', '.join(valid)}")


def input_level(model: Any) -> str:
    """ "op" when ``model.predict`` takes OpSpecs, "network" when it takes Architectures."""
    level = getattr(type(model), "input_level", None)
    if level not in INPUT_LEVELS:
        raise LatbenchError(
            f"{type(model).__name__} does not say whether it predicts ops or "
            f"networks (class attribute input_level, one of {INPUT_LEVELS})"
        )
    return level
