"""Reproducible benchmarks that print JSON (see bench/RESULTS.md)."""
