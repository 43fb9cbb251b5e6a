"""Probabilistic identity resolution: a Splink model trained on the business's own records,
applied in batch through Splink (DuckDB) and one record at a time in-process.

Splink and DuckDB are imported lazily, inside the functions that use them.
"""
