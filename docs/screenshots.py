"""Screenshots of the run page, for the README: 1280 and 390 pixels wide; and a classifier's decision surface.

    python docs/screenshots.py            # writes docs/page-1280.png, docs/page-390.png and docs/surface.png

Trains the lecture's network on sample_data/linear.csv with `--report`, opens the page in the
system's Chromium (headless, every request outside the file blocked), points at w1 so that its
chain rule shows, and takes the top of the page at each width. Training runs as the README's
examples do (regenerate.environment: the same BLAS kernels), so the page shows the run the
README prints; docs/network.svg is regenerate.py's. docs/surface.png is `show --format svg --data`
of a 2-4-1 tanh classifier trained (bce, 2,000 epochs) on the Playground's xor set (generate --shape
xor --rows 300 --seed 0), drawn as Chromium draws the SVG. Needs Playwright for Python and
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
        surface(fwdback, Path(scratch))
    for name in ("page-1280.png", "page-390.png", "surface.png"):
        print(HERE / name, (HERE / name).stat().st_size, "bytes")


def surface(fwdback: list[str], scratch: Path) -> None:
    """docs/surface.png: a classifier's network and decision surface, as `show --format svg --data` draws them."""
    data, model, figure = scratch / "xor.csv", scratch / "xor.json", scratch / "surface.svg"
    run = {"check": True, "cwd": ROOT, "env": environment(scratch)}
    data.write_bytes(subprocess.run([*fwdback, "generate", "--shape", "xor", "--rows", "300", "--seed", "0"], capture_output=True, **run).stdout)
    subprocess.run([*fwdback, "train", str(data), "--features", "x1,x2", "--loss", "bce", "--hidden", "4", "--activation", "tanh",
                    "--epochs", "2000", "--model", str(model), "-q"], **run)
    figure.write_bytes(subprocess.run([*fwdback, "show", str(model), "--format", "svg", "--data", str(data)], capture_output=True,
                                      **run).stdout)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        page.goto(figure.as_uri())
        page.locator("svg").first.screenshot(path=str(HERE / "surface.png"))
        browser.close()


if __name__ == "__main__":
    main()
