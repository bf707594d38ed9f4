"""The edges of PayGate: settings, wiring, security, the REST API, the pages, background jobs.

- `config.py` (settings), `bootstrap.py` (the one place that builds real objects and wires them),
  `web.py` (puts the API, the pages and the jobs on NiceGUI's app), `security.py` (passwords, JWT),
  `net.py` (who is calling), `scheduler.py` (APScheduler jobs), `live.py` (outbox → pages and sockets),
  `metrics.py` (samples for the charts), `providers.py` (provider adapters by name);
- `api/`: FastAPI routers, schemas, the error frame and the request limits;
- `pages/`: the NiceGUI pages, one module per page area, with a shared frame.

May import `domain`, `storage` and the frameworks. Nothing in `domain` or `storage` imports `app`.
"""
