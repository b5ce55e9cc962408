"""Parent selection and survival with constraints as constraints (Deb's feasibility rules).

A feasible individual beats an infeasible one; two infeasible ones compare by total violation;
two feasible ones by fitness (lower latency wins).
"""

from __future__ import annotations

import numpy as np


def violation(G: np.ndarray) -> np.ndarray:
    """Total constraint violation Σ max(G, 0) per individual (0 = feasible)."""
    return np.maximum(G, 0.0).sum(axis=1)


def rank(F: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Indices best first: feasible by F, then infeasible by violation (stable)."""
    cv = violation(G)
    return np.lexsort((F, cv))


class ConstraintTournament:
    """Binary tournament under the feasibility rules; returns parent indices."""

    def __call__(self, F: np.ndarray, G: np.ndarray, n: int,
                 rng: np.random.Generator) -> np.ndarray:
        cv = violation(G)
        a, b = rng.integers(len(F), size=(2, n))
        a_wins = (cv[a] < cv[b]) | ((cv[a] == cv[b]) & (F[a] <= F[b]))
        return np.where(a_wins, a, b)
