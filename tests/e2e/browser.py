"""A real Chromium for the journeys, through Playwright's async API (it leaves later asyncio tests alone).

Debian's /usr/bin/chromium is used where Playwright's own browser is absent (`make test` installs it);
PAYGATE_CHROMIUM names another. Screenshots go to test-results/, and also to PAYGATE_SCREENSHOT_DIR
when it is set (`make screenshots` refreshes the README's tour that way).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("PAYGATE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).exists():
            return candidate
    return None  # Playwright's own download, if `playwright install chromium` put one there


async def screenshot(page: Page, name: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    await page.wait_for_timeout(400)  # Quasar's floating labels and notifications finish their animation
    await page.screenshot(path=str(path))
    tour = os.environ.get("PAYGATE_SCREENSHOT_DIR")
    if tour:
        Path(tour).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(tour) / f"{name}.png")
    return path


async def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    await page.goto(f"{base_url}/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("Dashboard", exact=True).first.wait_for()


# Reports each violation to the console, beside Chromium's own message, with the directive and the source.
_CSP_REPORTER = """document.addEventListener('securitypolicyviolation', (e) => console.error(
  'CSP violation:', e.violatedDirective, e.blockedURI || '(inline)', e.sourceFile + ':' + e.lineNumber));"""


async def collect_csp_violations(page: Page) -> list[str]:
    """A list that fills with every Content-Security-Policy violation of `page` from now on
    (its `securitypolicyviolation` events and Chromium's console messages), across navigations."""
    violations: list[str] = []
    await page.add_init_script(_CSP_REPORTER)
    page.on("console", lambda m: violations.append(m.text)
            if m.text.startswith("CSP violation:") or "Content Security Policy" in m.text else None)
    return violations
