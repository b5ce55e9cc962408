"""Version doctor: which tensorrt / onnxruntime-gpu / torch builds still support this GPU.

The support table is plain data: one row per (package, version range, build) with the compute
capabilities its builds run on and the source that says so (``SOURCES``, cited beside each row
in ``latbench doctor``'s output). Checked 2026-11. A GPU of capability X.Y runs code built for
X.Z with Z <= Y (same major), so a build for sm_50 runs on sm_52, one for sm_60 on sm_61.
For the installed torch, ``torch.cuda.get_arch_list()`` is asked directly when a GPU is here.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import torch

from latbench.device import library_versions, nvml

PACKAGES = ("tensorrt", "onnxruntime-gpu", "onnxruntime", "torch")

SOURCES = {
    "trt-8.5": "TensorRT 8.5.2/8.5.3 release notes: 8.5 is the last release supporting Kepler "
    "(SM 3.x); Hopper and Ada added in 8.5.1 (docs.nvidia.com/deeplearning/tensorrt/"
    "archives/tensorrt-853/release-notes)",
    "trt-8.4": "TensorRT 8.4 support matrix: SM 3.5 .. 8.7 (docs.nvidia.com/deeplearning/"
    "tensorrt/archives/tensorrt-843/support-matrix)",
    "trt-8.6": "TensorRT 8.6.1 support matrix: compute capability 6.0 .. 9.0, Kepler and "
    "Maxwell dropped (docs.nvidia.com/deeplearning/tensorrt/archives/tensorrt-861/"
    "support-matrix)",
    "trt-10.0": "TensorRT 10.0.1 release notes / support matrix: SM 7.0+, Pascal dropped; "
    "Volta deprecated (docs.nvidia.com/deeplearning/tensorrt/archives)",
    "trt-10.5": "TensorRT 10.5.0 release notes: Volta support removed starting with 10.5",
    "trt-10.8": "TensorRT 10.8.0 release notes: adds NVIDIA Blackwell GPUs",
    "ort-cu12": "onnxruntime-gpu PyPI wheels are CUDA 12 builds for archs 60;70;75;80;86;90 "
    "through 1.26 (microsoft/onnxruntime PR #26516)",
    "ort-cu13": "onnxruntime-gpu 1.27+: CUDA 13 builds, archs 75..120 (microsoft/onnxruntime "
    "PR #26516)",
    "torch-cu118": "PyTorch cu118 wheels, torch 2.0 .. 2.7: sm_37, sm_50 .. sm_90 (cuobjdump "
    "of the packages: github.com/moi90/pytorch_compute_capabilities table.md; "
    "pytorch.org/get-started/previous-versions)",
    "torch-cu12x": "PyTorch cu121 (torch 2.1 .. 2.5) and cu124 (2.4 .. 2.6) wheels: sm_50 .. "
    "sm_90 (moi90/pytorch_compute_capabilities table.md)",
    "torch-cu126": "PyTorch cu126 wheels start at torch 2.6: sm_50 .. sm_90 (pytorch.org/get-"
    "started/previous-versions; moi90/pytorch_compute_capabilities)",
    "torch-cu128-27": "PyTorch 2.7 cu128 wheels: sm_75 .. sm_120 (moi90/"
    "pytorch_compute_capabilities; pytorch.org/blog/pytorch-2-7)",
    "torch-cu128": "PyTorch cu128 wheels 2.8 .. 2.10 include sm_70; sm_75+ from 2.11 "
    "(pytorch/pytorch RELEASE.md support matrix, RFC #172352)",
    "torch-cu130": "PyTorch cu130 wheels (2.9+): sm_75+ (pytorch/pytorch RELEASE.md)",
}


@dataclass(frozen=True)
class Support:
    """Versions ``first``..``last`` (inclusive; None: open) of ``package`` run on compute
    capabilities ``min_cc``..``max_cc``; ``source`` is a key of ``SOURCES``."""

    package: str
    first: str | None
    last: str | None
    min_cc: float
    max_cc: float | None
    source: str = ""
    build: str = ""

    def versions(self) -> str:
        last = re.sub(r"\.99$", ".x", self.last) if self.last else None
        if self.first and last:
            text = last if last == f"{self.first}.x" else f"{self.first} .. {last}"
        else:
            text = f">= {self.first}" if self.first else (f"<= {last}" if last else "any")
        return text + (f" +{self.build}" if self.build else "")

    def pip_command(self) -> str:
        """A pip command that installs the newest version of this row."""
        upper = ""
        if self.last:
            nums = parse_version(self.last)
            upper = f"<{nums[0]}.{nums[1] + 1}" if self.last.endswith(".99") else f"<={self.last}"
        spec = ",".join(filter(None, (f">={self.first}" if self.first else "", upper)))
        cmd = f"pip install '{self.package}{spec}'"
        if self.package == "torch" and self.build:
            index = "cu124" if self.build == "cu12x" else self.build
            cmd += f" --index-url https://download.pytorch.org/whl/{index}"
        return cmd


SUPPORT: tuple[Support, ...] = (
    Support("tensorrt", "8.0", "8.4.99", 3.5, 8.7, "trt-8.4"),
    Support("tensorrt", "8.5", "8.5.99", 3.5, 9.0, "trt-8.5"),
    Support("tensorrt", "8.6", "8.6.99", 6.0, 9.0, "trt-8.6"),
    Support("tensorrt", "10.0", "10.4.99", 7.0, 9.0, "trt-10.0"),
    Support("tensorrt", "10.5", "10.7.99", 7.5, 9.0, "trt-10.5"),
    Support("tensorrt", "10.8", None, 7.5, None, "trt-10.8"),
    Support("onnxruntime-gpu", "1.19", "1.26.99", 6.0, 9.0, "ort-cu12"),
    Support("onnxruntime-gpu", "1.27", None, 7.5, None, "ort-cu13"),
    Support("torch", "2.0", "2.7.99", 3.7, 9.0, "torch-cu118", build="cu118"),
    Support("torch", "2.1", "2.6.99", 5.0, 9.0, "torch-cu12x", build="cu12x"),
    Support("torch", "2.6", None, 5.0, 9.0, "torch-cu126", build="cu126"),
    Support("torch", "2.7", "2.7.99", 7.5, None, "torch-cu128-27", build="cu128"),
    Support("torch", "2.8", "2.10.99", 7.0, None, "torch-cu128", build="cu128"),
    Support("torch", "2.11", None, 7.5, None, "torch-cu128", build="cu128"),
    Support("torch", "2.9", None, 7.5, None, "torch-cu130", build="cu130"),
)


def parse_version(text: str) -> tuple[int, ...]:
    """Leading numeric parts of a version: ``'10.4.0.26'`` -> (10, 4, 0, 26), ``'2.13.0+cpu'``
    -> (2, 13, 0)."""
    nums = re.findall(r"\d+", text.split("+")[0])
    return tuple(int(n) for n in nums)


def _in_range(version: str, row: Support) -> bool:
    v = parse_version(version)
    return (row.first is None or v >= parse_version(row.first)) and (
        row.last is None or v <= parse_version(row.last)
    )


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
        return [
            {
                "index": i,
                "name": torch.cuda.get_device_name(i),
                "cc": "{}.{}".format(*torch.cuda.get_device_capability(i)),
                "via": "torch",
            }
            for i in range(torch.cuda.device_count())
        ]

    gpus: list[dict[str, Any]] = []
    with nvml() as nv:
        if nv is None:
            return gpus
        with contextlib.suppress(Exception):
            for i in range(nv.nvmlDeviceGetCount()):
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                cc = "{}.{}".format(*nv.nvmlDeviceGetCudaComputeCapability(handle))
                name = nv.nvmlDeviceGetName(handle)
                name = name.decode() if isinstance(name, bytes) else name
                gpus.append({"index": i, "cc": cc, "via": "nvml", "name": name})
    return gpus


def torch_build(cuda: str | None) -> str:
    """The wheel family of a torch built with CUDA ``cuda``: cpu, cu118, cu12x (cu121 and
    cu124), cu126, cu128 or cu130."""
    if not cuda:
        return "cpu"
    v = parse_version(cuda)[:2]
    if v < (12,):
        return "cu118"
    if v < (12, 6):
        return "cu12x"
    return "cu126" if v == (12, 6) else ("cu128" if v < (13,) else "cu130")


def _torch_verdict(version: str, cc: float, probe: bool) -> str:
    """The installed torch: with a GPU here its own arch list decides, else the table."""
    local = version.partition("+")[2]
    cuda = f"{local[2:-1]}.{local[-1]}" if re.fullmatch(r"cu\d{3}", local) else torch.version.cuda
    build = torch_build(cuda)
    if build == "cpu":
        return "unsupported: CPU-only build of torch; install a CUDA build"
    archs = torch.cuda.get_arch_list() if probe and torch.cuda.is_available() else []
    if archs:
        ok = any(arch_runs_on(a, cc) for a in archs)
        return "ok" if ok else f"unsupported: this build has {', '.join(archs)}"
    return verdict("torch", version, cc, build)


def arch_runs_on(arch: str, cc: float) -> bool:
    """Whether code built for ``arch`` (an entry of ``torch.cuda.get_arch_list()``) runs on a
    GPU of capability ``cc``: a cubin ``sm_XY`` (or family ``sm_XYf``) on X.Z with Z >= Y (same
    major); an arch-specific ``sm_XYa`` on X.Y alone; PTX ``compute_XY`` on any capability
    >= X.Y (JIT-compiled). CUDA C++ Programming Guide, "Binary Compatibility" / "PTX
    Compatibility"."""
    major, minor = divmod(int(round(cc * 10)), 10)
    m = re.fullmatch(r"(sm|compute)_(\d+)(\d)([a-z]?)", arch)
    if m is None:
        return False
    kind, built = m[1], (int(m[2]), int(m[3]))
    if kind == "compute":
        return built <= (major, minor)
    if m[4] == "a":
        return built == (major, minor)
    return built[0] == major and built[1] <= minor


def verdict(package: str, version: str | None, cc: float, build: str = "") -> str:
    """``ok``, ``not installed``, or ``unsupported on sm_XY: use <range>`` from the table."""
    if version is None:
        return "not installed"
    rows = [r for r in SUPPORT if r.package == package]
    if not rows:
        return "no GPU code (CPU package)"
    if any(_in_range(version, r) and _cc_ok(cc, r) and r.build in ("", build) for r in rows):
        return "ok"
    good = supported_versions(package, cc)
    hint = " or ".join(r.versions() for r in good) or (
        "nothing: no release in latbench's support table runs on it"
    )
    return f"unsupported on sm_{int(round(cc * 10))}: use {hint}"


def _check(package: str, version: str | None, cc: float, probe: bool) -> dict[str, Any]:
    if package == "torch" and version:
        text = _torch_verdict(version, cc, probe)
    else:
        text = verdict(package, version, cc)
    good = supported_versions(package, cc)
    command, note = "", ""
    if text != "ok" and good:
        command = max(good, key=lambda r: parse_version(r.first or "0")).pip_command()
    if good and all(r.last for r in good):  # this GPU's support of the package has ended
        newest = max(good, key=lambda r: parse_version(r.last or ""))
        note = f"{newest.versions()} is the last for sm_{int(round(cc * 10))}"
    return {
        "cc": f"{cc:.1f}",
        "package": package,
        "installed": version,
        "supported": "; ".join(r.versions() for r in good),
        "verdict": text,
        "note": note,
        "command": command,
        "rows": [
            {"versions": r.versions(), "cc": _cc_range(r), "source": SOURCES[r.source]}
            for r in good
        ],
    }


def _cc_range(row: Support) -> str:
    return f"{row.min_cc:.1f} .. {row.max_cc:.1f}" if row.max_cc else f">= {row.min_cc:.1f}"


def diagnose(cc: float | None = None) -> dict[str, Any]:
    """The doctor's findings: GPUs, installed packages, a verdict per package and GPU with the
    supported versions, their sources and a pip command where the installed one does not fit;
    ``exit_code`` is 1 when a verdict is "unsupported", else 0 (with and without --json)."""
    installed = installed_versions()
    gpus = detect_gpus()
    ccs = [float(cc)] if cc is not None else sorted({float(g["cc"]) for g in gpus})
    checks = [
        _check(p, installed.get(p), c, probe=cc is None)
        for c in ccs
        for p in ("tensorrt", "onnxruntime-gpu", "torch")
    ]
    bad = any(c["verdict"].startswith("unsupported") for c in checks)
    then = f"checks for --cc {cc}" if ccs else "pass --cc X.Y to ask about a GPU that is not here"
    return {
        "gpus": gpus,
        "installed": installed,
        "checks": checks,
        "exit_code": int(bad),
        "note": "" if gpus else f"no GPU visible (torch.cuda and NVML see none); {then}",
    }
