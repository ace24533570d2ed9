"""Issue 14's benchmark: fwdback beyond the linear network, beside PyTorch and scikit-learn.

    python benchmarks/run.py                  # the lecture's tables, then these (tens of minutes)
    python benchmarks/beyond.py               # these alone
    python benchmarks/beyond.py --quick       # a smoke test of a few minutes
    python benchmarks/beyond.py --without-avx512   # NumPy's and PyTorch's kernels as on a processor without AVX-512

Six measurements, each a ratio of two contenders timed in the same run, taking turns:

1. Full batch, activations identity/tanh/relu/sigmoid, H in {2, 16, 64}, 100 to 1,000,000 rows:
   an epoch of fwdback's training (training.fit_rows as shipped: the engine it picks; the time
   of its epoch loop, from the end of the first epoch to the end of the last, so without the
   one-off set-up before the loop and the final loss pass after it) against
   PyTorch CPU (one thread, float64, nn.Linear -> activation -> nn.Linear, MSELoss, plain SGD).
2. Mini-batches of 1, 32 and 256 rows on 100,000 rows (identity H=2 and tanh H=16): an epoch of
   fwdback's mini-batch training against PyTorch's loop over a shuffled order (randperm, index,
   zero_grad, forward, loss, backward, step, the loss summed). Where a PyTorch epoch would take
   seconds (batches of 1), it runs a part of the epoch and the time is scaled to the whole.
3. The literal engine of the identity network (training on LiteralEngine, not the Gram engine)
   at 1M and 10M rows against reading the data once: one pass that reads every number of X and y
   once, `data.sum()` over the rows held as one (n, 4) float64 array (memory bandwidth, the least
   any epoch can cost; the same floor as run.py's tables).
4. Time to a result: y = sin(x1) + x2*x3 + noise, 100,000 rows (80,000 to train on, 20,000 to
   validate), tanh, H=16. scikit-learn's MLPRegressor (adam, its default, and lbfgs) is fitted
   and its validation MSE taken; then each of fwdback's optimizers (OPTIMIZERS below: one line
   each) trains until its validation MSE reaches that, and the wall times are compared.
5. End to end: `fwdback train data.csv --epochs 1000` on a 1M-row CSV (10 significant digits,
   about 52 MB) against `python -c "import pandas; pandas.read_csv(...)"`, both whole processes.
6. Whole fits of a few epochs (5 and 50), the cases of 1 up to 100,000 rows (where a fit's fixed
   cost is not already a small part of one epoch): a fit as a user calls it,
   `FwdbackRegressor(hidden=H, activation=A, epochs=E, lr=LR, tol=0, standardize=False,
   random_state=0).fit(X, y)`, against PyTorch's whole fit from the same numpy arrays
   (torch.from_numpy, the nn.Sequential built, the initial weights copied, SGD, E epochs: TorchNet),
   so that a fit's fixed cost counts, as it does where cross-validation and grid search fit in loops.
   Before timing, the estimator's initial weights are checked to be TorchNet's and its losses and
   weights after 3 epochs PyTorch's (1e-10 relative), for every activation.

1, 2, 3, 5 and 6 are measured "quiet" (nothing of the benchmark's own running besides) and
"loaded" (one core kept busy by a `python -c "while True: pass"` process the benchmark starts),
and with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE as the machine sets them and with both unset:
each setting in a child process of its own (OpenBLAS reads them when it loads), the only place
where they are changed. Every ratio is the median over rounds of the two times measured in the
same round. Before timing, PyTorch's losses and weights after 3 epochs are checked against
fwdback's (1e-10 relative) for every activation.

Markdown goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

from machine import blas, machine_line, numpy_simd

HERE = os.path.dirname(os.path.abspath(__file__))
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# --without-avx512: NumPy's and PyTorch's element-wise kernels as on a processor without AVX-512
# (the Zen 3): NumPy's dispatch targets above AVX2 turned off, PyTorch's ATen at AVX2.
WITHOUT_AVX512 = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "ATEN_CPU_CAPABILITY": "avx2"}
ACTIVATIONS = ("identity", "tanh", "relu", "sigmoid")
LR = 0.01
TARGET = 3.0  # "at least 3x faster"
FLOOR_TARGET = 1.5  # the literal identity engine at most 1.5x reading the data once
E2E_TARGET = 1.3

FULL = dict(
    widths=(2, 16, 64), rows=(100, 10_000, 100_000, 1_000_000), rounds=3, measure_seconds=0.15,
    batch_rows=100_000, batch_sizes=(1, 32, 256), batch_cases=(("identity", 2), ("tanh", 16)), torch_steps=3000,
    floor_rows=(1_000_000, 10_000_000), floor_rounds=5,
    e2e_rows=1_000_000, e2e_epochs=1000, e2e_runs=5,
    result_rows=100_000, result_cap=20.0,
    fit_epochs=(5, 50), fit_rows=(100, 10_000, 100_000),
)
QUICK = dict(
    widths=(2, 16), rows=(100, 10_000), rounds=2, measure_seconds=0.02,
    batch_rows=10_000, batch_sizes=(1, 32, 256), batch_cases=(("identity", 2), ("tanh", 16)), torch_steps=300,
    floor_rows=(100_000,), floor_rounds=2,
    e2e_rows=20_000, e2e_epochs=100, e2e_runs=1,
    result_rows=10_000, result_cap=3.0,
    fit_epochs=(5, 50), fit_rows=(100, 10_000),
)

# Time to a result: fwdback's contenders, one line each: a label and TrainingPlan's settings.
# (Issue 13 adds optimizers: e.g. ("adam, batches of 256", dict(optimizer="adam", lr=1e-3, batch_size=256)).)
OPTIMIZERS = [
    ("gd, full batch, chosen step", dict()),
    ("gd, batches of 32", dict(lr=0.05, batch_size=32)),
    ("gd, batches of 256", dict(lr=0.2, batch_size=256)),
    ("momentum, batches of 32", dict(optimizer="momentum", lr=0.005, batch_size=32)),
    ("adam, batches of 32", dict(optimizer="adam", lr=0.003, batch_size=32)),
    ("adam, batches of 256", dict(optimizer="adam", lr=0.01, batch_size=256)),
]

STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} us"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


@contextlib.contextmanager
def busy_core(loaded: bool):
    """With `loaded`, one core kept busy by a process of its own while the block runs."""
    if not loaded:
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.2)  # let it start spinning
    try:
        yield
    finally:
        process.kill()
        process.wait()


def regression_data(rows: int, seed: int = 0):
    """y = sin(x1) + x2*x3 + noise, x uniform on [-2, 2]^3. X : shape (rows, 3), y : shape (rows,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(rows, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=rows)
    return X, y


# ---------------------------------------------------------------------------------------------
# Contenders: run(count) -> seconds for `count` epochs (or steps), going on from where they were.


class FwdbackFit:
    """training.fit_rows as shipped (the engine it picks), from the same initial weights each call;
    with `literal`, training.train on the literal engine's full-batch objective. Its time is the
    training loop's (run): what an epoch costs, as PyTorch's loop is timed."""

    def __init__(self, X, y, initial, lr=LR, batch_size=None, literal=False):
        from fwdback.plan import TrainingPlan
        from fwdback.training import prepare

        self.initial, self.lr, self.batch_size, self.literal = initial, lr, batch_size, literal
        self.TrainingPlan = TrainingPlan
        self.rows = prepare(X, y, TrainingPlan(standardize=False))
        self.engine = None

    def _fit(self, epochs: int, on_epoch=None):
        from fwdback.engines import FullBatch
        from fwdback.engines.literal import LiteralEngine
        from fwdback.rounding import LossRounding
        from fwdback.training import fit_rows, train

        plan = self.TrainingPlan(lr=self.lr, epochs=epochs, tol=0, standardize=False, batch_size=self.batch_size)
        if self.literal:
            engine = LiteralEngine(self.rows.X, self.rows.y, self.initial.n_hidden)
            return train(FullBatch(engine, engine, "literal", LossRounding.of_rows(self.rows.X, self.rows.y), self.rows.statistics), self.initial, plan, on_epoch=on_epoch)
        return fit_rows(self.rows, self.initial, plan, on_epoch=on_epoch).result

    def run(self, epochs: int) -> float:
        """The time of `epochs` epochs of the training loop: a run of epochs + 1, timed from the end
        of its first epoch to the end of its last (on_epoch), so that the one-off work (the engine's
        copy of the rows, the Gram matrix, the final loss pass) is left out: it is `setup`."""
        stamps = []
        start = time.perf_counter()
        result = self._fit(epochs + 1, on_epoch=lambda record: stamps.append(time.perf_counter()))
        self.setup = stamps[0] - start
        self.engine = result.engine
        return stamps[-1] - stamps[0]

    def losses(self, epochs: int):
        result = self._fit(epochs)
        return list(result.losses), result.final.vector


class TorchNet:
    """nn.Linear(k, H) -> activation -> nn.Linear(H, 1), float64, MSELoss, SGD, one thread."""

    def __init__(self, X, y, initial, lr=LR, batch_size=None):
        import torch

        torch.set_num_threads(1)
        self.torch, self.batch_size = torch, batch_size
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)
        k, h = initial.n_inputs, initial.n_hidden
        activation = {"identity": torch.nn.Identity, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
                      "sigmoid": torch.nn.Sigmoid}[initial.activation]()
        self.hidden = torch.nn.Linear(k, h, dtype=torch.float64)
        self.output = torch.nn.Linear(h, 1, dtype=torch.float64)
        self.model = torch.nn.Sequential(self.hidden, activation, self.output)
        W, w, b, b_out = initial.layers
        with torch.no_grad():
            for parameter, value in zip((self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias),
                                        (W, b, np.reshape(w, (1, -1)), np.ravel(b_out))):
                parameter.copy_(torch.from_numpy(np.array(value, dtype=np.float64)))
        self.loss_fn = torch.nn.MSELoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(0)
        self.order, self.position = None, 0

    def _step(self, X, y):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(X), y)
        loss.backward()
        self.optimizer.step()
        return loss

    def run(self, count: int) -> float:
        """`count` epochs (full batch), or `count` steps (mini-batches, the order shuffled each epoch)."""
        torch = self.torch
        start = time.perf_counter()
        if self.batch_size is None:
            for _ in range(count):
                self._step(self.X, self.y)
            return time.perf_counter() - start
        n, total = len(self.X), 0.0
        for _ in range(count):
            if self.order is None or self.position >= n:
                self.order, self.position = torch.randperm(n, generator=self.generator), 0
            rows = self.order[self.position : self.position + self.batch_size]
            self.position += self.batch_size
            total += self._step(self.X[rows], self.y[rows]).item() * len(rows)
        return time.perf_counter() - start

    def losses(self, epochs: int):
        history = [self._step(self.X, self.y).item() for _ in range(epochs)]
        layers = [p.detach().numpy() for p in (self.hidden.weight, self.output.weight, self.hidden.bias, self.output.bias)]
        return history, np.concatenate([np.ravel(layer) for layer in layers])


class WholeFits:
    """Whole fits from the same numpy arrays and initial weights, `epochs` epochs each, as a user
    runs them: FwdbackRegressor(...).fit(X, y) (random_state 0 draws `initial`), or PyTorch's
    TorchNet built and run (torch.from_numpy, nn.Sequential, the weights copied, SGD)."""

    def __init__(self, X, y, initial, epochs: int):
        self.X, self.y, self.initial, self.epochs = X, y, initial, epochs

    def estimator(self):
        from fwdback.estimator import FwdbackRegressor

        return FwdbackRegressor(hidden=self.initial.n_hidden, activation=self.initial.activation, epochs=self.epochs,
                                lr=LR, tol=0, standardize=False, random_state=0).fit(self.X, self.y)

    def fwdback(self, count: int) -> float:
        """The time of `count` whole fits of fwdback's estimator."""
        start = time.perf_counter()
        for _ in range(count):
            self.estimator()
        return time.perf_counter() - start

    def torch(self, count: int) -> float:
        """The time of `count` whole fits of PyTorch's."""
        start = time.perf_counter()
        for _ in range(count):
            TorchNet(self.X, self.y, self.initial).run(self.epochs)
        return time.perf_counter() - start


def calibrate(run, seconds: float, least: int = 1) -> int:
    """How many epochs (or steps) make a measurement of about `seconds` (the calls warm up too)."""
    count, elapsed = least, run(least)
    while elapsed < seconds / 4 and count < 10_000_000:
        count = max(count + 1, int(count * min(50, seconds / 4 / max(elapsed, 1e-6))))
        elapsed = run(count)
    return max(least, math.ceil(count * seconds / elapsed))


def rounds_of(contenders: dict, counts: dict, rounds: int, scale: dict | None = None) -> dict:
    """Per-epoch seconds of each contender, round by round, the order rotating each round."""
    names = list(contenders)
    times = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            elapsed = contenders[name](counts[name]) / counts[name]
            times[name].append(elapsed * (scale or {}).get(name, 1.0))
    return times


def median_ratio(times: dict, numerator: str, denominator: str) -> float:
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


# ---------------------------------------------------------------------------------------------
# The measurements, run in a worker process (one per OPENBLAS setting).


def check_against_torch() -> float:
    """3 epochs from the same weights, every activation: PyTorch's losses and weights against fwdback's."""
    from fwdback.network import init_parameters

    worst = 0.0
    X, y = regression_data(2000, seed=5)
    for activation in ACTIVATIONS:
        initial = init_parameters(np.random.default_rng(3), 3, 16, activation)
        ours, weights = FwdbackFit(X, y, initial, lr=0.05).losses(3)
        theirs, their_weights = TorchNet(X, y, initial, lr=0.05).losses(3)
        error = max(max(abs(a - b) / abs(b) for a, b in zip(theirs, ours)),
                    float(np.max(np.abs(their_weights - weights)) / np.max(np.abs(weights))))
        if error > 1e-10:
            raise SystemExit(f"PyTorch and fwdback disagree for {activation}: {theirs} vs {ours}")
        worst = max(worst, error)
    return worst


def check_whole_fits() -> float:
    """A whole fit of 3 epochs, every activation: FwdbackRegressor's initial weights are TorchNet's
    (random_state 0 draws init_parameters(default_rng(0))), its losses and weights PyTorch's."""
    from fwdback.network import init_parameters

    worst = 0.0
    X, y = regression_data(2000, seed=5)
    for activation in ACTIVATIONS:
        initial = init_parameters(np.random.default_rng(0), 3, 16, activation)
        fitted = WholeFits(X, y, initial, 3).estimator()
        if fitted._training.initial_weights != initial.as_dict():
            raise SystemExit(f"FwdbackRegressor(random_state=0) does not start from TorchNet's weights for {activation}")
        theirs, their_weights = TorchNet(X, y, initial).losses(3)
        ours, weights = fitted.loss_curve_, fitted.params_.vector
        error = max(max(abs(a - b) / abs(b) for a, b in zip(theirs, ours)),
                    float(np.max(np.abs(their_weights - weights)) / np.max(np.abs(weights))))
        if error > 1e-10:
            raise SystemExit(f"PyTorch's whole fit and FwdbackRegressor's disagree for {activation}: {theirs} vs {ours}")
        worst = max(worst, error)
    return worst


def whole_fits(config: dict, loaded: bool) -> list[dict]:
    from fwdback.network import init_parameters

    results = []
    for activation in ACTIVATIONS:
        for h in config["widths"]:
            for rows in config["fit_rows"]:
                X, y = regression_data(rows)
                initial = init_parameters(np.random.default_rng(0), 3, h, activation)
                for epochs in config["fit_epochs"]:
                    fits = WholeFits(X, y, initial, epochs)
                    with busy_core(loaded):
                        counts = {"fwdback": calibrate(fits.fwdback, config["measure_seconds"]),
                                  "PyTorch": calibrate(fits.torch, config["measure_seconds"])}
                        times = rounds_of({"fwdback": fits.fwdback, "PyTorch": fits.torch}, counts, config["rounds"])
                    ratio = median_ratio(times, "PyTorch", "fwdback")
                    results.append(dict(activation=activation, hidden=h, rows=rows, epochs=epochs,
                                        fwdback=statistics.median(times["fwdback"]),
                                        torch=statistics.median(times["PyTorch"]), ratio=ratio))
                    log(f"  whole fit {activation} H={h} {rows:,} rows {epochs} epochs {'loaded' if loaded else 'quiet'}: "
                        f"{format_seconds(results[-1]['fwdback'])} vs {format_seconds(results[-1]['torch'])}, {ratio:.2f}x")
    return results


def full_batch(config: dict, loaded: bool) -> list[dict]:
    from fwdback.network import init_parameters

    results = []
    for activation in ACTIVATIONS:
        for h in config["widths"]:
            for rows in config["rows"]:
                X, y = regression_data(rows)
                initial = init_parameters(np.random.default_rng(0), 3, h, activation)
                ours, theirs = FwdbackFit(X, y, initial), TorchNet(X, y, initial)
                with busy_core(loaded):
                    counts = {"fwdback": calibrate(ours.run, config["measure_seconds"]),
                              "PyTorch": calibrate(theirs.run, config["measure_seconds"])}
                    times = rounds_of({"fwdback": ours.run, "PyTorch": theirs.run}, counts, config["rounds"])
                ratio = median_ratio(times, "PyTorch", "fwdback")
                results.append(dict(activation=activation, hidden=h, rows=rows, engine=ours.engine, setup=ours.setup,
                                    fwdback=statistics.median(times["fwdback"]), torch=statistics.median(times["PyTorch"]),
                                    ratio=ratio))
                log(f"  full batch {activation} H={h} {rows:,} rows {'loaded' if loaded else 'quiet'}: "
                    f"{format_seconds(results[-1]['fwdback'])} ({ours.engine}) vs {format_seconds(results[-1]['torch'])}, {ratio:.2f}x")
    return results


def mini_batches(config: dict, loaded: bool) -> list[dict]:
    from fwdback.network import init_parameters

    results = []
    rows = config["batch_rows"]
    X, y = regression_data(rows)
    for activation, h in config["batch_cases"]:
        for batch_size in config["batch_sizes"]:
            initial = init_parameters(np.random.default_rng(0), 3, h, activation)
            lr = 0.001 if batch_size == 1 else LR
            ours, theirs = FwdbackFit(X, y, initial, lr=lr, batch_size=batch_size), TorchNet(X, y, initial, lr=lr, batch_size=batch_size)
            steps_per_epoch = math.ceil(rows / batch_size)
            torch_steps = min(steps_per_epoch, config["torch_steps"])
            with busy_core(loaded):
                ours.run(1)  # warm up
                theirs.run(min(torch_steps, 100))
                counts = {"fwdback": 1 if batch_size < 32 else 2, "PyTorch": torch_steps}
                times = rounds_of({"fwdback": ours.run, "PyTorch": theirs.run}, counts, config["rounds"],
                                  scale={"PyTorch": steps_per_epoch})
            ratio = median_ratio(times, "PyTorch", "fwdback")
            results.append(dict(activation=activation, hidden=h, batch_size=batch_size, rows=rows,
                                fwdback=statistics.median(times["fwdback"]), torch=statistics.median(times["PyTorch"]),
                                torch_part=torch_steps / steps_per_epoch, ratio=ratio))
            log(f"  batches of {batch_size} {activation} H={h} {'loaded' if loaded else 'quiet'}: "
                f"{format_seconds(results[-1]['fwdback'])} vs {format_seconds(results[-1]['torch'])}, {ratio:.2f}x")
    return results


class ReadOnce:
    """Reading the data once: data.sum() over the rows as one (n, 4) float64 array [X, y]."""

    def __init__(self, X, y):
        self.data = np.column_stack([X, y])

    def run(self, count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            self.data.sum()
        return time.perf_counter() - start


def literal_floor(config: dict, loaded: bool) -> list[dict]:
    from fwdback.network import init_parameters

    results = []
    for rows in config["floor_rows"]:
        X, y = regression_data(rows)
        initial = init_parameters(np.random.default_rng(0), 3, 2, "identity")
        ours, floor = FwdbackFit(X, y, initial, literal=True), ReadOnce(X, y)
        with busy_core(loaded):
            counts = {"literal": calibrate(ours.run, 0.3), "read once": calibrate(floor.run, 0.3)}
            times = rounds_of({"literal": ours.run, "read once": floor.run}, counts, config["floor_rounds"])
        ratio = median_ratio(times, "literal", "read once")
        results.append(dict(rows=rows, literal=statistics.median(times["literal"]), floor=statistics.median(times["read once"]),
                            ratio=ratio))
        log(f"  literal identity {rows:,} rows {'loaded' if loaded else 'quiet'}: {ratio:.2f}x the read")
        del ours, floor, X, y
        gc.collect()
    return results


def fwdback_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "fwdback")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "fwdback"]


def write_csv(path: str, rows: int) -> None:
    """`fwdback generate`'s data (y = 2 x1 - 3 x2 + 0.5 x3 + 1 + noise) with 10 significant digits."""
    from fwdback.synthetic import generate

    X, y = generate(rows, seed=0)
    with open(path, "w") as stream:
        stream.write("x1,x2,x3,y\n")
        np.savetxt(stream, np.column_stack([X, y]), fmt="%.10g", delimiter=",")


def end_to_end(config: dict, loaded: bool, path: str) -> dict:
    model = os.path.join(os.path.dirname(path), f"model-{os.getpid()}.json")
    train = [*fwdback_command(), "train", path, "--epochs", str(config["e2e_epochs"]), "--quiet", "--model", model]
    read = [sys.executable, "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])", path]

    def timed(command):
        def run(count):
            start = time.perf_counter()
            for _ in range(count):
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start
        return run

    with busy_core(loaded):
        timed(train)(1), timed(read)(1)  # warm the file cache
        times = rounds_of({"train": timed(train), "read": timed(read)}, {"train": 1, "read": 1}, config["e2e_runs"])
    ratio = median_ratio(times, "train", "read")
    log(f"  end to end {'loaded' if loaded else 'quiet'}: {ratio:.2f}x")
    return dict(train=statistics.median(times["train"]), read=statistics.median(times["read"]), ratio=ratio,
                size=os.path.getsize(path))


def worker(config: dict, parts: list[str]) -> dict:
    """Every measurement of this process's OPENBLAS setting, quiet and loaded."""
    import torch

    out = {"environment": {name: os.environ.get(name) for name in OPENBLAS_VARIABLES}, "blas": blas(),
           "simd": f"{numpy_simd()}, PyTorch's {torch.backends.cpu.get_cpu_capability()}"}
    if "full" in parts:
        out["agreement"] = check_against_torch()
    if "fits" in parts:
        out["fit_agreement"] = check_whole_fits()
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "data.csv")
        if "e2e" in parts:
            write_csv(path, config["e2e_rows"])
        for loaded in (False, True):
            key = "loaded" if loaded else "quiet"
            if "full" in parts:
                out.setdefault("full", {})[key] = full_batch(config, loaded)
            if "fits" in parts:
                out.setdefault("fits", {})[key] = whole_fits(config, loaded)
            if "batches" in parts:
                out.setdefault("batches", {})[key] = mini_batches(config, loaded)
            if "floor" in parts:
                out.setdefault("floor", {})[key] = literal_floor(config, loaded)
            if "e2e" in parts:
                out.setdefault("e2e", {})[key] = end_to_end(config, loaded, path)
    return out


# ---------------------------------------------------------------------------------------------
# Time to a result (in the parent, quiet, OPENBLAS as the machine sets it).


def time_to_result(config: dict) -> dict:
    from sklearn.neural_network import MLPRegressor

    from fwdback.network import init_parameters
    from fwdback.plan import TrainingPlan
    from fwdback.training import fit_rows, prepare

    X, y = regression_data(config["result_rows"], seed=1)
    split = int(0.8 * len(y))
    X_train, y_train, X_val, y_val = X[:split], y[:split], X[split:], y[split:]
    out = {"rows": len(y), "sklearn": [], "fwdback": []}
    for solver in ("adam", "lbfgs"):
        model = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", solver=solver, random_state=0, max_iter=200)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            model.fit(X_train, y_train)
            seconds = time.perf_counter() - start
        loss = float(np.mean((model.predict(X_val) - y_val) ** 2))
        out["sklearn"].append(dict(solver=solver, seconds=seconds, val_loss=loss, iterations=int(model.n_iter_)))
        log(f"  sklearn {solver}: validation MSE {loss:.5g} in {seconds:.2f} s ({model.n_iter_} iterations)")
    # fwdback has lost once it has trained longer than the slower sklearn fit took: it stops a little after.
    cap = max(config["result_cap"], 1.5 * max(s["seconds"] for s in out["sklearn"]))
    for label, settings in OPTIMIZERS:
        initial = init_parameters(np.random.default_rng(0), 3, 16, "tanh")
        plan = TrainingPlan(epochs=10_000_000, tol=0, standardize=False, seed=0, **settings)
        rows = prepare(X_train, y_train, plan)
        rows.validation = (X_val, y_val)
        reached = {s["solver"]: None for s in out["sklearn"]}
        stop = threading.Event()
        best = [math.inf]

        def on_epoch(record, reached=reached, stop=stop, best=best):
            now = time.perf_counter() - started[0]
            best[0] = min(best[0], record.val_loss)
            for s in out["sklearn"]:
                if reached[s["solver"]] is None and record.val_loss <= s["val_loss"]:
                    reached[s["solver"]] = (now, record.number)
            if all(value is not None for value in reached.values()) or now > cap:
                stop.set()

        started = [time.perf_counter()]
        fit = fit_rows(rows, initial, plan, on_epoch=on_epoch, stop=stop)
        seconds = time.perf_counter() - started[0]
        out["fwdback"].append(dict(label=label, lr=fit.plan.lr, seconds=seconds, epochs=fit.result.epochs_run,
                                   best=best[0], reached=reached))
        log(f"  fwdback {label}: " + ", ".join(f"{k} {'not reached' if v is None else f'{v[0]:.2f} s (epoch {v[1]})'}"
                                              for k, v in reached.items()) + f"; best {best[0]:.5g} in {seconds:.1f} s")
    out["cap"] = cap
    return out


# ---------------------------------------------------------------------------------------------
# The parent: a worker per OPENBLAS setting, then the tables.


def environments(without_avx512: bool = False) -> list[tuple[str, dict]]:
    """(label, environment) of each OPENBLAS setting: as the machine sets them, and both unset.

    Where the machine sets neither, the first is what the issue's machines set,
    OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE (this processor's L2), set by the benchmark
    in its child process alone: both settings are measured either way. `without_avx512` adds
    WITHOUT_AVX512 to both (OpenBLAS reads only its own variables: Haswell is its AVX2 kernel).
    """
    machine = {name: os.environ[name] for name in OPENBLAS_VARIABLES if name in os.environ}
    unset = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARIABLES}
    if without_avx512:
        unset.update(WITHOUT_AVX512)
    if machine:
        shown = ", ".join(f"{k}={v}" for k, v in machine.items())
        return [(f"OPENBLAS_* as set ({shown})", {**unset, **machine}), ("OPENBLAS_* unset", unset)]
    from fwdback.engines.cache import l2_bytes

    emulated = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": str(l2_bytes())}
    shown = ", ".join(f"{k}={v}" for k, v in emulated.items())
    return [(f"OPENBLAS_* set ({shown}; this machine sets neither, the benchmark does)", {**unset, **emulated}),
            ("OPENBLAS_* unset", unset)]


def run_worker(config_name: str, parts: list[str], environment: dict) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", config_name, "--parts", ",".join(parts),
                        "--output", output.name], env=environment, check=True)
        with open(output.name) as stream:
            return json.load(stream)


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def mark(ratio: float, target: float, below: bool = False) -> str:
    met = ratio <= target if below else ratio >= target
    return f"{ratio:.2f}" + ("" if met else " ✗")


def report(results: list[tuple[str, dict]], result: dict | None, summary: list[str]) -> None:
    """The tables, and the closing lines of every ratio."""
    labels = [label for label, _ in results]
    by = dict(results)
    first = results[0][1]
    if "full" in first:
        print(f"### 1. Full batch: PyTorch CPU (1 thread, float64, SGD) / fwdback, per epoch (target ≥ {TARGET:g}; ✗ below it)")
        print()
        header = ["activation", "H", "rows", "engine (set-up)"]
        for label in labels:
            for key in ("quiet", "loaded"):
                header.append(f"{key}, {label.split(' (')[0]}")
        rows, failures, count = [], [], 0
        for index, case in enumerate(first["full"]["quiet"]):
            row = [case["activation"], str(case["hidden"]), f"{case['rows']:,}", f"{case['engine']} ({format_seconds(case['setup'])})"]
            for label in labels:
                for key in ("quiet", "loaded"):
                    cell = by[label]["full"][key][index]
                    row.append(f"{format_seconds(cell['fwdback'])} / {format_seconds(cell['torch'])} = **{mark(cell['ratio'], TARGET)}**")
                    count += 1
                    if cell["ratio"] < TARGET:
                        failures.append(f"{case['activation']} H={case['hidden']} {case['rows']:,} rows {key}, {label.split(' (')[0]}: {cell['ratio']:.2f}")
            rows.append(row)
        table(header, rows)
        print("Each cell: fwdback's median time per epoch / PyTorch's = their ratio (the median of the rounds' ratios). "
              "engine: what fwdback's training picked (the Gram engine for the identity from 10,000 rows; "
              "section 3 times the literal one), and its one-off set-up before the first epoch (the rows copied "
              "feature-major, the Gram matrix), quiet, left out of the time per epoch as PyTorch's "
              "torch.from_numpy is.")
        print()
        summary.append(f"1. full batch: {count - len(failures)} of {count} ratios ≥ {TARGET:g}"
                       + (f"; below: {'; '.join(failures)}" if failures else ""))
    if "batches" in first:
        print(f"### 2. Mini-batches on {first['batches']['quiet'][0]['rows']:,} rows: PyTorch / fwdback, per epoch (target ≥ {TARGET:g})")
        print()
        header = ["network", "batch"] + [f"{key}, {label.split(' (')[0]}" for label in labels for key in ("quiet", "loaded")]
        rows, failures, count = [], [], 0
        for index, case in enumerate(first["batches"]["quiet"]):
            row = [f"{case['activation']}, H={case['hidden']}", str(case["batch_size"])]
            for label in labels:
                for key in ("quiet", "loaded"):
                    cell = by[label]["batches"][key][index]
                    row.append(f"{format_seconds(cell['fwdback'])} / {format_seconds(cell['torch'])} = **{mark(cell['ratio'], TARGET)}**")
                    count += 1
                    if cell["ratio"] < TARGET:
                        failures.append(f"{case['activation']} batches of {case['batch_size']} {key}, {label.split(' (')[0]}: {cell['ratio']:.2f}")
            rows.append(row)
        table(header, rows)
        parts = sorted({f"{c['torch_part']:.0%}" for c in first["batches"]["quiet"] if c["torch_part"] < 1})
        print("PyTorch's loop: randperm each epoch, index the batch, zero_grad, forward, MSELoss, backward, SGD step, "
              "the loss summed. " + (f"Where its epoch takes seconds it ran {', '.join(parts)} of the epoch, scaled to the whole." if parts else ""))
        print()
        summary.append(f"2. mini-batches: {count - len(failures)} of {count} ratios ≥ {TARGET:g}"
                       + (f"; below: {'; '.join(failures)}" if failures else ""))
    if "floor" in first:
        print(f"### 3. The literal identity engine / reading the data once (target ≤ {FLOOR_TARGET:g})")
        print()
        header = ["rows"] + [f"{key}, {label.split(' (')[0]}" for label in labels for key in ("quiet", "loaded")]
        rows, failures, count = [], [], 0
        for index, case in enumerate(first["floor"]["quiet"]):
            row = [f"{case['rows']:,}"]
            for label in labels:
                for key in ("quiet", "loaded"):
                    cell = by[label]["floor"][key][index]
                    row.append(f"{format_seconds(cell['literal'])} / {format_seconds(cell['floor'])} = **{mark(cell['ratio'], FLOOR_TARGET, below=True)}**")
                    count += 1
                    if cell["ratio"] > FLOOR_TARGET:
                        failures.append(f"{case['rows']:,} rows {key}, {label.split(' (')[0]}: {cell['ratio']:.2f}")
            rows.append(row)
        table(header, rows)
        print("Literal: an epoch of training.train on LiteralEngine (3-2-1, identity; per row yhat, dL/dyhat and the "
              "chain rule's sums, no Gram matrix). Reading the data once: `data.sum()` over the rows held as one (n, 4) "
              "float64 array [x1, x2, x3, y], a single pass that reads every number of X and y once (memory bandwidth).")
        print()
        summary.append(f"3. literal identity engine: {count - len(failures)} of {count} ratios ≤ {FLOOR_TARGET:g}"
                       + (f"; above: {'; '.join(failures)}" if failures else ""))
    if result is not None:
        print(f"### 4. Time to a result: y = sin(x1) + x2*x3 + noise, {result['rows']:,} rows (80% train, 20% validation), tanh, H=16")
        print()
        rows = [[f"sklearn MLPRegressor {s['solver']}", f"{s['val_loss']:.5g}", f"{s['seconds']:.2f} s ({s['iterations']} iterations)", "—"]
                for s in result["sklearn"]]
        best_ratio = {s["solver"]: None for s in result["sklearn"]}
        for f in result["fwdback"]:
            cells = []
            for s in result["sklearn"]:
                reached = f["reached"][s["solver"]]
                if reached is None:
                    cells.append(f"{s['solver']}'s: not in {f['seconds']:.0f} s")
                else:
                    ratio = s["seconds"] / reached[0]
                    cells.append(f"{s['solver']}'s: {reached[0]:.2f} s (epoch {reached[1]}), **{ratio:.2f}x**")
                    if best_ratio[s["solver"]] is None or ratio > best_ratio[s["solver"]]:
                        best_ratio[s["solver"]] = ratio
            rows.append([f"fwdback {f['label']} (lr {f['lr']:.3g})", f"{f['best']:.5g} (best)", f"{f['epochs']:,} epochs, {f['seconds']:.1f} s", "; ".join(cells)])
        table(["contender", "validation MSE", "wall time", "time to sklearn's validation MSE, sklearn's time / fwdback's"], rows)
        print("fwdback trains until its validation MSE reaches each sklearn fit's (or for at most "
              f"{result['cap']:.0f} s). Its optimizers are one line each in OPTIMIZERS (benchmarks/beyond.py); "
              "plain gradient descent only so far.")
        print()
        summary.append("4. time to a result: " + "; ".join(
            f"sklearn {solver}'s loss: " + ("not reached" if ratio is None else f"best {ratio:.2f}x" + ("" if ratio > 1 else " ✗"))
            for solver, ratio in best_ratio.items()))
    if "e2e" in first:
        size = first["e2e"]["quiet"]["size"]
        print(f"### 5. End to end: `fwdback train data.csv --epochs N --quiet` / `python -c \"import pandas; pandas.read_csv(...)\"` "
              f"({size / 1e6:.0f} MB CSV, target ≤ {E2E_TARGET:g})")
        print()
        header = [f"{key}, {label.split(' (')[0]}" for label in labels for key in ("quiet", "loaded")]
        cells, failures = [], []
        for label in labels:
            for key in ("quiet", "loaded"):
                cell = by[label]["e2e"][key]
                cells.append(f"{format_seconds(cell['train'])} / {format_seconds(cell['read'])} = **{mark(cell['ratio'], E2E_TARGET, below=True)}**")
                if cell["ratio"] > E2E_TARGET:
                    failures.append(f"{key}, {label.split(' (')[0]}: {cell['ratio']:.2f}")
        table(header, [cells])
        summary.append(f"5. end to end: {len(cells) - len(failures)} of {len(cells)} ratios ≤ {E2E_TARGET:g}"
                       + (f"; above: {'; '.join(failures)}" if failures else ""))
    if "fits" in first:
        epochs = sorted({case["epochs"] for case in first["fits"]["quiet"]})
        print(f"### 6. Whole fits of {' and '.join(map(str, epochs))} epochs: PyTorch's / FwdbackRegressor.fit (target ≥ {TARGET:g})")
        print()
        header = ["activation", "H", "rows", "epochs"] + [f"{key}, {label.split(' (')[0]}" for label in labels
                                                          for key in ("quiet", "loaded")]
        rows, failures, count = [], [], 0
        for index, case in enumerate(first["fits"]["quiet"]):
            row = [case["activation"], str(case["hidden"]), f"{case['rows']:,}", str(case["epochs"])]
            for label in labels:
                for key in ("quiet", "loaded"):
                    cell = by[label]["fits"][key][index]
                    row.append(f"{format_seconds(cell['fwdback'])} / {format_seconds(cell['torch'])} = **{mark(cell['ratio'], TARGET)}**")
                    count += 1
                    if cell["ratio"] < TARGET:
                        failures.append(f"{case['activation']} H={case['hidden']} {case['rows']:,} rows {case['epochs']} epochs "
                                        f"{key}, {label.split(' (')[0]}: {cell['ratio']:.2f}")
            rows.append(row)
        table(header, rows)
        print("Each cell: the median time of a whole fit, fwdback's / PyTorch's = their ratio (the median of the rounds' "
              "ratios). fwdback: `FwdbackRegressor(hidden=H, activation=A, epochs=E, lr=0.01, tol=0, standardize=False, "
              "random_state=0).fit(X, y)`, its checks, set-up, E epochs and the final loss pass; PyTorch: torch.from_numpy "
              "of the same arrays, the nn.Sequential built, the same initial weights copied in, SGD, E epochs.")
        print()
        summary.append(f"6. whole fits: {count - len(failures)} of {count} ratios ≥ {TARGET:g}"
                       + (f"; below: {'; '.join(failures)}" if failures else ""))
        summary.append(f"correctness: PyTorch's whole fit of 3 epochs against FwdbackRegressor.fit's, every activation, "
                       f"H=16: largest relative difference {max(r['fit_agreement'] for _, r in results):.0e} (limit 1e-10)")
    if "agreement" in first:
        summary.append(f"correctness: PyTorch's 3 losses and weights against fwdback's, every activation, H=16: "
                       f"largest relative difference {max(r['agreement'] for _, r in results):.0e} (limit 1e-10)")


def main(argv=None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--without-avx512", action="store_true",
                        help="NumPy's and PyTorch's kernels as on a processor without AVX-512 (WITHOUT_AVX512)")
    parser.add_argument("--parts", default="full,fits,batches,floor,result,e2e")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    if args.worker:
        with open(args.output, "w") as stream:
            json.dump(worker(QUICK if args.worker == "quick" else FULL, parts), stream)
        return []
    config_name = "quick" if args.quick else "full"
    load_before = os.getloadavg()[0]
    results = []
    worker_parts = [p for p in parts if p != "result"]
    if worker_parts:
        for label, environment in environments(args.without_avx512):
            log(f"{label}: {', '.join(worker_parts)}")
            results.append((label, run_worker(config_name, worker_parts, environment)))
    result = None
    if "result" in parts:
        log("time to a result")
        result = time_to_result(QUICK if args.quick else FULL)
    print(f"## Issue 14: fast beyond the linear network ({'quick smoke run' if args.quick else 'full run'}"
          f"{', AVX-512 turned off in NumPy and PyTorch' if args.without_avx512 else ''})")
    print()
    summary: list[str] = []
    report(results, result, summary)
    import torch

    print(machine_line(f"torch {torch.__version__}", f"1-minute load average {load_before:.2f} at the start, "
                       f"{os.getloadavg()[0]:.2f} at the end (other processes besides the benchmark's own)"))
    for label, measured in results:
        print(f"- **BLAS**, {label}: {measured['blas']}; {measured['simd']}")
    print("- **Ratios** (✗: target not met):")
    for line in summary:
        print(f"  - {line}")
    return summary


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))
    main()
