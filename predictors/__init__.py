"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style).

Import from the submodules (``latbench.predictors.lookup``, ``latbench.predictors.network``,
...): they are the stable paths; this module re-exports the main names for convenience, each
imported on first use (PEP 562), so that ``import latbench.predictors.data`` does not import
scikit-learn and scipy.
"""

from __future__ import annotations

from latbench.lazy import lazy_attributes

_WHERE = {
    "CostModel": "base",
    "ArchBatch": "batch",
    "encode": "batch",
    "FlopsCost": "learned",
    "LearnedPredictor": "learned",
    "flops_baseline": "learned",
    "Coverage": "lookup",
    "LookupPredictor": "lookup",
    "MissingOpsError": "lookup",
    "accuracy": "metrics",
    "NetworkPredictor": "network",
    "PredictorFileError": "persist",
    "load": "persist",
    "save": "persist",
    "TransferPredictor": "transfer",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE, globals())
