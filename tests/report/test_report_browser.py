"""The report in Chromium at 1280 px: it renders offline, its figures load, no table is cut off."""

from pathlib import Path

import pytest
from report_fixtures import VERDICT_ROWS, RunFactory

from carelens.report.stage import report

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
WIDTH = 1280
# Every table either fits its box or sits in a box that scrolls sideways (no cut-off), and the page
# itself never scrolls sideways.
OVERFLOW = """() => {
  const tables = [...document.querySelectorAll('table')].map(t => {
    const box = t.parentElement;
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    return {fits: t.scrollWidth <= box.clientWidth, scrolls, width: t.scrollWidth, box: box.clientWidth,
            head: (t.querySelector('th, td') || {}).textContent};
  });
  return {tables, page: document.documentElement.scrollWidth};
}"""


@pytest.mark.browser
def test_report_at_1280px_in_chromium(report_run: RunFactory, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    ctx = report_run(manipulation=True)
    report(ctx)
    shot = tmp_path / "report.png"
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto((ctx.run.path / "report.html").as_uri())
            page.wait_for_load_state("load")
            page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
            title = page.title()
            images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
            verdict_rows = page.locator("table.verdicts tbody tr").count()
            nav_links = page.eval_on_selector_all("nav a", "els => els.map(e => e.getAttribute('href'))")
            targets = page.eval_on_selector_all("section[id]", "els => els.map(e => '#' + e.id)")
            layout = page.evaluate(OVERFLOW)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert title.startswith("carelens report: report-test")
    assert images and all(done and width > 300 for done, width in images)
    assert verdict_rows == len(VERDICT_ROWS)
    assert set(nav_links) <= set(targets)
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert layout["page"] <= WIDTH
    assert len(layout["tables"]) >= 10
    cut = [t for t in layout["tables"] if not (t["fits"] or t["scrolls"])]
    assert not cut, cut
    # the study's own tables fit at 1280 px without sideways scrolling
    assert all(t["fits"] for t in layout["tables"]), [t for t in layout["tables"] if not t["fits"]]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 100_000
