"""What every predictor is: a scikit-learn estimator with one ``costs()`` and one input level.

Searches (``nas/``) only ever call ``costs(specs)``; they never read tables. Every predictor
class derives from ``Predictor`` (``sklearn.base.BaseEstimator``), so ``sklearn.base.clone``,
``get_params``/``set_params`` and ``sklearn.utils.validation.check_is_fitted`` work on all of
them. Whether a predictor takes OpSpecs or whole Architectures is its class attribute
``input_level`` ("op" or "network"), read through ``input_level(model)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone

from latbench.errors import LatbenchError, NotFittedError
from latbench.opspec import OpSpec

INPUT_LEVELS = ("op", "network")


@runtime_checkable
class CostModel(Protocol):
    """Predicts one cost per OpSpec (latency in ms, or memory in MiB: ``unit`` says which)."""

    unit: str

    def predict(self, specs: Sequence[OpSpec]) -> np.ndarray:
        """Costs as a float64 array, one per spec, in ``unit``."""
        ...

    def costs(self, specs: Sequence[OpSpec], device: str | torch.device = "cpu",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Costs as a tensor on ``device`` (constants for the differentiable regularisers)."""
        ...


class Predictor(BaseEstimator):
    """Base of every latbench predictor (scikit-learn estimator contract).

    Subclasses set ``unit``, ``input_level`` and ``fitted_attr`` (an attribute ``fit`` sets;
    ``None`` for a stateless predictor) and list in ``fitted_params`` the constructor
    parameters that are already-fitted predictors used as they are (an op model, a source
    device's predictor): ``clone`` shares those instead of returning them unfitted, as
    ``sklearn.frozen.FrozenEstimator`` would, and clones every other parameter.
    """

    unit: ClassVar[str] = "ms"
    input_level: ClassVar[str] = "op"
    fitted_attr: ClassVar[str | None] = None
    fitted_params: ClassVar[tuple[str, ...]] = ()

    def __sklearn_is_fitted__(self) -> bool:
        return self.fitted_attr is None or self.fitted_attr in vars(self)

    def __sklearn_clone__(self) -> "Predictor":
        params = self.get_params(deep=False)
        fresh = {k: v if k in self.fitted_params else clone(v, safe=False)
                 for k, v in params.items()}
        return type(self)(**fresh)

    def _check_fitted(self, hint: str = "call fit first") -> None:
        """Raise ``NotFittedError`` (also scikit-learn's) naming the class and ``hint``."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"{type(self).__name__} is not fitted; {hint}")

    def costs(self, items: Sequence[Any], device: str | torch.device = "cpu",
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """``predict(items)`` as a tensor on ``device`` (in ``unit``, one value per item)."""
        return torch.as_tensor(np.asarray(self.predict(items)), dtype=dtype, device=device)


def input_level(model: Any) -> str:
    """"op" when ``model.predict`` takes OpSpecs, "network" when it takes Architectures."""
    level = getattr(type(model), "input_level", None)
    if level not in INPUT_LEVELS:
        raise LatbenchError(f"{type(model).__name__} does not say whether it predicts ops or "
                            f"networks (class attribute input_level, one of {INPUT_LEVELS})")
    return level
