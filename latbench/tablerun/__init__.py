"""One way to measure into a table: ``job.TableJob`` (what a table kind measures),
``driver.run_into_table`` (plan, lock, append), ``worker`` (where a batch is measured),
``ids`` (arch and protocol ids), ``paths`` (default table folders). Import the submodules.
"""
