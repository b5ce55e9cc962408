"""Paper protocols with a fake clock: exact per-frame times, call counts, budget verdicts."""

from __future__ import annotations

import pytest
import torch

from latbench.deploy.protocols import WARMUP_FRAMES, FrameTiming, check_budget
from latbench.papers import STNAS_WINDOW
from latbench.papers.dyncell.protocol import dynamic_cell_timing
from latbench.papers.stnas.protocol import stnas_fps
from latbench.timing import Measurement


class CostClock:
    """A Sampler whose clock only moves when the fake modules say they ran."""

    name = "fake"

    def __init__(self):
        self.now_ms = 0.0

    def spend(self, ms: float) -> None:
        self.now_ms += ms

    def now_ns(self) -> int:
        return int(self.now_ms * 1e6)

    def sample(self, fn, calls, n):
        out = []
        for _ in range(n):
            t0 = self.now_ms
            for _ in range(calls):
                fn()
            out.append((self.now_ms - t0) / calls)
        return out


def _m(*ms: float) -> Measurement:
    return Measurement(tuple(ms), 1, "fake")


def test_rtdnas_budget_pass_and_fail():
    ok = check_budget(_m(40.0, 41.0, 42.0))  # ICA-UNet-like: 41 ms
    assert ok.latency_ok and ok.fps_ok and ok.passed
    assert ok.fps == pytest.approx(1000 / 41.0)
    slow = check_budget(_m(52.0, 52.0, 52.0))  # HW-aware NAS in RT-DNAS Table 2: 52 ms
    assert slow.latency_ok is False and slow.fps_ok is False and slow.passed is False
    assert check_budget(_m(52.0), budget_ms=None, min_fps=None).passed is None
    # throughput only: 48 ms meets 50 ms, and 1000/48 = 20.8 FPS misses 22 FPS
    mixed = check_budget(_m(48.0))
    assert mixed.latency_ok and mixed.fps_ok is False and not mixed.passed


def test_budget_judges_latency_and_fps_on_the_same_median():
    """One slow outlier moves the mean, not the verdict: both checks read the median."""
    check = check_budget(_m(10.0, 11.0, 60.0), batch=2, budget_ms=20.0, min_fps=150.0)
    assert check.latency_ms == 11.0 and check.fps == pytest.approx(2000 / 11.0)
    assert check.passed and check.statistic == "latency_median_ms"
    assert check.to_dict()["fps_from_latency_median_ms"] == pytest.approx(2000 / 11.0)


def test_frame_fps_uses_the_mean_frame_time():
    assert FrameTiming("p", _m(10.0, 30.0), 2).fps == pytest.approx(50.0)


def test_stnas_fps_is_encode_one_plus_decode_one_window():
    clock, seen_t, calls = CostClock(), [], {"enc": 0}

    def encoder(frame):
        calls["enc"] += 1
        clock.spend(2.0)
        return frame * 2

    def decoder(window):
        seen_t.append(window.shape[2])
        clock.spend(3.0)
        return window.mean()

    timing = stnas_fps(encoder, decoder, torch.ones(1, 3, 4, 4), n_frames=25, sampler=clock)
    assert timing.per_frame.samples_ms == (5.0,) * 25
    assert timing.fps == pytest.approx(200.0)
    assert set(seen_t) == {STNAS_WINDOW}  # every decode sees a full 11-frame window
    assert calls["enc"] == STNAS_WINDOW + WARMUP_FRAMES + 25
    assert timing.to_dict()["n_frames"] == 25


def test_dynamic_cells_first_frame_full_then_cell():
    clock, calls = CostClock(), {"full": 0, "cell": 0}

    def full(frame):
        calls["full"] += 1
        clock.spend(90.0)
        return frame

    def cell(frame, state):
        calls["cell"] += 1
        clock.spend(50.0)
        return state + frame

    t = dynamic_cell_timing(full, cell, [torch.ones(2), torch.zeros(2)], n_frames=11, sampler=clock)
    assert calls == {"full": 2, "cell": WARMUP_FRAMES + 10}
    assert t.first_frame_ms == 90.0 and t.following.samples_ms == (50.0,) * 10
    assert t.per_frame.mean_ms == pytest.approx((90 + 10 * 50) / 11)
    assert t.per_frame.std_ms > 0 and t.following.std_ms == 0
    assert t.to_dict()["following_mean_ms"] == 50.0


def test_real_modules_on_cpu_and_frame_count_checked():
    enc = torch.nn.Conv2d(3, 4, 3, padding=1)
    dec = torch.nn.Conv3d(4, 2, (STNAS_WINDOW, 1, 1))
    t = stnas_fps(enc, dec, torch.randn(1, 3, 8, 8), n_frames=5)
    assert t.per_frame.n == 5 and t.per_frame.timer == "cpu-perf_counter_ns" and t.fps > 0
    with pytest.raises(ValueError, match="n_frames=1"):
        dynamic_cell_timing(enc, lambda f, s: s, torch.randn(1, 3, 8, 8), n_frames=1)
