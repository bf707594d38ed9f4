"""Benchmarks of PayGate, run against real server processes (`python -m bench.payments`)."""
