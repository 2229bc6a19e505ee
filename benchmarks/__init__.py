"""Benchmarks: `make bench` runs every bench_*.py module's main(); each prints its figures next to
a baseline measured in the same run, with the ratio."""
