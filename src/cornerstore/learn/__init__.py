"""Learn from behaviour: customer value from transaction histories (BG/NBD, Pareto/NBD, MBG/NBD,
Gamma-Gamma and discounted CLV).

Pure domain code on numpy, scipy and polars; every model is one module, as in PyMC-Marketing.
"""
