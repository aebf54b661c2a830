"""The catalog page in a real headless Chromium (Debian's, driven by Playwright).

Load, search, filter, sort, open a model (every field, history with diffs, the price chart),
and see a change made by another process appear without a reload.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cases import config
from modelregistry import ModelRegistry
from served import Served, write_elsewhere

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser

pytestmark = pytest.mark.slow

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
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def test_the_page_searches_filters_sorts_opens_a_model_and_follows_changes(
    database_url: str, browser: Browser
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            config(
                model_id="acme/big:1",
                provider="acme",
                context_window=999_000,
                display_name="Acme Big",
            )
        )
        registry.update_model_status("acme/big:1", "deprecated", reason="replaced")
    served = Served(database_url, "serve", "--poll-interval", "0.1")
    try:
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(served.base + "/")
        rows = page.locator("#models tbody tr")
        rows.first.wait_for()
        assert rows.count() == 4
        page.wait_for_selector("#live.on")

        page.fill("#search", "llama3.2")
        assert [r.get_attribute("data-id") for r in rows.all()] == ["llama3.2:3b"]
        page.fill("#search", "")
        page.select_option("#provider", "acme")
        assert [r.get_attribute("data-id") for r in rows.all()] == ["acme/big:1"]
        page.select_option("#provider", "")
        page.select_option("#status", "active")
        assert rows.count() == 3
        page.select_option("#status", "")
        page.click("#capabilities input[value=supports_vision]")
        assert "llava-llama3:latest" in [r.get_attribute("data-id") for r in rows.all()]
        page.click("#capabilities input[value=supports_vision]")

        page.click("th[data-sort=context_window]")
        page.click("th[data-sort=context_window]")  # highest first
        assert rows.first.get_attribute("data-id") == "acme/big:1"

        page.click("a[href='#/model/acme%2Fbig%3A1']")
        page.wait_for_selector("#detail:not([hidden])")
        fields = page.inner_text("#fields")
        for name in ("model_id", "provider", "context_window", "quality_scores", "version"):
            assert name in fields
        history = page.locator("#history li")
        history.nth(1).wait_for()
        assert 'status: "active" → "deprecated"' in history.nth(1).inner_text()
        page.wait_for_function("document.querySelector('#chart').naturalWidth > 0")

        page.goto(served.base + "/#/")
        rows.first.wait_for()
        page.wait_for_selector("#live.on")
        write_elsewhere(database_url, 'registry.update_model_status("llama3.1:8b", "disabled")')
        page.wait_for_selector("tr[data-id='llama3.1:8b'].changed td.status:text('disabled')")
    finally:
        served.close()
