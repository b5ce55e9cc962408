"""latbench's own plugin: the op kinds, the spaces of NAS-Bench-201 and OFA MobileNetV3, the
kinds of traced models (``latbench.ops.traced``), the five papers' folders (ST-NAS, RT-DNAS,
CAKES, HyperSegNAS, dynamic cells: each ``latbench/papers/<paper>/plugin.py`` registers its
spaces, searches and protocols) and the generic ``mixed-op`` search.

It goes through the same loader as a user's plugin (``latbench.plugins.load_plugins``, first in
its order; pyproject declares it in the entry-point group ``latbench.plugins``): importing the
modules below registers everything with the public API. Op kinds first, then the spaces built
from them with their samplers and genotype builders, then the papers, then the generic search
(a search's module is imported when it runs).
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
