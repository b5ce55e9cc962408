"""The option names predictors accept, apart from the predictors themselves (importing a
predictor imports scikit-learn; the command line lists these choices without it)."""

CALIBRATIONS = ("affine", "per_kind", "linear", "scale", "none")
"""``NetworkPredictor`` calibrations (see ``latbench.predictors.network``)."""
COMPOSITIONS = ("sum", "longest_path")
"""How a network's op costs compose: their sum, or the longest input-to-output path."""
METHODS = (
    "auto",
    "opcost",
    "opcost-learned",
    "opcost-nearest",
    "opcost-roofline",
    "roofline",
    "launches",
    "loglinear",
    "scale",
)
"""``TransferPredictor`` methods (see ``latbench.predictors.transfer``)."""
