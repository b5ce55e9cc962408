"""One folder per paper (``latbench/papers/<paper>/``, laid out as docs/papers.md says), and
the papers' numbers, each once, with the paper, section or equation it comes from. This module
imports nothing, so that every layer (``predictors`` and ``nas`` too) can import them from here.
"""

from __future__ import annotations

MIB = 2**20
"""Bytes per MiB; nvidia-smi's "MB" are MiB (HyperSegNAS' 300 MB band)."""

# -- RT-DNAS (real-time DNAS, cardiac cine MRI), rt-dnas.txt ----------------------------------
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

# -- ST-NAS (spatial-temporal NAS, surgical video), st-nas.txt --------------------------------
STNAS_KEEP_THRESHOLD = 1.0
"""Encoder shrink rule (Sect. 3.2, between Eq. 1 and Eq. 2): walk back from a stage's last
block, drop block i while α_i < 1, stop at the first α_i ≥ 1."""
STNAS_WINDOW = 11
"""Temporal window of the decoder: frames decoded together (Sect. 4)."""
STNAS_FPS_FRAMES = 1000
"""FPS = 1 / T_inf, T_inf = encode one frame + decode one window, averaged over 1000 frames."""

# -- CAKES (channel-wise kernel shrinking), cakes.txt -----------------------------------------
CAKES_LAMBDA = 1e-4
"""λ of the cost-priority lasso of Eq. 13, L = E + λ Σ_i β_i |α_i|; the value is Sect. 4.1
(training stage) and 4.2."""
CAKES_PAPER_BETA = {3: 9 / 13, 2: 3 / 13, 1: 1 / 13}
"""β by sub-kernel dimensionality, proportional to parameters (Sect. 3.4); the values are
Sect. 4.1 and 4.2."""

# -- HyperSegNAS (one-shot NAS for 3D segmentation), hypersegnas.txt ---------------------------
HYPERSEGNAS_BAND_MIB = 300.0
"""Keep sampled architectures whose training memory lies within 300 MB of a target (Sect. 4)."""
HYPERSEGNAS_SAMPLES = 2000
"""Architectures sampled for the memory filter (SPEC §3's reading; the paper's Sect. 4 samples
2000 *within* the band: give ``search hypersegnas -n`` enough to keep that many)."""
HYPERSEGNAS_TOP_N = 10
"""Kept architectures, ranked by the super-net, of which the top 10 are fine-tuned (Sect. 4)."""
DINTS_TARGETS_MIB = (5067.0, 7239.0, 8802.0)
"""Training memory of the three DiNTS architectures, HyperSegNAS' targets (Sect. 4, tables)."""

# -- Dynamic cells (video segmentation), dynamic-cells.txt -------------------------------------
DYNCELL_FRAMES = 1000
"""Frames timed per sequence. Table 5: average runtime with the baseline on the first frame and
the dynamic cell on the rest; the paper gives no frame count, 1000 matches ST-NAS'."""
