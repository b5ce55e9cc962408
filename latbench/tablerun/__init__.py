"""One way to measure into a table: plan what is missing, measure batches, append rows.

- ``job.TableJob``: what a table kind measures (keys, descriptive columns, ``measure``);
- ``driver.run_into_table``: resume under the same protocol, fingerprint check, lock,
  interleaved groups, faults recorded, progress;
- ``worker.Worker`` / ``worker.InProcess``: where a batch is measured (a watched worker
  process, or this one);
- ``ids.arch_id`` / ``ids.protocol_id``: the one architecture id and protocol hash;
- ``paths.default_table_path``: where a run's tables go (``$LATBENCH_HOME`` or
  ``./latbench-tables``; ``device_profiles/`` is reference data).
"""

from __future__ import annotations

from latbench.lazy import lazy_attributes

_WHERE = {
    "TableRun": "driver",
    "plan": "driver",
    "resolve_table": "driver",
    "run_into_table": "driver",
    "arch_id": "ids",
    "protocol_id": "ids",
    "BatchResult": "job",
    "TableJob": "job",
    "measure_batch": "job",
    "REFERENCE_DIR": "paths",
    "default_table_path": "paths",
    "tables_home": "paths",
    "InProcess": "worker",
    "Worker": "worker",
}
"""Each name's sub-module, imported on first use (PEP 562): ``default_table_path`` costs no
table code."""

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE, globals())
