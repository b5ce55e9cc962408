"""RT-DNAS genetic algorithm on pymoo: genes are backbone paths, individuals sets of N_l paths."""

from latbench.nas.ga.algorithm import GeneticAlgorithm, SearchResult, random_selection
from latbench.nas.ga.operators import GeneSwapCrossover, PoolMutation, PoolSampling
from latbench.nas.ga.paths import GenePool, accumulated_weight, legal_paths, path_cells
from latbench.nas.ga.problem import PathSelectionProblem

__all__ = [
    "GenePool",
    "GeneSwapCrossover",
    "GeneticAlgorithm",
    "PathSelectionProblem",
    "PoolMutation",
    "PoolSampling",
    "SearchResult",
    "accumulated_weight",
    "legal_paths",
    "path_cells",
    "random_selection",
]
