"""One folder per paper: ``latbench/papers/<paper>/`` holds the paper's space (ops, sampler,
layout and genotype in one module), its search, its deployment protocol, its published
numbers (``numbers.py``) and ``plugin.py``, which registers them through the public plugin API
(``latbench.plugins``) as a user's plugin does; ``latbench.builtin`` loads the five plugins.

- ``stnas``: ST-NAS (spatial-temporal NAS, surgical video).
- ``rtdnas``: RT-DNAS (real-time DNAS on the MS-NAS space, cardiac cine MRI; its GA decoding
  runs on ``latbench.nas.ga``).
- ``cakes``: CAKES (channel-wise kernel shrinking).
- ``hypersegnas``: HyperSegNAS (memory filter on the DiNTS space).
- ``dyncell``: dynamic cells (video segmentation, per-frame protocol).

The papers' numbers are re-exported here, each once (``latbench`` is the lowest layer, so
``predictors`` and ``nas`` import them too). A paper's ``__init__`` imports nothing, so
importing a number costs no torch import and registers nothing.
"""

from __future__ import annotations

from latbench.papers.cakes.numbers import CAKES_LAMBDA, CAKES_PAPER_BETA
from latbench.papers.dyncell.numbers import DYNCELL_FRAMES
from latbench.papers.hypersegnas.numbers import (
    DINTS_TARGETS_MIB,
    HYPERSEGNAS_BAND_MIB,
    HYPERSEGNAS_SAMPLES,
    HYPERSEGNAS_TOP_N,
)
from latbench.papers.rtdnas.numbers import (
    RTDNAS_GA_GENERATIONS,
    RTDNAS_GA_POOL,
    RTDNAS_GA_POPULATION,
    RTDNAS_LATENCY_UB_MS,
    RTDNAS_MIN_FPS,
)
from latbench.papers.stnas.numbers import STNAS_FPS_FRAMES, STNAS_KEEP_THRESHOLD, STNAS_WINDOW

MIB = 2**20
"""Bytes per MiB; nvidia-smi's "MB" are MiB (HyperSegNAS' 300 MB band)."""

__all__ = [
    "CAKES_LAMBDA",
    "CAKES_PAPER_BETA",
    "DINTS_TARGETS_MIB",
    "DYNCELL_FRAMES",
    "HYPERSEGNAS_BAND_MIB",
    "HYPERSEGNAS_SAMPLES",
    "HYPERSEGNAS_TOP_N",
    "MIB",
    "RTDNAS_GA_GENERATIONS",
    "RTDNAS_GA_POOL",
    "RTDNAS_GA_POPULATION",
    "RTDNAS_LATENCY_UB_MS",
    "RTDNAS_MIN_FPS",
    "STNAS_FPS_FRAMES",
    "STNAS_KEEP_THRESHOLD",
    "STNAS_WINDOW",
]
