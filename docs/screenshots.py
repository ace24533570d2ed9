"""Screenshots of the run page, for the README: 1280 and 390 pixels wide.

    python docs/screenshots.py            # writes docs/page-1280.png and docs/page-390.png

Trains the lecture's network on sample_data/linear.csv with `--report`, opens the page in the
system's Chromium (headless, every request outside the file blocked), points at w1 so that its
chain rule shows, and takes the top of the page at each width. Training runs as the README's
examples do (regenerate.environment: the same BLAS kernels), so the page shows the run the
README prints; docs/network.svg is regenerate.py's. Needs Playwright for Python and
the Debian package chromium (`apt-get install -y chromium`); `.ci/run` installs both.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from regenerate import environment

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = "sample_data/linear.csv"  # relative, as a user types it: the page's title names it
WIDTHS = {1280: 760, 390: 1300}  # width: height of the part kept


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        page_path = Path(scratch) / "run.html"
        fwdback = [sys.executable, "-m", "fwdback"]
        subprocess.run([*fwdback, "train", DATA, "--report", str(page_path), "--no-save", "-q"], check=True,
                       cwd=ROOT, env=environment(Path(scratch)))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            for width, height in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
                page.goto(page_path.as_uri())
                page.locator("#epoch").focus()
                for _ in range(12):
                    page.keyboard.press("ArrowRight")
                page.hover('svg.network [data-param="w1"] .hit')
                page.screenshot(path=str(HERE / f"page-{width}.png"), clip={"x": 0, "y": 0, "width": width, "height": height})
                page.close()
            browser.close()
    for name in ("page-1280.png", "page-390.png"):
        print(HERE / name, (HERE / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
