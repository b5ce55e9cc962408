"""Predictors: from lookup tables to latency and memory predictions (scikit-learn style).

Import from the submodules (``.lookup``, ``.learned``, ``.network``, ``.transfer``,
``.persist``, ``.metrics``): ``import latbench.predictors.data`` does not import scikit-learn.
"""
