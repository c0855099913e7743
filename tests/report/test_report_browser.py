"""The report in a real browser: it renders offline, its figures load, and it can be screenshotted."""

from collections.abc import Callable
from pathlib import Path

import pytest

from carelens.report.stage import report
from carelens.study import StageContext

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
def test_report_renders_offline_in_chromium(
    analysed_run: Callable[..., StageContext], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    ctx = analysed_run(inferences=True)
    report(ctx)
    page_path = ctx.run.path / "report.html"
    shot = tmp_path / "report.png"
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            title = page.title()
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
            cards = page.locator(".verdict").count()
            nav_links = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            targets = page.eval_on_selector_all("section[id]", "els => els.map(e => '#' + e.id)")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert title.startswith("carelens report: report-test")
    assert images and all(done and width > 300 for done, width in images)
    assert cards == 5
    assert set(nav_links) <= set(targets)
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 100_000
