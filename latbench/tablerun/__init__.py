"""One way to measure into a table: plan what is missing, measure batches, append rows.

- ``job.TableJob``: what a table kind measures (keys, descriptive columns, ``measure``);
- ``driver.run_into_table``: resume under the same protocol, fingerprint check, lock, crash
  marker, interleaved groups, progress;
- ``ids.arch_id`` / ``ids.protocol_id``: the one architecture id and protocol hash;
- ``paths.default_table_path``: where a run's tables go (``$LATBENCH_HOME`` or
  ``./latbench-tables``; ``device_profiles/`` is reference data).
"""

from latbench.tablerun.driver import TableRun, plan, resolve_table, run_into_table
from latbench.tablerun.ids import arch_id, protocol_id
from latbench.tablerun.job import BatchResult, TableJob, measure_batch
from latbench.tablerun.paths import REFERENCE_DIR, default_table_path, tables_home

__all__ = ["BatchResult", "REFERENCE_DIR", "TableJob", "TableRun", "arch_id",
           "default_table_path", "measure_batch", "plan", "protocol_id", "resolve_table",
           "run_into_table", "tables_home"]
