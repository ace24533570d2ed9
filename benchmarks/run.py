"""Per-epoch speed of fwdback's engine beside naive NumPy, PyTorch, scikit-learn and pure Python.

    python benchmarks/run.py            # 100 to 10,000,000 rows, start-up, CSV load, end to end, then
                                        # issue 14's tables (beyond.py): about half an hour
    python benchmarks/run.py --quick    # 100 and 10,000 rows, a smoke test of a few minutes
    python benchmarks/run.py --only issue14   # or --only lecture

One epoch is forward + MSE loss + backward + update of the 3-2-1 linear network, float64,
full batch. Before any timing, every contender trains 5 epochs from the same initial weights
at each size it is timed at (below 10M rows) and must give the same losses and weights as
fwdback's train() to 1e-10 relative. Then, per data size, each contender is timed once per
round, the contenders taking turns (the order rotates every round), so that a noisy machine
slows them alike. A measurement runs k epochs (k chosen so that it takes about 0.25 s, 10 ms
with --quick) and counts total / k; the tables give the median over the rounds, and each
ratio is the median of the ratios within a round.

fwdback's train() is timed as shipped (training.fit_rows on the rows: where it picks an engine,
the one it picks: "gram" does O(1) work an epoch after a one-off pass over the rows), and on
the literal engine at every size; the literal loop calls network.forward/mse_loss/backward/update
itself. Two columns show the thread-count effect: the literal loop with BLAS limited to one
thread (threadpoolctl) and PyTorch with torch.set_num_threads(1); every other contender
runs with its defaults.

Then: start-up of the CLI against bare imports (startup.py's section), pandas.read_csv of a `fwdback generate` CSV,
and `fwdback train` on that CSV end to end. When 1000 epochs of the end-to-end run would take
longer than e2e_limit, it runs fewer and extrapolates, and says so.

Markdown goes to stdout, progress to stderr. PyTorch and scikit-learn are optional:
`pip install torch==2.13.0` (the CPU build; a plain `pip install torch` pulls a CUDA build of
several GB) and `pip install scikit-learn`.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

import machine
import startup
from startup import fwdback_command
from fwdback.network import Parameters, backward, forward, init_parameters, mse_loss, update
from fwdback.synthetic import generate
from fwdback.engines import FullBatch
from fwdback.engines.literal import LiteralEngine
from fwdback.plan import TrainingPlan
from fwdback.rounding import LossRounding
from fwdback.training import fit_rows, prepare, train


LR = 0.05
CHECK_EPOCHS = 5
TOLERANCE = 1e-10
# train() ends with one more forward + backward, counted in total / epochs: at least 10 epochs keep that under 10%.
TRAIN_MIN_EPOCHS = 10

FULL = dict(rows=[100, 10_000, 1_000_000, 10_000_000], fwdback_only_from=10_000_000, measure_seconds=0.25,
            min_rounds=3, max_rounds=9, size_budget=40.0, startup_runs=20, csv_rows=1_000_000, csv_runs=5,
            e2e_epochs=1000, e2e_limit=150.0, e2e_runs=3)
QUICK = dict(rows=[100, 10_000], fwdback_only_from=None, measure_seconds=0.01,
             min_rounds=3, max_rounds=3, size_budget=0.0, startup_runs=2, csv_rows=10_000, csv_runs=2,
             e2e_epochs=1000, e2e_limit=10.0, e2e_runs=1)
PURE_PYTHON_MAX_ROWS = 10_000


STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


# The one mapping between fwdback's vector w1..w8, b1, b2, b3 and the layer matrices used below.
def to_layers(vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """W1 (2, 3) = [[w1, w2, w3], [w4, w5, w6]], b1 (2,) = [b1, b2], W2 (1, 2) = [[w7, w8]], b2 (1,) = [b3]."""
    vector = np.asarray(vector, dtype=np.float64)
    return vector[0:6].reshape(2, 3).copy(), vector[8:10].copy(), vector[6:8].reshape(1, 2).copy(), vector[10:11].copy()


def from_layers(W1, b1, W2, b2) -> np.ndarray:
    """The inverse of to_layers: the lecture-order vector w1..w8, b1, b2, b3."""
    return np.concatenate([np.ravel(W1), np.ravel(W2), np.ravel(b1), np.ravel(b2)]).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# The contenders. Each make_* returns run(epochs) -> seconds spent on those epochs, and keeps
# training from where the last call stopped; losses(epochs) -> (losses, final weight vector) is
# for the correctness check.


class FwdbackTrain:
    """fwdback.training.fit_rows(rows, initial, plan), as shipped: the engine it picks for the
    rows (prepared once, raw); every call starts from `initial`.

    With `literal`, training.train on the literal engine's full-batch objective: the per-row
    computation at any size.
    """

    name = "fwdback train()"

    def __init__(self, X, y, initial: np.ndarray, literal: bool = False):
        self.initial, self.literal = Parameters(initial), literal
        self.rows = prepare(X, y, TrainingPlan(standardize=False))

    def _train(self, epochs: int):
        plan = TrainingPlan(lr=LR, epochs=epochs, tol=0, standardize=False)
        if not self.literal:
            return fit_rows(self.rows, self.initial, plan).result
        engine = LiteralEngine(self.rows.X, self.rows.y, self.initial.n_hidden)
        return train(FullBatch(engine, engine, "literal", LossRounding.of_rows(self.rows.X, self.rows.y), self.rows.statistics), self.initial, plan)

    def run(self, epochs: int) -> float:
        start = time.perf_counter()
        self._train(epochs)
        return time.perf_counter() - start

    def engine_used(self) -> str:
        """The engine fit_rows() chose for this data."""
        return self._train(1).engine

    def losses(self, epochs: int):
        result = self._train(epochs)
        return list(result.losses), result.final.vector


class FwdbackTrainCall(FwdbackTrain):
    """train(..., epochs=1) called again and again: what one call costs besides its epochs."""

    def run(self, calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            self._train(1)
        return time.perf_counter() - start


class FwdbackLoop:
    """fwdback.network's four steps called directly, one epoch after another."""

    name = "fwdback literal loop"

    def __init__(self, X, y, initial: np.ndarray, blas_threads: int | None = None):
        self.X, self.y, self.params = X, y, Parameters(initial)
        self.blas_threads = blas_threads

    def run(self, epochs: int) -> float:
        if self.blas_threads is None:
            return self._run(epochs)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(self.blas_threads, user_api="blas"):
            return self._run(epochs)

    def _run(self, epochs: int) -> float:
        X, y, params = self.X, self.y, self.params
        start = time.perf_counter()
        for _ in range(epochs):
            fwd = forward(params, X)
            mse_loss(y, fwd.yhat)
            grads = backward(params, X, y, fwd).gradients
            params = update(params, grads, LR)
        elapsed = time.perf_counter() - start
        self.params = params
        return elapsed

    def losses(self, epochs: int):
        history = []
        for _ in range(epochs):
            fwd = forward(self.params, self.X)
            history.append(mse_loss(self.y, fwd.yhat))
            self.params = update(self.params, backward(self.params, self.X, self.y, fwd).gradients, LR)
        return history, self.params.vector


def naive_numpy_epoch(X, y, W1, b1, W2, b2, lr):
    """One epoch as a student writes it: matrices, a temporary for every step, new weights returned."""
    n = X.shape[0]
    N = X @ W1.T + b1  # hidden layer, (n, 2)
    yhat = (N @ W2.T + b2)[:, 0]  # output, (n,)
    loss = np.mean((y - yhat) ** 2)
    d_yhat = -2.0 * (y - yhat) / n  # dL/dyhat, (n,)
    dW2 = (d_yhat @ N)[None, :]  # (1, 2)
    db2 = np.array([d_yhat.sum()])
    dN = d_yhat[:, None] * W2  # dL/dN, (n, 2)
    dW1 = dN.T @ X  # (2, 3)
    db1 = dN.sum(axis=0)
    return loss, W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2


class NaiveNumpy:
    name = "naive NumPy"

    def __init__(self, X, y, initial: np.ndarray):
        self.X, self.y, self.layers = X, y, to_layers(initial)

    def run(self, epochs: int) -> float:
        X, y, layers = self.X, self.y, self.layers
        start = time.perf_counter()
        for _ in range(epochs):
            _, *layers = naive_numpy_epoch(X, y, *layers, LR)
        elapsed = time.perf_counter() - start
        self.layers = layers
        return elapsed

    def losses(self, epochs: int):
        history = []
        for _ in range(epochs):
            loss, *self.layers = naive_numpy_epoch(self.X, self.y, *self.layers, LR)
            history.append(float(loss))
        return history, from_layers(*self.layers)


def pure_python_epoch(rows, ys, w, lr):
    """One epoch over lists of floats, the lecture's formulas row by row; returns (loss, new w)."""
    w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3 = w
    n = len(rows)
    loss = 0.0
    g1 = g2 = g3 = g4 = g5 = g6 = g7 = g8 = gb1 = gb2 = gb3 = 0.0
    for (x1, x2, x3), y in zip(rows, ys):
        n1 = w1 * x1 + w2 * x2 + w3 * x3 + b1
        n2 = w4 * x1 + w5 * x2 + w6 * x3 + b2
        yhat = w7 * n1 + w8 * n2 + b3
        loss += (y - yhat) ** 2
        d_yhat = -2.0 * (y - yhat) / n
        g7 += d_yhat * n1
        g8 += d_yhat * n2
        gb3 += d_yhat
        d_n1 = d_yhat * w7
        d_n2 = d_yhat * w8
        g1 += d_n1 * x1
        g2 += d_n1 * x2
        g3 += d_n1 * x3
        g4 += d_n2 * x1
        g5 += d_n2 * x2
        g6 += d_n2 * x3
        gb1 += d_n1
        gb2 += d_n2
    grads = (g1, g2, g3, g4, g5, g6, g7, g8, gb1, gb2, gb3)
    return loss / n, [value - lr * grad for value, grad in zip(w, grads)]


class PurePython:
    name = "pure Python"

    def __init__(self, X, y, initial: np.ndarray):
        self.rows, self.ys, self.w = X.tolist(), y.tolist(), initial.tolist()

    def run(self, epochs: int) -> float:
        rows, ys, w = self.rows, self.ys, self.w
        start = time.perf_counter()
        for _ in range(epochs):
            _, w = pure_python_epoch(rows, ys, w, LR)
        elapsed = time.perf_counter() - start
        self.w = w
        return elapsed

    def losses(self, epochs: int):
        history = []
        for _ in range(epochs):
            loss, self.w = pure_python_epoch(self.rows, self.ys, self.w, LR)
            history.append(loss)
        return history, np.array(self.w)


class Torch:
    """nn.Linear(3, 2) -> nn.Linear(2, 1), float64, MSELoss, SGD; torch's default thread count unless `threads`."""

    name = "PyTorch CPU"

    def __init__(self, X, y, initial: np.ndarray, threads: int | None = None):
        import torch

        self.torch, self.threads = torch, threads
        self.X = torch.from_numpy(X)  # shares X's memory
        self.y = torch.from_numpy(y).unsqueeze(1)
        self.hidden = torch.nn.Linear(3, 2, dtype=torch.float64)
        self.output = torch.nn.Linear(2, 1, dtype=torch.float64)
        self.model = torch.nn.Sequential(self.hidden, self.output)
        W1, b1, W2, b2 = to_layers(initial)
        with torch.no_grad():
            for parameter, value in zip([self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias], [W1, b1, W2, b2]):
                parameter.copy_(torch.from_numpy(value))
        self.loss_fn = torch.nn.MSELoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)

    def _epoch(self):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.X), self.y)
        loss.backward()
        self.optimizer.step()
        return loss

    def run(self, epochs: int) -> float:
        default = self.torch.get_num_threads()
        if self.threads is not None:
            self.torch.set_num_threads(self.threads)
        try:
            start = time.perf_counter()
            for _ in range(epochs):
                self._epoch()
            return time.perf_counter() - start
        finally:
            self.torch.set_num_threads(default)

    def losses(self, epochs: int):
        history = [self._epoch().item() for _ in range(epochs)]
        layers = [p.detach().numpy() for p in (self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias)]
        return history, from_layers(*layers)


class Sklearn:
    """MLPRegressor((2,), identity, sgd, full batch, no momentum or L2), one partial_fit per epoch.

    scikit-learn's squared error is half the MSE, so its gradient is half fwdback's:
    learning_rate_init = 2 * LR takes the same steps, and 2 * loss_ is fwdback's loss.
    """

    name = "sklearn MLP"

    def __init__(self, X, y, initial: np.ndarray):
        from sklearn.neural_network import MLPRegressor

        self.X, self.y = X, y
        self.model = MLPRegressor(
            hidden_layer_sizes=(2,), activation="identity", solver="sgd", batch_size=len(y),
            learning_rate="constant", learning_rate_init=2 * LR, momentum=0.0, nesterovs_momentum=False,
            alpha=0.0, shuffle=False, random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(X, y)  # creates the weights and the optimizer; then set ours in place
        W1, b1, W2, b2 = to_layers(initial)
        self.model.coefs_[0][...] = W1.T
        self.model.coefs_[1][...] = W2.T
        self.model.intercepts_[0][...] = b1
        self.model.intercepts_[1][...] = b2

    def run(self, epochs: int) -> float:
        model, X, y = self.model, self.X, self.y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for _ in range(epochs):
                model.partial_fit(X, y)
            return time.perf_counter() - start

    def losses(self, epochs: int):
        history = []
        for _ in range(epochs):
            self.model.partial_fit(self.X, self.y)
            history.append(2 * self.model.loss_)
        m = self.model
        return history, from_layers(m.coefs_[0].T, m.intercepts_[0], m.coefs_[1].T, m.intercepts_[1])


class ReadFloor:
    """One pass over the data, (n, 4) float64: what no epoch can beat."""

    name = "read floor"

    def __init__(self, X, y, initial: np.ndarray):
        self.data = np.column_stack([X, y])

    def run(self, epochs: int) -> float:
        data = self.data
        start = time.perf_counter()
        for _ in range(epochs):
            data.sum()
        return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------


def optional_modules() -> dict[str, str | None]:
    """Which optional libraries import: name -> version, or None."""
    found = {}
    for module in ("torch", "sklearn", "threadpoolctl"):
        try:
            found[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - a broken install counts as absent
            found[module] = None
    return found


TRAIN = "fwdback train()"
TRAIN_LITERAL = "train(), literal engine"
LOOP = "fwdback literal loop"
LOOP_1_THREAD = "literal loop, 1 BLAS thread"
TRAIN_CALL = "train() call, 1 epoch"
TORCH, TORCH_1_THREAD = "PyTorch CPU", "PyTorch, 1 thread"
NAIVE, SKLEARN, PURE, FLOOR = "naive NumPy", "sklearn MLP", "pure Python", "read floor"
TABLE_COLUMNS = [TRAIN, TRAIN_LITERAL, LOOP, LOOP_1_THREAD, NAIVE, TORCH, TORCH_1_THREAD, SKLEARN, PURE, FLOOR]


def contenders(rows: int, optional: dict, fwdback_only: bool) -> list[tuple[str, type, dict]]:
    """(column, class, extra arguments) of everything timed at this size."""
    chosen = [(TRAIN, FwdbackTrain, {}), (TRAIN_LITERAL, FwdbackTrain, {"literal": True}), (LOOP, FwdbackLoop, {})]
    if optional["threadpoolctl"]:
        chosen.append((LOOP_1_THREAD, FwdbackLoop, {"blas_threads": 1}))
    if not fwdback_only:
        chosen.append((NAIVE, NaiveNumpy, {}))
        if optional["torch"]:
            chosen.append((TORCH, Torch, {}))
            chosen.append((TORCH_1_THREAD, Torch, {"threads": 1}))
        if optional["sklearn"]:
            chosen.append((SKLEARN, Sklearn, {}))
        if rows <= PURE_PYTHON_MAX_ROWS:
            chosen.append((PURE, PurePython, {}))
    chosen.append((FLOOR, ReadFloor, {}))
    chosen.append((TRAIN_CALL, FwdbackTrainCall, {}))
    return chosen


def check_agreement(optional: dict, rows: int) -> dict[str, float]:
    """Train every contender CHECK_EPOCHS epochs from the same weights; fail unless all agree with train().

    Returns each contender's largest relative difference from train() in the losses and final weights.
    """
    log(f"correctness at {rows:,} rows")
    X, y = generate(rows, seed=1)
    initial = init_parameters(np.random.default_rng(1)).vector
    reference_losses, reference_weights = FwdbackTrain(X, y, initial).losses(CHECK_EPOCHS)
    errors = {}
    for column, cls, extra in contenders(rows, optional, fwdback_only=False):
        if column in (TRAIN, FLOOR, TRAIN_CALL):
            continue
        losses, weights = cls(X, y, initial, **extra).losses(CHECK_EPOCHS)
        loss_error = max(abs(a - b) / abs(b) for a, b in zip(losses, reference_losses))
        weight_error = np.max(np.abs(weights - reference_weights)) / np.max(np.abs(reference_weights))
        if not (loss_error <= TOLERANCE and weight_error <= TOLERANCE):
            raise SystemExit(
                f"{column} disagrees with fwdback train() after {CHECK_EPOCHS} epochs on {rows} rows: "
                f"losses {losses} vs {reference_losses}, weights {weights} vs {reference_weights}"
            )
        errors[column] = max(loss_error, weight_error)
    return errors


def calibrate(run, measure_seconds: float, is_train: bool) -> int:
    """Epochs for one measurement of about measure_seconds (the calls double as a warm-up).

    train() has a one-off cost besides its epochs (the final forward + backward, and the Gram
    engine's set-up), so its epochs are sized by what an epoch adds: (t(k) - t(1)) / (k - 1).
    """
    first = run(1)
    if not is_train:
        epochs, elapsed = 1, first
        while elapsed < measure_seconds / 5 and epochs < 10_000_000:
            epochs *= min(100, math.ceil(measure_seconds / 5 / max(elapsed, 1e-7)) + 1)
            elapsed = run(epochs)
        return max(1, math.ceil(epochs * measure_seconds / elapsed))
    epochs = TRAIN_MIN_EPOCHS
    added = run(epochs) - first
    while added < measure_seconds / 5 and epochs < 1_000_000:
        epochs *= 10
        added = run(epochs) - first
    per_epoch = max(added, 1e-9) / (epochs - 1)
    return max(TRAIN_MIN_EPOCHS, math.ceil(measure_seconds / per_epoch))


def measure_size(rows: int, optional: dict, config: dict) -> dict:
    """Per-epoch seconds of every contender at this size, round by round, turns interleaved."""
    fwdback_only = config["fwdback_only_from"] is not None and rows >= config["fwdback_only_from"]
    log(f"{rows:,} rows: generating data")
    X, y = generate(rows, seed=0)
    initial = init_parameters(np.random.default_rng(0)).vector
    runs, epochs = {}, {}
    for column, cls, extra in contenders(rows, optional, fwdback_only):
        runs[column] = cls(X, y, initial, **extra).run
        epochs[column] = calibrate(runs[column], config["measure_seconds"], cls is FwdbackTrain)
        log(f"  {column}: {epochs[column]} epochs per measurement")
    engine = FwdbackTrain(X, y, initial).engine_used()
    columns = list(runs)
    times = {column: [] for column in columns}
    start = time.perf_counter()
    for round_index in range(config["max_rounds"]):
        if round_index >= config["min_rounds"] and time.perf_counter() - start > config["size_budget"]:
            break
        shift = round_index % len(columns)
        for column in columns[shift:] + columns[:shift]:
            gc.collect()
            times[column].append(runs[column](epochs[column]) / epochs[column])
        log(f"  round {round_index + 1}: " + ", ".join(f"{c} {format_seconds(times[c][-1])}" for c in columns))
    return {"times": times, "epochs": epochs, "engine": engine}


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def median_ratio(times: dict, numerator: str, denominator: str) -> float | None:
    """The median over rounds of numerator / denominator, both timed in the same round."""
    if numerator not in times or denominator not in times:
        return None
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def timed_command(command: list[str], **options) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **options)
    return time.perf_counter() - start


def measure_csv_and_e2e(config: dict, per_epoch_train: float | None, startup: float) -> list[str]:
    """pandas.read_csv of a `fwdback generate` CSV, fwdback's own loader, and `fwdback train` on it."""
    import pandas as pd

    from fwdback.data import load_dataset

    rows = config["csv_rows"]
    fwdback = fwdback_command()
    lines = []
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "data.csv")
        model = os.path.join(directory, "model.json")
        log(f"CSV: fwdback generate --rows {rows}")
        with open(path, "w") as stream:
            start = time.perf_counter()
            subprocess.run([*fwdback, "generate", "--rows", str(rows)], stdout=stream, check=True)
            generate_seconds = time.perf_counter() - start
        size_mib = os.path.getsize(path) / 2**20
        reads, loads = [], []
        for _ in range(config["csv_runs"]):
            gc.collect()
            start = time.perf_counter()
            pd.read_csv(path)
            reads.append(time.perf_counter() - start)
            gc.collect()
            start = time.perf_counter()
            load_dataset(path)
            loads.append(time.perf_counter() - start)
        read = statistics.median(reads)
        load = statistics.median(loads)
        lines.append(
            f"- **CSV load** ({rows:,} rows, {size_mib:.0f} MiB, written by `fwdback generate --rows {rows}` in "
            f"{format_seconds(generate_seconds)}), median of {len(reads)}, in this process: "
            f"`pandas.read_csv` **{format_seconds(read)}**; fwdback's `data.load_dataset` {format_seconds(load)} "
            f"({load / read:.2f}x read_csv)"
        )

        target = config["e2e_epochs"]
        fixed = startup + load  # what a run costs besides its epochs
        predicted = fixed + target * (per_epoch_train or 0.0)
        epochs = target
        if per_epoch_train is not None and predicted > config["e2e_limit"]:
            epochs = max(10, int((config["e2e_limit"] / 2 - fixed) / per_epoch_train))
        runs = config["e2e_runs"] if predicted <= 20 else 1
        log(f"end to end: fwdback train --epochs {epochs}, {runs} run(s)")
        command = [*fwdback, "train", path, "--epochs", str(epochs), "--quiet", "--model", model]
        wall = statistics.median(timed_command(command) for _ in range(runs))
        # The same read as a process of its own: Python's start-up and pandas' import included,
        # as they are in `fwdback train`.
        reader = [sys.executable, "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])", path]
        process_read = statistics.median(timed_command(reader) for _ in range(max(runs, 3)))
        shown = f"`fwdback train data.csv --epochs {target} --quiet --model tmp` ({rows:,} rows)"
        parts = f"start-up with imports {format_seconds(startup)} + load_dataset {format_seconds(load)}"
        if epochs == target:
            line = (
                f"- **End to end**: {shown}: **{format_seconds(wall)}** (median of {runs}) = **{wall / process_read:.2f}x** "
                f"`python -c \"import pandas; pandas.read_csv(...)\"` ({format_seconds(process_read)}), both whole processes; "
                f"{wall / read:.1f}x the in-process pandas read ({format_seconds(read)})."
            )
            if per_epoch_train is not None:
                line += f" Expected from the parts: {parts} + {target} x {format_seconds(per_epoch_train)} (train()'s median at {rows:,} rows) = {format_seconds(predicted)}"
        else:
            per_epoch_e2e = (wall - fixed) / epochs
            estimate = fixed + target * per_epoch_e2e
            line = (
                f"- **End to end**: {shown}: about **{format_seconds(estimate)}** = **{estimate / read:.0f}x** the pandas read "
                f"({format_seconds(read)}), extrapolated: `--epochs {epochs}` took {format_seconds(wall)} (1 run), "
                f"{format_seconds(per_epoch_e2e)} an epoch after {parts}. (train()'s median of "
                f"{format_seconds(per_epoch_train)} an epoch at {rows:,} rows predicted {format_seconds(predicted)} for {target} epochs, "
                f"over this run's limit of {config['e2e_limit']:.0f} s, so it ran {epochs})"
            )
        lines.append(line)
    return lines


def machine_line(optional: dict) -> str:
    """machine.py's line, with the versions of the optional contenders."""
    parts = []
    if optional["torch"]:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    else:
        parts.append("torch not installed")
    parts.append(f"scikit-learn {optional['sklearn']}" if optional["sklearn"] else "scikit-learn not installed")
    return machine.machine_line(*parts)


def print_markdown_table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, every column right-aligned."""
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def print_tables(results: dict[int, dict]) -> None:
    columns = [c for c in TABLE_COLUMNS if any(c in result["times"] for result in results.values())]

    def per_column(result: dict, cell) -> list[str]:
        """cell(column) for each column timed at this size, "—" for the others."""
        return [cell(c) if c in result["times"] else "—" for c in columns]

    def median_time(result: dict, column: str) -> str:
        text = format_seconds(statistics.median(result["times"][column]))
        return text + f" ({result['engine']})" if column == TRAIN and result["engine"] else text

    def epochs_and_spread(result: dict, column: str) -> str:
        values = result["times"][column]
        spread = (max(values) - min(values)) / statistics.median(values)
        return f"{result['epochs'][column]:,} ep, ±{100 * spread / 2:.0f}%"

    print_markdown_table(
        ["rows", *columns],
        [[f"{rows:,}", *per_column(r, lambda c, r=r: median_time(r, c))] for rows, r in results.items()],
    )
    print(
        "Median time per epoch (forward + loss + backward + update). — : not run at this size, or not installed. "
        "train() cells are total / epochs of one call, with the engine it chose in brackets; a call also does a "
        "one-off part (the final forward + backward, and the Gram engine's set-up), which the epochs "
        "(in the last table) share. One call of train() with epochs=1: "
        + ", ".join(f"{rows:,} rows {format_seconds(statistics.median(r['times'][TRAIN_CALL]))}" for rows, r in results.items())
        + "."
    )
    print()
    ratios = [
        ("PyTorch / train()", TORCH, TRAIN),
        ("PyTorch / literal", TORCH, TRAIN_LITERAL),
        ("naive NumPy / literal", NAIVE, TRAIN_LITERAL),
        ("sklearn / train()", SKLEARN, TRAIN),
        ("train() / read floor", TRAIN, FLOOR),
        ("literal / read floor", TRAIN_LITERAL, FLOOR),
        ("literal loop / literal", LOOP, TRAIN_LITERAL),
        ("1 BLAS thread / default (loop)", LOOP_1_THREAD, LOOP),
        ("PyTorch 1 thread / default", TORCH_1_THREAD, TORCH),
    ]

    def ratio_cell(result: dict, numerator: str, denominator: str) -> str:
        ratio = median_ratio(result["times"], numerator, denominator)
        return "—" if ratio is None else f"{ratio:.3g}"

    print_markdown_table(
        ["rows", *(label for label, _, _ in ratios)],
        [[f"{rows:,}", *(ratio_cell(r, n, d) for _, n, d in ratios)] for rows, r in results.items()],
    )
    print(
        f"\"literal\" is {TRAIN_LITERAL}. Each ratio is the median over rounds of the two times measured in the same "
        "round; above 1 in the first four columns means fwdback is faster."
    )
    print()
    print_markdown_table(
        ["rows", "rounds", *columns],
        [
            [f"{rows:,}", str(len(r["times"][TRAIN])), *per_column(r, lambda c, r=r: epochs_and_spread(r, c))]
            for rows, r in results.items()
        ],
    )
    print("Epochs per measurement, and half the spread (max - min) of the rounds relative to the median.")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 10,000 rows, short measurements: a smoke test")
    parser.add_argument("--only", choices=["lecture", "issue14"], help="only the lecture network's tables, or only issue 14's (beyond.py)")
    args = parser.parse_args()
    if args.only != "issue14":
        lecture_tables(args)
    if args.only != "lecture":
        import beyond

        print()
        beyond.main(["--quick"] if args.quick else [])


def lecture_tables(args) -> None:
    """The 3-2-1 linear network's tables: every contender per epoch, start-up, CSV load, end to end."""
    config = QUICK if args.quick else FULL
    began = time.perf_counter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    optional = optional_modules()
    for module, advice in (("torch", "pip install torch==2.13.0  (CPU build; not plain `torch`)"), ("sklearn", "pip install scikit-learn")):
        if optional[module] is None:
            log(f"{module} is not installed, its column stays empty: {advice}")

    checked = [rows for rows in config["rows"] if config["fwdback_only_from"] is None or rows < config["fwdback_only_from"]]
    agreement = {}
    for rows in checked:
        for column, error in check_agreement(optional, rows).items():
            agreement[column] = max(error, agreement.get(column, 0.0))
    gc.collect()
    gc.freeze()  # the imported libraries' objects: otherwise every gc.collect() below takes ~0.1 s

    results = {rows: measure_size(rows, optional, config) for rows in config["rows"]}

    log("start-up")
    load_before_startup = os.getloadavg()[0]
    started = startup.measure(config["startup_runs"])
    e2e_rows = config["csv_rows"]
    per_epoch_train = statistics.median(results[e2e_rows]["times"][TRAIN]) if e2e_rows in results else None
    csv_lines = measure_csv_and_e2e(config, per_epoch_train, startup.median(started, startup.IMPORT_ALL))

    title = "quick smoke run" if args.quick else "full run"
    print(f"## fwdback benchmark ({title}): one epoch of the 3-2-1 linear network, float64, full batch")
    print()
    print_tables(results)
    for line in csv_lines:
        print(line)
    print(
        f"- **Correctness**, checked before timing: {CHECK_EPOCHS} epochs from the same initial weights at "
        + ", ".join(f"{rows:,}" for rows in checked)
        + f" rows; every contender's {CHECK_EPOCHS} losses and final 11 weights against fwdback train()'s, largest relative "
        "difference: " + ", ".join(f"{column} {error:.0e}" for column, error in agreement.items())
        + f" (limit {TOLERANCE:.0e}; pure Python at up to {PURE_PYTHON_MAX_ROWS:,} rows)"
    )
    print(machine_line(optional))
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"- **Run**: {time.perf_counter() - began:.0f} s; 1-minute load average {load_before:.2f} at the start, {load_after:.2f} at the end")
    print()
    print("\n".join(startup.report(started, load_before_startup)))


if __name__ == "__main__":
    main()
