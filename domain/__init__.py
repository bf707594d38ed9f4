"""PayGate's domain: rules, state machines, use cases and ports, in plain Python.

This package imports only the standard library (a unit test enforces it).
"""
