"""How long the page of a long run takes to open: `train --report` of 1,000,000 epochs on
1,000,000 rows (the page keeps 2,000 of them), loaded in the system's headless Chromium.

    python benchmarks/page_open.py              # 1,000,000 epochs on 1,000,000 rows: about a minute to train
    python benchmarks/page_open.py --epochs 10000 --rows 10000   # a quick look

The page's size, and the time from navigation to the load event (the page's script has run,
the first epoch is drawn) as Chromium's Navigation Timing reports it: the median of five fresh
loads and each of them. Markdown goes to stdout, progress to stderr. The target is under a
second; the tests check what the page shows, not how fast (tests/test_html.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import machine_line

LOADS = 5


def make_page(directory: Path, rows: int, epochs: int) -> Path:
    data, page = directory / "big.csv", directory / "big.html"
    with open(data, "w", encoding="utf-8") as stream:
        subprocess.run([sys.executable, "-m", "fwdback", "generate", "--rows", str(rows)], stdout=stream, check=True)
    subprocess.run([sys.executable, "-m", "fwdback", "train", str(data), "--epochs", str(epochs), "--tol", "0",
                    "--report", str(page), "--no-save", "-q"], check=True)
    return page


def load_times(page: Path) -> list[float]:
    """Milliseconds from navigation to the load event, one a fresh browser context."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True)
        for _ in range(LOADS):
            context = browser.new_context()
            tab = context.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            times.append(tab.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
            context.close()
        browser.close()
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1_000_000)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        print(f"training {options.epochs:,} epochs on {options.rows:,} rows ...", file=sys.stderr)
        page = make_page(Path(directory), options.rows, options.epochs)
        size = page.stat().st_size
        times = load_times(page)
    print(f"| epochs | rows | page | opens in (median of {LOADS}) | each |")
    print("|---:|---:|---:|---:|---|")
    print(f"| {options.epochs:,} | {options.rows:,} | {size / 2**20:.2f} MiB | {statistics.median(times):.0f} ms | "
          f"{', '.join(f'{t:.0f}' for t in times)} ms |")
    print()
    print(machine_line())


if __name__ == "__main__":
    main()
