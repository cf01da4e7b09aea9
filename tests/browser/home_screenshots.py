"""Screenshots of each role's home page at 1280x900 and 390x844, for docs/screenshots/.

Run once from the repository root when the home pages change:
    .venv/bin/python tests/browser/home_screenshots.py docs/screenshots
It starts its own server in a temporary home with the accessibility test's clinic,
pharmacy and rows, signs in as each role and saves `home-<role>-<width>.png`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from PIL import Image  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
from portal_server import free_port, running_server  # noqa: E402
from test_browser_accessibility import (  # noqa: E402
    CLINIC,
    EVERYONE,
    PHARMACIST,
    VIEWPORTS,
    populate,
)
from test_browser_login import CHROMIUM, CHROMIUM_ARGS, sign_in  # noqa: E402
from two_org_seed import seed_two_organizations  # noqa: E402


def small(path: Path) -> None:
    """A 64-colour palette: a third of the size, no visible change for a flat UI."""
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


async def shoot(base: str, target: Path) -> list[Path]:
    saved: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        for who in EVERYONE:
            for viewport in VIEWPORTS:
                context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
                page = await context.new_page()
                await sign_in(page, base, who)
                await page.wait_for_url(f"{base}/")
                path = target / f"home-{who.roles[0].replace('_', '-')}-{viewport['width']}.png"
                await page.screenshot(path=str(path))
                small(path)
                saved.append(path)
                await context.close()
        await browser.close()
    return saved


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clinvault-shots-") as tmp:
        home = Path(tmp)
        port = free_port()
        seed_two_organizations(
            home,
            port,
            ("Harbourview Clinic", CLINIC),
            ("Quayside Pharmacy", "Portsmouth", [PHARMACIST]),
        )
        with running_server(home, port, home / "server.log") as server:
            populate(server.base_url)
            for path in asyncio.run(shoot(server.base_url, target)):
                print(path, path.stat().st_size)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
