"""RT-DNAS (Lu et al.): real-time constrained DNAS on the MS-NAS space, cardiac cine MRI.

The folder's files are laid out as docs/papers.md says; this package imports nothing.
"""
