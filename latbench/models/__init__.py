"""The networks users bring: load a model by name (``loader``), decompose it into OpSpecs
(``decompose``) and describe it as an ``Architecture`` whose ops are those specs (``arch``).

    from latbench.models import trace_model
    ops = trace_model("timm:resnet18", (1, 3, 64, 64)).specs()  # list[OpSpec], execution order
"""

from latbench.model_loader import (
    ModelSpec,
    ModelSpecError,
    import_library,
    load_model,
    parse_input_shape,
    parse_model_spec,
)
from latbench.models.arch import MODEL_SPACE, model_architecture, model_features, trace_model
from latbench.models.decompose import Decomposition, TracedOp, UntraceableError, decompose

__all__ = [
    "MODEL_SPACE",
    "Decomposition",
    "ModelSpec",
    "ModelSpecError",
    "TracedOp",
    "UntraceableError",
    "decompose",
    "import_library",
    "load_model",
    "model_architecture",
    "model_features",
    "parse_input_shape",
    "parse_model_spec",
    "trace_model",
]
