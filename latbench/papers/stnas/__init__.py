"""ST-NAS (Lee et al., spatial-temporal NAS for surgical video), one folder:

- ``encoder.py``: the space ``stnas-encoder`` (Swin stages whose depth is searched).
- ``decoder.py``: the space ``stnas-decoder`` (mixed ops over an 11-frame window), its
  sampler and layout.
- ``search.py``: encoder depth + decoder ops under the expected-latency regulariser;
  ``command.py``: ``latbench search stnas``.
- ``protocol.py``: FPS = 1 / T_inf (``latbench validate --protocol stnas``).
- ``numbers.py``: the paper's numbers; ``plugin.py``: the registrations.

Importing this package imports nothing (``latbench.papers`` re-exports ``numbers``).
"""
