"""Which modules an op key may name: keys are data (a table row someone sent), so naming
``os.system`` must not run it nor naming a module import it. Imports nothing heavy."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import types

from latbench.errors import OpSpecError

TRUSTED_ROOTS = frozenset({"torch", "_operator", "operator", "math", "timm", "torchvision"})
"""Packages whose functions and ``nn.Module`` classes a key may name (and ``trust_module``'s)."""
SAFE_BUILTINS = frozenset(
    "abs bool float getattr int len list max min pow range round slice sum tuple".split()
)
_TORCH_DENIED = frozenset(
    """_C _dynamo _inductor backends classes compile cuda distributed export from_file fx hub
    jit library load manual_seed multiprocessing onnx ops package profiler save seed
    serialization set_default_device set_default_dtype set_default_tensor_type
    set_grad_enabled set_num_interop_threads set_num_threads set_printoptions testing
    use_deterministic_algorithms utils""".split()
)
_TORCH_C_OPS = frozenset({"_nn", "_fft", "_linalg", "_special", "_nested", "_VariableFunctions"})
TRUSTED_ENV = "LATBENCH_TRUSTED_MODULES"
"""The modules this process trusts, comma-separated, handed to the worker processes it starts."""
_trusted_modules: set[str] = {m for m in os.environ.get(TRUSTED_ENV, "").split(",") if m}


def trust_module(name: str) -> None:
    """Let keys name what module ``name`` and its sub-modules hold (a loaded model's, a plugin),
    here and in the worker processes started from now on (``TRUSTED_ENV``)."""
    _trusted_modules.add(name)
    os.environ[TRUSTED_ENV] = ",".join(sorted(_trusted_modules))


def is_trusted(name: str) -> bool:
    """Whether a key may name the dotted ``name`` (``module.attr``): it lies in a trusted package
    (``TRUSTED_ROOTS``, ``trust_module``) and names nothing that reads, writes or changes state
    (``torch.load``, ``torch.hub``, ``builtins.exec``, ...)."""
    parts = name.split(".")
    root = parts[0]
    if root == "builtins":
        return len(parts) == 2 and parts[1] in SAFE_BUILTINS
    if root == "torch" and len(parts) > 1 and parts[1] == "_C":
        # the C bindings of torch.nn.functional, torch.fft, ... (F.linear is torch._C._nn.linear)
        return len(parts) == 4 and parts[2] in _TORCH_C_OPS
    if root == "torch":
        return len(parts) < 2 or parts[1] not in _TORCH_DENIED
    return root in TRUSTED_ROOTS or any(name.startswith(m + ".") for m in _trusted_modules)


def check_trusted(name: str, what: str) -> None:
    """``OpSpecError`` naming ``what`` unless ``is_trusted(name)``."""
    if not is_trusted(name):
        raise OpSpecError(
            f"{what}: {name[:120]!r} is outside the packages a key may name "
            f"({', '.join(sorted(TRUSTED_ROOTS))}, safe builtins, and the "
            "modules of models and plugins loaded by this command)"
        )


def file_module_name(path: str | os.PathLike[str], prefix: str) -> str:
    """``<prefix>_<stem>_<sha1 of the absolute path>``: a ``.py`` file's module name, the same
    in every process (keys naming its functions rebuild in workers)."""
    full = os.path.abspath(path)
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(full))[0])
    return f"{prefix}_{stem}_{hashlib.sha1(full.encode()).hexdigest()[:8]}"


def import_file(path: str | os.PathLike[str], prefix: str) -> types.ModuleType:
    """Import the ``.py`` file the user named at ``path`` once per process and trust it. Raises
    ``FileNotFoundError`` when there is no such file, else whatever the file raises."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise FileNotFoundError(f"no such file {full}")
    name = file_module_name(full, prefix)
    trust_module(name)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {full} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
