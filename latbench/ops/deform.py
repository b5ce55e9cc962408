"""Deformable convolution (Dai et al. / DCNv2's sampling without modulation) in plain torch.

An offset conv predicts 2·k² offsets per pixel; ``grid_sample`` gathers the k² bilinearly
sampled taps of every pixel (N, C, k²·H, W); the convolution itself is then one matmul with
the (out, C·k²) weight, as im2col would do. Runs on any device, ``meta`` included.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.basic import ACTS, NORMS, out_channels, wrap_norm_act
from latbench.ops.registry import register_op
from latbench.opspec import OpSpec


class DeformConv2d(nn.Module):
    """k×k deformable convolution with 'same' padding and stride 1."""

    def __init__(self, cin: int, cout: int, kernel: int, dilation: int):
        super().__init__()
        self.kernel, self.dilation = kernel, dilation
        pad = dilation * (kernel - 1) // 2
        self.offset = nn.Conv2d(cin, 2 * kernel * kernel, kernel, padding=pad, dilation=dilation)
        nn.init.zeros_(self.offset.weight)  # starts as a regular convolution
        nn.init.zeros_(self.offset.bias)
        self.weight = nn.Parameter(torch.empty(cout, cin * kernel * kernel))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        taps = (torch.arange(kernel, dtype=torch.float32) - (kernel - 1) / 2) * dilation
        ty, tx = torch.meshgrid(taps, taps, indexing="ij")
        self.register_buffer("taps", torch.stack((ty.flatten(), tx.flatten())), persistent=False)

    def sampling_grid(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised (x, y) sampling positions of every tap of every pixel: N, k²·H, W, 2."""
        n, _, h, w = x.shape
        kk = self.kernel * self.kernel
        off = self.offset(x).view(n, kk, 2, h, w)
        iy = torch.arange(h, device=x.device, dtype=x.dtype).view(1, 1, h, 1)
        ix = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, 1, w)
        taps = self.taps.to(x.dtype)
        py = iy + taps[0].view(1, kk, 1, 1) + off[:, :, 0]
        px = ix + taps[1].view(1, kk, 1, 1) + off[:, :, 1]
        gy = py * (2.0 / max(h - 1, 1)) - 1.0
        gx = px * (2.0 / max(w - 1, 1)) - 1.0
        return torch.stack((gx, gy), dim=-1).view(n, kk * h, w, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        kk = self.kernel * self.kernel
        cols = F.grid_sample(
            x, self.sampling_grid(x), mode="bilinear", padding_mode="zeros", align_corners=True
        )
        cols = cols.view(n, c * kk, h * w)  # C-major, tap-minor: matches the weight layout
        return (self.weight @ cols).view(n, -1, h, w)


@register_op(
    "deform_conv",
    ranks=(4,),
    **P.declare(
        out=(None, P.channels()),
        kernel=(3, P.odd()),
        dilation=(1, P.integer()),
        norm=("bn", P.choice(*NORMS)),
        act=("relu", P.choice(*ACTS)),
        act_first=(False, P.boolean()),
    ),
)
def build_deform_conv(spec: OpSpec) -> nn.Module:
    """Deformable k×k convolution (offsets, bilinear sampling, matmul), then norm/act.

    The dynamic cells' 'deformable 3×3'; norm/act/act_first behave as for ``conv``."""
    kernel, dilation = spec.p["kernel"], spec.p["dilation"]
    cout = out_channels(spec)
    return wrap_norm_act(spec, [DeformConv2d(spec.input_shape[1], cout, kernel, dilation)], cout)
