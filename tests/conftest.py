"""Shared fixtures: small CSVs from a known linear function, and a CliRunner helper.

CLI tests run inside tmp_path (via `workdir`), so the default model.json lands there
and file names in error messages are the short relative names the test wrote.
"""

from __future__ import annotations

import json
import traceback

import numpy as np
import pytest
from click.testing import CliRunner

from fwdback.cli import cli

# y = 2*x1 - 3*x2 + 0.5*x3 + 1, the function the small CSVs are drawn from.
TRUE_COEF = (2.0, -3.0, 0.5)
TRUE_INTERCEPT = 1.0
NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")

# rich reads these to decide on colour and terminal size; a test must not inherit them.
_CLEAN_ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "NO_COLOR": None, "COLUMNS": "100"}


def linear_rows(n: int = 12, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """X : shape (n, 3) uniform on [-1, 1], y : shape (n,) from the true linear function."""
    X = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 3))
    y = X @ np.array(TRUE_COEF) + TRUE_INTERCEPT
    return X, y


def csv_text(X: np.ndarray, y: np.ndarray, header=("x1", "x2", "x3", "y")) -> str:
    """x1,x2,x3,y CSV text; floats written with repr so they read back exactly."""
    lines = [",".join(header)]
    lines += [",".join(repr(v) for v in [*row, target]) for row, target in zip(X.tolist(), y.tolist())]
    return "\n".join(lines) + "\n"


def _make_runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2: stderr is always separate
        return CliRunner()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run the test inside tmp_path."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run(workdir):
    """run(args, input=None) -> click Result, with stdout and stderr separate."""
    runner = _make_runner()

    def invoke(args, input=None):
        return runner.invoke(cli, [str(a) for a in args], input=input, prog_name="fwdback", env=_CLEAN_ENV)

    return invoke


@pytest.fixture(name="linear_rows")
def linear_rows_fixture():
    """linear_rows(n, seed) -> (X, y) from the true linear function."""
    return linear_rows


@pytest.fixture(name="csv_text")
def csv_text_fixture():
    """csv_text(X, y, header) -> CSV text with exact floats."""
    return csv_text


@pytest.fixture
def names():
    """The 11 parameter names in the lecture's order."""
    return NAMES


@pytest.fixture
def small_xy():
    """The (X, y) written to small_csv."""
    return linear_rows()


@pytest.fixture
def small_csv(workdir, small_xy):
    """'data.csv' in the working directory: 12 rows of x1,x2,x3,y from the true linear function."""
    X, y = small_xy
    (workdir / "data.csv").write_text(csv_text(X, y))
    return "data.csv"


@pytest.fixture
def init_weights():
    """Hand-picked initial weights, by name."""
    return {
        "w1": 0.3, "w2": -0.2, "w3": 0.1, "w4": -0.4, "w5": 0.25, "w6": 0.05,
        "w7": 0.6, "w8": -0.35, "b1": 0.1, "b2": -0.15, "b3": 0.2,
    }


@pytest.fixture
def init_file(workdir, init_weights):
    """'init.json': the hand-picked weights at the top level."""
    (workdir / "init.json").write_text(json.dumps(init_weights))
    return "init.json"


@pytest.fixture
def no_crash():
    """assert_no_crash(result): the command ended by exit code, not by an uncaught exception."""

    def check(result):
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(
                "the command crashed:\n" + "".join(traceback.format_exception(*result.exc_info))
            )
        assert "Traceback" not in result.output
        assert "Traceback" not in result.stderr

    return check


@pytest.fixture
def hand():
    """The lecture's formulas written out by name, independent of fwdback's matrices."""
    return Lecture


class Lecture:
    """Forward pass, MSE loss and gradients of the 3-2-1 network, one named formula at a time."""

    @staticmethod
    def forward(w, x1, x2, x3):
        N1 = w["w1"] * x1 + w["w2"] * x2 + w["w3"] * x3 + w["b1"]
        N2 = w["w4"] * x1 + w["w5"] * x2 + w["w6"] * x3 + w["b2"]
        return N1, N2, w["w7"] * N1 + w["w8"] * N2 + w["b3"]

    @classmethod
    def loss(cls, w, X, y):
        """L = (1/n) sum (y_i - yhat_i)^2."""
        _, _, yhat = cls.forward(w, X[:, 0], X[:, 1], X[:, 2])
        return float(np.mean((y - yhat) ** 2))

    @classmethod
    def gradients(cls, w, X, y):
        """dL/d(name) for all 11 names, by the chain rule."""
        x1, x2, x3 = X[:, 0], X[:, 1], X[:, 2]
        N1, N2, yhat = cls.forward(w, x1, x2, x3)
        d = -2.0 / len(y) * (y - yhat)  # dL/dyhat_i
        dN1, dN2 = d * w["w7"], d * w["w8"]
        g = {
            "w1": dN1 @ x1, "w2": dN1 @ x2, "w3": dN1 @ x3, "b1": dN1.sum(),
            "w4": dN2 @ x1, "w5": dN2 @ x2, "w6": dN2 @ x3, "b2": dN2.sum(),
            "w7": d @ N1, "w8": d @ N2, "b3": d.sum(),
        }
        return {name: float(value) for name, value in g.items()}

    @classmethod
    def step(cls, w, X, y, lr):
        """One gradient-descent update: w - lr * dL/dw."""
        g = cls.gradients(w, X, y)
        return {name: w[name] - lr * g[name] for name in NAMES}


def flat(md: str) -> str:
    """The Markdown with every aligned display written on one line again: rows joined by their
    relations, a broken sum by its "+", equations set together by commas."""
    md = md.replace(r"\begin{aligned} ", "").replace(r" \end{aligned}", "")
    md = md.replace(r" \\ &\quad + ", " + ").replace(r" \\ &", " ").replace(r" \\ ", r", \quad ")
    return md.replace(" &", " ")
