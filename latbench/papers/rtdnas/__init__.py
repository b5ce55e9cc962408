"""RT-DNAS (Lu et al.): real-time DNAS on MS-NAS, cine MRI (files: docs/papers.md)."""
