"""A headless Chromium (Debian's ``chromium``, driven by Playwright) for the console's tests.

Without chromium the browser tests skip, except where ``QHARBOR_REQUIRE_BROWSER`` is set (CI
sets it): there they fail, so no CI run passes without driving the console in a browser.
A failing test leaves a screenshot of each page it had open in its temporary directory.
``QHARBOR_CHROMIUM`` names another Chromium binary (default: ``chromium`` on PATH)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("QHARBOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    item.stash.setdefault(_FAILED, False)
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[test]')"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("QHARBOR_REQUIRE_BROWSER"):
            pytest.fail(f"a browser is required here (QHARBOR_REQUIRE_BROWSER) but: {missing}")
        pytest.skip(missing)
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                  args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield found
        found.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (its own sessionStorage) and page; screenshot on failure."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    if request.node.stash.get(_FAILED, False):
        for i, open_page in enumerate(context.pages):
            open_page.screenshot(path=str(tmp_path / f"failure-{i}.png"), full_page=True)
            print(f"screenshot: {tmp_path / f'failure-{i}.png'} ({open_page.url})")
    context.close()
