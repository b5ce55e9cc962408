"""The math of few-shot transfer: per-op costs of a target device from k measured networks.

A network's latency on the target is ``const + Σ_op count_op · θ_op``. k = 5–50 shots cannot
pin down ~30 costs, so each fit shrinks toward a Gaussian prior with mean ``m`` and precision
``RᵀR`` (the source device's op costs, scaled; or ``device_prior``'s): a generalised ridge on
relative error with non-negative costs (adding an op never lowers a prediction),

    θ̂ = argmin_{θ ≥ 0}  Σ_i ((A_i θ − y_i) / y_i)²  +  α ‖R (θ − m)‖²

solved exactly by scipy's ``nnls`` on the stacked system. α and the method are chosen by
leave-one-out cross-validation on the shots (``select``), the prior's scale included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls
from scipy.stats import chi2, norm, spearmanr

ALPHAS = tuple(float(a) for a in 10.0 ** np.arange(-3.0, 4.0))
"""Prior strengths tried by cross-validation (×‖relative error‖², so scale-free)."""


@dataclass(frozen=True)
class Prior:
    """A Gaussian prior on ``[const, θ_1..θ_p]`` (ms): mean ``mean`` (p+1,), precision
    ``root.T @ root`` with ``root`` (m, p+1)."""

    mean: np.ndarray
    root: np.ndarray


def prior_ridge(A: np.ndarray, y: np.ndarray, prior: Prior, alpha: float) -> np.ndarray:
    """The non-negative generalised ridge of the module docstring: ``A`` (n, p+1) with a
    leading column of ones, ``y`` (n,) positive ms; returns θ (p+1,)."""
    W = A / y[:, None]
    sa = np.sqrt(alpha)
    M = np.vstack([W, sa * prior.root])
    b = np.concatenate([np.ones(len(y)), sa * (prior.root @ prior.mean)])
    scale = np.abs(M).max(axis=0)
    scale[scale == 0] = 1.0
    theta, _ = nnls(M / scale, b, maxiter=50 * M.shape[1])
    return theta / scale


def relative_nnls(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``w ≥ 0`` (p,) minimising Σ_i ((X_i w − y_i) / y_i)² for ``X`` (n, p), ``y`` (n,) > 0
    (columns scaled to a maximum of 1 for the solver)."""
    Z = X / y[:, None]
    scale = np.abs(Z).max(axis=0)
    scale[scale == 0] = 1.0
    w, _ = nnls(Z / scale, np.ones(len(y)))
    return w / scale


def diagonal_prior(mean: np.ndarray, const_sd: float, floor_frac: float = 0.01) -> Prior:
    """Independent relative deviations: sd of θ_j is θ_j itself (floored at ``floor_frac`` of
    the median non-zero cost, so a zero-cost op is not pinned at zero); const: ``const_sd``."""

    costs = np.abs(mean[1:])
    positive = costs[costs > 0]
    floor = floor_frac * (float(np.median(positive)) if len(positive) else 1.0)
    sd = np.concatenate([[max(const_sd, floor)], np.maximum(costs, floor)])
    return Prior(np.asarray(mean, dtype=np.float64), np.diag(1.0 / sd))


def gaussian_prior(mean: np.ndarray, cov: np.ndarray) -> Prior:
    """A full-covariance prior; ``root`` from the eigen-decomposition of ``cov``'s inverse."""
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, vals.max() * 1e-10)
    return Prior(np.asarray(mean, dtype=np.float64), (vecs / np.sqrt(vals)).T)


Fitter = Callable[[np.ndarray, float], Callable[[np.ndarray], np.ndarray]]
"""``fitter(train_rows, alpha)`` returns ``predict(rows)`` (ms for rows of the shots)."""


@dataclass
class Choice:
    """What cross-validation chose, and the evidence: LOO relative residuals per candidate."""

    method: str
    alpha: float
    residuals: np.ndarray  # LOO (predicted − measured) / measured of the chosen fit, (k,)
    scores: dict[str, float]  # method -> best LOO root-mean-square relative error


MAX_LOO = 50
"""Up to this many shots cross-validation leaves one out; above, ``FOLDS``-fold."""
FOLDS = 10


def loo_residuals(fitter: Fitter, y: np.ndarray, alpha: float) -> np.ndarray:
    """Relative residual of each shot predicted by a fit on the other shots: leave-one-out
    up to ``MAX_LOO`` shots, else ``FOLDS`` interleaved folds (deterministic)."""
    k = len(y)
    folds = k if k <= MAX_LOO else FOLDS
    out = np.empty(k)
    for f in range(folds):
        test = np.arange(f, k, folds)
        train = np.setdiff1d(np.arange(k), test)
        out[test] = fitter(train, alpha)(test) / y[test] - 1.0
    return out


def select(
    candidates: dict[str, tuple[Fitter, Sequence[float]]],
    y: np.ndarray,
    nested: Sequence[str] = (),
) -> Choice:
    """The (method, α) with the smallest LOO root-mean-square relative error (ties keep the
    earlier candidate), among the fits whose LOO predictions rank the shots (Spearman ρ > 0;
    all when none does: docs/transfer.md).

    ``nested``: methods each a special case of the next. When the best is one of them, the
    one-standard-error rule (Hastie, Tibshirani & Friedman, *Elements of Statistical Learning*
    §7.10) picks the first simpler one whose mean squared LOO error is within one standard
    error of the paired difference from the best's (docs/benchmarks-transfer.md).
    """

    per_method: dict[str, tuple[float, np.ndarray]] = {}
    scores: dict[str, float] = {}
    ranks: set[str] = set()
    for name, (fitter, alphas) in candidates.items():
        for alpha in alphas:
            res = loo_residuals(fitter, y, alpha)
            rms = float(np.sqrt(np.mean(res**2))) if np.all(np.isfinite(res)) else np.inf
            ranking = np.isfinite(rms) and _ranks(res, y)
            better = (ranking, -rms) > ((name in ranks), -scores.get(name, np.inf))
            if better or name not in per_method:
                scores[name] = rms
                per_method[name] = (float(alpha), res)
                if ranking:
                    ranks.add(name)
    assert per_method, "select needs at least one candidate"
    eligible = [m for m in per_method if m in ranks] or list(per_method)
    best = min(eligible, key=lambda m: scores[m])  # the first of equal minima
    if best in nested:
        for name in nested[: list(nested).index(best)]:
            if name not in eligible:
                continue
            alpha, res = per_method[name]
            d = res**2 - per_method[best][1] ** 2
            if d.mean() <= d.std(ddof=1) / np.sqrt(len(d)):
                return Choice(name, alpha, res, scores)
    return Choice(best, per_method[best][0], per_method[best][1], scores)


def _ranks(residuals: np.ndarray, y: np.ndarray) -> bool:
    """Whether LOO predictions ``y · (1 + r)`` rank the shots (Spearman ρ > 0)."""
    pred = y * (1 + residuals)
    if np.ptp(pred) <= 1e-12 * max(float(np.max(np.abs(pred))), 1e-300) or np.ptp(y) == 0:
        return False
    return bool(spearmanr(pred, y).statistic > 0)


CONFIDENCE = 0.975
"""Share of fits whose interval is to hold its stated coverage (``tolerance_factor``): above
0.9 because the log errors' tails are heavier than normal (docs/transfer.md, "Intervals")."""


def tolerance_interval(
    pred: np.ndarray, residuals: np.ndarray, coverage: float, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pred, low, high) in ms: ``pred · exp(∓f)`` with f the ``tolerance_factor`` of the
    leave-one-out ``residuals``."""
    f = tolerance_factor(residuals, coverage, confidence)
    return pred, pred * np.exp(-f), pred * np.exp(f)


def tolerance_factor(residuals: np.ndarray, coverage: float, confidence: float) -> float:
    """Half-width f (in log ms) of a normal tolerance interval ``pred · exp(±f)`` from the
    leave-one-out relative residuals ``r`` (predicted / measured − 1) of k shots.

    With s² = mean(log(1 + r)²) (ν = k degrees of freedom, centred on 0 so a biased fit
    widens its interval), f = z_{(1+P)/2} · s · sqrt(ν (1 + 1/k) / χ²_{1−γ, ν}) covers a share
    P = ``coverage`` of networks in a share γ = ``confidence`` of fits when the log errors are
    normal (Howe's approximation of the two-sided tolerance factor: Howe, JASA 64(326), 1969;
    NIST/SEMATECH e-Handbook 7.2.6.3). Plain split-conformal or jackknife quantiles of k = 10
    residuals hold P only on average over fits; the χ² term is what makes it hold per fit.
    """
    r = np.log1p(np.clip(np.asarray(residuals, dtype=np.float64), -0.999, None))
    k = len(r)
    s = float(np.sqrt(np.mean(r**2))) if k else np.inf
    factor = norm.ppf((1 + coverage) / 2) * np.sqrt(k * (1 + 1 / k) / chi2.ppf(1 - confidence, k))
    return float(factor * s)


def choose_shots(n: int, k: int, seed: int) -> np.ndarray:
    """``k`` of ``n`` row positions drawn uniformly without replacement with ``seed``
    (never "the first k rows"), sorted."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(k, n), replace=False))
