"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style).

Import from the submodules: ``latbench.predictors.lookup`` (``LookupPredictor``),
``.learned`` (``LearnedPredictor``), ``.network`` (``NetworkPredictor``), ``.transfer``
(``TransferPredictor``), ``.persist`` (``load``, ``save``), ``.metrics`` (``accuracy``), so
that ``import latbench.predictors.data`` does not import scikit-learn.
"""
