"""System Metrics (admin): live charts of outcomes, queue, limiter tokens and provider latency."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from starlette.responses import RedirectResponse

from app.bootstrap import Container
from app.metrics import Sampler, per_minute, system_info
from app.pages.frame import add_nav, frame
from app.pages.guard import require_admin
from domain.clock import iso
from domain.model.users import User

TITLE = "System Metrics"
REFRESH_SECONDS = 2.0


def _stat(label: str, marker: str) -> ui.label:
    with ui.card().classes("items-center gap-0 p-3 min-w-[9rem]").mark(marker):
        value = ui.label("–").classes("text-2xl font-bold text-indigo-8")
        ui.label(label).classes("text-xs text-grey-7 uppercase")
    return value


def _chart(options: dict[str, Any], marker: str) -> ui.echart:
    return ui.echart(options).classes("w-full h-64").mark(marker)


def register(container: Container, sampler: Sampler) -> None:
    add_nav(TITLE, "/admin/metrics", "insights", admin=True)

    @ui.page("/admin/metrics")
    def metrics_page() -> RedirectResponse | None:
        admin = require_admin(container, TITLE)
        if not isinstance(admin, User):
            return admin
        with frame(TITLE, admin):
            with ui.row().classes("w-full gap-3 flex-wrap"):
                queue = _stat("in queue", "stat-queue")
                tokens = _stat("limiter tokens", "stat-tokens")
                success = _stat("success rate", "stat-success")
                total = _stat("payments", "stat-total")
                uptime = _stat("uptime", "stat-uptime")
                memory = _stat("memory (RSS)", "stat-memory")
            with ui.element("div").classes("grid gap-4 w-full grid-cols-1 lg:grid-cols-2"):
                with ui.card():
                    ui.label("Payments per minute").classes("font-semibold")
                    outcomes = _chart({
                        "tooltip": {"trigger": "axis"}, "legend": {"data": ["completed", "failed"]},
                        "xAxis": {"type": "category", "data": []}, "yAxis": {"type": "value", "minInterval": 1},
                        "series": [{"name": "completed", "type": "bar", "stack": "n", "data": [],
                                    "itemStyle": {"color": "#21ba45"}},
                                   {"name": "failed", "type": "bar", "stack": "n", "data": [],
                                    "itemStyle": {"color": "#c10015"}}]}, "chart-outcomes")
                with ui.card():
                    ui.label("Success rate per minute (%)").classes("font-semibold")
                    rate = _chart({"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": []},
                                   "yAxis": {"type": "value", "min": 0, "max": 100},
                                   "series": [{"name": "success %", "type": "line", "data": [], "connectNulls": True,
                                               "itemStyle": {"color": "#5c6bc0"}}]}, "chart-success")
                with ui.card():
                    ui.label("Queue length and available tokens").classes("font-semibold")
                    queue_chart = _chart({
                        "tooltip": {"trigger": "axis"}, "legend": {"data": ["queue", "tokens"]},
                        "xAxis": {"type": "category", "data": []},
                        "yAxis": [{"type": "value", "name": "queue", "minInterval": 1},
                                  {"type": "value", "name": "tokens", "min": 0}],
                        "series": [{"name": "queue", "type": "line", "data": [], "areaStyle": {}},
                                   {"name": "tokens", "type": "line", "yAxisIndex": 1, "data": [], "step": "end"}]},
                        "chart-queue")
                with ui.card():
                    ui.label("Provider latency (ms, this process)").classes("font-semibold")
                    latency = _chart({"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": []},
                                      "yAxis": {"type": "value", "name": "ms"},
                                      "series": [{"name": "latency", "type": "line", "data": [],
                                                  "showSymbol": False}]}, "chart-latency")
            ui.label("Recent errors").classes("text-lg font-semibold")
            errors = ui.table(columns=[
                {"name": "at", "label": "Time", "field": "at", "align": "left"},
                {"name": "paymentId", "label": "Payment", "field": "paymentId", "align": "left"},
                {"name": "code", "label": "Code", "field": "code", "align": "left"},
                {"name": "message", "label": "Message", "field": "message", "align": "left"}],
                rows=[], row_key="key", pagination=10).classes("w-full").mark("recent-errors")
            errors.props('no-data-label="No errors. All quiet."')

        def refresh() -> None:
            if not sampler.samples:
                sampler.sample()
            with container.uow(read_only=True) as uow:
                counts = uow.payments.count_by_status()
                failures = uow.payments.recent_failures(50)
            done, failed = counts.get("completed", 0), counts.get("failed", 0)
            queue.set_text(str(sum(counts.get(s, 0) for s in ("pending", "retrying", "processing"))))
            tokens.set_text(f"{container.limiter.available():.2f} / {container.limiter.config.capacity}")
            success.set_text(f"{100 * done / (done + failed):.1f} %" if done + failed else "–")
            total.set_text(str(sum(counts.values())))
            info = system_info(container)
            uptime.set_text(f"{int(info['uptimeSeconds'] // 60)} min {int(info['uptimeSeconds'] % 60)} s")
            memory.set_text(f"{info['memoryRssBytes'] / 2**20:.0f} MiB")

            labels, completed, failed_series = per_minute(container)
            outcomes.options["xAxis"]["data"] = labels
            outcomes.options["series"][0]["data"] = completed
            outcomes.options["series"][1]["data"] = failed_series
            rate.options["xAxis"]["data"] = labels
            rate.options["series"][0]["data"] = [round(100 * c / (c + f), 1) if c + f else None
                                                 for c, f in zip(completed, failed_series, strict=True)]
            samples = list(sampler.samples)
            queue_chart.options["xAxis"]["data"] = [s.at.strftime("%H:%M:%S") for s in samples]
            queue_chart.options["series"][0]["data"] = [s.queue for s in samples]
            queue_chart.options["series"][1]["data"] = [s.tokens for s in samples]
            calls = list(container.processor.calls)[-200:]
            latency.options["xAxis"]["data"] = [c.at.strftime("%H:%M:%S") for c in calls]
            latency.options["series"][0]["data"] = [round(c.latency_ms, 1) for c in calls]
            for chart in (outcomes, rate, queue_chart, latency):
                chart.update()
            errors.rows = [{"key": f"{p.id}-{p.updated_at}", "at": (iso(p.updated_at) or "")[:19].replace("T", " "),
                            "paymentId": p.id, "code": p.failure_code, "message": p.failure_message}
                           for p in failures]
            errors.update()

        refresh()
        ui.timer(REFRESH_SECONDS, refresh)
        return None
