"""CAKES' registrations (docs/papers.md): space and search ``cakes``; no deployment protocol."""

from latbench.papers.cakes import space
from latbench.plugins import register_search

register_search(
    "cakes",
    "latbench.papers.cakes.command:run",
    spaces=(space.SPACE,),
    help="CAKES: channels per sub-kernel under the cost-priority lasso (--beta)",
)
