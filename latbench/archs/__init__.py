"""Discrete architectures of the search spaces: graphs of OpSpecs, samplers per space (the
built-in ones registered by ``latbench.builtin`` through the plugin loader)."""

from latbench.archs.graph import INPUT, Architecture, ArchitectureModule, Edge
from latbench.archs.registry import register_genotype, sample_architectures

__all__ = [
    "INPUT",
    "Architecture",
    "ArchitectureModule",
    "Edge",
    "register_genotype",
    "sample_architectures",
]
