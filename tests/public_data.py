"""Where the shared public-latency files are: beside the repository (``../shared``, as in CI
and a session's checkout), else ``/work/shared``."""

from pathlib import Path

_ROOTS = (Path(__file__).resolve().parents[1].parent / "shared", Path("/work/shared"))


def public_file(name: str) -> Path:
    """``shared/data/public-latency/<name>`` from the first root holding it (the first root's
    path when none does: tests skip on ``not path.is_file()``)."""
    paths = [root / "data/public-latency" / name for root in _ROOTS]
    return next((p for p in paths if p.is_file()), paths[0])


NB201_PUBLIC = public_file("nasbench201_help_devices_ms.csv.gz")
