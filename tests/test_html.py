"""The pages (render/html.py and page.js) in headless Chromium: offline, exact, usable.

Every expected number comes from elsewhere than the page: the --history CSV the same run wrote,
and `explain --epoch k --format json` run apart. The browser harness (conftest.py's
`browser_page`) blocks and records every request and every error.
"""

from __future__ import annotations

import csv
import json
import statistics
import struct
import zlib
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("k", [0, 1, 17, 39])
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


@pytest.mark.parametrize("name", ["w1", "w6", "w8", "b2", "b3"])
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


def test_the_page_of_a_million_epochs_is_small_and_opens_in_under_a_second(browser_page, million):
    assert million.stat().st_size <= 2 * 2**20
    page = browser_page.open(million)
    loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    assert loaded < 1000, f"{loaded:.0f} ms to open"
    page.locator("#last").click()
    assert page.locator("#epoch-label").inner_text().startswith("epoch 1000000 of 1000000")
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
