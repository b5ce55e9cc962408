"""CAKES' registrations through the public plugin API: the space ``cakes`` (registered when
its module is imported) and the search ``cakes``; the paper times no deployment."""

from latbench.papers.cakes import space
from latbench.plugins import register_search

register_search(
    "cakes",
    "latbench.papers.cakes.command:run",
    spaces=(space.SPACE,),
    help="CAKES: channels per sub-kernel under the cost-priority lasso (--beta)",
)
