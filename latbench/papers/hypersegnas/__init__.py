"""HyperSegNAS (Peng et al.): one-shot NAS for 3D segmentation, a memory filter on
DiNTS; its files are laid out as docs/papers.md says."""
