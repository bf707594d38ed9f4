"""`python -m bench.serve`: main.py with the benchmark's baseline route mounted.

Used by bench/server.py when PAYGATE_BENCH_BASELINE=1. If app/api already mounts the route
under that flag, this adds nothing; otherwise it mounts it here, so no file of the app changes.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import app.api as api
from app.api import bench

_install_api = api.install_api


def install_api(app, container, jobs=None) -> None:  # noqa: ANN001
    _install_api(app, container, jobs)
    if bench.enabled() and not any(getattr(r, "path", None) == "/bench/baseline" for r in app.routes):
        app.include_router(bench.router)


api.install_api = install_api  # before main.py imports app.web, which binds install_api

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "main.py"), run_name="__main__")
