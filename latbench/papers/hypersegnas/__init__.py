"""HyperSegNAS (Peng et al.): a memory filter on DiNTS (files: docs/papers.md)."""
