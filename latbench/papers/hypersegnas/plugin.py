"""HyperSegNAS' registrations (docs/papers.md): space ``dints``, search ``hypersegnas`` (or
``memory-filter``)."""

from latbench.papers.hypersegnas import space
from latbench.plugins import register_search

for _name in ("hypersegnas", "memory-filter"):
    register_search(
        _name,
        "latbench.papers.hypersegnas.command:run",
        spaces=(space.SPACE,),
        costs="memory",
        help="HyperSegNAS: keep sampled networks within a training-memory band "
        "(--predictor: `latbench fit --kind memory`)",
    )
