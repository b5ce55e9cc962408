"""PyTorch eager runner (optionally replayed as a CUDA graph), timed by ``make_timer``."""

from __future__ import annotations

import numpy as np
import torch

from latbench.deploy.runners.base import RunInfo, batch_of, check_precision, versions
from latbench.device import require_cuda
from latbench.errors import MeasurementError
from latbench.timed import module_callable
from latbench.timing import Measurement, TimingConfig, make_timer
from latbench.timing.cuda import gpu_math_state


class TorchRunner:
    """``module(*inputs)`` under ``torch.inference_mode`` on ``device``.

    Inputs live on the device before timing starts, so transfers are never included.
    ``cuda_graph`` times CUDA-graph replays (launch overhead removed), as the op timer does.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        inputs: tuple[torch.Tensor, ...],
        device: str = "cpu",
        *,
        precision: str = "fp32",
        cuda_graph: bool = False,
        threads: int | None = None,
    ):
        dev = torch.device(device)
        if dev.type == "cuda":
            dev = require_cuda(dev)
        elif cuda_graph:
            raise MeasurementError(f"cuda_graph needs a CUDA device, not {device!r}")
        allowed = ("fp32", "fp16") if dev.type == "cuda" else ("fp32",)
        dtype = check_precision(precision, allowed, f"torch on {dev.type}")
        self.device, self.threads, self.cuda_graph = str(dev), threads, cuda_graph
        self.module = module.to(device=dev, dtype=dtype).eval()
        self.inputs = tuple(t.detach().to(device=dev, dtype=dtype) for t in inputs)
        self._forward = module_callable(self.module, self.inputs, "infer")
        self._last: object = None
        timer = make_timer(self.device, threads=threads, cuda_graph=cuda_graph)
        self.info = RunInfo(
            backend="torch",
            engine="torch-cudagraph" if cuda_graph else "torch-eager",
            device=self.device,
            precision=precision,
            batch=batch_of(self.inputs),
            transfers_included=False,
            timer=str(timer.describe()["timer"]),
            versions={
                **versions("torch"),
                **({"cuda": str(torch.version.cuda)} if dev.type == "cuda" else {}),
            },
            options=(
                {"threads": threads or torch.get_num_threads()}
                if dev.type == "cpu"
                else {"gpu_math": gpu_math_state()}
            ),
        )

    def run(self) -> None:
        self._last = self._forward()

    def measure(self, config: TimingConfig) -> Measurement:
        timer = make_timer(self.device, config, threads=self.threads, cuda_graph=self.cuda_graph)
        return timer.measure(self.run)

    def outputs(self) -> list[np.ndarray]:
        if self._last is None:
            self.run()
        outs = self._last if isinstance(self._last, (tuple, list)) else (self._last,)
        return [o.detach().float().cpu().numpy() for o in outs]

    def close(self) -> None:
        self._last = None
