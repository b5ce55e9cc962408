"""Fleet profiling on Ray (``latbench profile|measure-nets|memory --ray``).

``cluster``: connecting, task resources, targets (nodes) and probing their devices;
``run.run_on_fleet``: the local run model with Ray tasks as its workers, one table per device;
``jobs``: picklable job factories a worker calls on its own device.
Ray is an optional extra: ``pip install 'latbench[ray]'``.
"""

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
