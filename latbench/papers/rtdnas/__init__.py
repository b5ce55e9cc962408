"""RT-DNAS (Lu et al.): real-time constrained DNAS on the MS-NAS space, cardiac cine
MRI; its files are laid out as docs/papers.md says."""
