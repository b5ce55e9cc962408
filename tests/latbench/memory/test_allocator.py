"""The caching-allocator model against PyTorch's documented rules."""

from __future__ import annotations

import pytest

from latbench.memory.allocator import CachingAllocatorSim, round_size, segment_size

MIB = 2**20


def test_rounding_and_segment_sizes():
    assert [round_size(n) for n in (1, 512, 513, 1000)] == [512, 512, 1024, 1024]
    assert segment_size(4096) == 2 * MIB  # small pool: 2 MiB segments
    assert segment_size(5 * MIB) == 20 * MIB  # 1-10 MiB: a 20 MiB segment
    assert segment_size(11 * MIB + 1) == 12 * MIB  # >= 10 MiB: rounded up to 2 MiB


def test_small_requests_share_one_segment_and_large_ones_split_a_20_mib_segment():
    sim = CachingAllocatorSim()
    for h in range(3):
        sim.malloc(h, 100_000)
    assert sim.reserved_bytes == 2 * MIB and sim.allocated_bytes == 3 * round_size(100_000)
    sim.malloc(10, 5 * MIB)
    sim.malloc(11, 5 * MIB)
    assert sim.reserved_bytes == 22 * MIB  # one 20 MiB segment holds both


def test_best_fit_reuses_the_smallest_free_block_and_segments_are_kept():
    sim = CachingAllocatorSim()
    sim.malloc(1, 30 * MIB)
    sim.malloc(2, 50 * MIB)
    sim.free(1)
    sim.free(2)
    assert sim.reserved_bytes == 80 * MIB and sim.allocated_bytes == 0
    sim.malloc(3, 24 * MIB)  # fits the 30 MiB block best; 6 MiB left over is split off
    assert sim.reserved_bytes == 80 * MIB and sim.allocated_bytes == 24 * MIB
    sim.malloc(4, 6 * MIB)  # the split-off remainder of that block
    assert sim.reserved_bytes == 80 * MIB


def test_large_block_is_not_split_for_a_remainder_of_1_mib_or_less():
    sim = CachingAllocatorSim()
    sim.malloc(1, 12 * MIB)
    sim.free(1)
    sim.malloc(2, 11 * MIB + 512)  # remainder < 1 MiB: the whole 12 MiB block is handed out
    assert sim.allocated_bytes == 12 * MIB


def test_freed_neighbours_merge_so_a_bigger_request_fits_without_a_new_segment():
    sim = CachingAllocatorSim()
    for h in range(3):
        sim.malloc(h, 4 * MIB)  # all three from one 20 MiB segment
    sim.free(1)
    sim.free(0)
    sim.malloc(9, 8 * MIB)  # needs blocks 0 and 1 merged
    assert sim.reserved_bytes == 20 * MIB  # no second segment


def test_max_split_size_keeps_oversize_blocks_for_requests_of_their_own_size():
    sim = CachingAllocatorSim(max_split_bytes=200 * MIB)
    sim.malloc(1, 300 * MIB)
    sim.free(1)
    sim.malloc(2, 50 * MIB)
    assert sim.reserved_bytes == 350 * MIB  # the 300 MiB block was not split for 50 MiB
    sim.malloc(3, 290 * MIB)  # within 20 MiB of its size: the oversize block serves it
    assert sim.reserved_bytes == 350 * MIB


def test_peaks_and_unknown_free():
    sim = CachingAllocatorSim()
    sim.malloc(1, 30 * MIB)
    sim.free(1)
    sim.malloc(2, 10 * MIB)
    assert sim.peak_allocated_bytes == 30 * MIB and sim.reserved_bytes == 30 * MIB
    with pytest.raises(Exception, match="unknown allocation handle 7"):
        sim.free(7)
