"""RT-DNAS genetic algorithm: genes are backbone paths, individuals are sets of N_l paths."""

from nas.ga.algorithm import GeneticAlgorithm, SearchResult, random_selection
from nas.ga.crossover import GeneSwapCrossover
from nas.ga.mutation import PoolMutation
from nas.ga.paths import GenePool, accumulated_weight, legal_paths, path_cells
from nas.ga.problem import PathSelectionProblem
from nas.ga.sampling import PoolSampling
from nas.ga.selection import ConstraintTournament

__all__ = ["ConstraintTournament", "GenePool", "GeneSwapCrossover", "GeneticAlgorithm",
           "PathSelectionProblem", "PoolMutation", "PoolSampling", "SearchResult",
           "accumulated_weight", "legal_paths", "path_cells", "random_selection"]
