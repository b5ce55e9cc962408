"""Fleet profiling on Ray (``--ray``; ``pip install 'latbench[ray]'``): ``cluster`` (connect,
targets, probes), ``run.run_on_fleet`` (one table per device), ``jobs`` (job factories)."""

from latbench.fleet.cluster import Probe, Target, connect, node_targets, task_resources
from latbench.fleet.run import FleetRun, run_on_fleet

__all__ = [
    "FleetRun",
    "Probe",
    "Target",
    "connect",
    "node_targets",
    "run_on_fleet",
    "task_resources",
]
