"""System Metrics (admin): live charts of outcomes, queue, limiter tokens and provider latency."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.metrics import Sampler, per_minute, system_info
from app.pages.guard import page
from domain.clock import iso
from domain.model.payments import Payment
from domain.model.statuses import QUEUED, PaymentStatus
from domain.model.users import User

TITLE = "System Metrics"
REFRESH_SECONDS = 2.0
NO_VALUE = "–"
LATENCY_POINTS = 200
ERROR_COLUMNS = [{"name": "at", "label": "Time", "field": "at", "align": "left"},
                 {"name": "paymentId", "label": "Payment", "field": "paymentId", "align": "left"},
                 {"name": "code", "label": "Code", "field": "code", "align": "left"},
                 {"name": "message", "label": "Message", "field": "message", "align": "left"}]


def _category_chart(series: list[dict[str, Any]], y_axis: dict[str, Any] | list[dict[str, Any]],
                    legend: bool = False) -> dict[str, Any]:
    """ECharts options with an empty category x-axis, filled in by each refresh (new for each page)."""
    options: dict[str, Any] = {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": []},
                               "yAxis": y_axis, "series": series}
    if legend:
        options["legend"] = {"data": [s["name"] for s in series]}
    return options


def outcomes_options() -> dict[str, Any]:
    return _category_chart([
        {"name": "completed", "type": "bar", "stack": "n", "data": [], "itemStyle": {"color": "#21ba45"}},
        {"name": "failed", "type": "bar", "stack": "n", "data": [], "itemStyle": {"color": "#c10015"}},
    ], {"type": "value", "minInterval": 1}, legend=True)


def success_options() -> dict[str, Any]:
    return _category_chart([{"name": "success %", "type": "line", "data": [], "connectNulls": True,
                             "itemStyle": {"color": "#5c6bc0"}}], {"type": "value", "min": 0, "max": 100})


def queue_options() -> dict[str, Any]:
    return _category_chart([{"name": "queue", "type": "line", "data": [], "areaStyle": {}},
                            {"name": "tokens", "type": "line", "yAxisIndex": 1, "data": [], "step": "end"}],
                           [{"type": "value", "name": "queue", "minInterval": 1},
                            {"type": "value", "name": "tokens", "min": 0}], legend=True)


def latency_options() -> dict[str, Any]:
    return _category_chart([{"name": "latency", "type": "line", "data": [], "showSymbol": False}],
                           {"type": "value", "name": "ms"})


@dataclass(frozen=True)
class Reading:
    """What the database and the process say at one moment."""

    counts: dict[str, int]
    failures: list[Payment]
    tokens: float
    info: dict[str, float]
    minutes: tuple[list[str], list[int], list[int]]  # labels, completed, failed per minute


def read(container: Container, sampler: Sampler) -> Reading:
    """Blocking (the database, and the limiter's bucket there): a page calls it in a worker thread."""
    if not sampler.samples:
        sampler.sample()
    with container.uow(read_only=True) as uow:
        counts = uow.payments.count_by_status()
        failures = uow.payments.recent_failures(50)
    return Reading(counts, failures, container.limiter.available(), system_info(container), per_minute(container))


@dataclass
class Stats:
    """The texts of the stat cards, bound to their labels."""

    queue: str = NO_VALUE
    tokens: str = NO_VALUE
    success: str = NO_VALUE
    total: str = NO_VALUE
    uptime: str = NO_VALUE
    memory: str = NO_VALUE

    def update(self, reading: Reading, capacity: int) -> None:
        counts = reading.counts
        done, failed = counts.get(PaymentStatus.COMPLETED, 0), counts.get(PaymentStatus.FAILED, 0)
        self.queue = str(sum(counts.get(s, 0) for s in QUEUED))
        self.tokens = f"{reading.tokens:.2f} / {capacity}"
        self.success = f"{100 * done / (done + failed):.1f} %" if done + failed else NO_VALUE
        self.total = str(sum(counts.values()))
        uptime = reading.info["uptimeSeconds"]
        self.uptime = f"{int(uptime // 60)} min {int(uptime % 60)} s"
        self.memory = f"{reading.info['memoryRssBytes'] / 2**20:.0f} MiB"


@dataclass(frozen=True)
class Charts:
    outcomes: ui.echart
    success: ui.echart
    queue: ui.echart
    latency: ui.echart

    def __iter__(self) -> Iterator[ui.echart]:
        return iter((self.outcomes, self.success, self.queue, self.latency))


class MetricsView:
    """The stat cards, four charts and the recent errors, updated in place every few seconds (so a chart
    moves rather than redraws, and the errors table keeps its page)."""

    def __init__(self, container: Container, sampler: Sampler) -> None:
        self.container = container
        self.sampler = sampler
        self.stats = Stats()
        with ui.row().classes("w-full gap-3 flex-wrap"):
            for name, label in (("queue", "in queue"), ("tokens", "limiter tokens"), ("success", "success rate"),
                                ("total", "payments"), ("uptime", "uptime"), ("memory", "memory (RSS)")):
                self._stat(name, label)
        with ui.element("div").classes("grid gap-4 w-full grid-cols-1 lg:grid-cols-2"):
            self.charts = Charts(_chart("Payments per minute", outcomes_options(), "chart-outcomes"),
                                 _chart("Success rate per minute (%)", success_options(), "chart-success"),
                                 _chart("Queue length and available tokens", queue_options(), "chart-queue"),
                                 _chart("Provider latency (ms, this process)", latency_options(), "chart-latency"))
        ui.label("Recent errors").classes("text-lg font-semibold")
        self.errors = ui.table(columns=ERROR_COLUMNS, rows=[], row_key="key", pagination=10).classes("w-full") \
            .mark("recent-errors")
        self.errors.props('no-data-label="No errors. All quiet."')

    def _stat(self, name: str, label: str) -> None:
        with ui.card().classes("items-center gap-0 p-3 min-w-[9rem]").mark(f"stat-{name}"):
            ui.label().classes("text-2xl font-bold text-indigo-8").bind_text_from(self.stats, name)
            ui.label(label).classes("text-xs text-grey-7 uppercase")

    async def refresh(self) -> None:
        reading = await run.io_bound(read, self.container, self.sampler)
        if reading is None:  # the app is shutting down
            return
        self.stats.update(reading, self.container.limiter.config.capacity)
        self.plot(reading)
        self.errors.rows = [{"key": f"{p.id}-{p.updated_at}", "at": (iso(p.updated_at) or "")[:19].replace("T", " "),
                             "paymentId": p.id, "code": p.failure_code, "message": p.failure_message}
                            for p in reading.failures]
        self.errors.update()

    def plot(self, reading: Reading) -> None:
        charts = self.charts
        labels, completed, failed = reading.minutes
        charts.outcomes.options["xAxis"]["data"] = labels
        charts.outcomes.options["series"][0]["data"] = completed
        charts.outcomes.options["series"][1]["data"] = failed
        charts.success.options["xAxis"]["data"] = labels
        charts.success.options["series"][0]["data"] = [round(100 * c / (c + f), 1) if c + f else None
                                                       for c, f in zip(completed, failed, strict=True)]
        samples = list(self.sampler.samples)
        charts.queue.options["xAxis"]["data"] = [s.at.strftime("%H:%M:%S") for s in samples]
        charts.queue.options["series"][0]["data"] = [s.queue for s in samples]
        charts.queue.options["series"][1]["data"] = [s.tokens for s in samples]
        calls = []  # TODO attempts
        charts.latency.options["xAxis"]["data"] = [c.at.strftime("%H:%M:%S") for c in calls]
        charts.latency.options["series"][0]["data"] = [round(c.latency_ms, 1) for c in calls]
        charts.latency.options["series"][0]["showSymbol"] = len(calls) < 2  # a lone call has no line to draw
        for chart in charts:
            chart.update()


def _chart(title: str, options: dict[str, Any], marker: str) -> ui.echart:
    with ui.card():
        ui.label(title).classes("font-semibold")
        return ui.echart(options).classes("w-full h-64").mark(marker)


def register(container: Container, sampler: Sampler) -> None:
    @page(container, "/admin/metrics", TITLE, "insights", admin_only=True)
    async def metrics_page(user: User) -> None:
        view = MetricsView(container, sampler)
        await view.refresh()
        ui.timer(REFRESH_SECONDS, view.refresh)
