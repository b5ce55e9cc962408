"""Which modules an op key may name: keys are data (a table row someone sent), so naming
``os.system`` or ``builtins.exec`` must not run it and naming a module must not import it.
Imports nothing heavy (the plugin loader calls ``trust_module`` before torch is imported)."""

from __future__ import annotations

from latbench.errors import OpSpecError

TRUSTED_ROOTS = frozenset({"torch", "_operator", "operator", "math", "timm", "torchvision"})
"""Packages whose functions and ``nn.Module`` classes a key may name. A key is data (a table
row someone sent): naming ``os.system`` or ``builtins.exec`` must not run it, and naming a
module must not import it. Users' own modules are trusted by loading them on purpose:
``load_model`` (``--model``) and the plugin loader call ``trust_module``."""
SAFE_BUILTINS = frozenset({"abs", "bool", "float", "getattr", "int", "len", "list", "max",
                           "min", "pow", "range", "round", "slice", "sum", "tuple"})
_TORCH_DENIED = frozenset({
    "_C", "_dynamo", "_inductor", "backends", "classes", "compile", "cuda", "distributed",
    "export", "from_file", "fx", "hub", "jit", "library", "load", "manual_seed",
    "multiprocessing", "onnx", "ops", "package", "profiler", "save", "seed", "serialization",
    "set_default_device", "set_default_dtype", "set_default_tensor_type", "set_grad_enabled",
    "set_num_interop_threads", "set_num_threads", "set_printoptions", "testing",
    "use_deterministic_algorithms", "utils"})
_trusted_modules: set[str] = set()


def trust_module(name: str) -> None:
    """Let keys name functions and classes of module ``name`` (and its sub-modules): called
    for the module of a model the user loaded and for every plugin."""
    _trusted_modules.add(name)


def is_trusted(name: str) -> bool:
    """Whether a key may name ``name`` (see ``check_trusted``)."""
    try:
        check_trusted(name, "")
    except OpSpecError:
        return False
    return True


def check_trusted(name: str, what: str) -> None:
    """Raise ``OpSpecError`` unless the dotted ``name`` (``module.attr``) lies in a trusted
    package (``TRUSTED_ROOTS``, ``trust_module``) and names nothing that reads, writes or
    changes state (``torch.load``, ``torch.hub``, ``builtins.exec``, ...)."""
    parts = name.split(".")
    root = parts[0]
    if root == "builtins":
        ok = len(parts) == 2 and parts[1] in SAFE_BUILTINS
    elif root == "torch":
        ok = len(parts) < 2 or parts[1] not in _TORCH_DENIED
    else:
        ok = root in TRUSTED_ROOTS or any(name.startswith(m + ".") for m in _trusted_modules)
    if not ok:
        raise OpSpecError(f"{what}: {name[:120]!r} is outside the packages a key may name "
                          f"({', '.join(sorted(TRUSTED_ROOTS))}, safe builtins, and the "
                          "modules of models and plugins loaded by this command)")
