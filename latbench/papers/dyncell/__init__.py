"""Dynamic cells (Nekrasov et al.): architecture search of dynamic cells for video segmentation.

The folder's files are laid out as docs/papers.md says; this package imports nothing.
"""
