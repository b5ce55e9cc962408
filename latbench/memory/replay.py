"""Replay a ``MemoryTrace``: as plain live bytes (CPU) or through the caching-allocator model.

A CPU has no caching allocator in PyTorch: glibc hands large blocks back on free (with the
mmap threshold fixed, see ``latbench.memory.cpu``), so a CPU's peak is the peak of live bytes.
On a GPU the same trace goes through ``CachingAllocatorSim`` to give peak allocated (rounded
blocks) and peak reserved (segments) bytes, the two numbers ``torch.cuda`` reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from latbench.memory.allocator import CachingAllocatorSim
from latbench.memory.trace import ALLOC, MemoryTrace


@dataclass(frozen=True)
class ReplayResult:
    """Peaks of one replay, in bytes, and the phase in which the reported peak happened."""

    setup_bytes: int
    peak_live_bytes: int
    peak_allocated_bytes: int | None
    peak_reserved_bytes: int | None
    peak_phase: str
    n_segments: int | None = None

    @property
    def growth_live_bytes(self) -> int:
        """Peak live bytes above what existed before the steps (parameters, inputs)."""
        return self.peak_live_bytes - self.setup_bytes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def replay_live(trace: MemoryTrace, min_bytes: int = 0) -> ReplayResult:
    """Sum of live bytes over the trace: its peak and where it happened.

    ``min_bytes`` counts only allocations at least that large: with glibc's mmap threshold
    fixed (the CPU protocol), smaller ones come from heap pages the warm-up step already made
    resident, so they do not grow RSS.
    """
    sizes: dict[int, int] = {}
    live = peak = 0
    peak_at = 0
    for i, (kind, handle, nbytes) in enumerate(trace.events):
        if kind == ALLOC and nbytes < min_bytes and i >= trace.n_setup:
            sizes[handle] = 0
        elif kind == ALLOC:
            sizes[handle] = nbytes
            live += nbytes
            if live > peak:
                peak, peak_at = live, i
        else:
            live -= sizes.pop(handle)
    return ReplayResult(trace.setup_bytes, peak, None, None, trace.phase_at(peak_at))


def replay_allocator(
    trace: MemoryTrace, capacity_bytes: int | None = None, max_split_bytes: int | None = None
) -> ReplayResult:
    """The trace through the caching-allocator model: peak allocated and reserved bytes.

    Raises ``AllocatorOOM`` when ``capacity_bytes`` is given and the trace does not fit.
    """
    sim = CachingAllocatorSim(capacity_bytes, max_split_bytes)
    live = peak_live = 0
    peak_at, last_reserved = 0, 0
    sizes: dict[int, int] = {}
    for i, (kind, handle, nbytes) in enumerate(trace.events):
        if kind == ALLOC:
            sim.malloc(handle, nbytes)
            sizes[handle] = nbytes
            live += nbytes
            peak_live = max(peak_live, live)
            if sim.reserved_bytes > last_reserved:
                last_reserved, peak_at = sim.reserved_bytes, i
        else:
            sim.free(handle)
            live -= sizes.pop(handle)
    return ReplayResult(
        trace.setup_bytes,
        peak_live,
        sim.peak_allocated_bytes,
        sim.peak_reserved_bytes,
        trace.phase_at(peak_at),
        sim.n_segment_allocs,
    )
