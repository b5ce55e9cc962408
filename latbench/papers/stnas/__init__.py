"""ST-NAS (Lee et al.): spatial-temporal NAS for fast surgical segmentation; its files are
laid out as docs/papers.md says."""
