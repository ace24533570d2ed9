"""The accuracy fwdback's classifier reaches on the TensorFlow Playground's four data sets, beside
scikit-learn's MLPClassifier of the same shape on the same split.

    python benchmarks/classification.py            # a Markdown table to stdout, progress to stderr

For each shape, `fwdback generate --shape S --noise 0.1 --rows 500 --seed 0` (the Playground's
500 points and its noise slider at 10%); its rows are shuffled, so the first 250 are the
training set and the last 250 the test set (the Playground's 50% split). fwdback trains a
2-4-1 tanh network with every other setting its default (`fwdback train --features x1,x2
--loss bce --hidden 4 --activation tanh`: full-batch gradient descent, the learning rate chosen
from the data, at most 10,000 epochs, seed 0) and is scored by `fwdback evaluate --format
json` on the test rows; MLPClassifier(hidden_layer_sizes=(4,), activation="tanh",
random_state=0), every other parameter its default (adam, learning rate 0.001, 200
iterations, an L2 penalty of 1e-4), is fitted to the same training rows and scored by
sklearn.metrics on the same test rows, and again with max_iter=10,000 (as many passes over
the rows as fwdback's default epochs; adam stops sooner once the loss settles). Both see the raw x1, x2, as the Playground's network
does. The majority class of the test rows is the baseline. The two start from different random
weights, so a single seed's difference of a few points is within the luck of the draw; the
table says how far each got, not which method is better.

fwdback runs as a command (`python -m fwdback`), as a user runs it; scikit-learn must be
installed (`pip install scikit-learn`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from fwdback.playground import SHAPE_NAMES
from run import machine_line, optional_modules

ROWS, NOISE, SEED = 500, 0.1, 0
TRAIN_ROWS = ROWS // 2
HIDDEN, ACTIVATION = 4, "tanh"
# MLPClassifier's iterations beside its default 200: as many passes over the rows as fwdback's default epochs.
LONGER = 10_000


def fwdback(*args: str, cwd: Path) -> str:
    """`fwdback ARGS` in `cwd`: its stdout (stderr passes through)."""
    return subprocess.run([sys.executable, "-m", "fwdback", *args], cwd=cwd, check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def split(shape: str, scratch: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The shape's rows written by `fwdback generate` as scratch/train.csv and scratch/test.csv, and
    as arrays: X_train, y_train, X_test, y_test."""
    lines = fwdback("generate", "--shape", shape, "--noise", str(NOISE), "--rows", str(ROWS), "--seed", str(SEED),
                    cwd=scratch).splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    (scratch / "train.csv").write_text(header + "".join(rows[:TRAIN_ROWS]))
    (scratch / "test.csv").write_text(header + "".join(rows[TRAIN_ROWS:]))
    data = np.array([[float(cell) for cell in row.split(",")] for row in rows])
    X, y = data[:, :2], data[:, 2].astype(int)
    return X[:TRAIN_ROWS], y[:TRAIN_ROWS], X[TRAIN_ROWS:], y[TRAIN_ROWS:]


def fwdback_scores(scratch: Path) -> dict:
    """fwdback's 2-4-1 tanh classifier trained on train.csv and evaluated on test.csv."""
    started = time.perf_counter()
    fwdback("train", "train.csv", "--features", "x1,x2", "--loss", "bce", "--hidden", str(HIDDEN), "--activation",
            ACTIVATION, "-q", "--no-chart", "--model", "model.json", cwd=scratch)
    seconds = time.perf_counter() - started
    evaluation = json.loads(fwdback("evaluate", "test.csv", "--model", "model.json", "--format", "json", cwd=scratch))
    training = json.loads((scratch / "model.json").read_text())["training"]
    return {"accuracy": evaluation["scores"]["model"]["accuracy"], "log_loss": evaluation["scores"]["model"]["log_loss"],
            "majority": evaluation["scores"]["majority"]["accuracy"], "steps": training["epochs_run"], "seconds": seconds}


def sklearn_scores(X_train, y_train, X_test, y_test, max_iter: int = 200) -> dict:
    """MLPClassifier of one hidden layer of 4 tanh units, its defaults otherwise (max_iter 200, or
    `max_iter`), on the same split."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.neural_network import MLPClassifier

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 200 iterations, its default, often stop short
        mlp = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation=ACTIVATION, random_state=SEED, max_iter=max_iter)
        mlp.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    return {"accuracy": accuracy_score(y_test, mlp.predict(X_test)), "log_loss": log_loss(y_test, mlp.predict_proba(X_test)),
            "steps": mlp.n_iter_, "seconds": seconds}


def main() -> None:
    optional = optional_modules()
    if optional["sklearn"] is None:
        sys.exit("scikit-learn is not installed: pip install scikit-learn")
    rows = []
    for shape in SHAPE_NAMES:
        with tempfile.TemporaryDirectory() as directory:
            scratch = Path(directory)
            print(f"{shape} ...", file=sys.stderr, flush=True)
            X_train, y_train, X_test, y_test = split(shape, scratch)
            ours, theirs = fwdback_scores(scratch), sklearn_scores(X_train, y_train, X_test, y_test)
            longer = sklearn_scores(X_train, y_train, X_test, y_test, LONGER)
        rows.append(
            f"| {shape} | **{ours['accuracy']:.3f}** | {ours['log_loss']:.3f} | {ours['steps']:,} epochs, {ours['seconds']:.1f} s "
            f"| **{theirs['accuracy']:.3f}** | {theirs['log_loss']:.3f} | {theirs['steps']} iterations, {theirs['seconds']:.2f} s "
            f"| {longer['accuracy']:.3f} | {longer['steps']:,} iterations, {longer['seconds']:.2f} s | {ours['majority']:.3f} |"
        )
    print(machine_line(optional))
    print(f"- **Data**: `fwdback generate --shape S --noise {NOISE} --rows {ROWS} --seed {SEED}`; the first {TRAIN_ROWS} rows "
          f"train, the last {ROWS - TRAIN_ROWS} test")
    print()
    print("| shape | fwdback 2-4-1 tanh, bce: test accuracy | log loss | training (`fwdback train`, whole process) "
          f"| MLPClassifier((4,), tanh): test accuracy | log loss | training (fit) | with max_iter={LONGER:,} | training (fit) "
          "| majority class |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
