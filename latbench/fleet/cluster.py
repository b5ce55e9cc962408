"""The Ray side of a fleet: connecting, what a measuring task asks for, where it may run (a
*target*: a node and the Ray options that pin a task there), each target's device (probes)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from latbench.device import fingerprint
from latbench.errors import LatbenchError, import_optional
from latbench.plugin_loader import ENV as PLUGINS_ENV

JobFactory = Callable[[str], Any]
"""``make_job(device) -> TableJob``: builds the job (timer, fingerprint) where it is called."""


def ray_module() -> Any:
    """``ray``, or a one-line error naming the extra to install."""
    return import_optional("ray", "ray", "--ray measures on a Ray cluster")


CONNECT_TIMEOUT_S = 3.0
"""Seconds a TCP connection to a Ray address may take (``ray.init`` retries for minutes)."""


def parse_address(address: str) -> tuple[str, int]:
    """(host, port) of a Ray address ``HOST:PORT`` (the GCS) or ``ray://HOST:PORT`` (Ray client);
    anything else (a dashboard's ``http://``) is one ``LatbenchError`` saying what is expected."""
    expected = (
        "expected HOST:PORT (the address `ray start --head` prints, port 6379 by "
        "default), ray://HOST:PORT, or auto"
    )
    rest = address
    if "://" in address:
        scheme, rest = address.split("://", 1)
        if scheme != "ray":
            raise LatbenchError(
                f"Ray address {address!r}: scheme {scheme}:// is not a cluster "
                f"address (http:// is the dashboard); {expected}"
            )
    host, sep, port = rest.rpartition(":")
    if not sep or not host or ":" in host.strip("[]") and not host.startswith("["):
        raise LatbenchError(f"Ray address {address!r} has no valid host; {expected}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise LatbenchError(
            f"Ray address {address!r}: port {port!r} is not a number from 1 to 65535; {expected}"
        )
    return host.strip("[]"), int(port)


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
"""An HTTP/2 client's first bytes and an empty SETTINGS frame (RFC 9113 sections 3.4, 6.5):
a Ray head (GCS or client server) speaks gRPC, so it answers with a SETTINGS frame."""


def check_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """One ``LatbenchError`` within about ``2 * timeout_s`` when nothing accepts a TCP
    connection at ``address``, or what does is no gRPC server (the dashboard's port; not
    checked under ``RAY_USE_TLS=1``), instead of ``ray.init`` retrying for minutes."""
    host, port = parse_address(address)
    tls = os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true")
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            answer = b""
            if not tls:  # a TLS head wants a handshake: the plain preface would go unanswered
                conn.sendall(HTTP2_PREFACE)
                while len(answer) < 9 and (chunk := conn.recv(9 - len(answer))):
                    answer += chunk
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise LatbenchError(
            f"cannot reach the Ray cluster at {address!r}: nothing accepts a "
            f"connection at {host}:{port} ({why}); start one with `ray start "
            "--head`, check the address, or omit it for a local Ray"
        ) from None
    if not tls and (len(answer) < 9 or answer[3] != 4):  # frame header's type byte: 4 = SETTINGS
        raise LatbenchError(
            f"cannot reach the Ray cluster at {address!r}: what listens at {host}:{port} "
            f"is no Ray head (it answered {answer[:16]!r}, not gRPC); check the port (the "
            "address `ray start --head` prints, 6379 by default)"
        )


def connect(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Connect to the Ray cluster at ``address`` (``auto``: the one ``ray start`` made here), or
    start a local one with ``num_cpus`` CPUs; returns ``ray``. Workers get ``LATBENCH_PLUGINS``.
    A malformed or unreachable address is one ``LatbenchError`` within seconds."""
    if address and address != "auto":
        check_reachable(address)
    ray = ray_module()
    if not ray.is_initialized():
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "ignore_reinit_error": True,
        }
        plugins = os.environ.get(PLUGINS_ENV)
        if plugins:  # workers load the driver's plugins (a remote node: same names/paths)
            options["runtime_env"] = {"env_vars": {PLUGINS_ENV: plugins}}
        if address:
            options["address"] = address
        elif num_cpus is not None:
            options["num_cpus"] = num_cpus
        try:
            ray.init(**options)
        except ConnectionError as exc:
            raise LatbenchError(
                f"cannot reach the Ray cluster at {address!r} ({exc}); start "
                "one with `ray start --head` or omit the address for a "
                "local one"
            ) from None
    return ray


def task_resources(device: str, threads: int | None) -> dict[str, float]:
    """What one measuring task asks Ray for: a whole GPU (never shared) for a CUDA device,
    ``threads`` CPUs (default 1) for the CPU."""
    if device.startswith("cuda"):
        return {"num_gpus": 1, "num_cpus": 1}
    return {"num_cpus": max(1, int(threads or 1))}


@dataclass(frozen=True)
class Target:
    """Where a task may run: a label, and the Ray ``.options(...)`` that send it there."""

    label: str
    options: Mapping[str, Any] = field(default_factory=dict)


def _alive_nodes(ray: Any) -> list[tuple[Target, dict[str, float]]]:
    """Each alive node as a target pinned to it, with its resources."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return [
        (
            Target(
                f"{node.get('NodeManagerAddress', '?')}/{node['NodeID'][:8]}",
                {"scheduling_strategy": NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)},
            ),
            node.get("Resources", {}),
        )
        for node in ray.nodes()
        if node.get("Alive")
    ]


def node_targets(ray: Any, device: str, threads: int | None) -> list[Target]:
    """One target per alive node that has the resources ``device`` needs (pinned to it)."""
    need = task_resources(device, threads)
    targets = [
        target
        for target, have in _alive_nodes(ray)
        if have.get("GPU", 0) >= need.get("num_gpus", 0) and have.get("CPU", 0) >= need["num_cpus"]
    ]
    if not targets:
        raise LatbenchError(
            f"no node of the Ray cluster has {need} free for device "
            f"{device!r}; `ray status` shows what the cluster has"
        )
    return targets


@dataclass
class Probe:
    """A target's device as its own job sees it."""

    target: Target
    fingerprint: dict[str, Any]
    protocol: dict[str, Any]

    @property
    def slug(self) -> str:
        return str(self.fingerprint.get("slug", "unknown-device"))


def _probe(make_job: JobFactory, device: str) -> tuple[dict[str, Any], dict[str, Any]]:
    job = make_job(device)
    return dict(job.fingerprint), dict(job.protocol)


def probe(
    ray: Any, make_job: JobFactory, device: str, threads: int | None, targets: list[Target]
) -> list[Probe]:
    """Run the job factory once on every target; their fingerprints say which device each is."""
    remote = ray.remote(_probe)
    res = task_resources(device, threads)
    refs = [remote.options(**res, **t.options).remote(make_job, device) for t in targets]
    out = []
    for target, ref in zip(targets, refs):
        try:
            fp, protocol = ray.get(ref)
        except ray.exceptions.RayError as exc:
            raise LatbenchError(
                f"Ray target {target.label} could not build the job for "
                f"{device!r}: {str(exc).splitlines()[0]}"
            ) from None
        out.append(Probe(target, fp, protocol))
    return out


def _node_devices() -> list[dict[str, Any]]:
    names = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [{"device": n, **fingerprint(n)} for n in names]


def fleet_devices(ray: Any) -> list[tuple[str, dict[str, Any]]]:
    """(node label, fingerprint) of every device of every alive node (a task per node, holding
    all its GPUs)."""
    remote = ray.remote(_node_devices)
    refs = [
        (
            t.label,
            remote.options(num_cpus=0, num_gpus=int(have.get("GPU", 0)), **t.options).remote(),
        )
        for t, have in _alive_nodes(ray)
    ]
    return [(label, fp) for label, ref in refs for fp in ray.get(ref)]
