"""ST-NAS (Lee et al.): spatial-temporal NAS for fast surgical segmentation.

The folder's files are laid out as docs/papers.md says; this package imports nothing.
"""
