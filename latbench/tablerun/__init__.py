"""One way to measure into a table: plan what is missing, measure batches, append rows.

- ``job.TableJob``: what a table kind measures (keys, descriptive columns, ``measure``);
- ``driver.run_into_table``: resume under the same protocol, fingerprint check, lock,
  interleaved groups, faults recorded, progress;
- ``worker.Worker`` / ``worker.InProcess``: where a batch is measured (a watched worker
  process, or this one);
- ``ids.arch_id`` / ``ids.protocol_id``: the one architecture id and protocol hash;
- ``paths.default_table_path``: where a run's tables go (``$LATBENCH_HOME`` or
  ``./latbench-tables``; ``device_profiles/`` is reference data).

Import from the submodules (this package re-exports nothing).
"""
