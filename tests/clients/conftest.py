"""Fixtures for client tests: one real `dawhost serve` for the folder, one headless Chromium,
and a fresh page per test that is screenshotted when the test fails.

Screenshots and the page's console go to $DAWHOST_TEST_ARTIFACTS, else
data/test-artifacts/clients/ (gitignored), named after the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.dawhost_server import PROJECT, DawhostServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A fake microphone (a tone), granted without a prompt, and audio that may start without a
    # click: the page's recorder and players run as they do for a person who allowed them.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = Path(
    os.environ.get("DAWHOST_TEST_ARTIFACTS", PROJECT / "data" / "test-artifacts" / "clients")
)


@pytest.fixture(scope="package")
def dawhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DawhostServer]:
    server = start_server(tmp_path_factory.mktemp("dawhost"))
    try:
        yield server
    finally:
        server.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Remember each phase's outcome on the test, so the page fixture knows it failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Module scope, not package or session: Playwright's sync API keeps an event loop running on
# the main thread while it is open, which breaks every later test calling asyncio.run() (the
# Max example tests in this folder did, after the browser tests).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="pip install playwright (the Python package only)"
    )
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class PageLog:
    """What one page printed and threw; cleared for each test."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []


@pytest.fixture(scope="module")
def shared_tab(browser: Any) -> Iterator[tuple[Any, PageLog]]:
    # One tab per module, navigated afresh per test: a new context costs ~0.5-1.5 s.
    context = browser.new_context(viewport={"width": 1100, "height": 1300}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    log = PageLog()
    tab.on("console", lambda message: log.console.append(f"{message.type}: {message.text}"))
    tab.on("pageerror", lambda error: log.errors.append(str(error)))
    try:
        yield tab, log
    finally:
        context.close()


@pytest.fixture
def page(
    shared_tab: tuple[Any, PageLog], dawhost_server: DawhostServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The controller page, freshly loaded and connected; JavaScript exceptions and Chromium's
    deprecation warnings (ScriptProcessorNode's was one) fail the test."""
    tab, log = shared_tab
    log.console.clear()
    log.errors.clear()
    tab.goto(dawhost_server.page_url)
    # Tests share one tab: options one test set must not be remembered into the next.
    if tab.evaluate("() => { const n = localStorage.length; localStorage.clear(); return n; }"):
        tab.reload()
    tab.wait_for_selector("#connection[data-state=open]")
    tab.wait_for_selector("#models[data-count]")
    try:
        yield tab
        assert not log.errors, f"JavaScript errors on the page: {log.errors}"
        deprecated = [line for line in log.console if "deprecat" in line.lower()]
        assert not deprecated, f"Chromium deprecation warnings: {deprecated}"
    finally:
        report = getattr(request.node, "report_call", None)
        if report is None or report.failed or log.errors:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
            (ARTIFACTS / f"{request.node.name}.console.txt").write_text(
                "\n".join(log.console + [f"pageerror: {e}" for e in log.errors]) + "\n"
            )
