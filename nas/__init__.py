"""Search machinery the papers share (each paper's own search is ``latbench.papers.<paper>``):
the mixed-op search on any ``ChoiceLayout`` (``choices``), RT-DNAS' GA on pymoo (``ga``),
checked costs (``costs``), ``regularizers``, the synthetic task (``synthetic``) and the registry
of ``latbench search`` (``searches``). Nothing here imports ``latbench.cli``.
"""
