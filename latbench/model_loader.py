"""Naming and loading the networks users bring: ``timm:NAME``, ``torchvision:NAME``,
``package.module:callable`` or ``path/to/file.py:callable``, built with random weights (nothing
is downloaded) in inference mode. timm and torchvision are the optional extra ``models``.

A CUDA wheel of torchvision fails to load its C++ ops against a CPU-only torch (``operator
torchvision::nms does not exist``); the loader then defines the two detection-op schemas so that
the models import, and warns once that nms itself is unavailable.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from latbench.errors import LatbenchError, MissingDependencyError
from latbench.trust import file_module_name, import_file, is_trusted, trust_module

LIBRARIES = ("timm", "torchvision")
_NMS_SCHEMAS = {
    "torchvision::nms": "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "torchvision::qnms": "(Tensor qdets, Tensor qscale, Tensor qzero_point, Tensor scores, "
    "float iou_threshold) -> Tensor",
}
_warned = False


class ModelSpecError(LatbenchError, ValueError):
    """A model name that does not parse, load or build."""


def _import_torchvision() -> Any:
    global _warned
    try:
        import torchvision

        return torchvision
    except ModuleNotFoundError:
        raise MissingDependencyError("torchvision", "models") from None
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
    for name, schema in _NMS_SCHEMAS.items():
        with contextlib.suppress(RuntimeError):  # defined by an earlier partial import
            torch.library.define(name, schema)
    for mod in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[mod]
    import torchvision

    if not _warned:
        _warned = True
        warnings.warn(
            "torchvision's C++ ops do not load against this torch; detection ops "
            "(nms) are unavailable, classification models work",
            stacklevel=4,
        )
    return torchvision


def import_library(name: str) -> Any:
    """``timm`` or ``torchvision`` (with the fallback above); ``MissingDependencyError`` naming
    the extra when it is not installed."""
    if name == "torchvision":
        return _import_torchvision()
    if name == "timm":
        with contextlib.suppress(MissingDependencyError):
            importlib.import_module("torch.fx")
            _import_torchvision()  # timm imports torchvision when it is installed
        try:
            return importlib.import_module("timm")
        except ModuleNotFoundError:
            raise MissingDependencyError("timm", "models") from None
    raise ModelSpecError(f"unknown model library {name!r}; expected one of {', '.join(LIBRARIES)}")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model name: ``source`` is timm, torchvision, module or file."""

    text: str
    source: str
    target: str  # model name, module path or file path
    attr: str = ""  # the callable of a module or file


def parse_model_spec(text: str) -> ModelSpec:
    """``timm:NAME`` | ``torchvision:NAME`` | ``package.module:callable`` |
    ``path/to/file.py:callable``; raises ``ModelSpecError`` saying which forms exist."""
    forms = (
        "expected timm:NAME, torchvision:NAME, package.module:callable or path/to/file.py:callable"
    )
    if not isinstance(text, str) or any(c in text for c in "|;\n") or ":" not in text:
        raise ModelSpecError(f"model {str(text)[:80]!r}: {forms}")
    head, _, tail = text.rpartition(":")
    if not head or not tail:
        raise ModelSpecError(f"model {text!r}: {forms}")
    if head in LIBRARIES:
        return ModelSpec(text, head, tail)
    if head.endswith(".py"):
        return ModelSpec(text, "file", head, tail)
    if all(part.isidentifier() for part in head.split(".")) and tail.isidentifier():
        return ModelSpec(text, "module", head, tail)
    raise ModelSpecError(f"model {text!r}: {forms}")


def parse_input_shape(text: str | Sequence[int]) -> tuple[int, ...]:
    """``1,3,224,224`` (or ``1x3x224x224``, or a sequence) as a tuple of positive ints."""
    parts = text.replace("x", ",").split(",") if isinstance(text, str) else list(text)
    try:
        shape = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        shape = ()
    if not shape or any(s < 1 for s in shape) or len(shape) > 8:
        raise ModelSpecError(f"input shape {text!r}: expected positive sizes like 1,3,224,224")
    return shape


def _timm_model(name: str, shape: tuple[int, ...] | None) -> tuple[nn.Module, tuple[int, ...]]:
    timm = import_library("timm")
    if name not in timm.list_models():
        raise ModelSpecError(
            f"timm has no model {name!r} (timm {timm.__version__}; "
            "`timm.list_models('*pattern*')` lists them)"
        )
    cfg = timm.models.get_pretrained_cfg(name)
    own = (1, *cfg.input_size) if cfg is not None and getattr(cfg, "input_size", None) else None
    shape = shape or own
    if shape is None:
        raise ModelSpecError(
            f"timm:{name} has no input size in its config; pass --input-shape N,C,H,W"
        )
    if own is not None and len(shape) == 4 and shape[2:] != own[2:]:
        # ViT, Swin, Mixer...: positional tables and windows sized for the input; models
        # without img_size take any size
        with contextlib.suppress(TypeError):
            return timm.create_model(name, pretrained=False, img_size=shape[2:]), shape
    return timm.create_model(name, pretrained=False), shape


def _torchvision_model(
    name: str, shape: tuple[int, ...] | None
) -> tuple[nn.Module, tuple[int, ...]]:
    tv = import_library("torchvision")
    try:
        builder = tv.models.get_model_builder(name)
    except ValueError:
        raise ModelSpecError(
            f"torchvision has no model {name!r} (torchvision {tv.__version__}; "
            "`torchvision.models.list_models()` lists them)"
        ) from None
    if shape is None:
        raise ModelSpecError(
            f"torchvision:{name}: torchvision records no input size; pass --input-shape N,C,H,W"
        )
    if name.startswith(("vit_", "swin_", "maxvit")) and len(shape) == 4:
        with contextlib.suppress(TypeError):
            return builder(weights=None, image_size=shape[2]), shape
    return builder(weights=None), shape


def _callable_model(
    spec: ModelSpec, shape: tuple[int, ...] | None
) -> tuple[nn.Module, tuple[int, ...]]:
    if spec.source == "file":
        path = Path(spec.target)
        if not path.is_file():
            raise ModelSpecError(f"model {spec.text!r}: no file {spec.target}")
        try:
            module = import_file(path, "latbench_model")
        except Exception as exc:
            raise ModelSpecError(
                f"model {spec.text!r}: importing {path} failed: "
                f"{type(exc).__name__}: {str(exc)[:200]}"
            ) from None
    else:
        try:
            module = importlib.import_module(spec.target)
        except ImportError as exc:
            raise ModelSpecError(
                f"model {spec.text!r}: cannot import {spec.target} ({exc})"
            ) from None
        trust_module(spec.target.split(".")[0])
    fn = getattr(module, spec.attr, None)
    if not callable(fn):
        raise ModelSpecError(f"model {spec.text!r}: {spec.target} has no callable {spec.attr!r}")
    if shape is None:
        raise ModelSpecError(
            f"model {spec.text!r}: pass --input-shape N,C,H,W (a callable records no input size)"
        )
    return fn(), shape


def trusted_model(spec: ModelSpec) -> bool:
    """Whether a key may rebuild blocks of ``spec``: a timm/torchvision model, or one whose
    module this process loaded on purpose (``trust_module``)."""
    if spec.source in ("timm", "torchvision"):
        return True
    if spec.source == "file":
        return is_trusted(f"{file_module_name(spec.target, 'latbench_model')}.{spec.attr}")
    return is_trusted(f"{spec.target}.{spec.attr}")


def load_model(
    spec: str | ModelSpec,
    input_shape: str | tuple[int, ...] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, tuple[int, ...]]:
    """The model ``spec`` names with random weights, in eval mode on ``device`` (``meta``:
    shapes only), and its input shape: ``input_shape``, else timm's ``input_size`` at batch 1.

    Raises ``ModelSpecError`` for a bad name, a model without an input size or code that raises
    or calls ``sys.exit`` while building; ``MissingDependencyError`` without timm/torchvision."""
    spec = parse_model_spec(spec) if isinstance(spec, str) else spec
    shape = parse_input_shape(input_shape) if input_shape is not None else None
    cwd = os.getcwd()
    try:
        with torch.device(device):
            if spec.source == "timm":
                model, shape = _timm_model(spec.target, shape)
            elif spec.source == "torchvision":
                model, shape = _torchvision_model(spec.target, shape)
            else:
                model, shape = _callable_model(spec, shape)
    except LatbenchError:
        raise
    except SystemExit as exc:  # a module-level argparse or sys.exit() in the user's file
        raise ModelSpecError(
            f"model {spec.text!r}: its code called sys.exit({exc.code!r}) while loading; "
            "keep script code under `if __name__ == '__main__':`"
        ) from None
    except Exception as exc:
        raise ModelSpecError(
            f"model {spec.text!r} failed to build: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}"
        ) from None
    finally:  # a script's os.chdir must not move where relative --out/--table paths write
        os.chdir(cwd)
    if not isinstance(model, nn.Module):
        raise ModelSpecError(
            f"model {spec.text!r}: the callable returned {type(model).__name__}; "
            "expected a torch.nn.Module"
        )
    return model.eval(), shape
