"""`/metrics` on the app main.py builds, as NiceGUI's user simulation runs it again for every test:
each run's own registry and container, and each request counted once (not once per install)."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from prometheus_client.parser import text_string_to_metric_families


async def health_requests(user: User) -> float:
    response = await user.http_client.get("/metrics")
    assert response.status_code == 200, response.text[:300]
    [family] = [f for f in text_string_to_metric_families(response.text) if f.name == "paygate_http_requests"]
    return sum(s.value for s in family.samples if s.labels["route"] == "/health")


@pytest.mark.parametrize("run", [1, 2])  # the second run installs the API on the same app again
async def test_each_request_is_counted_once_by_this_runs_metrics(user: User, run: int) -> None:
    before = await health_requests(user)
    await user.http_client.get("/health")
    await user.http_client.get("/health")

    after = await health_requests(user)

    assert before == 0
    assert after == 2
