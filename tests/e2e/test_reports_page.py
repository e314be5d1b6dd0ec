"""A supervisor opens the reports page from the console and sees every figure drawn as a chart;
an agent is refused. Screenshot: docs/screenshots/reports.png."""

from __future__ import annotations

from typing import Any

from kefu.db import make_engine, make_session_factory
from kefu.settings import REPO_ROOT
from tests.security.public_gateway import PASSWORD, GatewayProcess, gateway_process
from tests.unit.reports import history

__all__ = ["gateway_process"]  # the real gateway process, with agent "wang" and supervisor "zhao"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/console")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#desk-view:not([hidden])")


def test_supervisor_sees_the_reports_with_charts(gateway_process: GatewayProcess, chromium: Any) -> None:
    engine = make_engine(gateway_process.database_url)
    history.build(make_session_factory(engine))
    engine.dispose()
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        sign_in(page, gateway_process.url, "zhao")
        page.click("#reports-link")
        page.wait_for_url("**/console/reports")
        page.goto(f"{gateway_process.url}/console/reports?from={history.DAY}&to={history.DAY}")
        page.wait_for_selector("body[data-loaded='10']", timeout=30_000)
        assert page.locator("section.card canvas").count() == 10
        # Chart.js sizes every canvas it draws on.
        for name in ("containment", "per_hour", "sla", "csat"):
            assert int(page.locator(f"#report-{name} canvas").get_attribute("width") or 0) > 0
        assert "40.0%" in page.locator("#report-containment .summary").inner_text()
        assert "3.5" in page.locator("#report-csat .summary").inner_text()
        assert "25.0%" in page.locator("#report-intents .summary").inner_text()
        # The channel filter asks again: web only.
        page.select_option("#channel", "web")
        page.click("#apply")
        page.locator("#report-containment .summary:has-text('33.3%')").wait_for(timeout=30_000)
        page.select_option("#channel", "")
        page.click("#apply")
        page.locator("#report-containment .summary:has-text('40.0%')").wait_for(timeout=30_000)
        # CSV of a table, as the card's button downloads it.
        with page.expect_download() as download:
            page.click("#report-csat button.csv")
        assert download.value.suggested_filename == f"kefu-csat-{history.DAY}.csv"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)
    finally:
        context.close()


def test_an_agent_is_refused_the_reports(gateway_process: GatewayProcess, chromium: Any) -> None:
    context = chromium.new_context()
    page = context.new_page()
    try:
        sign_in(page, gateway_process.url, "wang")
        assert page.locator("#reports-link").is_hidden()
        page.goto(gateway_process.url + "/console/reports")
        page.locator("#notice:has-text('只有主管和管理员')").wait_for(timeout=15_000)
        assert page.locator("section.card").count() == 0
    finally:
        context.close()
