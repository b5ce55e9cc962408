"""CAKES (Yu et al., channel-wise automatic kernel shrinking), one folder:

- ``space.py``: the space ``cakes`` (sub-kernels per channel), its networks, sampler and
  layout.
- ``search.py``: channels per sub-kernel under the cost-priority lasso (Eq. 13);
  ``command.py``: ``latbench search cakes``.
- ``numbers.py``: the paper's numbers; ``plugin.py``: the registrations (the paper times no
  deployment: no protocol).

Importing this package imports nothing (``latbench.papers`` re-exports ``numbers``).
"""
