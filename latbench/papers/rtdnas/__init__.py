"""RT-DNAS (Lu et al., real-time DNAS on the MS-NAS space, cardiac cine MRI), one folder:

- ``space.py``: the space ``msnas`` (multi-scale cells), its networks, sampler and layout.
- ``latency.py``: the network latency of soft cells (exact longest path, Eq. 3-5);
  ``supernet.py``: the supernet whose task loss the search trains.
- ``search.py``: cells under L_ub, then the path decoding on the GA of ``latbench.nas.ga``;
  ``command.py``: ``latbench search rtdnas`` and ``latbench search ga``.
- ``plugin.py``: the registrations, the protocol ``rtdnas`` included (the ordinary
  validation against ≤ 50 ms and ≥ 22 FPS); ``numbers.py``: the paper's numbers.

Importing this package imports nothing (``latbench.papers`` re-exports ``numbers``).
"""
