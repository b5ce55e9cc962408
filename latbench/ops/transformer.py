"""Swin Transformer pieces (ST-NAS encoder): patch embedding, (shifted) window block, merging.

Token tensors use the N,H,W,C layout (rank 4) of the Swin reference code; only
``patch_embed`` takes an image in N,C,H,W. Every block pads H and W up to a multiple of its
window, as Swin's segmentation backbone does, so any frame size (576×320 included) works.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from latbench.ops import params as P
from latbench.ops.basic import out_channels
from latbench.ops.registry import REQUIRED, register_op
from latbench.opspec import OpSpec

MASK_VALUE = -100.0  # Swin's additive mask between tokens of different shifted regions


def _partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """N,H,W,C (H, W multiples of ``window``) -> N·nW, window², C."""
    n, h, w, c = x.shape
    x = x.view(n, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def _reverse(windows: torch.Tensor, window: int, n: int, h: int, w: int) -> torch.Tensor:
    """Inverse of ``_partition``: N·nW, window², C -> N,H,W,C."""
    x = windows.view(n, h // window, w // window, window, window, -1)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(n, h, w, -1)


def relative_position_index(window: int) -> torch.Tensor:
    """Index into the (2w-1)² bias table for every pair of tokens of a window (w², w²)."""
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    ).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return rel[..., 0] * (2 * window - 1) + rel[..., 1]


def shift_mask(hp: int, wp: int, window: int, shift: int) -> torch.Tensor:
    """Additive attention mask (nW, w², w²) of shifted windows on a padded hp×wp map."""
    regions = torch.zeros(1, hp, wp, 1)
    label = 0
    bands = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for hs in bands:
        for ws in bands:
            regions[:, hs, ws, :] = label
            label += 1
    win = _partition(regions, window).squeeze(-1)
    diff = win[:, None, :] - win[:, :, None]
    return torch.where(diff != 0, MASK_VALUE, 0.0)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside windows, with a learned relative position bias."""

    bias_index: torch.Tensor

    def __init__(self, dim: int, heads: int, window: int):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        self.register_buffer(
            "bias_index", relative_position_index(window).flatten(), persistent=False
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.bias_table[self.bias_index].view(n, n, -1).permute(2, 0, 1)
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            n_win = mask.shape[0]
            attn = attn.view(b // n_win, n_win, self.heads, n, n) + mask[None, :, None]
            attn = attn.view(b, self.heads, n, n)
        out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


def _heads_divide(shape: tuple[int, ...], p: dict) -> None:
    if shape[-1] % p["heads"]:
        raise ValueError(
            f"heads={p['heads']} must divide the channels C={shape[-1]} of the N,H,W,C input"
        )


@register_op(
    "swin_block",
    ranks=(4,),
    check=_heads_divide,
    **P.declare(
        heads=(REQUIRED, P.integer()),
        window=(7, P.integer()),
        shift=(False, P.boolean()),
        mlp_ratio=(4, P.positive_number(64.0)),
    ),
)
class SwinBlock(nn.Module):
    """Swin Transformer block on N,H,W,C tokens: (shifted) window attention, then MLP.

    LN -> window MHSA with relative position bias -> residual; LN -> MLP (ratio
    ``mlp_ratio``) -> residual. A map no larger than the window uses one unshifted window of
    the map's size, as Swin does."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        _, h, w, dim = spec.input_shape
        window, shift = spec.p["window"], spec.p["window"] // 2 if spec.p["shift"] else 0
        if min(h, w) <= window:
            window, shift = min(h, w), 0
        self.window, self.shift = window, shift
        self.pad_h, self.pad_w = (-h) % window, (-w) % window
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, spec.p["heads"], window)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * spec.p["mlp_ratio"])
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        mask = shift_mask(h + self.pad_h, w + self.pad_w, window, shift) if shift else None
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w, _ = x.shape
        y = F.pad(self.norm1(x), (0, 0, 0, self.pad_w, 0, self.pad_h))
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), dims=(1, 2))
        hp, wp = y.shape[1], y.shape[2]
        y = _reverse(self.attn(_partition(y, self.window), self.mask), self.window, n, hp, wp)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), dims=(1, 2))
        x = x + y[:, :h, :w, :]
        return x + self.mlp(self.norm2(x))


@register_op("patch_embed", ranks=(4,), **P.declare(out=(96, P.channels()), patch=(4, P.integer())))
class PatchEmbed(nn.Module):
    """Swin stem: patch×patch conv with stride patch, then LN (N,C,H,W -> N,H,W,C).

    Output N,H/p,W/p,D; the image is zero-padded to a multiple of the patch."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        self.patch, dim = spec.p["patch"], out_channels(spec)
        self.proj = nn.Conv2d(spec.input_shape[1], dim, self.patch, stride=self.patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = F.pad(x, (0, (-w) % self.patch, 0, (-h) % self.patch))
        return self.norm(self.proj(x).permute(0, 2, 3, 1))


@register_op(
    "patch_merging", ranks=(4,), **P.declare(out=(None, P.channels(lambda shape: 2 * shape[-1])))
)
class PatchMerging(nn.Module):
    """Swin down-sampling between stages on N,H,W,C: 2×2 -> one token, ``out`` (None: 2C).

    Each 2×2 neighbourhood concatenated (4C), LayerNorm, linear to ``out``."""

    def __init__(self, spec: OpSpec):
        super().__init__()
        dim = spec.input_shape[-1]
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, spec.p["out"] or 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[1], x.shape[2]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat(
            [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1
        )
        return self.reduction(self.norm(x))


@register_op("layer_norm", ranks=(2, 3, 4, 5))
def build_layer_norm(spec: OpSpec) -> nn.Module:
    """LayerNorm over the last dimension (the channels of N,...,C tokens)."""
    return nn.LayerNorm(spec.input_shape[-1])
