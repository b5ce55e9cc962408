"""Export a discrete architecture (or any module) to ONNX, checked and with its opset recorded.

The TorchScript exporter is the default (a fraction of a second for a NAS-Bench-201 network,
seconds with ``torch.export``; every catalogue op); ``exporter="dynamo"`` selects ``torch.export``
(needs onnxscript). ``grid_sample`` (dynamic-cell aggregations) needs opset >= 16.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx
import torch

from latbench.errors import LatbenchError, import_optional
from latbench.paths import unlinked

DEFAULT_OPSET = 17
"""Opset of exported models: >= 16 for grid_sample, well inside TensorRT 8.6's parser range."""

MIN_OPSET = 16
EXPORTERS = ("torchscript", "dynamo")


class ExportError(LatbenchError, RuntimeError):
    """An architecture that could not be exported to ONNX, or whose export fails the checker."""


@dataclass(frozen=True)
class ExportedModel:
    """An ONNX file plus what the runners need to feed it."""

    path: Path
    opset: int
    exporter: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    torch_version: str
    onnx_version: str


def export_onnx(
    model: Any,
    path: str | Path,
    *,
    inputs: tuple[torch.Tensor, ...] | None = None,
    opset: int = DEFAULT_OPSET,
    exporter: str = "torchscript",
) -> ExportedModel:
    """Write ``model`` (an ``Architecture`` or ``nn.Module``) to ``path`` as checked ONNX, the
    opset, exporter and torch version in its metadata. ``inputs`` defaults to the
    architecture's example inputs. Raises ``ExportError`` (bad opset/exporter, failed export or
    check) and ``MissingDependencyError`` (dynamo without onnxscript)."""
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown ONNX exporter {exporter!r}; valid: {', '.join(EXPORTERS)}")
    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is too old: grid_sample needs >= {MIN_OPSET}")
    if inputs is None:
        if not hasattr(model, "example_inputs"):
            raise ExportError("export_onnx needs inputs= for a plain nn.Module")
        inputs = tuple(model.example_inputs("cpu"))
    is_arch = hasattr(model, "edges") and hasattr(model, "build")
    module = (model.build("cpu") if is_arch else model).eval()
    path = unlinked(path)  # a link there is replaced by the file, never written through
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        outputs = module(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    in_names = ["input"] if len(inputs) == 1 else [f"input{i}" for i in range(len(inputs))]
    out_names = ["output"] if len(outputs) == 1 else [f"output{i}" for i in range(len(outputs))]
    if exporter == "dynamo":
        import_optional("onnxscript", why="the dynamo ONNX exporter needs it")
    # silence the TorchScript exporter's deprecation notice and the dynamo one's progress lines
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                module,
                inputs,
                str(path),
                opset_version=opset,
                dynamo=exporter == "dynamo",
                input_names=in_names,
                output_names=out_names,
                do_constant_folding=True,
            )
    except Exception as exc:  # noqa: BLE001 - exporters raise many types; report which op broke
        raise ExportError(
            f"{exporter} ONNX export (opset {opset}) failed: {type(exc).__name__}: {str(exc)[:400]}"
        ) from exc
    proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"{path}: exported model fails onnx.checker: {exc}") from None
    recorded = {
        "latbench.opset": str(opset),
        "latbench.exporter": exporter,
        "latbench.torch": torch.__version__,
    }
    onnx.helper.set_model_props(proto, {**_metadata(proto), **recorded})
    onnx.save(proto, str(path))
    return ExportedModel(
        path=path,
        opset=_opset(proto, opset),
        exporter=exporter,
        input_names=tuple(in_names),
        output_names=tuple(out_names),
        input_shapes=tuple(tuple(t.shape) for t in inputs),
        output_shapes=tuple(tuple(t.shape) for t in outputs),
        torch_version=torch.__version__,
        onnx_version=onnx.__version__,
    )


def _metadata(proto: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in proto.metadata_props}


def _opset(proto: onnx.ModelProto, default: int) -> int:
    """The model's default-domain (ai.onnx) opset."""
    opsets = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    return int(opsets.get("ai.onnx", default))


def read_onnx(path: str | Path, input_shape: tuple[int, ...] | None = None) -> ExportedModel:
    """An existing ONNX file as an ``ExportedModel``: its inputs (initializers excluded) and
    outputs, ``input_shape`` filling an input's dynamic dimensions. Raises ``ExportError`` for
    an unreadable file, an input that is not float32 (inputs are made as N(0, 1) floats) or
    has a size < 1, a dynamic input without ``input_shape``, or an ``input_shape`` that
    contradicts a fixed size."""
    path = Path(path)
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types on a bad file
        raise ExportError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    init = {t.name for t in proto.graph.initializer}

    def dims(value: Any) -> tuple[int | None, ...]:
        return tuple(
            d.dim_value if d.HasField("dim_value") else None
            for d in value.type.tensor_type.shape.dim
        )

    inputs = [v for v in proto.graph.input if v.name not in init]
    shapes = []
    for v in inputs:
        shape = dims(v)
        shown = ["?" if d is None else d for d in shape]
        elem = v.type.tensor_type.elem_type
        if elem != onnx.TensorProto.FLOAT:
            name = onnx.TensorProto.DataType.Name(elem).lower() if elem else "not a tensor"
            raise ExportError(
                f"{path}: input {v.name!r} is {name}; validate feeds float32 N(0, 1) inputs, "
                "so it takes files whose inputs are float (export the model with float inputs)"
            )
        if any(d is not None and d < 1 for d in shape):
            raise ExportError(f"{path}: input {v.name!r} has shape {shown}; sizes must be >= 1")
        if input_shape is not None and (len(inputs) == 1 or None in shape):
            if len(input_shape) != len(shape) or any(
                d is not None and d != s for d, s in zip(shape, input_shape)
            ):
                raise ExportError(
                    f"{path}: input {v.name!r} has shape {shown}, not --input-shape "
                    f"{list(input_shape)}"
                )
            shape = tuple(input_shape)
        sizes = tuple(d for d in shape if d is not None)
        if len(sizes) < len(shape):
            raise ExportError(
                f"{path}: input {v.name!r} has dynamic shape {shown}; pass --input-shape with "
                "its sizes"
            )
        shapes.append(sizes)
    outputs, meta = proto.graph.output, _metadata(proto)
    return ExportedModel(
        path=path,
        opset=_opset(proto, 0),
        exporter=meta.get("latbench.exporter", "unknown"),
        input_names=tuple(v.name for v in inputs),
        output_names=tuple(v.name for v in outputs),
        input_shapes=tuple(shapes),
        output_shapes=tuple(tuple(d or 0 for d in dims(v)) for v in outputs),
        torch_version=meta.get("latbench.torch", ""),
        onnx_version=onnx.__version__,
    )
