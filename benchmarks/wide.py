"""The chosen learning rate and the columns' scales for wide data: 40 rows of k features.

    python benchmarks/wide.py                 # k = 100, 500, 1000, 5000
    python benchmarks/wide.py --features 5000

With n rows << k features, stepsize works from the n x n side (A A^T / n has G's nonzero
eigenvalues); the "before" column repeats the former computation, G^(1/2) M M^T G^(1/2) of
shape (k + 1, k + 1) with G's square root taken again for each of the three points the step is
checked at, and is run only up to 1,000 features (at 5,000 it took over a minute an epoch's
worth of set-up, issue 20). Each cell is the median of 3 runs, in seconds, one BLAS thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from machine import machine_line
from fwdback.engines.threads import one_blas_thread
from fwdback.linear_map import balanced_minimizers, least_squares
from fwdback.network import init_parameters
from fwdback.stepsize import RowStatistics, choose_lr, gram_matrix, round_down, scales_of_rows

ROWS = 40
BEFORE_UP_TO = 1000


def before(X: np.ndarray, y: np.ndarray, initial) -> float:
    """choose_lr as it was: for each point, G^(1/2) from an eigendecomposition of G, then the
    largest eigenvalue of G^(1/2) M M^T G^(1/2), shape (k + 1, k + 1)."""
    G = gram_matrix(X)
    best = least_squares(X, y)
    lrs = []
    for params in (initial, *balanced_minimizers(best.coef, best.intercept, initial.n_hidden)):
        values, vectors = np.linalg.eigh(G)
        root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
        W_tilde = np.column_stack([params.W_hidden, params.b_hidden])
        MMt = float(params.w_out @ params.w_out) * np.eye(G.shape[0]) + W_tilde.T @ W_tilde
        MMt[-1, -1] += 1.0
        lrs.append(2.0 / (2.0 * float(np.linalg.eigvalsh(root @ MMt @ root)[-1])))
    return round_down(0.5 * min(lrs), 2)


def median_seconds(work, repeats: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, nargs="*", default=[100, 500, 1000, 5000])
    args = parser.parse_args()
    print(f"| features (x {ROWS} rows) | choose_lr | scales_of_rows | before: choose_lr | lr | lr before |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k in args.features:
        rng = np.random.default_rng(k)
        X = rng.normal(size=(ROWS, k))
        y = X[:, :3] @ np.array([1.0, 2.0, 3.0]) + rng.normal(size=ROWS)
        initial = init_parameters(rng, k, 2)
        with one_blas_thread():
            lr_time, lr = median_seconds(lambda: choose_lr(RowStatistics(X, y), initial))
            scales_time, _ = median_seconds(lambda: scales_of_rows(X, y))
            old_time, old = median_seconds(lambda: before(X, y, initial), 1) if k <= BEFORE_UP_TO else (None, None)
        old_cells = ("—", "—") if old is None else (f"{old_time:.3g} s", f"{old:g}")
        print(f"| {k:,} | {lr_time:.3g} s | {scales_time:.3g} s | {old_cells[0]} | {lr:g} | {old_cells[1]} |")
    print()
    print(machine_line())


if __name__ == "__main__":
    main()
