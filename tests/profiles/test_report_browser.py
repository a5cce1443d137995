"""The report opened in headless Chromium, offline: every chart is present and drawn.

Uses Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) through
Playwright, never a downloaded browser.  Without chromium the test is skipped, except
when ``SEGMINT_REQUIRE_BROWSER`` is set (CI), where a missing browser is a failure.
The screenshot is kept in ``test-artifacts/`` (or ``$SEGMINT_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from segmint.project import Project
from segmint.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("SEGMINT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)

pytestmark = pytest.mark.browser

#: per chart, what it draws: bars, heat-map image, Sankey nodes and links
DRAWN = """(id) => {
  const el = document.getElementById(id);
  if (!el || !el._fullLayout) return {present: !!el, drawn: 0, width: 0};
  const marks = el.querySelectorAll(
    'g.trace.bars path[d]:not([d="M0,0Z"]), g.hm image, g.sankey-node rect, path.sankey-link');
  const box = el.getBoundingClientRect();
  return {present: true, drawn: marks.length, width: box.width, height: box.height,
          svg: el.querySelectorAll('svg.main-svg').length};
}"""


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("SEGMINT_REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed")


@pytest.mark.parametrize("lang", ["en", "da"])
def test_every_chart_renders_offline(demo: Project, tmp_path: Path, lang: str) -> None:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    demo.config.profiles.card_traits = ["lifecycle_stage"]
    result = write_report(demo, tmp_path / "report.html", lang=lang)
    assert len(result.charts) >= 15
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def block(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:  # the network is off: anything fetched from elsewhere fails
                    requested.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((tmp_path / "report.html").as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot').length >= {len(result.charts)}"
            )
            page.wait_for_timeout(500)  # Sankey lays out after the first frame
            page.screenshot(path=str(ARTIFACTS / f"report-{lang}.png"), full_page=True)
            plots = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
            drawn = {c: page.evaluate(DRAWN, c) for c in result.charts}
        finally:
            browser.close()
    assert requested == []
    assert errors == []
    assert sorted(plots) == sorted(result.charts)
    for chart, state in drawn.items():
        assert state["present"], chart
        assert state["svg"] >= 1, chart
        assert state["drawn"] > 0, (chart, state)
        assert state["width"] > 200, (chart, state)
        assert state["height"] > 200, (chart, state)
    assert (ARTIFACTS / f"report-{lang}.png").stat().st_size > 50_000
