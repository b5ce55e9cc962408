"""CAKES' registrations, through the public plugin API as a user's plugin makes them: the
space ``cakes`` (its module registers it on import) and the search ``cakes``. The paper
times no deployment, so there is no protocol."""

# ruff: noqa: F401  (imported for its registrations)
from latbench.papers.cakes import space
from latbench.plugins import register_search

register_search(
    "cakes",
    "latbench.papers.cakes.command:run",
    spaces=("cakes",),
    help="CAKES: channels per sub-kernel under the cost-priority lasso (--beta)",
)
