"""Test-only op kinds that fault, and a space of them (never registered by latbench itself).

Imported by the fault tests' subprocesses: ``test_crash`` segfaults in its forward,
``test_exit`` calls ``os._exit``, ``test_hang`` never returns, ``test_oom`` raises the CPU
allocator's error; a space ``test-faults`` puts them between ordinary convolutions.
"""

from __future__ import annotations

import ctypes
import os
import time

import torch
from torch import nn

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
        elif self.what == "oom":
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: "
                "can't allocate memory: you tried to allocate 1099511627776 bytes"
            )
        return x


for _what in ("crash", "exit", "hang", "oom"):
    register_op(f"test_{_what}", defaults={})(lambda spec, w=_what: _Fault(w))

FAULTS_SHAPE = (1, 4, 8, 8)


@register_space("test-faults", paper="tests only")
def _ops(size: str) -> list[OpSpec]:
    """Convolutions with a segfaulting, an exiting and a hanging op between them."""
    conv = [OpSpec.make("conv", FAULTS_SHAPE, kernel=k) for k in (1, 3, 5, 7)]
    return [
        conv[0],
        OpSpec.make("test_crash", FAULTS_SHAPE),
        conv[1],
        OpSpec.make("test_exit", FAULTS_SHAPE),
        conv[2],
        OpSpec.make("test_hang", FAULTS_SHAPE),
        conv[3],
    ]


@register_space("test-convs", paper="tests only")
def _convs(size: str) -> list[OpSpec]:
    """Eight small convolutions (for the concurrent-writers test)."""
    return [
        OpSpec.make("conv", FAULTS_SHAPE, kernel=k, out=c) for k in (1, 3) for c in (4, 8, 12, 16)
    ]
