"""Peak memory (RSS) of `fwdback train`, `fwdback train --chunksize` and `fwdback predict` on large CSV files.

    python benchmarks/memory.py              # 1M, 10M and 20M rows
    python benchmarks/memory.py --rows 1000000

`train` reads the rows into memory; `train --chunksize 100000` streams them twice through the
Gram engine's statistics, and `predict` streams them once, so those two should stay flat.

Each command runs in its own process; its peak RSS is read from getrusage after it exits.
The CSVs are made with `fwdback generate` in a temporary directory and removed afterwards.
The baseline is a process that only imports fwdback's dependencies.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

from machine import machine_line

FWDBACK = [sys.executable, "-m", "fwdback"]


def peak_rss_mib(command: list[str], **options) -> tuple[float, float]:
    """Run `command` in a fresh process; its peak RSS in MiB and its wall time in seconds."""
    script = (
        "import resource, subprocess, sys, time;"
        "start = time.perf_counter();"
        "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL);"
        "elapsed = time.perf_counter() - start;"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, elapsed, code)"
    )
    output = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True, check=True, **options)
    rss, elapsed, code = output.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
    return float(rss), float(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000, 20_000_000])
    args = parser.parse_args()
    baseline, _ = peak_rss_mib([sys.executable, "-c", "import click, numpy, pandas, rich"])
    print(f"baseline (python + click, numpy, pandas, rich imported): {baseline:.0f} MiB")
    print(
        f"{'rows':>11} {'CSV MiB':>8} {'data MiB':>9} {'train peak':>11} {'train s':>8} "
        f"{'chunked peak':>13} {'chunked s':>10} {'predict peak':>13} {'predict s':>10}"
    )
    with tempfile.TemporaryDirectory() as directory:
        model = os.path.join(directory, "model.json")
        for rows in args.rows:
            path = os.path.join(directory, f"{rows}.csv")
            with open(path, "w") as stream:
                subprocess.run([*FWDBACK, "generate", "--rows", str(rows)], stdout=stream, check=True)
            train_rss, train_s = peak_rss_mib([*FWDBACK, "train", path, "--epochs", "10", "--quiet", "--model", model])
            chunked_rss, chunked_s = peak_rss_mib(
                [*FWDBACK, "train", path, "--epochs", "10", "--quiet", "--model", model, "--chunksize", "100000"]
            )
            predict_rss, predict_s = peak_rss_mib([*FWDBACK, "predict", path, "--model", model])
            print(
                f"{rows:>11,} {os.path.getsize(path) / 2**20:>8.0f} {rows * 4 * 8 / 2**20:>9.0f} "
                f"{train_rss:>8.0f} MiB {train_s:>8.1f} {chunked_rss:>10.0f} MiB {chunked_s:>10.1f} "
                f"{predict_rss:>10.0f} MiB {predict_s:>10.1f}",
                flush=True,
            )
            os.unlink(path)
    print(machine_line())


if __name__ == "__main__":
    main()
