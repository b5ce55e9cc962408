"""Search machinery the papers' searches share (each paper's own search lives in its folder,
``latbench.papers.<paper>.search``):

- ``latbench.nas.choices``: the mixed-op search on any space with a ``ChoiceLayout``, a
  plugin's too (``search``).
- ``latbench.nas.ga``: the genetic algorithm on pymoo that decodes RT-DNAS' paths.
- ``latbench.nas.costs`` (costs from a predictor, checked), ``latbench.nas.regularizers``,
  ``latbench.nas.synthetic`` (the distillation task standing in for a dataset, ``Outcome``,
  progress callbacks), ``latbench.nas.searches`` (the registry of ``latbench search``).

Nothing here imports ``latbench.cli``; the command ``latbench search`` calls these modules.
"""
