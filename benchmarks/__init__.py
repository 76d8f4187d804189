"""Benchmarks of the toolkit and the baselines they are compared with (`make bench`)."""
