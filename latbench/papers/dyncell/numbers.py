"""The published numbers of Dynamic cells (video segmentation)
(dynamic-cells.txt), each with its section or equation.

Import them from here or from ``latbench.papers`` (which re-exports every paper's).
"""

from __future__ import annotations

DYNCELL_FRAMES = 1000
"""Frames timed per sequence. Table 5: average runtime with the baseline on the first frame and
the dynamic cell on the rest; the paper gives no frame count, 1000 matches ST-NAS'."""
