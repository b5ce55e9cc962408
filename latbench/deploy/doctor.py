"""Version doctor: which tensorrt / onnxruntime-gpu / torch builds still support this GPU.

The support table is plain data: one row per (package, version range) with the compute
capabilities its builds run on. Sources, checked 2026-11:
- TensorRT: release notes 8.5.2 ("Maxwell dropped in 9.0"), 10.0.1 ("Volta deprecated"),
  10.4.0/10.5.0 ("Volta support removed starting with TensorRT 10.5"); TensorRT 10.x requires
  sm_75 from 10.5 on (support matrix, docs.nvidia.com/deeplearning/tensorrt/support-matrix);
  10.0 dropped Pascal, so 8.6.x is the last for sm_60/61; Blackwell needs >= 10.8.
- onnxruntime-gpu: PyPI wheels are CUDA 12 builds through 1.26 (Linux archs 60;70;75;80;86;90,
  microsoft/onnxruntime PR #26516) and CUDA 13 builds (archs 75..120) from 1.27 on; Pascal
  and Volta therefore stop at 1.26 (issue 6 of this project, same PR).
- torch: pytorch/pytorch RELEASE.md support matrix and RFC #172352: CUDA 12.6 wheels cover
  sm_50..sm_90, CUDA 12.8 wheels sm_70+ through 2.10 and sm_75+ from 2.11, CUDA 13.0 wheels
  sm_75+. For the installed torch, ``torch.cuda.get_arch_list()`` is asked directly.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import torch

from latbench.device import library_versions

PACKAGES = ("tensorrt", "onnxruntime-gpu", "onnxruntime", "torch")


@dataclass(frozen=True)
class Support:
    """Versions ``first``..``last`` (inclusive; None: open) of ``package`` run on compute
    capabilities ``min_cc``..``max_cc``."""

    package: str
    first: str | None
    last: str | None
    min_cc: float
    max_cc: float | None
    note: str = ""
    build: str = ""

    def versions(self) -> str:
        if self.first and self.last:
            text = f"{self.first} .. {self.last}"
        else:
            text = f">= {self.first}" if self.first else (f"<= {self.last}" if self.last
                                                          else "any")
        return text + (f" +{self.build}" if self.build else "")


SUPPORT: tuple[Support, ...] = (
    Support("tensorrt", "8.6", "8.6.99", 5.0, 9.0, "last TensorRT for Maxwell and Pascal"),
    Support("tensorrt", "10.0", "10.4.99", 7.0, 9.0, "last TensorRT for Volta is 10.4"),
    Support("tensorrt", "10.5", "10.7.99", 7.5, 9.0),
    Support("tensorrt", "10.8", None, 7.5, None, "Blackwell from 10.8"),
    Support("onnxruntime-gpu", "1.19", "1.26.99", 6.0, 9.0, "CUDA 12 wheels (last for "
            "Pascal/Volta: 1.26.x)"),
    Support("onnxruntime-gpu", "1.27", None, 7.5, None, "CUDA 13 wheels"),
    Support("torch", "2.0", None, 5.0, 9.0, "CUDA <= 12.6 wheels: the last for Maxwell, "
            "Pascal and Volta", build="cu126"),
    Support("torch", "2.8", "2.10.99", 7.0, None, build="cu128"),
    Support("torch", "2.11", None, 7.5, None, build="cu128"),
    Support("torch", "2.9", None, 7.5, None, build="cu130"),
)


def parse_version(text: str) -> tuple[int, ...]:
    """Leading numeric parts of a version: ``'10.4.0.26'`` -> (10, 4, 0, 26), ``'2.13.0+cpu'``
    -> (2, 13, 0)."""
    nums = re.findall(r"\d+", text.split("+")[0])
    return tuple(int(n) for n in nums)


def _in_range(version: str, row: Support) -> bool:
    v = parse_version(version)
    return ((row.first is None or v >= parse_version(row.first))
            and (row.last is None or v <= parse_version(row.last)))


def _cc_ok(cc: float, row: Support) -> bool:
    return cc >= row.min_cc and (row.max_cc is None or cc <= row.max_cc + 0.05)


def supported_versions(package: str, cc: float) -> list[Support]:
    """Rows of ``package`` whose builds run on compute capability ``cc``."""
    return [r for r in SUPPORT if r.package == package and _cc_ok(cc, r)]


def installed_versions() -> dict[str, str]:
    """Installed versions of the packages the doctor knows (absent ones omitted)."""
    return library_versions(tuple(PACKAGES))


def detect_gpus() -> list[dict[str, Any]]:
    """Visible GPUs with name and compute capability: torch first, NVML for CPU-only torch."""
    if torch.cuda.is_available():
        return [{"index": i, "name": torch.cuda.get_device_name(i),
                 "cc": "%d.%d" % torch.cuda.get_device_capability(i), "via": "torch"}
                for i in range(torch.cuda.device_count())]
    from latbench.device import nvml

    with nvml() as nv:
        if nv is None:
            return []
        gpus = []
        with contextlib.suppress(Exception):
            for i in range(nv.nvmlDeviceGetCount()):
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                major, minor = nv.nvmlDeviceGetCudaComputeCapability(handle)
                name = nv.nvmlDeviceGetName(handle)
                gpus.append({"index": i, "cc": f"{major}.{minor}", "via": "nvml",
                             "name": name.decode() if isinstance(name, bytes) else name})
        return gpus


def torch_build(cuda: str | None) -> str:
    """The wheel family of a torch built with CUDA ``cuda``: cpu, cu126, cu128 or cu130."""
    if not cuda:
        return "cpu"
    v = parse_version(cuda)
    return "cu126" if v <= (12, 6) else ("cu128" if v < (13,) else "cu130")


def _torch_verdict(version: str, cc: float, probe: bool) -> str:
    """The installed torch: with a GPU here its own arch list decides, else the table."""
    build = torch_build(torch.version.cuda)
    if build == "cpu":
        return "unsupported: CPU-only build of torch; install a CUDA build"
    archs = torch.cuda.get_arch_list() if probe and torch.cuda.is_available() else []
    if archs:
        sm = int(round(cc * 10))
        ok = f"sm_{sm}" in archs or any(a.startswith("compute_") and int(a[8:]) <= sm
                                        for a in archs)
        return "ok" if ok else f"unsupported: this build has {', '.join(archs)}"
    return verdict("torch", version, cc, build)


def verdict(package: str, version: str | None, cc: float, build: str = "") -> str:
    """``ok``, ``not installed``, or ``unsupported: use <range>`` from the table."""
    if version is None:
        return "not installed"
    rows = [r for r in SUPPORT if r.package == package]
    if not rows:
        return "no GPU code (CPU package)"
    if any(_in_range(version, r) and _cc_ok(cc, r) and r.build in ("", build) for r in rows):
        return "ok"
    good = supported_versions(package, cc)
    hint = " or ".join(r.versions() for r in good) if good else "no release supports it"
    return f"unsupported on sm_{int(round(cc * 10))}: use {hint}"


def diagnose(cc: float | None = None) -> dict[str, Any]:
    """The doctor's findings: GPUs, installed packages, and a verdict per package and GPU."""
    installed = installed_versions()
    gpus = detect_gpus()
    ccs = [float(cc)] if cc is not None else sorted({float(g["cc"]) for g in gpus})
    checks = []
    for c in ccs:
        for package in ("tensorrt", "onnxruntime-gpu", "torch"):
            version = installed.get(package)
            text = (_torch_verdict(version, c, probe=cc is None)
                    if package == "torch" and version else verdict(package, version, c))
            checks.append({"cc": f"{c:.1f}", "package": package, "installed": version,
                           "supported": "; ".join(f"{r.versions()}" + (f" ({r.note})"
                                                  if r.note else "")
                                                  for r in supported_versions(package, c)),
                           "verdict": text})
    return {"gpus": gpus, "installed": installed, "checks": checks,
            "note": "" if ccs else "no GPU visible (torch.cuda and NVML see none); pass "
                                   "--cc X.Y to ask about a GPU that is not here"}
