"""Learn from behaviour: customer value (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma and discounted
CLV), behavioural loyalty, churn early warning, moments and delivery windows.

Pure domain code on numpy, scipy and polars; every model is one module, as in PyMC-Marketing.
The learn service (:mod:`cornerstore.learn.service`) applies them to the stored history.
"""
