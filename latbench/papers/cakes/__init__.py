"""CAKES (Yu et al.): channel-wise automatic kernel shrinking.

The folder's files are laid out as docs/papers.md says; this package imports nothing.
"""
