"""One way to measure into a table: plan what is missing, measure batches, append rows.

- ``job.TableJob``: what a table kind measures (keys, descriptive columns, ``measure``);
- ``driver.run_into_table``: resume under the same protocol, fingerprint check, lock, crash
  marker, interleaved groups, progress;
- ``ids.arch_id`` / ``ids.protocol_id``: the one architecture id and protocol hash;
- ``paths.default_table_path``: where a run's tables go (``$LATBENCH_HOME`` or
  ``./latbench-tables``; ``device_profiles/`` is reference data).

Import from the submodules: the CLI's supervisor imports ``latbench.tablerun.inflight``
without pandas.
"""
