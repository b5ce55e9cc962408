"""ST-NAS (Lee et al.): spatial-temporal NAS, surgical video (files: docs/papers.md)."""
