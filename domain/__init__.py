"""PayGate's domain: rules, state machines, use cases and ports, in plain Python.

- `domain/model/`: entities, value objects, state machines, events, errors (no I/O, no ports);
- `domain/ports.py`: the protocols that storage and the app implement (repositories, unit of work,
  providers, rate limiter, password hasher);
- `domain/services/`: the use cases, written against the ports;
- `domain/clock.py`: time, injected everywhere so that tests run on a fake clock.

This package imports only the standard library, and has no import cycle (tests/unit/test_dependency_rule.py).
"""
