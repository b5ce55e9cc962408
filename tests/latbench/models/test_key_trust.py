"""Keys are data: an op key naming a function or class outside torch (and the modules of
models and plugins the user loaded) is refused before anything is imported or called."""

import subprocess
import sys

import pytest

from latbench.errors import OpSpecError
from latbench.opspec import OpSpec


@pytest.mark.parametrize(
    "fn",
    [
        "os.system",
        "builtins.exec",
        "builtins.eval",
        "torch.load",
        "torch.save",
        "torch.hub.load",
        "subprocess.run",
        "antigravity.fly",
    ],
)
def test_torch_call_key_outside_trusted_packages_is_refused(fn):
    key = f'torch_call|args=["$0"];fn="{fn}";inputs=["1x4:float32"];kwargs=[]|1x4|float32|infer'
    with pytest.raises(OpSpecError, match="outside the packages a key may name"):
        OpSpec.from_key(key).build()


def test_torch_module_key_outside_torch_is_refused():
    with pytest.raises(OpSpecError, match="outside the packages"):
        from latbench.ops.traced import resolve_class

        resolve_class("collections.OrderedDict")


def test_refused_module_is_never_imported():
    code = (
        "import sys\nfrom latbench.ops.traced import resolve_function\n"
        "try:\n    resolve_function('antigravity.fly')\nexcept Exception as e:\n"
        "    print(type(e).__name__)\nprint('antigravity' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["OpSpecError", "False"], out.stderr[-500:]


def test_torch_functions_still_resolve():
    import torch

    from latbench.ops.traced import resolve_function

    assert resolve_function("torch.add") is torch.add
    assert resolve_function("torch.nn.functional.gelu") is torch.nn.functional.gelu


def test_user_model_module_is_trusted_once_loaded(tmp_path):
    from latbench.model_loader import load_model
    from latbench.ops.traced import resolve_function

    src = tmp_path / "mine.py"
    src.write_text(
        "import torch\n\ndef helper(x):\n    return x * 2\n\n"
        "def make():\n    return torch.nn.Linear(4, 4)\n"
    )
    load_model(f"{src}:make", (1, 4))
    name = next(
        m
        for m in sys.modules
        if m.startswith("latbench_model_") and getattr(sys.modules[m], "__file__", "") == str(src)
    )
    assert resolve_function(f"{name}.helper") is sys.modules[name].helper


def test_submodule_key_of_a_model_never_loaded_is_refused(tmp_path):
    from latbench.ops.traced import build_submodule

    src = tmp_path / "never_loaded.py"
    src.write_text("raise SystemExit('must not run')\n")
    spec = OpSpec.make(
        "submodule",
        (1, 4),
        model=f"{src}:make",
        shape="1x4",
        path=".",
        inputs=("1x4:float32",),
        args=("$0",),
    )
    with pytest.raises(OpSpecError, match="not loaded by this command"):
        build_submodule(spec)


def test_plugin_modules_are_trusted(tmp_path):
    code = (
        f"import latbench.plugin_loader as p, latbench.trust as t\n"
        f"print(t.is_trusted('toyplug_x.helper'))\n"
        f"p._load_one('x', {str(tmp_path / 'toyplug_x.py')!r})\n"
        "import sys\n"
        "name = next(m for m in sys.modules if m.startswith('latbench_plugin_toyplug_x'))\n"
        "print(t.is_trusted(name + '.helper'))"
    )
    (tmp_path / "toyplug_x.py").write_text("def helper(x):\n    return x\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr[-800:]


def test_functional_calls_bound_in_torch_C_trace_and_rebuild():
    """F.linear, F.gelu and F.scaled_dot_product_attention are torch._C._nn functions: a model
    calling them traces into keys that rebuild (16 of the zoo's 69 models did not when the
    trust list refused every torch._C name)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from latbench.models import decompose

    class Calls(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(8, 8))

        def forward(self, x):
            y = F.gelu(F.linear(x, self.w))
            q = y.reshape(1, 2, 4, 4)
            return F.scaled_dot_product_attention(q, q, q)

    d = decompose(Calls(), (1, 4, 8))
    fns = {op.spec.p.get("fn") for op in d.ops if op.spec.kind == "torch_call"}
    assert {"torch._C._nn.gelu", "torch._C._nn.scaled_dot_product_attention"} <= fns, fns
    for op in d.ops:
        op.spec.build()  # rebuilds from the key alone
    from latbench.trust import is_trusted

    assert not is_trusted("torch._C._set_grad_enabled") and not is_trusted("torch._C._nn")
