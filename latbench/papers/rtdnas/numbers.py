"""The published numbers of RT-DNAS (real-time DNAS, cardiac cine MRI)
(rt-dnas.txt), each with its section or equation.

Import them from here or from ``latbench.papers`` (which re-exports every paper's).
"""

from __future__ import annotations

RTDNAS_LATENCY_UB_MS = 50.0
"""L_ub of Eq. 2, L = L_a · L_t + λ e^{L_t − L_ub}: no lag perceptible below 50 ms
(Sect. 1, 2.2)."""
RTDNAS_MIN_FPS = 22.0
"""Minimum throughput: cine MRI is reconstructed at 22 FPS (Sect. 1; Table 2's constraint)."""
RTDNAS_GA_POOL = 10
"""GA gene pool: the top 10 paths by accumulated weight (Sect. 3.1)."""
RTDNAS_GA_POPULATION = 20
"""GA initial population (Sect. 3.1)."""
RTDNAS_GA_GENERATIONS = 100
"""GA generations (Sect. 3.1)."""
