"""Training on a Dask LocalCluster against one process: the statistics pass and a tanh network's epochs.

    python benchmarks/dask_scale.py                      # 10 million rows in 8 parts
    python benchmarks/dask_scale.py --rows 1000000 --parts 4 --epochs 5   # a quick run

The parts are CSVs written by `fwdback generate` (one seed each) into a temporary directory
(or --keep DIR, reused when present). Measured, each with the same parts:

- the statistics pass (the Gram engine's sums, what the linear network trains on): in one
  process, streamed from the files (`fwdback train 'parts/*' --chunksize`'s path: the files
  read twice, parsed by the strict reader); on the cluster, the parts read into the workers'
  memory (the same reader, one part a task) and the two map-reduces of sums over them. Rows
  per second are the rows over the wall time of the whole pass, files read included;
- an epoch of a tanh network with 8 hidden units, full batch: in one process, the literal
  engine over the rows in memory (streamed training is the linear network only); on the
  cluster, one map-reduce of the partitions' LiteralEngine losses and gradients. Seconds per
  epoch are the median over --epochs epochs, after one to warm up.

Both paths are checked to give the same statistics (G, theta0) to 1e-12 and the same epoch
loss to 1e-12 before anything is printed. The table is Markdown.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from machine import machine_line
from fwdback.engines.dask import Cluster, DataParallel, Partitions, cores, gram_engine
from fwdback.engines.gram import GramEngine
from fwdback.engines.literal import LiteralEngine
from fwdback.network import init_parameters
from fwdback.sources import load_parts, parts_of, stream_parts

FEATURES = ("x1", "x2", "x3")


def write_parts(directory: str, rows: int, parts: int) -> None:
    for index in range(parts):
        path = os.path.join(directory, f"part-{index:03d}.csv")
        if not os.path.exists(path):
            with open(path + ".tmp", "w") as stream:
                subprocess.run([sys.executable, "-m", "fwdback", "generate", "--rows", str(rows // parts), "--seed",
                                str(index)], stdout=stream, check=True)
            os.replace(path + ".tmp", path)


def seconds(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def epoch_seconds(objective, params, epochs: int) -> tuple[float, float]:
    """(median seconds an epoch's loss and gradients take, the loss)."""
    loss, _ = objective.loss_and_gradients(params)
    times = [seconds(lambda: objective.loss_and_gradients(params))[0] for _ in range(epochs)]
    return statistics.median(times), loss


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=9, help="epochs timed on each path (the median is shown)")
    parser.add_argument("--keep", metavar="DIR", help="write the parts here and keep them (reused when present)")
    args = parser.parse_args()
    directory = args.keep or tempfile.mkdtemp(prefix="fwdback-dask-")
    os.makedirs(directory, exist_ok=True)
    print(f"writing {args.rows:,} rows in {args.parts} parts to {directory} ...", file=sys.stderr)
    write_parts(directory, args.rows, args.parts)
    parts = parts_of([directory])
    n = args.rows // args.parts * args.parts
    params = init_parameters(np.random.default_rng(0), 3, 8, "tanh")

    print("one process: streamed statistics ...", file=sys.stderr)
    streamed = stream_parts(parts, FEATURES, "y", None, 100_000)
    local_stats_s, local_gram = seconds(lambda: GramEngine.from_chunks(streamed.chunks))
    print("one process: tanh epochs in memory ...", file=sys.stderr)
    dataset = load_parts(parts, FEATURES, "y", None)
    local_epoch_s, local_loss = epoch_seconds(LiteralEngine(dataset.X, dataset.y, 8), params, args.epochs)
    del dataset

    workers = cores()
    print(f"Dask LocalCluster of {workers} worker processes ...", file=sys.stderr)
    with Cluster() as cluster:
        def statistics_pass():
            partitions = Partitions.read(cluster.client, parts.parts, FEATURES, "y", None)
            return partitions, gram_engine(partitions, None)

        dask_stats_s, (partitions, dask_gram) = seconds(statistics_pass)
        objective = DataParallel(partitions, None, params, dask_gram, "mse")
        dask_epoch_s, dask_loss = epoch_seconds(objective, params, args.epochs)
    if relative(dask_gram.G, local_gram.G) > 1e-12 or relative(dask_gram.theta0, local_gram.theta0) > 1e-12:
        raise SystemExit("the statistics differ between the two paths")
    if relative(dask_loss, local_loss) > 1e-12:
        raise SystemExit(f"the epoch's loss differs: {dask_loss!r} against {local_loss!r}")

    print(f"\n{n:,} rows in {args.parts} CSV parts ({sum(os.path.getsize(p.location) for p in parts.parts) / 2**20:,.0f} MiB); "
          f"tanh network, 8 hidden units; {os.cpu_count()} cores\n")
    print("| path | workers | statistics pass | rows/s | rows/s per worker | tanh epoch |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| one process (streamed statistics; epochs in memory) | 1 | {local_stats_s:.1f} s | {n / local_stats_s:,.0f} | "
          f"{n / local_stats_s:,.0f} | {local_epoch_s:.3f} s |")
    print(f"| Dask LocalCluster | {workers} | {dask_stats_s:.1f} s | {n / dask_stats_s:,.0f} | "
          f"{n / dask_stats_s / workers:,.0f} | {dask_epoch_s:.3f} s |")
    print()
    print(machine_line())


if __name__ == "__main__":
    main()
