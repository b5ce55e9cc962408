"""A model of PyTorch's CUDA caching allocator, to turn a trace of allocations into reserved memory.

The caching allocator rounds every request, packs small ones into 2 MiB segments, carves 1-10 MiB
requests out of 20 MiB segments, best-fits into cached free blocks, splits and merges blocks, and
keeps segments until it runs out of memory. ``replay_allocator`` replays those rules
(c10/cuda/CUDACachingAllocator.cpp, defaults: one stream, no expandable segments, no GC
threshold) for peak allocated and reserved bytes. A CPU has no caching allocator: with glibc's
mmap threshold fixed (``latbench.memory.cpu``) its peak is that of live bytes (``replay_live``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from latbench.errors import LatbenchError
from latbench.memory.trace import ALLOC, MemoryTrace

MIN_BLOCK_BYTES = 512  # kMinBlockSize: every request is rounded up to a multiple of 512 B
SMALL_SIZE_BYTES = 1 << 20  # kSmallSize: requests up to 1 MiB use the small pool
SMALL_BUFFER_BYTES = 2 << 20  # kSmallBuffer: small requests are packed into 2 MiB segments
LARGE_BUFFER_BYTES = 20 << 20  # kLargeBuffer: 1-10 MiB requests get a 20 MiB segment
MIN_LARGE_ALLOC_BYTES = 10 << 20  # kMinLargeAlloc: from 10 MiB a segment is the request...
ROUND_LARGE_BYTES = 2 << 20  # kRoundLarge: ...rounded up to 2 MiB


def round_size(nbytes: int) -> int:
    """Bytes a request of ``nbytes`` occupies: at least 512, rounded up to a multiple of 512."""
    if nbytes < MIN_BLOCK_BYTES:
        return MIN_BLOCK_BYTES
    return MIN_BLOCK_BYTES * ((nbytes + MIN_BLOCK_BYTES - 1) // MIN_BLOCK_BYTES)


def segment_size(rounded: int) -> int:
    """Bytes cudaMalloc'ed for a new segment that must hold a ``rounded`` request."""
    if rounded <= SMALL_SIZE_BYTES:
        return SMALL_BUFFER_BYTES
    if rounded < MIN_LARGE_ALLOC_BYTES:
        return LARGE_BUFFER_BYTES
    return ROUND_LARGE_BYTES * ((rounded + ROUND_LARGE_BYTES - 1) // ROUND_LARGE_BYTES)


@dataclass(eq=False)
class Block:
    """A contiguous range of one segment, allocated or free."""

    addr: int
    size: int
    small: bool
    allocated: bool = False
    prev: Block | None = field(default=None, repr=False)
    next: Block | None = field(default=None, repr=False)

    def key(self) -> tuple[int, int]:
        return (self.size, self.addr)


class CachingAllocatorSim:
    """Best-fit caching allocator with small/large pools, block splitting and merging; segments
    are kept (as PyTorch does until it runs out of memory). ``max_split_bytes`` mirrors
    ``PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb`` (None: PyTorch's default, unlimited; older
    releases used 200 MiB).
    """

    def __init__(self, max_split_bytes: int | None = None):
        self.max_split_bytes = max_split_bytes
        self._free: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
        self._by_key: dict[tuple[int, int], Block] = {}
        self._live: dict[int, Block] = {}
        self._next_addr = 0
        self.allocated_bytes = self.reserved_bytes = 0
        self.peak_allocated_bytes = 0

    def _insert_free(self, block: Block) -> None:
        bisect.insort(self._free[block.small], block.key())
        self._by_key[block.key()] = block

    def _remove_free(self, block: Block) -> None:
        pool = self._free[block.small]
        del pool[bisect.bisect_left(pool, block.key())]
        del self._by_key[block.key()]

    def _best_fit(self, size: int, small: bool) -> Block | None:
        pool = self._free[small]
        i = bisect.bisect_left(pool, (size, -1))
        if i == len(pool):
            return None
        block = self._by_key[pool[i]]
        limit = self.max_split_bytes
        if limit is not None and (
            size < limit <= block.size
            or (size >= limit and block.size >= size + LARGE_BUFFER_BYTES)
        ):
            return None  # an oversize cached block only serves requests of about its own size
        return block

    def _new_segment(self, size: int, small: bool) -> Block:
        block = Block(self._next_addr, size, small)
        self._next_addr += size
        self.reserved_bytes += size  # kept until the end: the peak
        return block

    def _should_split(self, block: Block, size: int) -> bool:
        remaining = block.size - size
        if block.small:
            return remaining >= MIN_BLOCK_BYTES
        split_ok = self.max_split_bytes is None or size < self.max_split_bytes
        return split_ok and remaining > SMALL_SIZE_BYTES

    def malloc(self, handle: int, nbytes: int) -> int:
        """Allocate ``nbytes`` under ``handle``; returns the block's (simulated) address."""
        size = round_size(nbytes)
        small = size <= SMALL_SIZE_BYTES
        block = self._best_fit(size, small)
        if block is not None:
            self._remove_free(block)
        else:
            block = self._new_segment(segment_size(size), small)
        if self._should_split(block, size):
            rest = Block(
                block.addr + size,
                block.size - size,
                small,
                prev=block,
                next=block.next,
            )
            if block.next is not None:
                block.next.prev = rest
            block.next, block.size = rest, size
            self._insert_free(rest)
        block.allocated = True
        self._live[handle] = block
        self.allocated_bytes += block.size
        self.peak_allocated_bytes = max(self.peak_allocated_bytes, self.allocated_bytes)
        return block.addr

    def free(self, handle: int) -> None:
        """Free the block of ``handle``, merging it with free neighbours of its segment."""
        try:
            block = self._live.pop(handle)
        except KeyError:
            raise LatbenchError(f"free of unknown allocation handle {handle!r}") from None
        block.allocated = False
        self.allocated_bytes -= block.size
        for neighbour in (block.prev, block.next):
            if neighbour is not None and not neighbour.allocated:
                self._remove_free(neighbour)
                if neighbour is block.prev:
                    block.addr, block.prev = neighbour.addr, neighbour.prev
                    if neighbour.prev is not None:
                        neighbour.prev.next = block
                else:
                    block.next = neighbour.next
                    if neighbour.next is not None:
                        neighbour.next.prev = block
                block.size += neighbour.size
        self._insert_free(block)


@dataclass(frozen=True)
class ReplayResult:
    """Peaks of one replay, in bytes, and the phase in which the reported peak happened."""

    setup_bytes: int
    peak_live_bytes: int
    peak_allocated_bytes: int | None
    peak_reserved_bytes: int | None
    peak_phase: str

    @property
    def growth_live_bytes(self) -> int:
        """Peak live bytes above what existed before the steps (parameters, inputs)."""
        return self.peak_live_bytes - self.setup_bytes


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


def replay_allocator(trace: MemoryTrace, max_split_bytes: int | None = None) -> ReplayResult:
    """The trace through the caching-allocator model: peak allocated and reserved bytes."""
    sim = CachingAllocatorSim(max_split_bytes)
    peak_at = 0
    for i, (kind, handle, nbytes) in enumerate(trace.events):
        if kind == ALLOC:
            reserved = sim.reserved_bytes
            sim.malloc(handle, nbytes)
            if sim.reserved_bytes > reserved:
                peak_at = i
        else:
            sim.free(handle)
    return ReplayResult(
        trace.setup_bytes,
        replay_live(trace).peak_live_bytes,
        sim.peak_allocated_bytes,
        sim.reserved_bytes,
        trace.phase_at(peak_at),
    )
