"""latbench's own plugin: the op kinds, spaces, samplers, layouts and genotype builders of the
five papers (ST-NAS, RT-DNAS, CAKES, HyperSegNAS, dynamic cells), of NAS-Bench-201 and
OFA MobileNetV3, and the kinds of traced models (``latbench.ops.traced``).

It goes through the same loader as a user's plugin (``latbench.plugins.load_plugins``, first in
its order; pyproject declares it in the entry-point group ``latbench.plugins``): importing the
modules below registers everything with the public decorators. Op kinds first, then the spaces
built from them, then the samplers and genotype builders attached to those spaces, the OFA row
parser of ``latbench import-nets``, then the generic search (its module is imported when it runs).
"""

# ruff: noqa: F401, I001  (imported for their registrations, in this order)
from latbench.ops import aggregate, basic, blocks, deform, mobilenetv3, traced, transformer
from latbench.spaces import (
    cakes,
    dints,
    dyncell,
    msnas,
    nasbench201,
    ofa_mbv3,
    stnas_decoder,
    stnas_encoder,
)
from latbench.archs import cakes as _cakes_archs
from latbench.archs import dints as _dints_archs
from latbench.archs import dyncell as _dyncell_archs
from latbench.archs import msnas as _msnas_archs
from latbench.archs import nasbench201 as _nasbench201_archs
from latbench.archs import ofa_mbv3 as _ofa_mbv3_archs
from latbench.archs import published_models as _published_models_archs
from latbench.archs import stnas_decoder as _stnas_decoder_archs
from latbench import importing_ofa  # the ofa-mbv3 row parser of import-nets
from latbench.nas.searches import register_search

# mixed ops per slot with λ · expected latency, on any space with a ChoiceLayout (--space)
register_search("mixed-op", "latbench.nas.choices:search", default_lambda=0.5)
