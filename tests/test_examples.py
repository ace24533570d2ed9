"""The notebooks in examples/ run, cell by cell, in a real IPython kernel, so that they cannot rot.

Each notebook runs in a copy of the repository's layout (examples/ beside sample_data/), so
that what it writes stays out of the clone, on a kernel of this very interpreter: a kernel
spec written for the test, so that no kernel Jupyter has installed elsewhere stands in for it.
What the lecture's notebook prints is checked against values computed here independently:
`fwdback train` on the same file, and the lecture's formulas in conftest.Lecture.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
SAMPLE = ROOT / "sample_data" / "linear.csv"
KERNEL = "fwdback-tests"
NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")  # as Python writes a float: 1.5, -2e-05, 0.093


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> KernelSpecManager:
    """Jupyter's kernel specs, limited to one: this interpreter's ipykernel."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / KERNEL).mkdir()
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "fwdback tests", "language": "python"}
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(folder)])


@pytest.fixture(scope="module")
def executed(kernels, tmp_path_factory):
    """executed(path) -> the notebook after running every cell, once per module."""
    done = {}

    def execute(path: Path) -> nbformat.NotebookNode:
        if path not in done:
            layout = tmp_path_factory.mktemp("clone")
            shutil.copytree(EXAMPLES, layout / "examples")
            shutil.copytree(SAMPLE.parent, layout / "sample_data")
            notebook = nbformat.read(layout / "examples" / path.name, as_version=4)
            manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernels)
            client = NotebookClient(notebook, km=manager, timeout=120,
                                    resources={"metadata": {"path": str(layout / "examples")}})
            client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell raises
            done[path] = notebook
        return done[path]

    return execute


def output_text(notebook, tag: str) -> str:
    """What the code cell tagged `tag` printed on stdout."""
    (cell,) = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    return "".join(output.text for output in cell.outputs if output.output_type == "stream" and output.name == "stdout")


def test_the_lecture_notebook_is_there():
    assert EXAMPLES / "lecture.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_cell_of_the_notebook_runs_without_an_error_or_a_warning(executed, path):
    notebook = executed(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count is not None for cell in code)
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            assert output.get("name") != "stderr", (cell.source, output.text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


@pytest.fixture
def trained_on_the_sample(run):
    """`fwdback train sample_data/linear.csv` (seed 0, the step chosen), as its JSON report."""
    result = run(["train", SAMPLE, "--no-save", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def named_values(text: str, pattern: str) -> dict[str, list[float]]:
    """name -> the numbers on its line, for each line that matches `pattern` (name in group 1)."""
    found = {}
    for line in text.splitlines():
        match = re.match(pattern, line)
        if match:
            found[match[1]] = [float(number) for number in NUMBER.findall(line, match.end(1))]
    return found


def test_the_notebook_fits_the_weights_fwdback_train_fits(executed, trained_on_the_sample):
    text = output_text(executed(EXAMPLES / "lecture.ipynb"), "fitted-weights")
    expected = trained_on_the_sample["weights"]
    printed = {name: value for name, (value,) in named_values(text, r"^(w\d+|b\d+) = ").items()}
    assert printed == expected  # bit for bit: the same plan and fit, and repr round-trips
    epochs = trained_on_the_sample["epochs"]
    assert text.startswith(f"{epochs} epochs, eta = {trained_on_the_sample['lr']}, stopped: converged")


def test_the_notebook_starts_where_fwdback_train_starts(executed, trained_on_the_sample):
    notebook = executed(EXAMPLES / "lecture.ipynb")
    initial = trained_on_the_sample["initial_weights"]
    printed = {name: value for name, (value,) in named_values(output_text(notebook, "initial-weights"), r"^(w\d+|b\d+) = ").items()}
    assert printed.keys() == initial.keys()
    for name, value in printed.items():
        assert math.isclose(value, initial[name], rel_tol=5e-6), name  # printed to 6 significant digits
    losses = named_values(output_text(notebook, "loss"), r"^(L) = ")["L"]  # by hand, then fwdback.mse_loss
    assert len(losses) == 2
    for loss in losses:
        assert math.isclose(loss, trained_on_the_sample["history"][0]["loss"], rel_tol=1e-9)


def test_the_notebook_s_forward_and_backward_pass_are_the_lecture_s(executed, trained_on_the_sample, hand):
    """Row 1's N1, N2, yhat and every gradient, by hand and by fwdback, against conftest.Lecture
    at the initial weights that `fwdback train` reports."""
    notebook = executed(EXAMPLES / "lecture.ipynb")
    data = np.loadtxt(SAMPLE, delimiter=",", skiprows=1)
    X, y = data[:, :3], data[:, 3]
    w = trained_on_the_sample["initial_weights"]
    N1, N2, yhat = hand.forward(w, *X[0])
    forward = output_text(notebook, "forward")
    for line in forward.splitlines():
        shown = dict(re.findall(r"(N1|N2|yhat) = (-?[\d.e-]+)", line))
        assert shown.keys() == {"N1", "N2", "yhat"}, line
        for name, value in (("N1", N1), ("N2", N2), ("yhat", yhat)):
            assert math.isclose(float(shown[name]), value, rel_tol=5e-6), (line, name)
    gradients = hand.gradients(w, X, y)
    printed = named_values(output_text(notebook, "gradients"), r"^dL/d(w\d+|b\d+) = ")
    assert printed.keys() == gradients.keys()
    for name, (by_hand, by_fwdback) in printed.items():
        assert math.isclose(by_hand, gradients[name], rel_tol=1e-12), name
        assert math.isclose(by_fwdback, gradients[name], rel_tol=1e-12), name


def display(notebook, tag: str) -> dict:
    """The rich output (its data by MIME type) of the code cell tagged `tag`."""
    (cell,) = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    (output,) = [output for output in cell.outputs if output.output_type == "execute_result"]
    return output.data


def test_the_notebook_shows_the_network_the_worked_epoch_and_the_fit_as_pictures(executed, trained_on_the_sample, hand):
    notebook = executed(EXAMPLES / "lecture.ipynb")
    figure = display(notebook, "network-figure")["image/svg+xml"]
    initial = trained_on_the_sample["initial_weights"]
    for name in ("w1", "w8", "b3"):  # the weights fwdback train starts from, on their edges
        assert f"<title>{name} = {float(f'{initial[name]:.6g}'):.6g}</title>" in figure
    explanation = display(notebook, "explanation")
    assert "<math" in explanation["text/html"] and explanation["text/markdown"].startswith("# Epoch 1 of forward")
    data = np.loadtxt(SAMPLE, delimiter=",", skiprows=1)
    gradient = hand.gradients(initial, data[:, :3], data[:, 3])["w1"]
    assert f"= {float(f'{gradient:.6g}'):.6g}$$" in explanation["text/markdown"].replace(r" \end{aligned}", "")
    fitted = display(notebook, "fitted-figure")["text/html"]
    assert fitted.count("<svg") == 2 and f"{trained_on_the_sample['epochs']} epochs" in fitted
