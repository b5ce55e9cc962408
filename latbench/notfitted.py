"""``NotFittedError``, apart from ``latbench.errors`` so that commands which never fit do not
import scikit-learn."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from latbench.errors import LatbenchError


class NotFittedError(LatbenchError, _SklearnNotFittedError):
    """A predictor used before ``fit`` (also scikit-learn's ``NotFittedError``, so code
    written for scikit-learn estimators catches it)."""
