"""The domain model: entities, value objects, state machines, events and errors.

Plain Python with no I/O: nothing here reads a clock it was not given, touches storage or calls a
provider. It may import the standard library, `domain.clock` and other `domain.model` modules only;
never `domain.ports` or `domain.services` (tests/unit/test_dependency_rule.py checks this).
"""
