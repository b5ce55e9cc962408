"""Whole-model features counted on the meta device (``latbench.model_features``)."""

import torch
import torch.nn.functional as F

from latbench.model_features import count_model


class Attention(torch.nn.Module):
    """q, k, v (batch 1, 2 heads, 16 tokens, 8 channels) from the input, then fused attention."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = k = v = x.view(1, 2, 16, 8)
        return F.scaled_dot_product_attention(q, k, v)


def test_fused_attention_counts_its_score_map_and_output_as_activations():
    """timm's infer_macts (fvcore) counts QK^T (2 heads x 16 x 16) and AV (2 x 16 x 8); fused
    scaled_dot_product_attention is one aten call whose score map was not counted (ViT-S/16:
    8.25 M against timm's 11.95 M)."""
    features = count_model(Attention(), (1, 256))
    assert features["activations"] == 2 * 16 * 16 + 2 * 16 * 8
