"""Shared fixtures: small CSVs from a known linear function, a CliRunner helper, and a browser.

CLI tests run inside tmp_path (via `workdir`), so the default model.json lands there
and file names in error messages are the short relative names the test wrote.
Browser tests take `browser_page`: a fresh page of the system's headless Chromium, cut off
from the network, that records what the page tried to fetch and every error it raised.
"""

from __future__ import annotations

import json
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from click.testing import CliRunner

import oracle
from fwdback.cli import cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, ConsoleMessage, Page, Route, WebSocketRoute

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


CHROMIUM_MISSING = (
    "the browser tests need Chromium from the Debian packages, and found no `chromium` on PATH: "
    "apt-get install -y chromium chromium-driver (.ci/run installs them)"
)
# A second wall behind the blocking of every request: no host name resolves, so even a
# connection Playwright cannot see (a preconnect, say) reaches no server.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND"


@dataclass
class BrowserPage:
    """A fresh Chromium page on which every network request is blocked and recorded.

    requests : each URL the page asked for, in order, other than its own document and
               data: and blob: URLs, which never leave the browser; every one was refused
    errors   : each console message of type error and each uncaught exception, in order
    page     : the Playwright page itself, to click, type, evaluate and screenshot
    A test of a self-contained page ends with `assert browser_page.requests == []` and
    `assert browser_page.errors == []`.
    """

    page: Page | None = None
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    document: str | None = None

    @classmethod
    def in_context(cls, context) -> BrowserPage:
        """A new page of the Playwright browser context, recorded from its first request on."""
        recorder = cls()
        context.route("**/*", recorder._request)
        context.route_web_socket("**/*", recorder._web_socket)
        recorder.page = context.new_page()
        recorder.page.on("console", recorder._console)
        recorder.page.on("pageerror", recorder._page_error)
        return recorder

    def open(self, path) -> Page:
        """Load the HTML file at `path`; return once it has loaded and gone quiet (500 ms
        without a request), so that what its scripts started is recorded."""
        self.document = Path(path).resolve().as_uri()
        self.page.goto(self.document, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def _request(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or url.split("#")[0] == self.document:
            route.continue_()
        else:
            self.requests.append(url)
            route.abort("blockedbyclient")

    def _web_socket(self, socket: WebSocketRoute) -> None:
        self.requests.append(socket.url)
        socket.close(code=1008, reason="blocked by the test")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Headless Chromium, the system's (Playwright's own browser builds cannot be downloaded
    here), launched once for the session. Without it the browser tests fail: CI installs it."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=[OFFLINE])
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium) -> Iterator[BrowserPage]:
    """A new page in a context of its own (no cookies, storage or cache from another test),
    every request blocked and recorded, every error recorded; see BrowserPage."""
    context = chromium.new_context(service_workers="block")
    context.set_default_timeout(15_000)
    yield BrowserPage.in_context(context)
    context.close()


@pytest.fixture
def hand():
    """The lecture's formulas by name, independent of fwdback's matrices: the oracle's."""
    return Lecture


class Lecture:
    """Forward pass, MSE loss, gradients and a gradient-descent step of the 3-2-1 network, by
    the oracle (tests/oracle.py), with weights as {name: value}."""

    @staticmethod
    def forward(w, x1, x2, x3):
        """N1, N2, yhat, each shaped as x1 is (a number, or a column of the rows)."""
        fwd = oracle.forward(w, np.column_stack(np.broadcast_arrays(x1, x2, x3)))
        shape = np.shape(x1)
        return fwd.N[:, 0].reshape(shape), fwd.N[:, 1].reshape(shape), fwd.yhat[:, 0].reshape(shape)

    @staticmethod
    def loss(w, X, y):
        """L = (1/n) sum (y_i - yhat_i)^2."""
        return oracle.loss(w, X, y)

    @staticmethod
    def gradients(w, X, y):
        """dL/d(name) for all 11 names, by the chain rule."""
        return oracle.gradients(w, X, y)

    @staticmethod
    def step(w, X, y, lr):
        """One gradient-descent update: w - lr * dL/dw."""
        return oracle.Update("gd", lr).step({name: w[name] for name in NAMES}, oracle.gradients(w, X, y))


def flat(md: str) -> str:
    """The Markdown with every aligned display written on one line again: rows joined by their
    relations, a broken sum by its "+", equations set together by commas."""
    md = md.replace(r"\begin{aligned} ", "").replace(r" \end{aligned}", "")
    md = md.replace(r" \\ &\quad + ", " + ").replace(r" \\ &", " ").replace(r" \\ ", r", \quad ")
    return md.replace(" &", " ")
