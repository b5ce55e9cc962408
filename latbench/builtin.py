"""latbench's own plugin, loaded first by ``latbench.plugin_loader``: importing the modules below
registers the op kinds, the spaces, the papers' folders and the generic ``mixed-op`` search.
"""

# ruff: noqa: F401, I001  (imported for their registrations, in this order)
from latbench.ops import aggregate, basic, blocks, deform, mobilenetv3, traced, transformer
from latbench.archs import nasbench201, ofa_mbv3, published_models
from latbench.papers.cakes import plugin as _cakes
from latbench.papers.hypersegnas import plugin as _hypersegnas
from latbench.papers.dyncell import plugin as _dyncell
from latbench.papers.rtdnas import plugin as _rtdnas
from latbench.papers.stnas import plugin as _stnas
from latbench.nas.searches import register_search

register_search(
    "mixed-op",
    "latbench.nas.choices:search",
    default_lambda=0.5,
    help="mixed ops per slot with λ · expected latency, on any space with a ChoiceLayout (--space)",
)
