"""Benchmarks: each module runs as `python -m benchmarks.<name>` and ends with JSON lines."""
