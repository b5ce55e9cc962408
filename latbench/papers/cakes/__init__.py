"""CAKES (Yu et al.): channel-wise automatic kernel shrinking; its files are
laid out as docs/papers.md says."""
