"""The published latency files shipped in the repository (``data/public-latency/``)."""

from pathlib import Path

PUBLIC_DIR = Path(__file__).resolve().parents[1] / "data" / "public-latency"


def public_file(name: str) -> Path:
    """``data/public-latency/<name>`` of this checkout."""
    return PUBLIC_DIR / name


NB201_PUBLIC = public_file("nasbench201_help_devices_ms.csv.gz")
TIMM_DIR = public_file("timm")
TIMM_FILES = {
    "amp-nchw": TIMM_DIR / "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
    "amp-nhwc": TIMM_DIR / "benchmark-infer-amp-nhwc-pt240-cu124-rtx3090.csv",
    "cpu": TIMM_DIR / "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
}
"""timm's published inference benchmarks: RTX 3090 AMP NCHW / channels-last, i9 CPU fp32."""
TIMM_FEATURES = TIMM_DIR / "latbench-features.csv"
"""latbench's per-model features of the timm files' models (timm 1.0.31), a CSV cache."""
