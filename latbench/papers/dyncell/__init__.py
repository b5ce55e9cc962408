"""Dynamic cells (Nekrasov et al.) for video segmentation (files: docs/papers.md)."""
