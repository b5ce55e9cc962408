"""Predictor-guided searches of the papers, one module per paper, each taking a saved predictor:

- ``nas.stnas``: ST-NAS encoder depth + decoder mixed ops (``search``).
- ``nas.rtdnas``: RT-DNAS cells under L_ub and the GA decoding (``search``, ``ga``); its
  latency model is ``nas.rtdnas_latency``, its supernet ``nas.rtdnas_supernet``, the GA ``nas.ga``.
- ``nas.cakes``: CAKES channel-wise sub-kernels with the cost-aware lasso (``search``).
- ``nas.hypersegnas``: HyperSegNAS' memory filter and top-N confirmation (``search``).

Shared: ``nas.costs`` (costs from a predictor, checked), ``nas.regularizers``, ``nas.synthetic``
(the distillation task standing in for a dataset, ``Outcome``, progress callbacks). Nothing
here imports ``latbench.cli``; the command ``latbench search`` calls these modules.
"""
