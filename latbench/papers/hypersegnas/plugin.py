"""HyperSegNAS' registrations through the public plugin API: the DiNTS space ``dints``
(registered when its module is imported) and the search ``hypersegnas`` (or ``memory-filter``)."""

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
