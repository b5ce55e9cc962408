"""Dynamic cells (Nekrasov et al.): architecture search of dynamic cells for video
segmentation; its files are laid out as docs/papers.md says."""
