"""Discrete architectures of the search spaces: graphs of OpSpecs, samplers per space."""

from latbench.archs import (  # noqa: F401
    cakes, dints, dyncell, msnas, nasbench201, ofa_mbv3, published_models, stnas_decoder)
from latbench.archs.graph import INPUT, Architecture, ArchitectureModule, Edge
from latbench.archs.registry import (register_sampler, sample_architectures,
                                     spaces_with_architectures)

__all__ = ["INPUT", "Architecture", "ArchitectureModule", "Edge", "register_sampler",
           "sample_architectures", "spaces_with_architectures"]
