"""Benchmarks: figures with baselines measured in the same run."""
