"""Benchmarks: speed is measured here, with method and results written down, never in tests."""
