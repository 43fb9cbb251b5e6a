"""Benchmarks of cornerstore: intake throughput and profile reads, each against a raw-SQL peer.

``make bench`` runs them all (``python -m benchmarks.run``); each module also runs alone, e.g.
``python -m benchmarks.bench_intake --help``. Results go to ``benchmarks/results/<name>.json``.
"""
