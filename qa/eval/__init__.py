"""Offline evaluation (`python -m qa eval`) and benchmarks (`python -m qa bench`)."""
