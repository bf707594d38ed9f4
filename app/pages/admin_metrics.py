"""System Metrics (admin): live charts of outcomes, queue, tokens and provider latency, and the providers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nicegui import run, ui

from app.bootstrap import Container
from app.metrics import ProviderStatus, Sampler, latencies, per_minute, provider_statuses, system_info
from app.pages.frame import BRAND
from app.pages.guard import page
from domain.clock import iso
from domain.model.payments import Payment
from domain.model.providers import Attempt, CircuitState
from domain.model.statuses import QUEUED, PaymentStatus
from domain.model.users import User

TITLE = "System Metrics"
REFRESH_SECONDS = 2.0
NO_VALUE = "–"
LATENCY_POINTS = 200  # the newest finished provider calls drawn, of every provider together
LATENCY_WINDOW = timedelta(minutes=10)
CIRCUIT_COLORS = {CircuitState.CLOSED: "positive", CircuitState.HALF_OPEN: "amber-8", CircuitState.OPEN: "negative"}
ERROR_COLUMNS = [{"name": "at", "label": "Time", "field": "at", "align": "left"},
                 {"name": "paymentId", "label": "Payment", "field": "paymentId", "align": "left"},
                 {"name": "code", "label": "Code", "field": "code", "align": "left"},
                 {"name": "message", "label": "Message", "field": "message", "align": "left"}]


SERIES_COLORS = [BRAND["primary"], BRAND["secondary"], BRAND["accent"], BRAND["warning"], BRAND["info"]]


def grid(legend: bool, axis_name: bool) -> dict[str, Any]:
    """The plot fills its box: ECharts' default leaves 60 px empty above it (and 10 % on each side).
    Above it stays just the room for what is drawn there: the legend's line, then the axes' names."""
    return {"top": 12 + 24 * legend + 20 * axis_name, "left": 8, "right": 12, "bottom": 8, "containLabel": True}


def legend(names: list[str]) -> dict[str, Any]:
    """One line at the very top, scrolling sideways when the names do not fit (a phone, many providers)."""
    return {"data": names, "top": 0, "type": "scroll"}


def _category_chart(series: list[dict[str, Any]], y_axis: dict[str, Any] | list[dict[str, Any]],
                    with_legend: bool = False) -> dict[str, Any]:
    """ECharts options with an empty category x-axis, filled in by each refresh (new for each page)."""
    named_axis = any("name" in axis for axis in (y_axis if isinstance(y_axis, list) else [y_axis]))
    options: dict[str, Any] = {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": []},
                               "yAxis": y_axis, "series": series, "color": SERIES_COLORS,
                               "grid": grid(with_legend, named_axis)}
    if with_legend:
        options["legend"] = legend([s["name"] for s in series])
    return options


def outcomes_options() -> dict[str, Any]:
    return _category_chart([
        {"name": "completed", "type": "bar", "stack": "n", "data": [], "itemStyle": {"color": BRAND["positive"]}},
        {"name": "failed", "type": "bar", "stack": "n", "data": [], "itemStyle": {"color": BRAND["negative"]}},
    ], {"type": "value", "minInterval": 1}, with_legend=True)


def success_options() -> dict[str, Any]:
    return _category_chart([{"name": "success %", "type": "line", "data": [], "connectNulls": True,
                             "itemStyle": {"color": BRAND["primary"]}}], {"type": "value", "min": 0, "max": 100})


def queue_options(providers: list[str]) -> dict[str, Any]:
    """The queue, and a tokens line for each provider's own bucket (just "tokens" when there is one)."""
    tokens = [{"name": f"tokens {name}" if len(providers) > 1 else "tokens", "type": "line", "yAxisIndex": 1,
               "data": [], "step": "end"} for name in providers]
    return _category_chart([{"name": "queue", "type": "line", "data": [], "areaStyle": {}}, *tokens],
                           [{"type": "value", "name": "queue", "minInterval": 1},
                            {"type": "value", "name": "tokens", "min": 0}], with_legend=True)


def latency_options() -> dict[str, Any]:
    """A time axis: each provider's calls fall at their own moments, so the lines share no categories.
    The series, one per provider, are set by each refresh."""
    return {"tooltip": {"trigger": "axis"}, "legend": legend([]),
            "xAxis": {"type": "time", "splitNumber": 4, "axisLabel": {"hideOverlap": True}},  # no labels on labels
            "yAxis": {"type": "value", "name": "ms"}, "series": [], "color": SERIES_COLORS,
            "grid": grid(legend=True, axis_name=True)}


def latency_series(providers: list[str], calls: dict[str, list[Attempt]]) -> list[dict[str, Any]]:
    """A line per provider: the configured ones in routing order, then any other that made calls (another
    process may route to one this process does not), each point [epoch ms when the call started, ms]."""
    names = providers + sorted(set(calls) - set(providers))
    return [{"name": name, "type": "line", "showSymbol": len(calls.get(name, [])) < 2,  # a lone call: no line
             "data": [[int(a.started_at.timestamp() * 1000), a.latency_ms] for a in calls.get(name, [])]}
            for name in names]


@dataclass(frozen=True)
class Reading:
    """What the database and the process say at one moment."""

    counts: dict[str, int]
    failures: list[Payment]
    providers: list[ProviderStatus]  # in routing order, the primary first
    calls: dict[str, list[Attempt]]  # finished provider calls by provider, oldest first
    info: dict[str, float]
    minutes: tuple[list[str], list[int], list[int]]  # labels, completed, failed per minute


def read(container: Container, sampler: Sampler) -> Reading:
    """Blocking (the database, and the buckets and circuits there): a page calls it in a worker thread."""
    if not sampler.samples:
        sampler.sample()
    with container.uow(read_only=True) as uow:
        counts = uow.payments.count_by_status()
        failures = uow.payments.recent_failures(50)
    calls = latencies(container.uow, container.clock.now() - LATENCY_WINDOW, LATENCY_POINTS)
    return Reading(counts, failures, provider_statuses(container.routes), calls, system_info(container),
                   per_minute(container))


@dataclass
class Stats:
    """The texts of the stat cards, bound to their labels."""

    queue: str = NO_VALUE
    tokens: str = NO_VALUE
    success: str = NO_VALUE
    total: str = NO_VALUE
    uptime: str = NO_VALUE
    memory: str = NO_VALUE

    def update(self, reading: Reading) -> None:
        counts = reading.counts
        done, failed = counts.get(PaymentStatus.COMPLETED, 0), counts.get(PaymentStatus.FAILED, 0)
        primary = reading.providers[0]
        self.queue = str(sum(counts.get(s, 0) for s in QUEUED))
        self.tokens = f"{primary.tokens:.2f} / {primary.capacity}"
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


def _when(at: datetime) -> str:
    return (iso(at) or "")[:19].replace("T", " ")


class ProviderLine:
    """One provider's line on the Providers card. Every value is set as an element's text or prop, never
    written into markup."""

    def __init__(self, name: str) -> None:
        # On a phone the headings are hidden: each value gets its own small caption instead, two to a row.
        ui.label(name).classes("font-semibold max-sm:col-span-2 max-sm:border-t max-sm:pt-2") \
            .mark(f"provider-{name}")
        with _cell("Role"):
            self.role = ui.label(NO_VALUE).mark(f"provider-role-{name}")
        with _cell("Circuit"):
            self.circuit = ui.badge(NO_VALUE).classes("text-sm").mark(f"provider-circuit-{name}")
        with _cell("Tokens"):
            self.tokens = ui.label(NO_VALUE).mark(f"provider-tokens-{name}")
        with _cell("Last error").classes("max-sm:col-span-2"):
            self.error = ui.label(NO_VALUE).classes("text-sm break-all").mark(f"provider-error-{name}")

    def show(self, status: ProviderStatus) -> None:
        self.role.set_text(status.role)
        self.circuit.set_text(status.circuit.replace("_", " "))
        self.circuit.props["color"] = CIRCUIT_COLORS[status.circuit]
        self.tokens.set_text(f"{status.tokens:.2f} / {status.capacity}")
        error = status.last_error
        self.error.set_text(f"{error[0]}: {error[1]} ({_when(error[2])})" if error else "none")


def _cell(caption: str) -> ui.element:
    with ui.element("div").classes("min-w-0") as cell:
        ui.label(caption).classes("text-xs text-grey-7 uppercase sm:hidden")
    return cell


class ProvidersCard:
    """Every provider in routing order: its role, circuit, own token bucket and last error."""

    def __init__(self, providers: list[str]) -> None:
        with ui.card().classes("w-full").mark("providers"):
            ui.label("Providers").classes("text-lg font-semibold")
            with ui.element("div").classes("grid w-full items-center gap-x-6 gap-y-2 "
                                           "grid-cols-[auto_auto_auto_auto_1fr] max-sm:grid-cols-2"):
                for heading in ("Provider", "Role", "Circuit", "Tokens", "Last error"):
                    ui.label(heading).classes("text-xs text-grey-7 uppercase max-sm:hidden")
                self.lines = [ProviderLine(name) for name in providers]

    def show(self, statuses: list[ProviderStatus]) -> None:
        for line, status in zip(self.lines, statuses, strict=True):  # both in routing order
            line.show(status)


class MetricsView:
    """The stat cards, the providers, four charts and the recent errors, updated in place every few seconds
    (so a chart moves rather than redraws, and the errors table keeps its page)."""

    def __init__(self, container: Container, sampler: Sampler) -> None:
        self.container = container
        self.sampler = sampler
        self.providers = [route.name for route in container.routes]
        self.stats = Stats()
        with ui.row().classes("w-full gap-3 flex-wrap"):
            for name, label in (("queue", "in queue"), ("tokens", "limiter tokens"), ("success", "success rate"),
                                ("total", "payments"), ("uptime", "uptime"), ("memory", "memory (RSS)")):
                self._stat(name, label)
        self.providers_card = ProvidersCard(self.providers)
        with ui.element("div").classes("grid gap-4 w-full grid-cols-1 lg:grid-cols-2"):
            self.charts = Charts(_chart("Payments per minute", outcomes_options(), "chart-outcomes"),
                                 _chart("Success rate per minute (%)", success_options(), "chart-success"),
                                 _chart("Queue length and available tokens", queue_options(self.providers),
                                        "chart-queue"),
                                 _chart("Provider latency (ms, every process)", latency_options(), "chart-latency"))
        ui.label("Recent errors").classes("text-lg font-semibold")
        self.errors = ui.table(columns=ERROR_COLUMNS, rows=[], row_key="key", pagination=10).classes("w-full") \
            .mark("recent-errors")
        self.errors.props('no-data-label="No errors. All quiet."')

    def _stat(self, name: str, label: str) -> None:
        with ui.card().classes("items-center gap-0 p-3 min-w-[9rem]").mark(f"stat-{name}"):
            ui.label().classes("text-2xl font-bold text-primary").bind_text_from(self.stats, name)
            ui.label(label).classes("text-xs text-grey-7 uppercase")

    async def refresh(self) -> None:
        reading = await run.io_bound(read, self.container, self.sampler)
        if reading is None:  # the app is shutting down
            return
        self.stats.update(reading)
        self.providers_card.show(reading.providers)
        self.plot(reading)
        self.errors.rows = [{"key": f"{p.id}-{p.updated_at}", "at": _when(p.updated_at),
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
        for series, name in zip(charts.queue.options["series"][1:], self.providers, strict=True):
            series["data"] = [s.buckets.get(name) for s in samples]
        lines = latency_series(self.providers, reading.calls)
        charts.latency.options["series"] = lines
        charts.latency.options["legend"]["data"] = [line["name"] for line in lines]
        for chart in charts:
            chart.update()


def _chart(title: str, options: dict[str, Any], marker: str) -> ui.echart:
    with ui.card().classes("min-w-0 p-3"):
        ui.label(title).classes("font-semibold")
        return ui.echart(options).classes("w-full h-64").mark(marker)


def register(container: Container, sampler: Sampler) -> None:
    @page(container, "/admin/metrics", TITLE, "insights", admin_only=True)
    async def metrics_page(user: User) -> None:
        view = MetricsView(container, sampler)
        await view.refresh()
        ui.timer(REFRESH_SECONDS, view.refresh)
