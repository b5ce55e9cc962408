"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style).

Import from the submodules (``predictors.lookup``, ``predictors.network``, ...): they are the
stable paths; this module re-exports the main names for convenience.
"""

from predictors.base import CostModel
from predictors.batch import ArchBatch, encode
from predictors.learned import FlopsCost, LearnedPredictor, flops_baseline
from predictors.lookup import Coverage, LookupPredictor, MissingOpsError
from predictors.metrics import accuracy
from predictors.network import NetworkPredictor
from predictors.persist import PredictorFileError, load, save
from predictors.transfer import TransferPredictor

__all__ = ["ArchBatch", "CostModel", "Coverage", "FlopsCost", "LearnedPredictor",
           "LookupPredictor", "MissingOpsError", "NetworkPredictor", "PredictorFileError",
           "TransferPredictor", "accuracy", "encode", "flops_baseline", "load", "save"]
