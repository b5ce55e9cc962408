"""A user's model file for the latbench.models tests: a tiny CNN in a few variants, one with
data-dependent control flow that torch.fx cannot trace."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from latbench.errors import MissingDependencyError
from latbench.models import import_library

MODEL = textwrap.dedent('''
    import torch
    from torch import nn

    class Gate(nn.Module):
        """Data-dependent control flow: torch.fx cannot trace it."""
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x

    class Net(nn.Module):
        def __init__(self, gated=False, width=8):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 3, padding=1)
            self.bn = nn.BatchNorm2d(width)
            self.act = nn.GELU()
            self.gate = Gate() if gated else nn.Identity()
            self.proj = nn.Conv2d(width, width, 1, bias=False)
            self.head = nn.Linear(8, 5)

        def forward(self, x):
            y = self.act(self.bn(self.conv(x)))
            y = self.gate(y)
            y = y + self.proj(y).softmax(dim=1)
            y = torch.cat([y, y * 0.5], dim=1)[:, :8]
            return self.head(y.flatten(2).mean(-1))

    class Permuted(nn.Module):
        """ConvNeXt's layouts: a LayerNorm on a permuted map, a depthwise conv and a GELU on
        the channels-last map permuting back gives."""
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 2, stride=2)
            self.norm = nn.LayerNorm(8)
            self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.act = nn.GELU()

        def forward(self, x):
            y = self.norm(self.stem(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            return self.act(self.dw(y))

    def net():
        return Net()

    def permuted():
        return Permuted()

    def gated():
        return Net(gated=True)

    def wide():
        return Net(width=32)

    def wider():
        return Net(width=64)
''')


@pytest.fixture()
def model_file(tmp_path: Path) -> str:
    path = tmp_path / "mynet.py"
    path.write_text(MODEL)
    return str(path)


@pytest.fixture()
def needs_timm() -> None:
    """Skip without timm (imported through latbench's loader: torchvision's fallback)."""
    try:
        import_library("timm")
    except MissingDependencyError:
        pytest.skip("timm is not installed (the 'models' extra)")
