"""Test-only op kinds that fault, and a space of them (never registered by latbench itself).

Loaded as a plugin file (``LATBENCH_PLUGINS``) by the fault tests' subprocesses and their
measuring workers: ``test_crash`` segfaults in its forward, ``test_exit`` calls ``os._exit``,
``test_hang`` never returns, ``test_regex`` never returns while holding the GIL (a
catastrophic regular expression: no thread of its process runs), ``test_oom`` raises the CPU
allocator's error, ``test_leak`` keeps 128 MiB more of resident memory at each build; spaces
``test-faults``, ``test-leaks`` and ``test-convs`` list them.
"""

from __future__ import annotations

import ctypes
import os
import re
import time

import torch
from torch import nn

from latbench.ops.params import integer
from latbench.ops.registry import register_op
from latbench.opspec import OpSpec
from latbench.spaces.registry import register_space


class _Fault(nn.Module):
    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.what == "crash":
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        elif self.what == "exit":
            os._exit(3)
        elif self.what == "hang":
            time.sleep(3600)
        elif self.what == "regex":
            re.match(r"(a+)+$", "a" * 64 + "b")
        elif self.what == "oom":
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: "
                "can't allocate memory: you tried to allocate 1099511627776 bytes"
            )
        return x


for _what in ("crash", "exit", "hang", "regex", "oom"):
    register_op(f"test_{_what}", defaults={})(lambda spec, w=_what: _Fault(w))

LEAKED: list[bytearray] = []


@register_op("test_leak", defaults={"n": 0}, params={"n": integer(0)})
def _leak(spec: OpSpec) -> nn.Module:
    """An identity that leaks 128 MiB (written, so resident) each time it is built."""
    LEAKED.append(bytearray(b"x" * (128 << 20)))
    return nn.Identity()


FAULTS_SHAPE = (1, 4, 8, 8)


@register_space("test-faults", paper="tests only")
def _ops(size: str) -> list[OpSpec]:
    """Convolutions with a segfaulting, an exiting, a hanging and a GIL-holding op between."""
    conv = [OpSpec.make("conv", FAULTS_SHAPE, kernel=k) for k in (1, 3, 5, 7, 9)]
    return [
        conv[0],
        OpSpec.make("test_crash", FAULTS_SHAPE),
        conv[1],
        OpSpec.make("test_exit", FAULTS_SHAPE),
        conv[2],
        OpSpec.make("test_hang", FAULTS_SHAPE),
        conv[3],
        OpSpec.make("test_regex", FAULTS_SHAPE),
        conv[4],
    ]


@register_space("test-leaks", paper="tests only")
def _leaks(size: str) -> list[OpSpec]:
    """Eight leaking ops (128 MiB each)."""
    return [OpSpec.make("test_leak", FAULTS_SHAPE, n=n) for n in range(8)]


@register_space("test-convs", paper="tests only")
def _convs(size: str) -> list[OpSpec]:
    """Eight small convolutions (for the concurrent-writers test)."""
    return [
        OpSpec.make("conv", FAULTS_SHAPE, kernel=k, out=c) for k in (1, 3) for c in (4, 8, 12, 16)
    ]
