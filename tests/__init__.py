"""The test suite (`make test`).

- `unit/`: the domain and small pieces of the app, on fakes (`tests/fakes.py`) and a fake clock; no database;
- `integration/`: storage on SQLite, and on PostgreSQL when PAYGATE_TEST_POSTGRES_URL is set;
- `api/`: the REST API through an ASGI test client;
- `ui/`: the pages through NiceGUI's simulated `user`;
- `e2e/`: real `main.py` processes over HTTP, WebSocket and a real Chromium (Playwright), and fuzzing.
"""
