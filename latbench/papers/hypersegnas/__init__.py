"""HyperSegNAS (Peng et al., one-shot NAS for 3D segmentation), one folder:

- ``space.py``: the DiNTS space ``dints``, its networks and sampler.
- ``search.py``: the training-memory filter (a band around a DiNTS target) and the top-N
  confirmation; ``command.py``: ``latbench search hypersegnas`` (``--confirm N`` measures
  the top N). The memory it predicts comes from ``latbench/memory/`` and
  ``latbench.predictors`` (``latbench fit --kind memory``).
- ``numbers.py``: the paper's numbers; ``plugin.py``: the registrations.

Importing this package imports nothing (``latbench.papers`` re-exports ``numbers``).
"""
