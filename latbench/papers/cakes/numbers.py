"""The published numbers of CAKES (channel-wise kernel shrinking)
(cakes.txt), each with its section or equation.

Import them from here or from ``latbench.papers`` (which re-exports every paper's).
"""

from __future__ import annotations

CAKES_LAMBDA = 1e-4
"""λ of the cost-priority lasso, Eq. 13: L = E + λ Σ_i β_i |α_i| (value as in SPEC §3)."""
CAKES_PAPER_BETA = {3: 9 / 13, 2: 3 / 13, 1: 1 / 13}
"""β by sub-kernel dimensionality, proportional to parameters (Sect. 3.4)."""
