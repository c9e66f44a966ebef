"""Benchmarks of the engine's hot paths, run by `make bench` (`python -m bench [name ...]`).

Performance is checked here, never by timed assertions in tests. Absolute figures on a shared
two-core machine are noisy, so every benchmark also measures, in the same run and on the same
machine, a baseline that bounds what the measured path could reach; the table shows both and
their ratio, which is what to compare between runs and machines.
"""
