"""Dynamic cells (Nekrasov et al., video segmentation), one folder:

- ``space.py``: the space ``dyncell`` (encoder + dynamic cell + head), its networks and
  sampler.
- ``protocol.py``: the per-frame protocol, first frame through the full network
  (``latbench validate --protocol dyncell``).
- ``numbers.py``: the paper's numbers; ``plugin.py``: the registrations (the paper's
  controller is trained by RL: no search here).

Importing this package imports nothing (``latbench.papers`` re-exports ``numbers``).
"""
