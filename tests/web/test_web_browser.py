"""The web UI in headless Chromium against the real app served by uvicorn.

Logs in with a token, opens the dashboard (charts drawn), builds a segment with two
conditions and checks the live count against ``segmint.service.preview`` of the same
definition (read back from the YAML the builder shows), saves it, runs the project (the
server picks up the new run without a restart), opens the segment's page and downloads its
members as CSV: the file's ids are the service layer's members.

Uses Debian's chromium (``/usr/bin/chromium``) through Playwright, never a downloaded
browser; skipped without it, except when ``SEGMINT_REQUIRE_BROWSER`` is set (CI). The
network is off for the page: anything not from the app fails the test.  Screenshots go to
``test-artifacts/web/`` (or ``$SEGMINT_TEST_ARTIFACTS/web``); with
``SEGMINT_UPDATE_DOCS_IMG=1`` the dashboard and builder shots also replace
``docs/img/web-*.png``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmint import service
from segmint.runs import _cards_table

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("SEGMINT_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "web"

pytestmark = pytest.mark.browser

#: plotly's drawn marks: bars and line/marker paths
DRAWN = """(id) => {
  const el = document.getElementById(id);
  if (!el || !el._fullLayout) return 0;
  return el.querySelectorAll(
    'g.trace.bars path[d]:not([d="M0,0Z"]), g.trace.scatter path.js-line, g.points path'
  ).length;
}"""


#: a churn model's card (as ``segmint.models`` writes it), with drivers and calibration
CHURN: dict[str, Any] = {
    "model": "churn: no purchase in 90 days",
    "metrics": {
        "customers": 2000,
        "auc": 0.81,
        "lift_top_decile": 2.4,
        "calibration": [
            {"low": 0.0, "high": 0.2, "customers": 700, "predicted": 0.1, "observed": 0.12},
            {"low": 0.2, "high": 0.5, "customers": 700, "predicted": 0.35, "observed": 0.31},
            {"low": 0.5, "high": 1.0, "customers": 600, "predicted": 0.7, "observed": 0.74},
        ],
    },
    "drivers": [
        {"name": "recency_days", "label": "days since the last order", "importance": 0.2},
        {"name": "email_opens_90d", "label": "email opens", "importance": 0.05},
    ],
}

#: form controls without an accessible name (no label, aria-label or text)
UNLABELLED = """[...document.querySelectorAll('input, select, button, textarea')]
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                 && !e.textContent.trim())
  .map((e) => e.id || e.outerHTML.slice(0, 80))"""


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("SEGMINT_REQUIRE_BROWSER"):
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(web_demo_copy: Path) -> Iterator[str]:
    """The real app (``segmint.api.create_app``) served by uvicorn on a free port."""
    import uvicorn

    from segmint.api import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(web_demo_copy), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _shot(page: Any, name: str, *, docs: bool = False, full: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    if docs and os.environ.get("SEGMINT_UPDATE_DOCS_IMG"):
        (ROOT / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ROOT / "docs" / "img" / f"{name}.png")
    return path


def _condition(page: Any, n: int, field: str, op: str, value: str) -> None:
    row = page.locator("#conditions > li").nth(n)
    row.locator("[data-role=field]").select_option(field)
    row.locator("[data-role=op]").select_option(op)
    row.locator("[data-role=value]").fill(value)


def _live_count(page: Any) -> int:
    page.wait_for_function(
        "document.getElementById('live-count').dataset.state === 'ready'", timeout=30_000
    )
    return int(page.get_attribute("#live-count", "data-count"))


@contextlib.contextmanager
def _browser(server: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A 1366x768 page of headless chromium that may reach only the app; the requests that
    tried to leave it, and the page's script errors."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(
                viewport={"width": 1366, "height": 768}, accept_downloads=True
            )
            page = context.new_page()

            def only_the_app(route: Any) -> None:
                if route.request.url.startswith(server):
                    route.continue_()
                else:  # the network is off: anything fetched from elsewhere fails
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_app)
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, outside, errors
        finally:
            browser.close()


def _login(page: Any, server: str, token: str) -> None:
    """Open the dashboard, get sent to /login, log in with the token, land on the dashboard."""
    page.goto(server + "/")
    assert page.url.startswith(server + "/login?next=")
    page.fill("#token", token)
    page.click("#login-token button[type=submit]")
    page.wait_for_url(server + "/")
    page.wait_for_selector("body[data-ready=dashboard]", timeout=30_000)


def _digits(text: str | None) -> str:
    return "".join(c for c in text or "" if c.isdigit())


def test_login_dashboard_and_language(
    server: str, web_demo_copy: Path, web_tokens: dict[str, str]
) -> None:
    _browser_or_skip()
    with _browser(server) as (page, outside, errors):
        page.goto(server + "/login")
        page.fill("#token", "not-a-token")
        page.click("#login-token button[type=submit]")
        page.wait_for_function("document.getElementById('login-error').textContent !== ''")
        assert page.url.startswith(server + "/login")
        _login(page, server, web_tokens["viewer"])
        project = service.open_project(web_demo_copy)
        try:
            customers = project.engine.table("customer_traits").count().execute()
            sizes = {s.name: s.size for s in service.segments(project)}
        finally:
            project.close()
        assert _digits(page.text_content("#kpi-customers")) == str(customers)
        # one bar per segment with a size, and lines over the runs
        bars = page.evaluate("document.getElementById('chart-sizes').data[0].x.length")
        assert bars == min(25, sum(1 for v in sizes.values() if v is not None))
        assert page.evaluate(DRAWN, "chart-sizes") > 5
        assert page.evaluate(DRAWN, "chart-trends") > 0
        assert page.locator("nav a[href='/exports']").count() == 0  # viewer
        _shot(page, "web-dashboard-viewer")

        # a segment's page for a viewer: the profile and sizes, not the members
        page.goto(server + "/segments/vip")
        page.wait_for_selector("body[data-ready=segment]")
        assert page.locator("#canvas-sales tbody tr").count() > 0
        assert _digits(page.text_content("#profile-kpis dd")) == str(sizes["vip"])
        assert page.is_visible("#members-forbidden")
        assert page.locator("#download-csv").count() == 0

        # the builder with the keyboard: Enter on "Add condition" adds one and focuses it;
        # every control has a name; a viewer may count but not save
        page.goto(server + "/segments/new")
        page.wait_for_selector("body[data-ready=builder]")
        page.focus("#add-condition")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "c2-field"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "c2-op"
        assert page.evaluate(UNLABELLED) == []
        assert page.is_disabled("#save")
        assert "needs admin" in page.text_content("#save-status")
        page.locator("#conditions > li").nth(0).locator("[data-role=field]").select_option(
            "frequency"
        )
        page.locator("#conditions > li").nth(0).locator("[data-role=op]").select_option(">=")
        page.locator("#conditions > li").nth(0).locator("[data-role=value]").fill("2")
        assert _live_count(page) > 0
        page.click("nav a[href='/']")
        page.wait_for_selector("body[data-ready=dashboard]")
        page.click("a[hreflang=sv]")
        page.wait_for_selector("body[data-ready=dashboard]")
        assert page.text_content("h1") == "Översikt"
        assert page.text_content("#kpi-customers") != "–"
        page.click("nav a[href='/models']")
        page.wait_for_selector("body[data-ready=models]")
        assert page.text_content("h1") == "Modeller"  # remembered
        page.click("#logout")
        page.wait_for_url(server + "/login")
        page.goto(server + "/segments")
        assert page.url.startswith(server + "/login?next=")
    assert outside == []
    assert errors == []


@pytest.mark.slow
def test_login_dashboard_build_save_open_download(
    server: str, web_demo_copy: Path, web_tokens: dict[str, str], tmp_path: Path
) -> None:
    _browser_or_skip()
    root = web_demo_copy
    with _browser(server) as (page, outside, errors):
        # -- log in as admin; the dashboard's charts are drawn
        _login(page, server, web_tokens["admin"])
        assert page.evaluate(DRAWN, "chart-sizes") > 5
        assert page.evaluate(DRAWN, "chart-trends") > 0
        _shot(page, "web-dashboard", docs=True)

        # -- builder: two conditions, the live count is the CLI's preview count
        page.click("nav a[href='/segments/new']")
        page.wait_for_selector("body[data-ready=builder]")
        _condition(page, 0, "country", "=", "DK")
        first = _live_count(page)
        page.click("#add-condition")
        _condition(page, 1, "frequency", ">=", "3")
        page.wait_for_function(
            f"(() => {{ const o = document.getElementById('live-count');"
            f" return o.dataset.state === 'ready' && o.dataset.count !== '{first}'; }})()",
            timeout=30_000,
        )
        live = _live_count(page)
        shown = yaml.safe_load(page.text_content("#yaml"))["segments"][0]
        assert shown["rule"] == {
            "all": [
                {"field": "country", "op": "=", "value": "DK"},
                {"field": "frequency", "op": ">=", "value": 3},
            ]
        }
        project = service.open_project(root)
        try:
            expected = service.preview(project, shown["rule"]).count
        finally:
            project.close()
        assert 0 < live == expected < first
        # an error is shown at the input it names, and the count says nothing
        page.locator("#conditions > li").nth(1).locator("[data-role=value]").fill("many")
        page.wait_for_function(
            "document.getElementById('live-count').dataset.state === 'error'",
            timeout=30_000,
        )
        assert page.text_content("#conditions > li:nth-child(2) .cond-error") != ""
        page.locator("#conditions > li").nth(1).locator("[data-role=value]").fill("3")
        assert _live_count(page) == live
        page.fill("#seg-name", "dk_repeat")
        page.fill("#seg-description", "Danish customers with three orders or more")
        _shot(page, "web-builder", docs=True)
        page.click("#save")
        page.wait_for_selector("#save-status[data-saved=dk_repeat]")
        # listed at once, not yet evaluated (the next run does)
        page.click("nav a[href='/segments']")
        page.wait_for_selector("body[data-ready=segments]")
        page.fill("#segment-filter", "dk_rep")
        assert page.locator("#segments-table tbody tr").count() == 1
        assert page.text_content("#segments-table tbody tr td:nth-child(3)") == "not yet evaluated"
        saved = service.open_project(root)
        try:
            definition = saved.config.segment("dk_repeat")
            assert definition is not None
            assert (
                definition.model_dump(mode="json", exclude_defaults=True)["rule"] == (shown["rule"])
            )
            # -- a run while the server answers; the server then shows it
            result = service.run(saved)
            members = service.members(saved, "dk_repeat", limit=None)
            # a churn model's card as a run with models.churn stores it (fitting one takes
            # minutes); published again so the server has it
            saved.engine.append("model_cards", _cards_table(result.run_id, result.as_of, [CHURN]))
            from segmint.serving import publish

            publish(saved)
        finally:
            saved.close()
        assert len(members) == expected

        # -- its page: profile, size over runs, members and the CSV download
        deadline = time.monotonic() + 20
        while True:
            page.goto(f"{server}/segments/dk_repeat")
            page.wait_for_selector("body[data-ready=segment]", timeout=30_000)
            total = page.get_attribute("#members-table", "data-total")
            if total == str(len(members)) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert total == str(len(members))
        assert page.locator("#members-table tbody tr").count() == min(50, len(members))
        assert page.locator("#canvas-facts tbody tr").count() > 0
        assert page.evaluate(DRAWN, "chart-size") > 0
        # the definition is shown as segmint.yaml holds it
        assert yaml.safe_load(page.text_content("#segment-yaml"))["segments"][0] == {
            "name": "dk_repeat",
            "description": "Danish customers with three orders or more",
            "rule": shown["rule"],
        }
        _shot(page, "web-segment", full=True)
        with page.expect_download() as info:
            page.click("#download-csv")
        download = info.value
        target = tmp_path / "members.csv"
        download.save_as(str(target))
        shutil.copy(target, ARTIFACTS / "dk_repeat-members.csv")

        # -- a member's 360 page lists the new segment
        page.click("#members-table tbody tr:first-child a")
        page.wait_for_selector("body[data-ready=customer]")
        assert page.url == f"{server}/customers/{members[0]}"
        chips = page.locator("#customer-segments a").all_text_contents()
        assert "dk_repeat" in chips
        assert page.locator("#customer-traits tbody tr").count() > 10
        _shot(page, "web-customer", full=True)

        # -- models: the CLV holdout check, the churn card's metrics, drivers, calibration
        deadline = time.monotonic() + 20
        while True:  # the server takes up the last replica within about a second
            page.goto(f"{server}/models")
            page.wait_for_selector("body[data-ready=models]")
            titles = page.locator("#models section h2").all_text_contents()
            if CHURN["model"] in titles or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "BG/NBD" in titles
        assert page.evaluate(DRAWN, f"model-{titles.index('BG/NBD')}-check") > 0
        churn = titles.index(CHURN["model"])
        drivers = page.evaluate(f"document.getElementById('model-{churn}-drivers').data[0]")
        assert drivers["x"] == [0.05, 0.2]  # least important at the bottom
        assert drivers["y"] == ["email opens", "days since the last order"]
        calibration = page.evaluate(f"document.getElementById('model-{churn}-calibration').data[0]")
        assert calibration["x"] == [b["predicted"] for b in CHURN["metrics"]["calibration"]]
        assert calibration["y"] == [b["observed"] for b in CHURN["metrics"]["calibration"]]
        assert page.evaluate(DRAWN, f"model-{churn}-calibration") > 0
        auc = page.locator(f"#model-{churn}-h ~ div table tr", has_text="auc").first
        assert auc.locator("td").text_content() == "0.81"
        _shot(page, "web-models", full=True)

        # -- exports: the segment as a CSV file to members with email consent
        page.click("nav a[href='/exports']")
        page.wait_for_selector("body[data-ready=exports]")
        page.select_option("#export-segment", "dk_repeat")
        page.select_option("#export-to", "file:csv")
        page.fill("#export-channels", "email")
        page.click("#export-start")
        page.wait_for_selector("#export-status[data-job]")
        job = page.get_attribute("#export-status", "data-job")
        page.wait_for_selector(f"#jobs tr[data-job='{job}'][data-status=done]", timeout=60_000)
        sent = int(_digits(page.text_content(f"#jobs tr[data-job='{job}'] td.num")))
        assert page.text_content("#export-status").endswith(": done")
        with page.expect_download() as info:
            page.click(f"#jobs tr[data-job='{job}'] a")
        exported = tmp_path / "export.csv"
        info.value.save_as(str(exported))
        shutil.copy(exported, ARTIFACTS / "dk_repeat-export.csv")
        audit = page.locator("#audit tbody tr td:nth-child(3)").all_text_contents()
        assert "login" in audit
        assert "segment.create" in audit
        _shot(page, "web-exports", full=True)

        # -- edit it: the form holds the saved conditions; change one, save, delete
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{server}/segments/dk_repeat")
        page.wait_for_selector("body[data-ready=segment]")
        page.click("#edit-link a")
        page.wait_for_selector("body[data-ready=builder]")
        assert page.url == f"{server}/segments/dk_repeat/edit"
        rows = page.locator("#conditions > li")
        assert rows.count() == 2
        assert rows.nth(1).locator("[data-role=field]").input_value() == "frequency"
        assert rows.nth(1).locator("[data-role=op]").input_value() == ">="
        assert rows.nth(1).locator("[data-role=value]").input_value() == "3"
        assert _live_count(page) == expected
        rows.nth(1).locator("[data-role=value]").fill("5")
        page.wait_for_function(
            f"document.getElementById('live-count').dataset.count !== '{expected}'"
            " && document.getElementById('live-count').dataset.state === 'ready'",
            timeout=30_000,
        )
        page.click("#save")
        page.wait_for_selector("#save-status[data-saved=dk_repeat]")
        edited = service.open_project(root)
        try:
            changed = edited.config.segment("dk_repeat")
            assert changed is not None
            rule = changed.rule
            assert rule.model_dump(mode="json")["all"][1]["value"] == 5
            assert service.preview(edited, rule.model_dump(mode="json")).count == _live_count(page)
        finally:
            edited.close()
        page.click("#delete")
        page.wait_for_url(server + "/segments")
        gone = service.open_project(root)
        try:
            assert gone.config.segment("dk_repeat") is None
        finally:
            gone.close()

        # -- the language switch: Danish labels, remembered on the next page
        page.wait_for_selector("body[data-ready=segments]")
        page.click("a[hreflang=da]")
        page.wait_for_selector("body[data-ready=segments]")
        assert page.text_content("h1") == "Segmenter"
        page.click("nav a[href='/']")
        page.wait_for_selector("body[data-ready=dashboard]")
        assert page.text_content("h1") == "Overblik"
        assert page.text_content("#kpi-customers") != "–"
        _shot(page, "web-dashboard-da")
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [r["customer_id"] for r in rows] == members
    assert {r["segment"] for r in rows} == {"dk_repeat"}
    # the export holds members only, those with email consent, as many as the page says
    project = service.open_project(root)
    try:
        t = project.engine.table("customer_traits")
        consenting = set(t.filter(t.consent_email).customer_id.to_pyarrow().to_pylist()) & set(
            members
        )
    finally:
        project.close()
    out = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    ids = {r["customer_id"] for r in out}
    assert len(out) == sent > 0
    assert ids <= consenting
    assert outside == []
    assert errors == []
