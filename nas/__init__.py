"""Predictor-guided searches of the papers, one module per paper, each taking a saved predictor:

- ``latbench.nas.stnas``: ST-NAS encoder depth + decoder mixed ops (``search``).
- ``latbench.nas.rtdnas``: RT-DNAS cells under L_ub and the GA decoding (``search``, ``ga``); its
  latency model is ``latbench.nas.rtdnas_latency``, its supernet ``latbench.nas.rtdnas_supernet``,
  the GA ``latbench.nas.ga``.
- ``latbench.nas.cakes``: CAKES channel-wise sub-kernels with the cost-aware lasso (``search``).
- ``latbench.nas.hypersegnas``: HyperSegNAS' memory filter and top-N confirmation (``search``).
- ``latbench.nas.choices``: the mixed-op search on any space with a ``ChoiceLayout``, a
  plugin's too (``search``).

Shared: ``latbench.nas.costs`` (costs from a predictor, checked), ``latbench.nas.regularizers``,
``latbench.nas.synthetic`` (the distillation task standing in for a dataset, ``Outcome``, progress
callbacks). Nothing here imports ``latbench.cli``; the command ``latbench search`` calls these
modules.
"""
