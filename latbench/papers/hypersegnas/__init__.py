"""HyperSegNAS (Peng et al.): one-shot NAS for 3D segmentation, a memory filter on DiNTS.

The folder's files are laid out as docs/papers.md says; this package imports nothing.
"""
