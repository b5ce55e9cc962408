"""Discrete architectures of the search spaces: graphs of OpSpecs, samplers per space (the
built-in ones registered by ``latbench.builtin`` through the plugin loader)."""

from latbench.architecture import INPUT, Architecture, ArchitectureModule, Edge, register_genotype
from latbench.archs.registry import sample_architectures

__all__ = [
    "INPUT",
    "Architecture",
    "ArchitectureModule",
    "Edge",
    "register_genotype",
    "sample_architectures",
]
