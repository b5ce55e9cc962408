"""The published numbers of HyperSegNAS (one-shot NAS for 3D segmentation)
(hypersegnas.txt), each with its section or equation.

Import them from here or from ``latbench.papers`` (which re-exports every paper's).
"""

from __future__ import annotations

HYPERSEGNAS_BAND_MIB = 300.0
"""Keep sampled architectures whose training memory lies within 300 MB of a target (Sect. 4)."""
HYPERSEGNAS_SAMPLES = 2000
"""Architectures sampled for the memory filter (Sect. 4)."""
HYPERSEGNAS_TOP_N = 10
"""Kept architectures, ranked by the super-net, of which the top 10 are fine-tuned (Sect. 4)."""
DINTS_TARGETS_MIB = (5067.0, 7239.0, 8802.0)
"""Training memory of the three DiNTS architectures, HyperSegNAS' targets (Sect. 4, tables)."""
