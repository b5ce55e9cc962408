"""Whole models known by name and input shape, not decomposed: rows of imported model-zoo
measurements (space ``timm``, ``latbench.importing_timm``). Their compact architecture
(``{"space", "name", "genotype": "timm:NAME", "meta"}``) rebuilds as an ``Architecture`` without
edges; ``meta["features"]`` carries the model's features (FLOPs, params, activations, op counts
per group, counted on the meta device) and ``meta["model"]`` names it as ``--model`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from latbench.architecture import INPUT, Architecture, register_genotype
from latbench.errors import LatbenchError

TIMM_SPACE = "timm"


@register_genotype(TIMM_SPACE)
def timm_model(genotype: str, meta: Mapping[str, Any]) -> Architecture:
    """``timm:NAME`` with its build meta (``input_shape``, ``features``) -> an Architecture
    without edges naming the model. Raises ``LatbenchError`` for another genotype form."""
    library, sep, name = genotype.partition(":")
    if library != "timm" or not sep or not name:
        raise LatbenchError(f"genotype {genotype!r} of space 'timm' must be timm:NAME")
    shape = meta.get("input_shape")
    if not (
        isinstance(shape, list)
        and len(shape) == 4
        and all(isinstance(s, int) and s > 0 for s in shape)
    ):
        raise LatbenchError(
            f"timm model {name!r}: meta.input_shape {shape!r} is not "
            "[batch, channels, height, width]"
        )
    return Architecture(TIMM_SPACE, (), INPUT, name, genotype, dict(meta))
