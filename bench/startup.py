"""Start-up time: `python -m bench.startup`. Spawn `python main.py` and time until GET /health is 200.

A first start (empty data folder: migrations, demo data, generated secrets) and restarts on the
same folder, each a fresh process. Writes the figures to docs/benchmarks.md between the
bench:startup markers.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.payments import bench_parser, publish
from bench.server import start_server

START, END = "<!-- bench:startup:start -->", "<!-- bench:startup:end -->"
TARGET_SECONDS = 3.0


def time_start(data_dir: Path) -> float:
    began = time.monotonic()
    server = start_server(data_dir)  # returns once GET /health answers 200
    took = time.monotonic() - began
    server.stop()
    return took


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("bench.startup", __doc__)
    parser.add_argument("--restarts", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paygate-start-") as tmp:
        first = time_start(Path(tmp))
        restarts = [time_start(Path(tmp)) for _ in range(args.restarts)]
    worst = max([first, *restarts])
    section = "\n".join([
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} with `python -m bench.startup`: "
        "from spawning `python main.py` to the first 200 from `GET /health` (polled every 0.1 s).",
        "",
        "| start | seconds |",
        "|---|---:|",
        f"| first start (empty data folder: migrations, demo data, secrets) | {first:.2f} |",
        f"| restart, median of {len(restarts)} | {statistics.median(restarts):.2f} |",
        f"| restart, slowest | {max(restarts):.2f} |",
        "",
        f"Target: `/health` within {TARGET_SECONDS:.0f} s of launch: "
        f"{'**met**' if worst <= TARGET_SECONDS else '**missed**'} (slowest {worst:.2f} s).",
    ])
    publish(section, not args.no_write, START, END, "Start-up")


if __name__ == "__main__":
    main()
