"""Option vocabularies shared by the command-line parsers and the code behind them.

Building a subcommand's parser (``latbench CMD --help``) needs these names, not the code that
uses them: this module imports nothing, so parsers cost no torch or pandas import. The code
behind them re-exports them (``latbench.spaces.SIZES``, ``latbench.timing.CLOCK_CHOICES``,
``latbench.memory.steps.OPTIMIZERS``).
"""

from __future__ import annotations

SIZES = ("small", "paper")
"""Sizes of every search space: latbench's CPU-sized one and the paper's."""

CLOCK_CHOICES = ("auto", "thread", "wall")
"""CPU clocks of ``--clock``: ``auto`` picks; ``latbench.timing.cpu.CLOCKS`` has the others."""

OPTIMIZERS = ("sgd", "adam", "adamw")
"""Optimizers of the training steps whose memory is measured (``latbench.memory.steps``)."""

UNITS = {"ms": 1.0, "us": 1e-3, "s": 1e3}
"""Units of an imported latency column, with their factor to milliseconds
(``latbench.importing``)."""

PERS = ("batch", "image")
"""What an imported latency is for: the whole batch or one image of it."""

IMPORT_FORMATS = ("columns", "timm")
"""File formats of ``latbench import-nets``: one latency column per device (HELP, HW-NAS-Bench,
BRP-NAS), or pytorch-image-models' ``benchmark-infer-*.csv`` (``latbench.importing_timm``)."""

DISCONNECTED = ("drop", "keep")
"""What import does with NAS-Bench-201 cells whose input cannot reach their output."""

BACKENDS = ("torch", "ort", "ort-trt", "trt")
"""Deployment backends of ``latbench validate`` (``latbench.deploy.runners``)."""

DEFAULT_OPSET = 17
"""Opset of exported models: >= 16 for grid_sample, well inside TensorRT 8.6's parser range."""
