"""A user's model as an ``Architecture``: the row it has in networks tables and predictors.

The edges are the traced ops (``Edge(src, dst, op)`` with the fx node names as nodes, so the
longest path and the op count are the model's), ``space`` is ``"model"`` and ``meta`` names
the model, its input shape and leaf classes: ``Architecture.build`` then builds the model
itself (random weights), which is what ``measure-nets`` and ``validate`` time, and
``Architecture.ops()`` are the OpSpecs that ``profile`` measures and predictors sum.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch

from latbench.architecture import Architecture, Edge
from latbench.model_loader import load_model, parse_input_shape, parse_model_spec
from latbench.models.decompose import Decomposition, UntraceableError, decompose

MODEL_SPACE = "model"
"""``Architecture.space`` of every traced model."""


def trace_model(
    model: str,
    input_shape: str | Sequence[int] | None = None,
    *,
    leaf: Iterable[str] = (),
    device: str | torch.device | None = None,
    timeout_s: float | None = None,
) -> Decomposition:
    """Load ``model`` (``timm:NAME``, ``torchvision:NAME``, ``package.module:callable``,
    ``path/to/file.py:callable``) with random weights and decompose it at ``input_shape``
    (default: the library's own input size).

    ``device`` None: on the CPU (run once on a random input), so that every op's key holds the
    layout (strides) eager PyTorch gives its inputs; the ``meta`` device does not always give
    the CPU's (a depthwise conv on a channels-last map). Raises ``ModelSpecError`` (bad name,
    no input size), ``MissingDependencyError`` (timm or torchvision missing) or
    ``UntraceableError`` (one line naming the node and module), also when loading and tracing
    take longer than ``timeout_s`` seconds (a forward that hangs; None: no limit; enforced
    from the main thread only, by ``SIGALRM``)."""
    spec = parse_model_spec(model)
    shape = parse_input_shape(input_shape) if input_shape is not None else None
    try:
        with _deadline(timeout_s):
            module, built = load_model(spec, shape, device or "cpu")
            return decompose(module, built, name=spec.text, leaf=tuple(leaf))
    except _Expired as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if _users(f.filename)]
        where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        raise UntraceableError(
            f"{spec.text}: still loading or tracing after {timeout_s:g} s (--item-timeout){where}; "
            "its code hangs there (or needs a larger --item-timeout)"
        ) from None


class _Expired(BaseException):
    """``_deadline`` passed (no ``except Exception`` of the model or torch.fx catches it)."""


def _users(filename: str) -> bool:
    """A frame of the user's code (not torch's, timm's or latbench's own)."""
    name = filename.replace("\\", "/")
    return not any(part in name for part in ("/torch/", "/timm/", "/latbench/", "<frozen"))


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``_Expired`` in what runs after ``seconds`` (None or off the main thread: never)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def model_architecture(decomposition: Decomposition) -> Architecture:
    """The decomposition as an ``Architecture`` of space ``model`` (see the module doc)."""
    d = decomposition
    edges = tuple(Edge(op.src, op.node, op.spec) for op in d.ops)
    meta = dict(
        model=d.model, input_shape=list(d.input_shape), leaf=list(d.leaf), n_params=d.n_params
    )
    return Architecture(MODEL_SPACE, edges, d.output, d.model, "", meta)


def model_features(model: Decomposition | Architecture) -> dict[str, float]:
    """Whole-model analytic features of a decomposition or its ``model_architecture``: the
    sums of the ops' ``ANALYTIC_FEATURES`` (FLOPs, bytes read and written), ``macs``
    (FLOPs / 2), ``params`` (the model's own count, each weight once), ``activations``
    (elements of every op output) and ``n_ops``."""
    if isinstance(model, Architecture):
        specs, n_params = model.ops(), int(model.meta.get("n_params", 0))
    else:
        specs, n_params = model.specs(), model.n_params
    totals: dict[str, float] = {}
    for spec in specs:
        for name, value in spec.features().items():
            if name != "arithmetic_intensity":
                totals[name] = totals.get(name, 0.0) + value
    totals["macs"] = totals.get("flops", 0.0) / 2
    totals["params"] = float(n_params)
    totals["activations"] = totals.get("output_elems", 0.0)
    totals["n_ops"] = float(len(specs))
    return totals
