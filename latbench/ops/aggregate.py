"""The six aggregation ops of the dynamic cells (Table 2 of the paper): two N,C,H,W inputs
``a`` and ``b`` of the same shape in, one N,C,H,W tensor out."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.registry import register_op
from latbench.opspec import OpSpec


@register_op("agg_weighted_sum", n_inputs=2, ranks=(4,))
class WeightedSum(nn.Module):
    """Aggregation 0: summation with per-channel learnable weights for each input."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        self.w_a = nn.Parameter(torch.ones(1, spec.input_shape[1], 1, 1))
        self.w_b = nn.Parameter(torch.ones(1, spec.input_shape[1], 1, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * self.w_a + b * self.w_b


@register_op("agg_concat_conv", n_inputs=2, ranks=(4,))
class ConcatConv(nn.Module):
    """Aggregation 1: channel-wise concatenation + 1×1 conv-BN-ReLU reducing 2C back to C."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        c = spec.input_shape[1]
        self.body = nn.Sequential(nn.Conv2d(2 * c, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([a, b], dim=1))


@register_op("agg_predict_filter", n_inputs=2, ranks=(4,), **P.declare(kernel=(3, P.odd())))
class PredictedFilter(nn.Module):
    """Aggregation 2: the first input becomes per-pixel k×k filters applied to the second.

    A k×k conv on ``a`` predicts a softmax-normalised filter per pixel (shared over channels),
    applied to ``b`` through ``unfold``."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        self.kernel = spec.p["kernel"]
        self.predict = nn.Conv2d(
            spec.input_shape[1], self.kernel**2, self.kernel, padding=self.kernel // 2
        )

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        n, c, h, w = b.shape
        kk = self.kernel * self.kernel
        filters = self.predict(a).softmax(dim=1).view(n, 1, kk, h * w)
        patches = F.unfold(b, self.kernel, padding=self.kernel // 2).view(n, c, kk, h * w)
        return (patches * filters).sum(dim=2).view(n, c, h, w)


@register_op("agg_affine_sample", n_inputs=2, ranks=(4,))
class AffineSample(nn.Module):
    """Aggregation 3: the first input resampled on an affine grid predicted from the second.

    Spatial-transformer style: θ (N,2,3) from the pooled second input by a linear layer
    (initialised to the identity), ``affine_grid``, bilinear ``grid_sample``."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        self.theta = nn.Linear(spec.input_shape[1], 6)
        nn.init.zeros_(self.theta.weight)
        with torch.no_grad():
            self.theta.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        theta = self.theta(b.mean(dim=(2, 3))).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(a.shape), align_corners=False)
        return F.grid_sample(a, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@register_op("agg_conv3d", n_inputs=2, ranks=(4,))
class StackedConv3d(nn.Module):
    """Aggregation 4: the two inputs stacked along a new dimension, 2×3×3 3D conv on top.

    No depth padding; BN-ReLU after the conv."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        c = spec.input_shape[1]
        self.conv = nn.Conv3d(c, c, (2, 3, 3), padding=(0, 1, 1), bias=False)
        self.post = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.post(self.conv(torch.stack([a, b], dim=2)).squeeze(2))


@register_op("agg_attention", n_inputs=2, ranks=(4,))
class SigmoidAttention(nn.Module):
    """Aggregation 5: dense attention, the first input times the sigmoid of the second."""

    def __init__(self, spec: OpSpec):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * torch.sigmoid(b)
