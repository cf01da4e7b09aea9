"""One headless Chromium per browser test, started after the module's portal server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright
from portal_server import Server
from test_browser_login import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()
