"""The published numbers of ST-NAS (spatial-temporal NAS, surgical video)
(st-nas.txt), each with its section or equation.

Import them from here or from ``latbench.papers`` (which re-exports every paper's).
"""

from __future__ import annotations

STNAS_KEEP_THRESHOLD = 1.0
"""Encoder shrink rule after Eq. 2: walk back from a stage's last block, drop block i while
α_i < 1, stop at the first α_i ≥ 1."""
STNAS_WINDOW = 11
"""Temporal window of the decoder: frames decoded together (Sect. 4)."""
STNAS_FPS_FRAMES = 1000
"""FPS = 1 / T_inf, T_inf = encode one frame + decode one window, averaged over 1000 frames."""
