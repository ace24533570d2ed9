"""The pages (render/html.py and page.js) in headless Chromium: offline, exact, usable.

Every expected number comes from elsewhere than the page: the --history CSV the same run wrote,
and `explain --epoch k --format json` run apart. The browser harness (conftest.py's
`browser_page`) blocks and records every request and every error.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from cases import slow_after

from fwdback.notation import Num, number

TRAIN = ["--lr", "0.05", "--seed", "3", "--epochs", "40", "--tol", "0"]


@pytest.fixture
def run_page(run, small_csv, workdir) -> Path:
    """run.html of a 40-epoch run of the lecture's network, and h.csv, its --history."""
    result = run(["train", small_csv, *TRAIN, "--report", "run.html", "--history", "h.csv", "-q"])
    assert result.exit_code == 0, result.stderr
    return workdir / "run.html"


def history_rows(path: Path) -> list[list[float]]:
    with open(path, encoding="utf-8") as stream:
        return [[float(cell) for cell in row] for row in list(csv.reader(stream))[1:]]


def go_to(page, k: int) -> None:
    """Move the slider to the k-th kept epoch (0-based) as a keyboard user would: Home, then arrows."""
    slider = page.locator("#epoch")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(k):
        page.keyboard.press("ArrowRight")


def shown(page, column: int) -> dict[str, float]:
    """The parameters table's column (1: values, 2: gradients) at full precision, by name."""
    return page.evaluate(f"""() => Object.fromEntries(Array.from(document.querySelectorAll('#parameters tr[data-param]'))
        .map(row => [row.dataset.param, Number(row.querySelectorAll('td')[{column}].dataset.value)]))""")


def test_the_run_page_fetches_nothing_and_raises_nothing(browser_page, run_page):
    page = browser_page.open(run_page)
    go_to(page, 3)
    page.locator("#play").click()
    page.wait_for_timeout(300)
    page.hover('svg.network [data-param="w5"] .hit')
    page.emulate_media(color_scheme="dark")
    page.reload()
    page.emulate_media(media="print")
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.parametrize("k", slow_after(1, [0, 1, 17, 39]))
def test_at_epoch_k_the_page_shows_history_row_k_exactly(browser_page, run_page, workdir, k):
    page = browser_page.open(run_page)
    go_to(page, k)
    row = history_rows(workdir / "h.csv")[k]
    names = [f"w{i}" for i in range(1, 9)] + ["b1", "b2", "b3"]
    assert page.locator("#epoch-label").inner_text().startswith(f"epoch {k + 1} of 40, loss {number(row[1])}")
    assert shown(page, 1) == dict(zip(names, row[2:13]))
    assert shown(page, 2) == dict(zip(names, row[13:24]))
    # ... and the figure's labels say the same, to 6 digits
    label = page.locator('svg.network [data-param="w1"] .value').text_content()
    assert label == number(row[2])


@pytest.mark.parametrize("name", slow_after(1, ["w1", "w6", "w8", "b2", "b3"]))
def test_hovering_a_parameter_shows_its_chain_rule_with_explains_numbers(browser_page, run, small_csv, run_page, name):
    epoch = 12
    explained = run(["explain", small_csv, *TRAIN[:4], "--epoch", str(epoch), "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    doc = json.loads(explained.stdout)
    page = browser_page.open(run_page)
    go_to(page, epoch - 1)
    page.hover(f'svg.network [data-param="{name}"] .hit' if name.startswith("w") else f'svg.network [data-param="{name}"] text')
    gradient = page.locator('#detail [data-role="gradient"]').inner_text()
    update = page.locator('#detail [data-role="update"]').inner_text()
    assert gradient.endswith(f"= {number(doc['gradients'][name])}")
    assert update.endswith(f"= {number(doc['weights_after'][name])}")
    assert f"{number(doc['weights'][name])} − {number(doc['lr'])}·" in update
    first = doc["rows"][0]  # the sum's first term is the first row's: explain's per-row terms
    term = {"w1": f"{Num(first['dL_dN1']).plain()}·{Num(first['x1']).plain()}", "b3": Num(first["dL_dyhat"]).plain()}
    if name in term:
        assert f"= {term[name]} + " in gradient, gradient
    page.mouse.click(5, 5)  # clicking elsewhere changes nothing; a click on the edge pins it
    page.locator(f'svg.network [data-param="{name}"]').first.click()
    assert "(pinned)" in page.locator("#detail h3").inner_text()
    assert browser_page.errors == []


def test_keys_and_buttons_move_through_the_epochs(browser_page, run_page):
    page = browser_page.open(run_page)
    label = page.locator("#epoch-label")
    page.locator("#forward").click()
    page.locator("#forward").click()
    assert label.inner_text().startswith("epoch 3 of 40")
    page.locator("h1").click()  # the page has focus, not a control
    page.keyboard.press("ArrowLeft")
    assert label.inner_text().startswith("epoch 2 of 40")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('epoch').value === '39'", timeout=10_000)
    assert page.locator("#play").get_attribute("aria-pressed") == "false", "play stops at the last epoch"
    page.locator("#first").click()
    assert label.inner_text().startswith("epoch 1 of 40")
    page.locator("#last").click()
    assert label.inner_text().startswith("epoch 40 of 40")


def test_the_page_writes_epochs_as_every_other_output_does(browser_page, run, small_csv, workdir):
    result = run(["train", small_csv, "--lr", "0.05", "--epochs", "2500", "--tol", "0", "--report", "run.html", "-q"])
    assert result.exit_code == 0, result.stderr
    page = browser_page.open(workdir / "run.html")
    page.locator("#last").click()
    assert page.locator("#epoch-label").inner_text().startswith("epoch 2,500 of 2,500, loss")
    page.click('svg.network [data-param="w1"] .hit')
    assert page.locator("#detail h3").inner_text().startswith("w1 at epoch 2,500")
    assert " of the 2,500 epochs" in page.locator(".legend").inner_text()
    assert browser_page.errors == []


def test_every_equation_has_a_size_and_fits_an_800_pixel_column(browser_page, run, small_csv, workdir):
    result = run(["explain", small_csv, "--activation", "tanh", "--hidden", "5", "--rows", "2", "--format", "html"])
    assert result.exit_code == 0, result.stderr
    (workdir / "epoch.html").write_text(result.stdout, encoding="utf-8")
    page = browser_page.open(workdir / "epoch.html")
    page.set_viewport_size({"width": 1280, "height": 900})
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('math')).map(m => {
        const box = m.getBoundingClientRect();
        return [box.width, box.height, m.getAttribute('display') === 'block' ? m.scrollWidth : 0];
    })""")
    assert len(sizes) > 100
    assert all(width > 0 and height > 0 for width, height, _ in sizes), "every MathML element is drawn"
    assert max(scroll for _, _, scroll in sizes) <= 800, "no equation is wider than the 800-pixel column"
    assert browser_page.requests == [] and browser_page.errors == []


def png_pixels(data: bytes) -> list[int]:
    """Every channel value of a PNG's pixels (8-bit RGB or RGBA, as Chromium writes them),
    unfiltered as the PNG standard says (filters 0 to 4, one byte per sample)."""
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6)
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    raw, size = zlib.decompress(b"".join(chunks)), 3 if colour == 2 else 4
    stride, previous, pixels = width * size, bytearray(width * size), []
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        for i in range(stride):
            left, up = line[i - size] if i >= size else 0, previous[i]
            corner = previous[i - size] if i >= size else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))[2]
            line[i] = (line[i] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        pixels += line
        previous = line
    return pixels


@pytest.mark.slow  # two full-page screenshots: about 6 s
@pytest.mark.parametrize("width", [1280, 390])
def test_a_screenshot_is_not_blank_and_the_page_fits_the_width(browser_page, run_page, width):
    page = browser_page.open(run_page)
    page.set_viewport_size({"width": width, "height": 900})
    pixels = png_pixels(page.screenshot())
    assert len(set(pixels)) > 40 and statistics.pstdev(pixels) > 20, "a page with drawing on it, not one colour"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"


@pytest.fixture(scope="module")
def million(tmp_path_factory) -> Path:
    """The page of 1,000,000 epochs on 1,000,000 rows (the Gram engine: about half a minute)."""
    import subprocess
    import sys

    directory = tmp_path_factory.mktemp("million")
    data = directory / "big.csv"
    with open(data, "w", encoding="utf-8") as stream:
        subprocess.run([sys.executable, "-m", "fwdback", "generate", "--rows", "1000000"], stdout=stream, check=True)
    page = directory / "big.html"
    subprocess.run([sys.executable, "-m", "fwdback", "train", str(data), "--epochs", "1000000", "--tol", "0",
                    "--report", str(page), "--no-save", "-q"], check=True)
    return page


@pytest.mark.slow
def test_the_page_of_a_million_epochs_is_small_and_keeps_two_thousand(browser_page, million):
    """How fast it opens is benchmarks/page_open.py's to measure: a test asserts no wall-clock time."""
    assert million.stat().st_size <= 2 * 2**20
    page = browser_page.open(million)
    page.locator("#last").click()
    assert page.locator("#epoch-label").inner_text().startswith("epoch 1,000,000 of 1,000,000")
    epochs = page.evaluate("JSON.parse(document.getElementById('fwdback-data').textContent).epochs.epochs")
    assert epochs[0] == 1 and epochs[-1] == 1_000_000 and len(epochs) <= 2000
    assert len({b - a for a, b in zip(epochs, epochs[1:-1])}) == 1, "evenly spaced, the last one appended"
    assert browser_page.requests == [] and browser_page.errors == []


def test_the_weights_of_any_epoch_save_as_a_file_train_starts_from(browser_page, run_page, workdir, run, small_csv):
    page = browser_page.open(run_page)
    go_to(page, 20)
    with page.expect_download() as saving:
        page.locator("#save-weights").click()
    saved = saving.value
    assert saved.suggested_filename == "weights-epoch-21.json"
    saved.save_as(workdir / "w21.json")
    weights = json.loads((workdir / "w21.json").read_text(encoding="utf-8"))
    row = history_rows(workdir / "h.csv")[20]
    assert list(weights.values()) == row[2:13]
    # ... and fwdback starts from them: its first epoch's loss is the history's epoch 21's.
    result = run(["train", small_csv, "--init", "w21.json", "--lr", "0.05", "--epochs", "1", "--format", "csv", "--no-save"])
    assert result.exit_code == 0, result.stderr
    assert float(result.stdout.splitlines()[1].split(",")[1]) == pytest.approx(row[1], rel=1e-13)
    assert browser_page.requests == [] and browser_page.errors == []


# Several outputs, and the updates within a mini-batch epoch ------------------------------------
# These pages are built from the library's pieces, as `train --report` builds them, for the
# networks and plans the command line gains with issue 13 (several targets, --no-shuffle).


def python_page(workdir: Path, X, y, initial, plan, target) -> Path:
    """The run page of training `initial` on X, y by `plan` (training.fit_rows with the page's
    callbacks), written to run.html."""
    from fwdback.modelfile import Model, TrainingRecord
    from fwdback.playback import EpochSamples, rows_document
    from fwdback.render.html import run_page
    from fwdback.render.svg import loss_svg, network_svg
    from fwdback.reports.train import TrainingReport, run_page_document
    from fwdback.training import fit_rows, prepare

    samples = EpochSamples(initial.vector.size)
    fitted = fit_rows(prepare(X, y, plan), initial, plan, on_epoch=samples, on_step=samples.steps)
    features = tuple(f"x{j + 1}" for j in range(X.shape[1]))
    model = Model(fitted.result.final, features, target, TrainingRecord(data="rows.csv", rows=len(y)))
    first = samples.document()
    start = initial.like(first["weights"][0])
    figure = network_svg(start, features, target, start.like(first["gradients"][0]), plan.freeze)
    result = fitted.result
    page = run_page_document(TrainingReport.of(fitted, model), first, rows_document(X, y), samples.steps.document())
    path = workdir / "run.html"
    path.write_text(run_page(page, figure, loss_svg(result.loss_epochs, result.losses, final=result.final_loss), None), encoding="utf-8")
    return path


def rows_222(n: int = 6):
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, (n, 2))
    Y = np.column_stack([1 / (1 + np.exp(-(X @ [1.5, -2.0] + 0.3))), 1 / (1 + np.exp(-(X @ [-0.5, 1.0])))])
    return X, Y


def by_hand(w: dict, x, y):
    """The 2-2-2 network with sigmoid outputs and (1/2) sum of squares, one named formula at a
    time, on one row: (yhat1, yhat2, dL/da1, N1) as the textbook writes them."""
    import math

    N1 = w["w1"] * x[0] + w["w2"] * x[1] + w["b1"]
    N2 = w["w3"] * x[0] + w["w4"] * x[1] + w["b2"]
    yhat1 = 1 / (1 + math.exp(-(w["w5"] * N1 + w["w6"] * N2 + w["b3"])))
    yhat2 = 1 / (1 + math.exp(-(w["w7"] * N1 + w["w8"] * N2 + w["b4"])))
    return yhat1, yhat2, -(y[0] - yhat1) * yhat1 * (1 - yhat1), N1


def unrolled(initial, X, y, plan, epochs: int) -> list[list[tuple]]:
    """The reference: network.py's forward, backward and update, batch after batch in file order.
    [epoch][update] -> (weights the update starts from, its batch's gradients), shape (P,) each."""
    from fwdback.network import backward, forward, update

    params, done = initial, []
    size = plan.batch_size or len(y)
    for _ in range(epochs):
        epoch = []
        for first in range(0, len(y), size):
            Xb, yb = X[first : first + size], y[first : first + size]
            grads = backward(params, Xb, yb, forward(params, Xb), plan.loss).gradients
            epoch.append((params.vector.copy(), grads.vector.copy()))
            params = update(params, grads, plan.lr)
        done.append(epoch)
    return done


def test_a_page_with_two_outputs_shows_both_and_their_chain_rules(browser_page, workdir):
    from fwdback.network import init_parameters
    from fwdback.plan import TrainingPlan

    X, Y = rows_222()
    initial = init_parameters(np.random.default_rng(5), 2, 2, n_outputs=2, output_activation="sigmoid")
    plan = TrainingPlan(epochs=12, lr=0.5, tol=0, standardize=False, loss="half-sse")
    page = browser_page.open(python_page(workdir, X, Y, initial, plan, ("first", "second")))
    reference = unrolled(initial, X, Y, plan, 12)
    names = list(initial.names)
    assert "the 2-2-2 network with sigmoid outputs" in page.locator("h1").inner_text()
    assert len(page.locator("svg.network g.node").all()) == 6, "2 inputs, 2 hidden units, 2 outputs"
    assert page.locator("svg.network [data-param]").count() == 12
    k = 7
    go_to(page, k)
    weights, gradients = reference[k][0]
    assert shown(page, 1) == pytest.approx(dict(zip(names, weights)), rel=1e-12)
    assert shown(page, 2) == pytest.approx(dict(zip(names, gradients)), rel=1e-12)
    header = page.locator("#rows thead th").all_inner_texts()
    assert header == ["row", "x1", "x2", "y1", "y2", "N1", "N2", "ŷ1", "ŷ2", "y1 − ŷ1", "y2 − ŷ2"]
    w = dict(zip(names, weights))
    first_row = page.locator("#rows tbody tr").first.locator("td").all_inner_texts()
    yhat1, yhat2, d_a1, N1 = by_hand(w, X[0], Y[0])
    assert first_row[7:11] == [number(yhat1), number(yhat2), number(Y[0, 0] - yhat1), number(Y[0, 1] - yhat2)]
    page.hover('svg.network [data-param="w5"] .label')  # N1 -> the first output (a level line: its label)
    gradient = page.locator('#detail [data-role="gradient"]').inner_text()
    assert gradient.endswith(f"= {number(gradients[names.index('w5')])}")
    assert f"= {Num(d_a1).plain()}·{Num(N1).plain()} + " in gradient, gradient
    update = page.locator('#detail [data-role="update"]').inner_text()
    assert update.endswith(f"= {number(reference[k + 1][0][0][names.index('w5')])}")
    assert browser_page.requests == [] and browser_page.errors == []


@pytest.mark.parametrize(("k", "s"), slow_after(1, [(0, 1), (0, 3), (2, 2), (4, 3)], unpack=True))
def test_the_update_slider_shows_each_update_as_the_unrolled_reference(browser_page, workdir, k, s):
    from fwdback.network import init_parameters
    from fwdback.plan import TrainingPlan

    X, Y = rows_222()
    initial = init_parameters(np.random.default_rng(2), 2, 2, n_outputs=2)
    plan = TrainingPlan(epochs=5, lr=0.3, tol=0, standardize=False, batch_size=2, shuffle=False)
    page = browser_page.open(python_page(workdir, X, Y, initial, plan, ("first", "second")))
    reference = unrolled(initial, X, Y, plan, 6)  # one more, for the weights after the last update
    names = list(initial.names)
    go_to(page, k)
    step = page.locator("#step")
    assert step.get_attribute("max") == "3", "3 updates of 2 rows an epoch"
    step.focus()
    page.keyboard.press("Home")
    for _ in range(s):
        page.keyboard.press("ArrowRight")
    assert page.locator("#step-label").inner_text().startswith(f"update {s} of 3")
    weights, gradients = reference[k][s - 1]
    cells = page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('#parameters tr[data-param]'))
        .map(row => [row.dataset.param, Array.from(row.querySelectorAll('td')).slice(1).map(td => td.textContent)]))""")
    assert cells == {name: [number(value), number(gradient)] for name, value, gradient in zip(names, weights, gradients)}
    assert shown(page, 1) == pytest.approx(dict(zip(names, weights)), rel=1e-12, abs=1e-15)
    assert shown(page, 2) == pytest.approx(dict(zip(names, gradients)), rel=1e-12, abs=1e-15)
    label = page.locator('svg.network [data-param="w7"] .value').text_content()
    assert label == number(weights[names.index("w7")])
    page.hover('svg.network [data-param="w3"] .hit')
    update = page.locator('#detail [data-role="update"]').inner_text()
    after = reference[k][s][0] if s < 3 else reference[k + 1][0][0]  # the weights the next update starts from
    assert update.endswith(f"= {number(after[names.index('w3')])}")
    page.locator("#step-back").click()
    page.locator("#forward").click()  # a new epoch starts as a whole again
    assert page.locator("#step").input_value() == "0" and page.locator("#step-label").inner_text().startswith("the whole epoch")
    assert browser_page.requests == [] and browser_page.errors == []


def test_a_mini_batch_run_from_the_command_line_keeps_its_updates(run, small_csv, workdir):
    result = run(["train", small_csv, "--lr", "0.05", "--epochs", "6", "--tol", "0", "--batch-size", "5",
                  "--report", "run.html", "--history", "h.csv", "-q"])
    assert result.exit_code == 0, result.stderr
    text = (workdir / "run.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script id="fwdback-data" type="application/json">(.*?)</script>', text, re.S)[1])
    steps = data["steps"]
    assert steps["per_epoch"] == 3 and steps["every_step"], "12 rows in batches of 5: 3 updates an epoch"
    assert steps["epochs"] == [e for e in range(1, 7) for _ in range(3)] and steps["steps"] == [1, 2, 3] * 6
    history = history_rows(workdir / "h.csv")
    for index, (epoch, s) in enumerate(zip(steps["epochs"], steps["steps"])):
        if s == 1:  # the first update starts from the epoch's weights, the history's row
            assert steps["weights"][index] == history[epoch - 1][2:13]
    assert 'id="step"' in text


def test_frozen_parameters_keep_their_values_on_the_page_and_say_so(browser_page, workdir):
    from fwdback.network import init_parameters
    from fwdback.plan import TrainingPlan

    X, Y = rows_222()
    initial = init_parameters(np.random.default_rng(4), 2, 2, n_outputs=2)
    plan = TrainingPlan(epochs=6, lr=0.3, tol=0, standardize=False, freeze=("w3", "b4"))
    page = browser_page.open(python_page(workdir, X, Y, initial, plan, ("first", "second")))
    assert page.locator("svg.network [data-frozen]").evaluate_all("gs => gs.map(g => g.dataset.param)") == ["w3", "b4"]
    go_to(page, 5)
    values = shown(page, 1)
    start = initial.as_dict()
    assert values["w3"] == start["w3"] and values["b4"] == start["b4"], "frozen: as they started"
    assert values["w4"] != start["w4"]
    page.hover('svg.network [data-param="w3"] .hit')
    assert page.locator('#detail [data-role="update"]').inner_text().endswith("is frozen: it keeps its value")
    assert "(frozen)" in page.locator("p.legend").first.inner_text()
    assert browser_page.requests == [] and browser_page.errors == []
