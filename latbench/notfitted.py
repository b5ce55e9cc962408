"""``NotFittedError``: latbench's and scikit-learn's at once (apart from ``latbench.errors`` so
that commands which never fit do not import scikit-learn, about a second of CPU)."""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from latbench.errors import LatbenchError


class NotFittedError(LatbenchError, _SklearnNotFittedError):
    """A predictor used before ``fit`` (also scikit-learn's ``NotFittedError``, so code
    written for scikit-learn estimators catches it)."""
