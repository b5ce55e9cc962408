"""CAKES (Yu et al.): channel-wise automatic kernel shrinking (files: docs/papers.md)."""
