"""Decomposing a model into the ops that execute as one unit, each an ``OpSpec``.

The model is traced with ``torch.fx.symbolic_trace``, then the graph is run once on the
example input (``torch.fx.Interpreter``) to learn every value's shape, dtype and the sizes
computed from shapes. torch.fx rather than ``torch.export``: fx keeps ``nn.Module`` calls whole
(a ``Conv2d`` is one node, whose key every model with that conv shares) and its nodes are the
calls eager PyTorch dispatches, which is what is timed; ``torch.export`` lowers to ATen ops,
the granularity of no runtime.

Leaf policy: every module of ``torch.nn`` (fx's default) plus the classes named by ``leaf``;
everything else is traced through. Nodes that produce no tensor (``x.shape``, indexing a
tuple) are folded into the arguments of the ops that use them; view-only calls (``view``,
``permute``, ...) are ops: eager PyTorch dispatches each one.
"""

from __future__ import annotations

import inspect
import operator
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from latbench.errors import LatbenchError, OpSpecError
from latbench.ops.traced import (
    Unencodable,
    block_digest,
    encode_value,
    function_name,
    tensor_shapes,
)
from latbench.opspec import OpSpec

INPUT = "in"  # latbench.architecture.INPUT


class UntraceableError(LatbenchError):
    """A model (or one of its nodes) that cannot be traced or has no op spec."""


@dataclass(frozen=True)
class TracedOp:
    """One op of a traced model: its spec, fx node name, module path (or the module whose
    code made the call) and the ops (node names, or ``in``) its tensor inputs come from."""

    spec: OpSpec
    node: str
    module_path: str
    src: tuple[str, ...]


@dataclass
class Decomposition:
    """A model as ops in execution order; ``output`` is the op producing the model's output."""

    model: str
    input_shape: tuple[int, ...]
    ops: list[TracedOp]
    output: str
    leaf: tuple[str, ...] = ()
    n_params: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    """Nodes that are not ops, by reason (``python``: no tensor out; ``constant``: no tensor
    in, e.g. ``torch.zeros(...)``)."""
    auto_leaf: tuple[str, ...] = ()
    """Classes traced as one op because torch.fx stops in them and timm says so."""
    unused_leaf: tuple[str, ...] = ()
    """``leaf`` names that are the class of no submodule (the model's own class included:
    torch.fx always traces the model's forward)."""

    def specs(self) -> list[OpSpec]:
        return [op.spec for op in self.ops]


class _LeafTracer(fx.Tracer):
    def __init__(self, leaf: Sequence[str], autowrap: tuple = ()):
        super().__init__(autowrap_functions=autowrap)
        self.leaf = set(leaf)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        leaf = any(name in self.leaf for name in _class_names(type(m)))
        return leaf or super().is_leaf_module(m, qualname)


class NodeRunError(UntraceableError):
    """A traced node that fails when run on the example input (e.g. on the meta device)."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def module_path(node: fx.Node) -> str:
    """The module path a node belongs to: its target for a module call, else the module whose
    forward made the call (fx's ``nn_module_stack``); "" for the model's own forward."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    return str(list(stack.values())[-1][0]) if stack else ""


def _where(node: fx.Node) -> str:
    """``module PATH`` / ``in module PATH`` / ``in the model's forward``, for messages."""
    path = module_path(node)
    if node.op == "call_module":
        return f"module {path}"
    return f"in module {path}" if path else "in the model's forward"


def _trace(
    model: nn.Module, leaf: Sequence[str], name: str
) -> tuple[fx.GraphModule, tuple[str, ...]]:
    """The traced graph, and the classes made leaves on the way: a module torch.fx stops in
    whose class timm registers as not traceable (``timm.layers.is_notrace_module``) is traced
    as one op, as timm's own feature extractor does; any other failure is one line."""
    timm_fx = sys.modules.get("timm.layers._fx")  # a timm model: timm is loaded already
    autowrap = tuple(getattr(timm_fx, "_autowrap_functions", ()))  # timm's untraceable helpers
    notrace = set(getattr(timm_fx, "_leaf_modules", ()))
    added: list[str] = []
    while True:
        tracer = _LeafTracer([*leaf, *added], autowrap)
        try:
            graph = tracer.trace(model)
            return fx.GraphModule(tracer.root, graph, type(model).__name__), tuple(added)
        except Exception as exc:
            owners = _failing_modules(exc, model)
            more = [
                qualified(type(m))
                for _, m in owners
                if type(m) in notrace and qualified(type(m)) not in added
            ]
            if not more or len(added) > 20:
                raise UntraceableError(
                    f"{name} does not trace with torch.fx{_raised_at(exc, owners)}: "
                    f"{type(exc).__name__}: {_first_line(exc)}; make that module one op with "
                    "--leaf ClassName"
                ) from None
            added.append(more[-1])


def qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _failing_modules(exc: BaseException, root: nn.Module) -> list[tuple[str, nn.Module]]:
    """(path, module) of the model's modules running when ``exc`` was raised, outermost first."""
    modules = {id(m): (p, m) for p, m in root.named_modules()}
    return [
        modules[owner]
        for frame, _ in traceback.walk_tb(exc.__traceback__)
        if (owner := id(frame.f_locals.get("self"))) in modules
        and not _in_torch(frame.f_code.co_filename)
    ]


def _in_torch(filename: str) -> bool:
    return "/torch/" in filename.replace("\\", "/")


def _raised_at(exc: BaseException, owners: list[tuple[str, nn.Module]]) -> str:
    """`` in module PATH (Class) at file.py:LINE (code)``: where ``exc`` was raised."""
    where = ""
    if owners:
        path, module = owners[-1]
        where += f" in module {path or '(the model itself)'} ({type(module).__name__})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _in_torch(f.filename)]
    if frames:
        line = frames[-1]
        where += f" at {line.filename.rsplit('/', 1)[-1]}:{line.lineno} ({line.line})"
    return where


def _check_it_runs(model: nn.Module, x: torch.Tensor, name: str) -> None:
    """After a failed trace: a model that also fails when simply run on ``x`` is reported as
    that (its own error and where it was raised), not as untraceable (--leaf cannot help)."""
    try:
        with torch.inference_mode():
            model(x)
    except Exception as exc:
        where = _raised_at(exc, _failing_modules(exc, model))
        shape = "x".join(map(str, x.shape))
        raise UntraceableError(
            f"{name} fails when run on a {shape} input{where}: {type(exc).__name__}: "
            f"{_first_line(exc)}"
        ) from None


def _has_tensor(value: Any) -> bool:
    nested = isinstance(value, (list, tuple)) and any(map(_has_tensor, value))
    return nested or isinstance(value, torch.Tensor)


@dataclass(frozen=True)
class _Input:
    """A tensor argument of a node and the node it comes from."""

    tensor: torch.Tensor
    node: fx.Node


def _tensor_text(t: torch.Tensor) -> str:
    """``NxCxHxW:dtype``, plus ``:s0,s1,...`` strides when not contiguous (another speed)."""
    text = f"{'x'.join(map(str, t.shape))}:{str(t.dtype).removeprefix('torch.')}"
    return text if t.is_contiguous() else f"{text}:{','.join(map(str, t.stride()))}"


def _init_args(module: nn.Module) -> tuple[tuple[str, Any], ...] | None:
    """Constructor arguments, read from ``module``, that rebuild it (same repr, shapes); or None."""
    cls = type(module)
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return None
    init: dict[str, Any] = {}
    for pname, p in list(sig.parameters.items())[1:]:
        skip = p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or pname in ("device", "dtype")
        if skip or not hasattr(module, pname):
            continue
        value = getattr(module, pname)
        if pname == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        try:
            init[pname] = encode_value(value, lambda v: None)
        except Unencodable:
            return None
    try:
        with torch.device("meta"):
            rebuilt = cls(**init)
    except Exception:
        return None
    if repr(rebuilt) != repr(module) or tensor_shapes(rebuilt) != tensor_shapes(module):
        return None
    return tuple(sorted(init.items()))


@dataclass
class _Specifier:
    """Turns recorded fx nodes into OpSpecs."""

    gm: fx.GraphModule
    values: dict[fx.Node, Any]
    model: str
    shape: tuple[int, ...]
    leaf: tuple[str, ...]
    dtype: str
    seen_leaf: dict[tuple, str] = field(default_factory=dict)

    def spec(self, node: fx.Node) -> tuple[OpSpec, list[fx.Node]]:
        """The node's OpSpec and the nodes of its tensor inputs, in input order."""
        found: list[_Input] = []

        def index(value: Any) -> int | None:
            if not isinstance(value, _Input):
                return None
            found.append(value)
            return len(found) - 1

        def value_of(arg: fx.Node) -> Any:
            value = self.values[arg]
            if isinstance(value, torch.Tensor):
                return _Input(value, arg)
            if _has_tensor(value):  # a tuple of tensors passed whole (rare)
                return tuple(_Input(v, arg) if isinstance(v, torch.Tensor) else v for v in value)
            return value

        try:
            call = (tuple(node.args), tuple(node.kwargs.items()))
            args, items = encode_value(fx.node.map_arg(call, value_of), index)
            kwargs = tuple(sorted(items))
        except Unencodable as exc:
            raise UntraceableError(
                f"node {node.name} ({_where(node)}) has an argument with no "
                f"op key form: {exc}; make its module one op with --leaf "
                "ClassName"
            ) from None
        inputs = tuple(_tensor_text(i.tensor) for i in found)
        first = tuple(found[0].tensor.shape) if found and found[0].tensor.dim() > 0 else (1,)
        common = dict(inputs=inputs, args=args, kwargs=kwargs)
        try:
            if node.op == "call_module":
                spec = self._module_spec(node, first, common)
            else:
                target = node.target  # call_method: its name; call_function: the callable
                fn = f"method:{target}" if isinstance(target, str) else function_name(target)
                spec = OpSpec.make("torch_call", first, dtype=self.dtype, fn=fn, **common)
        except OpSpecError as exc:
            raise UntraceableError(
                f"node {node.name} ({_where(node)}) has no op spec: {exc}; "
                "make its module one op with --leaf ClassName"
            ) from None
        return spec, [i.node for i in found]

    def _module_spec(self, node: fx.Node, first: tuple[int, ...], common: dict) -> OpSpec:
        module = self.gm.get_submodule(str(node.target))
        builtin = _builtin_spec(module, node, self.values, self.dtype)
        if builtin is not None:
            return builtin
        cls = type(module)
        is_user_leaf = any(name in self.leaf for name in _class_names(cls))
        init = None if is_user_leaf else _init_args(module)
        if init is not None:
            return OpSpec.make(
                "torch_module", first, dtype=self.dtype, module=qualified(cls), init=init, **common
            )
        # the same block at another path (repeated blocks of a stage): one key for all
        digest = block_digest(module)
        sig = (cls, digest, common["inputs"], common["args"], common["kwargs"])
        path = self.seen_leaf.setdefault(sig, str(node.target))
        return OpSpec.make(
            "submodule",
            first,
            dtype=self.dtype,
            model=self.model,
            shape="x".join(map(str, self.shape)),
            path=path,
            digest=digest,
            **common,
        )


def _builtin_spec(module: Any, node: fx.Node, values: dict, dtype: str) -> OpSpec | None:
    """The spec of the built-in kind that builds exactly this module call, or None."""
    if len(node.args) != 1 or node.kwargs or not isinstance(node.args[0], fx.Node):
        return None
    x = values[node.args[0]]
    if (
        not isinstance(x, torch.Tensor)
        or str(x.dtype).removeprefix("torch.") != dtype
        or not x.is_contiguous()  # built-in kinds take contiguous inputs
    ):
        return None
    shape = tuple(x.shape)
    cls = type(module)
    if (
        cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d)
        and module.padding_mode == "zeros"
        and len(shape) == module.weight.dim()
    ):
        k, d = module.kernel_size, module.dilation
        if module.padding == tuple(di * (ki - 1) // 2 for ki, di in zip(k, d)):
            return OpSpec.make(
                "conv",
                shape,
                dtype=dtype,
                out=module.out_channels,
                kernel=k,
                stride=module.stride,
                dilation=d,
                groups=module.groups,
                bias=module.bias is not None,
            )
    if cls is nn.Linear and len(shape) == 2 and module.bias is not None:
        return OpSpec.make("linear", shape, dtype=dtype, out=module.out_features)
    if (
        cls is nn.LayerNorm
        and module.normalized_shape == shape[-1:]
        and module.eps == 1e-5
        and module.elementwise_affine
        and module.bias is not None
        and len(shape) >= 2
    ):
        return OpSpec.make("layer_norm", shape, dtype=dtype)
    if (
        cls is nn.BatchNorm2d
        and len(shape) == 4
        and module.eps == 1e-5
        and module.affine
        and module.track_running_stats
        and module.momentum == 0.1
    ):
        return OpSpec.make("norm_act", shape, dtype=dtype, norm="bn", act="none")
    if cls is nn.ReLU and len(shape) == 4 and not module.inplace:
        return OpSpec.make("norm_act", shape, dtype=dtype, norm="none", act="relu")
    return None


def decompose(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    name: str = "model",
    leaf: Iterable[str] = (),
    dtype: str = "float32",
) -> Decomposition:
    """``model`` (in eval mode; not modified) as the ops it runs on one input of
    ``input_shape``, in execution order, each an ``OpSpec`` buildable from its key.

    ``name`` is the model's name as ``load_model`` takes it (``submodule`` ops rebuild from
    it); ``leaf``: class names (or qualified names) traced as one op. Raises
    ``UntraceableError`` naming the node and module path that does not trace or has no spec,
    or an input of ``input_shape`` that cannot be allocated.
    Runs the model once on a random input of ``input_shape`` on the model's device (the
    ``meta`` device works: shapes only)."""
    leaf = tuple(leaf)
    x = _example_input(model, input_shape, name)
    try:
        gm, auto_leaf = _trace(model, leaf, name)
    except UntraceableError:
        _check_it_runs(model, x, name)
        raise
    interpreter = fx.Interpreter(gm, garbage_collect_values=False)
    interpreter.extra_traceback = False  # else fx appends the graph dump to the message
    try:
        with torch.inference_mode():
            interpreter.run(x)
    except LatbenchError:
        raise
    except Exception as exc:
        failed = next(n for n in gm.graph.nodes if n not in interpreter.env)
        raise NodeRunError(
            f"{name} at {'x'.join(map(str, input_shape))}: node {failed.name} ({_where(failed)}) "
            f"fails when run: {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    values = interpreter.env
    specifier = _Specifier(gm, values, name, tuple(input_shape), leaf, dtype)
    producer: dict[fx.Node, str] = {}
    ops: list[TracedOp] = []
    dropped: dict[str, int] = {}
    output = INPUT
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            producer[node] = INPUT
            continue
        if node.op == "output":
            flat: list[fx.Node] = []
            fx.node.map_arg(node.args[0], flat.append)
            output = producer.get(flat[0], INPUT) if flat else INPUT
            continue
        if not _has_tensor(values[node]):
            dropped["python"] = dropped.get("python", 0) + 1
            continue
        if (
            node.op == "call_function"
            and node.target is operator.getitem
            and not isinstance(values[node.args[0]], torch.Tensor)
        ):
            producer[node] = producer.get(node.args[0], INPUT)  # an element of a tuple output
            dropped["python"] = dropped.get("python", 0) + 1
            continue
        if not any(_has_tensor(values[n]) for n in node.all_input_nodes):
            dropped["constant"] = dropped.get("constant", 0) + 1  # e.g. torch.zeros(...)
            producer[node] = INPUT
            continue
        spec, sources = specifier.spec(node)
        src = tuple(producer.get(s, INPUT) for s in sources)
        ops.append(TracedOp(spec, node.name, module_path(node), src))
        producer[node] = node.name
    if not ops:
        raise UntraceableError(f"{name}: tracing found no op that computes a tensor")
    n_params = sum(p.numel() for p in model.parameters())
    classes = {c for m in model.modules() if m is not model for c in _class_names(type(m))}
    return Decomposition(
        name,
        tuple(input_shape),
        ops,
        output if output != INPUT else ops[-1].node,
        leaf,
        n_params,
        dropped,
        auto_leaf,
        tuple(name for name in leaf if name not in classes),
    )


def _class_names(cls: type) -> tuple[str, str]:
    """The two names ``leaf`` may give a class by: ``Block`` and ``pkg.module.Block``."""
    return cls.__name__, qualified(cls)


def _example_input(model: nn.Module, input_shape: Sequence[int], name: str) -> torch.Tensor:
    """A random input of ``input_shape`` on the model's device (uninitialised on ``meta``)."""
    param = next(model.parameters(), None)
    device = torch.device("cpu") if param is None else param.device
    make = torch.empty if device.type == "meta" else torch.randn
    try:
        return make(tuple(input_shape), device=device)
    except (RuntimeError, MemoryError) as exc:  # the allocator: too large for this machine
        shape = "x".join(map(str, input_shape))
        raise UntraceableError(
            f"{name}: cannot make an input of shape {shape} on {device}: {_first_line(exc)}"
        ) from None
