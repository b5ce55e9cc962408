"""HyperSegNAS' registrations, through the public plugin API as a user's plugin makes them:
the DiNTS space ``dints`` (its module registers it on import) and the search ``hypersegnas``
(also ``memory-filter``), which reads a training-memory predictor."""

# ruff: noqa: F401  (imported for its registrations)
from latbench.papers.hypersegnas import space
from latbench.plugins import register_search

for _name in ("hypersegnas", "memory-filter"):
    register_search(
        _name,
        "latbench.papers.hypersegnas.command:run",
        spaces=("dints",),
        costs="memory",
        help="HyperSegNAS: keep sampled networks within a training-memory band "
        "(--predictor: `latbench fit --kind memory`)",
    )
