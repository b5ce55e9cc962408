"""The published latency files shipped in the repository (``data/public-latency/``)."""

from pathlib import Path

PUBLIC_DIR = Path(__file__).resolve().parents[1] / "data" / "public-latency"


def public_file(name: str) -> Path:
    """``data/public-latency/<name>`` of this checkout."""
    return PUBLIC_DIR / name


NB201_PUBLIC = public_file("nasbench201_help_devices_ms.csv.gz")
