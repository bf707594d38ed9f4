"""Use cases: what the gateway does, written against the ports.

Each service takes its collaborators (a unit-of-work factory, a clock, a provider) as constructor
arguments; `app/bootstrap.py` wires the real ones and the unit tests wire fakes. Services may import
`domain.model`, `domain.ports`, `domain.clock` and each other, and the standard library only.
The payment processor (`processor.py`) is the one piece of orchestration here: asyncio tasks and
timing around the same ports, kept in the domain so its rules run under the fake clock in tests.
"""
