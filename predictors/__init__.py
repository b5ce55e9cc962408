"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style)."""

from predictors.base import CostModel
from predictors.batch import ArchBatch, encode
from predictors.learned import LearnedPredictor, flops_baseline
from predictors.lookup import Coverage, LookupPredictor, MissingOpsError
from predictors.metrics import accuracy
from predictors.network import NetworkPredictor
from predictors.persist import PredictorFileError, load, save

__all__ = ["ArchBatch", "CostModel", "Coverage", "LearnedPredictor", "LookupPredictor",
           "MissingOpsError", "NetworkPredictor", "PredictorFileError", "accuracy", "encode",
           "flops_baseline", "load", "save"]
