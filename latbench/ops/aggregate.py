"""The six aggregation ops of the dynamic cells (Table 2 of the paper): two N,C,H,W inputs
``a`` and ``b`` of the same shape in, one N,C,H,W tensor out.

``agg_weighted_sum`` (0), ``agg_concat_conv`` (1), ``agg_predict_filter`` (2: ``a`` predicts
per-pixel filters applied to ``b``), ``agg_affine_sample`` (3: ``b`` predicts an affine grid
that resamples ``a``), ``agg_conv3d`` (4: 2×3×3 conv over the stacked pair) and
``agg_attention`` (5: ``a`` · sigmoid(``b``)).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.registry import register_op
from latbench.opspec import OpSpec


class WeightedSum(nn.Module):
    """w_a ⊙ a + w_b ⊙ b with one learnable weight per channel and input."""

    def __init__(self, channels: int):
        super().__init__()
        self.w_a = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.w_b = nn.Parameter(torch.ones(1, channels, 1, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * self.w_a + b * self.w_b


@register_op("agg_weighted_sum", n_inputs=2, ranks=(4,))
def build_agg_weighted_sum(spec: OpSpec) -> nn.Module:
    """Aggregation 0: summation with per-channel learnable weights for each input."""
    return WeightedSum(spec.input_shape[1])


class ConcatConv(nn.Module):
    """Channel concat, then 1×1 conv-BN-ReLU back to C channels."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(2 * channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()
        )

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([a, b], dim=1))


@register_op("agg_concat_conv", n_inputs=2, ranks=(4,))
def build_agg_concat_conv(spec: OpSpec) -> nn.Module:
    """Aggregation 1: channel-wise concatenation + 1×1 conv reducing 2C back to C."""
    return ConcatConv(spec.input_shape[1])


class PredictedFilter(nn.Module):
    """A k×k conv on ``a`` predicts a softmax-normalised k×k filter per pixel (shared over
    channels); the filters are applied to ``b`` through ``unfold``."""

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.kernel = kernel
        self.predict = nn.Conv2d(channels, kernel * kernel, kernel, padding=kernel // 2)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        n, c, h, w = b.shape
        kk = self.kernel * self.kernel
        filters = self.predict(a).softmax(dim=1).view(n, 1, kk, h * w)
        patches = F.unfold(b, self.kernel, padding=self.kernel // 2).view(n, c, kk, h * w)
        return (patches * filters).sum(dim=2).view(n, c, h, w)


@register_op(
    "agg_predict_filter", defaults={"kernel": 3}, n_inputs=2, ranks=(4,), params={"kernel": P.odd()}
)
def build_agg_predict_filter(spec: OpSpec) -> nn.Module:
    """Aggregation 2: the first input becomes per-pixel k×k filters applied to the second."""
    return PredictedFilter(spec.input_shape[1], spec.p["kernel"])


class AffineSample(nn.Module):
    """θ (N,2,3) from global-pooled ``b`` by a linear layer (initialised to the identity);
    ``a`` is resampled bilinearly on ``affine_grid(θ)``."""

    def __init__(self, channels: int):
        super().__init__()
        self.theta = nn.Linear(channels, 6)
        nn.init.zeros_(self.theta.weight)
        with torch.no_grad():
            self.theta.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        theta = self.theta(b.mean(dim=(2, 3))).view(-1, 2, 3)
        grid = F.affine_grid(theta, list(a.shape), align_corners=False)
        return F.grid_sample(a, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@register_op("agg_affine_sample", n_inputs=2, ranks=(4,))
def build_agg_affine_sample(spec: OpSpec) -> nn.Module:
    """Aggregation 3: the first input resampled on an affine grid predicted from the second.

    Spatial-transformer style: θ from the pooled second input, ``affine_grid``, bilinear
    ``grid_sample``."""
    return AffineSample(spec.input_shape[1])


class StackedConv3d(nn.Module):
    """Stack a, b as a depth-2 volume (N,C,2,H,W); 2×3×3 conv (no depth padding) -> BN-ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv3d(channels, channels, (2, 3, 3), padding=(0, 1, 1), bias=False)
        self.post = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.post(self.conv(torch.stack([a, b], dim=2)).squeeze(2))


@register_op("agg_conv3d", n_inputs=2, ranks=(4,))
def build_agg_conv3d(spec: OpSpec) -> nn.Module:
    """Aggregation 4: the two inputs stacked along a new dimension, 2×3×3 3D conv on top."""
    return StackedConv3d(spec.input_shape[1])


class SigmoidAttention(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * torch.sigmoid(b)


@register_op("agg_attention", n_inputs=2, ranks=(4,))
def build_agg_attention(spec: OpSpec) -> nn.Module:
    """Aggregation 5: dense attention, the first input times the sigmoid of the second."""
    return SigmoidAttention()
