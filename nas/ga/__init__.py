"""RT-DNAS genetic algorithm: genes are backbone paths, individuals are sets of N_l paths."""

from latbench.nas.ga.algorithm import GeneticAlgorithm, SearchResult, random_selection
from latbench.nas.ga.crossover import GeneSwapCrossover
from latbench.nas.ga.mutation import PoolMutation
from latbench.nas.ga.paths import GenePool, accumulated_weight, legal_paths, path_cells
from latbench.nas.ga.problem import PathSelectionProblem
from latbench.nas.ga.sampling import PoolSampling
from latbench.nas.ga.selection import ConstraintTournament

__all__ = ["ConstraintTournament", "GenePool", "GeneSwapCrossover", "GeneticAlgorithm",
           "PathSelectionProblem", "PoolMutation", "PoolSampling", "SearchResult",
           "accumulated_weight", "legal_paths", "path_cells", "random_selection"]
