"""`fwdback explain` and `fwdback gradcheck` of a classifier's epoch: bce (a sigmoid output) and a
3-class cross-entropy (a softmax over three outputs), checked against the lecture's formulas
written out below in plain Python (math.exp, math.log, math.tanh), one row at a time.

Tolerances. The JSON holds full float64 values; each one here and in fwdback is a chain of
fewer than 100 roundings of numbers under 10 in size, taken in other orders, so the two differ by
less than 100 * 10 * 2^-53 (FULL). The text prints 6 significant digits: a printed number is its
value to within half a unit in its 6th digit (printed), at most 5e-6 of it (PRINTED); a product of
printed factors is within that much of each factor, plus the product's own rounding.
"""

from __future__ import annotations

import json
import math
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_terminal_seen import assert_seen, in_terminal, piped, screen_of

import fwdback.gradcheck
from fwdback.reports.explain import RECOMPUTED

FULL = 100 * 10 * 2.0**-53
PRINTED = 5e-6

BCE_CSV = "x1,x2,label\n0.5,1.0,yes\n-1.0,0.2,no\n0.3,-0.7,yes\n1.2,0.4,no\n"
BCE_WEIGHTS = {"w1": 0.4, "w2": -0.6, "w3": 0.9, "w4": 0.3, "w5": 1.5, "w6": -0.8, "b1": 0.1, "b2": -0.2, "b3": 0.25}
# Labels in sorted order: no, yes; y = 1 for "yes".
BCE_Y = [1, 0, 1, 0]

CE_CSV = "x1,x2,animal\n0.5,1.0,dog\n-1.0,0.2,cat\n0.3,-0.7,emu\n1.2,0.4,cat\n"
CE_WEIGHTS = {"w1": 0.4, "w2": -0.6, "w3": 0.9, "w4": 0.3, "w5": 1.5, "w6": -0.8, "w7": -0.5, "w8": 0.7, "w9": 0.2,
              "w10": 1.1, "b1": 0.1, "b2": -0.2, "b3": 0.25, "b4": -0.1, "b5": 0.05}
# Classes cat, dog, emu: outputs 1, 2, 3.
CE_CLASS = [1, 0, 2, 0]

X = [(0.5, 1.0), (-1.0, 0.2), (0.3, -0.7), (1.2, 0.4)]
LR = 0.5
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def reference(w: dict, classes: int, y_class: list[int]) -> dict:
    """The epoch by hand for a 2-2-m tanh network: bce with one sigmoid output (classes 2) or
    cross-entropy with a softmax over `classes` outputs. Output j's weights are w(5+2j), w(6+2j),
    its bias b(3+j). `y_class`: each row's class index (bce: 1 for the second class)."""
    n, binary = len(X), classes == 2
    m = 1 if binary else classes
    rows, g = [], {name: 0.0 for name in w}
    for (x1, x2), c in zip(X, y_class):
        z = [w["w1"] * x1 + w["w2"] * x2 + w["b1"], w["w3"] * x1 + w["w4"] * x2 + w["b2"]]
        N = [math.tanh(v) for v in z]
        a = [w[f"w{5 + 2 * j}"] * N[0] + w[f"w{6 + 2 * j}"] * N[1] + w[f"b{3 + j}"] for j in range(m)]
        if binary:
            p = [1 / (1 + math.exp(-a[0]))]
            y = [float(c)]
            term = -(y[0] * math.log(p[0]) + (1 - y[0]) * math.log(1 - p[0]))
            dyhat = [(-(y[0] / p[0]) + (1 - y[0]) / (1 - p[0])) / n]
            jacobian = [[p[0] * (1 - p[0])]]
        else:
            e = [math.exp(v) for v in a]
            p = [v / sum(e) for v in e]
            softmax_sum = sum(e)
            y = [1.0 if j == c else 0.0 for j in range(m)]
            term = -math.log(p[c])
            dyhat = [-(y[j] / p[j]) / n for j in range(m)]
            jacobian = [[p[j] * ((1.0 if j == l else 0.0) - p[l]) for l in range(m)] for j in range(m)]
        dA = [sum(dyhat[j] * jacobian[j][l] for j in range(m)) for l in range(m)]  # the chain rule, not (p - y)/n
        dN = [sum(dA[j] * w[f"w{5 + 2 * j + h}"] for j in range(m)) for h in range(2)]
        slope = [1 - v * v for v in N]
        dz = [dN[h] * slope[h] for h in range(2)]
        for j in range(m):
            g[f"w{5 + 2 * j}"] += dA[j] * N[0]
            g[f"w{6 + 2 * j}"] += dA[j] * N[1]
            g[f"b{3 + j}"] += dA[j]
        for h in range(2):
            g[f"w{1 + 2 * h}"] += dz[h] * x1
            g[f"w{2 + 2 * h}"] += dz[h] * x2
            g[f"b{1 + h}"] += dz[h]
        rows.append({"z": z, "N": N, "a": a, "p": p, "y": y, "term": term, "dyhat": dyhat, "jacobian": jacobian,
                     "dA": dA, "dN": dN, "slope": slope, "dz": dz, "class": c, "sum": None if binary else softmax_sum})
    loss = sum(row["term"] for row in rows) / n
    return {"rows": rows, "loss": loss, "gradients": g, "after": {name: w[name] - LR * g[name] for name in w}}


def close(a: float, b: float, tol: float = FULL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def printed(shown: float, value: float) -> bool:
    """Whether `shown`, a number as the text prints it (6 significant digits), is `value`: within
    half a unit in its 6th digit (and FULL, for fwdback's value against this module's)."""
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - 5) if value else 0.0
    return abs(shown - value) <= unit / 2 + FULL * (1 + abs(value))


@pytest.fixture
def bce(workdir):
    (workdir / "bce.csv").write_text(BCE_CSV)
    (workdir / "bce.json").write_text(json.dumps(BCE_WEIGHTS))
    return ["bce.csv", "--features", "x1,x2", "--target", "label", "--loss", "bce", "--activation", "tanh",
            "--init", "bce.json", "--lr", LR]


@pytest.fixture
def ce(workdir):
    (workdir / "ce.csv").write_text(CE_CSV)
    (workdir / "ce.json").write_text(json.dumps(CE_WEIGHTS))
    return ["ce.csv", "--features", "x1,x2", "--target", "animal", "--loss", "cross-entropy", "--activation", "tanh",
            "--init", "ce.json", "--lr", LR]


def explained(run, args, output_format="table"):
    result = run(["explain", *args, "--format", output_format])
    assert result.exit_code == 0, result.stderr
    return result.stdout


# --- JSON: every value at full precision --------------------------------------------------------


@pytest.mark.parametrize("kind", ["bce", "ce"])
def test_json_holds_the_hand_computed_epoch(run, request, kind):
    args = request.getfixturevalue(kind)
    weights, classes, y_class = (BCE_WEIGHTS, 2, BCE_Y) if kind == "bce" else (CE_WEIGHTS, 3, CE_CLASS)
    hand = reference(weights, classes, y_class)
    doc = json.loads(explained(run, args, "json"))
    assert doc["classes"] == (["no", "yes"] if kind == "bce" else ["cat", "dog", "emu"])
    m = 1 if kind == "bce" else 3
    names = (lambda s: [s]) if m == 1 else (lambda s: [f"{s}{j}" for j in range(1, m + 1)])
    for row, expected in zip(doc["rows"], hand["rows"]):
        assert row["factors_finite"] is True
        pairs = [(row["loss_term"], expected["term"])]
        pairs += [(row[f"z{h + 1}"], expected["z"][h]) for h in range(2)] + [(row[f"N{h + 1}"], expected["N"][h]) for h in range(2)]
        pairs += [(row[f"dL_dz{h + 1}"], expected["dz"][h]) for h in range(2)]
        for j, (a, yhat, y) in enumerate(zip(names("a"), names("yhat"), names("y"))):
            pairs += [(row[a], expected["a"][j]), (row[yhat], expected["p"][j]), (row[y], expected["y"][j]),
                      (row[f"dL_d{yhat}"], expected["dyhat"][j]), (row[f"dL_d{a}"], expected["dA"][j])]
            pairs += [(row[f"d{yhat}_d{other}"], expected["jacobian"][j][l]) for l, other in enumerate(names("a"))]
        assert all(close(got, want) for got, want in pairs), pairs
    assert close(doc["loss"], hand["loss"])
    assert all(close(doc["gradients"][name], value) for name, value in hand["gradients"].items())
    assert all(close(doc["weights_after"][name], value) for name, value in hand["after"].items())


# --- the text: every number printed, and the cancellation's two sides -----------------------------


def _known_numbers(hand: dict, weights: dict) -> list[float]:
    """Every value the hand computation has, and the data, the weights, eta, n and the constants:
    each number the text prints must be one of them (to its printed digits)."""
    # the constants: 0, 1, 2 (a square), the rows' and sections' numbers, the parameters' count
    values = [0.0, 2.0, LR, *range(1, 7), len(weights), *weights.values(), *(v for row in X for v in row)]
    values += [hand["loss"], *hand["gradients"].values(), *hand["after"].values()]
    for row in hand["rows"]:
        values += [*row["z"], *row["N"], *row["a"], *(-v for v in row["a"]), *row["p"], *(1 - v for v in row["p"]),
                   *row["y"], *(1 - v for v in row["y"]), row["term"], *row["dyhat"], *row["dA"], *row["dN"],
                   *row["slope"], *row["dz"], *(v for line in row["jacobian"] for v in line),
                   *(row["p"][l] - row["y"][l] for l in range(len(row["p"]))), *([row["sum"]] if row["sum"] else [])]
    return values


def _printed_matches(token: str, values: list[float]) -> bool:
    return any(printed(float(token), v) for v in values)


@pytest.mark.parametrize("kind", ["bce", "ce"])
def test_every_number_of_the_text_is_one_worked_out_by_hand(run, request, kind):
    args = request.getfixturevalue(kind)
    weights, classes, y_class = (BCE_WEIGHTS, 2, BCE_Y) if kind == "bce" else (CE_WEIGHTS, 3, CE_CLASS)
    hand = reference(weights, classes, y_class)
    text = explained(run, args)
    known = _known_numbers(hand, weights)
    loss_after = _loss_at(hand["after"], classes, y_class)
    known += [loss_after, loss_after - hand["loss"]]
    strays = [token for line in text.splitlines() for token in NUMBER.findall(line) if not _printed_matches(token, known)]
    assert strays == []
    assert "inf" not in text.split() and "nan" not in text.lower().split()


def _loss_at(w: dict, classes: int, y_class: list[int]) -> float:
    return reference(w, classes, y_class)["loss"]


def _numbers(line: str) -> list[float]:
    return [float(token) for token in NUMBER.findall(line)]


def test_bce_text_works_the_sigmoid_the_terms_and_the_cancellation_row_by_row(run, bce):
    hand = reference(BCE_WEIGHTS, 2, BCE_Y)
    lines = explained(run, bce).splitlines()
    sigmoid = [line for line in lines if line.startswith("  yhat = sigmoid(a) = (1/(1 + exp(-a))) = ")]
    terms = [line for line in lines if line.startswith("  -(y*log(yhat) + (1 - y)*log(1 - yhat)) = ")]
    dyhat = [line for line in lines if line.startswith("  dL/dyhat = ")]
    slope = [line for line in lines if line.startswith("  dyhat/da = ")]
    cancel = [line for line in lines if line.startswith("  dL/da = dL/dyhat * dyhat/da = ")]
    assert len(sigmoid) == len(terms) == len(dyhat) == len(slope) == len(cancel) == 4
    for row, expected in enumerate(hand["rows"]):
        p, y, a = expected["p"][0], expected["y"][0], expected["a"][0]
        # yhat = sigmoid(a) = (1/(1 + exp(-a))) = (1/(1 + exp(-a's value))) = yhat's value
        *ones, minus_a, yhat = _numbers(sigmoid[row])
        assert ones == [1, 1, 1, 1] and printed(minus_a, -a) and printed(yhat, p)
        # -(y*log(yhat) + (1 - y)*log(1 - yhat)) = -(y*log(p) + (1 - y)*log(1 - p)) = term   (row r)
        _, _, y1, p1, not_y, q1, term, label = _numbers(terms[row])
        assert (y1, not_y, label) == (y, 1 - y, row + 1)
        assert printed(p1, p) and printed(q1, 1 - p) and printed(term, expected["term"])
        # dL/dyhat = (1/n) (-(y/p) + ((1 - y)/(1 - p))) = value
        one, n, y2, p2, not_y2, q2, d = _numbers(dyhat[row])
        assert (one, n, y2, not_y2, p2, q2) == (1, 4, y, 1 - y, p1, q1) and printed(d, expected["dyhat"][0])
        # dyhat/da = p*(1 - p) = value
        p3, q3, s = _numbers(slope[row])
        assert printed(p3, p) and printed(q3, 1 - p) and printed(s, expected["jacobian"][0][0])
        # dL/da = dL/dyhat * dyhat/da = d*s = ((p - y)/n) = value: both sides are the printed value
        d2, s2, p4, y4, n4, value = _numbers(cancel[row])
        assert (d2, s2, p4, y4, n4) == (d, s, p3, y, 4)
        assert printed(value, expected["dA"][0])
        assert abs(d2 * s2 - value) <= 2 * PRINTED * abs(d2 * s2) + PRINTED * abs(value)
        assert abs((p4 - y4) / n4 - value) <= PRINTED * abs(p4) / n4 + PRINTED * abs(value)


def test_cross_entropy_text_works_the_softmax_and_its_jacobian_row_by_row(run, ce):
    hand = reference(CE_WEIGHTS, 3, CE_CLASS)
    lines = explained(run, ce).splitlines()
    sums = [line for line in lines if line.startswith("  sum_l exp(al) = exp(a1) + exp(a2) + exp(a3) = ")]
    assert len(sums) == 4
    for line, expected in zip(sums, hand["rows"]):
        *exponents, total = _numbers(line.split(" = ", 2)[2])
        assert all(printed(e, a) for e, a in zip(exponents, expected["a"], strict=True)) and printed(total, expected["sum"])
    for j in range(3):
        softmax = [line for line in lines if line.startswith(f"  yhat{j + 1} = (exp(a{j + 1})/sum_l exp(al)) = ")]
        assert len(softmax) == 4
        for line, expected, total in zip(softmax, hand["rows"], sums):
            top, below, yhat = _numbers(line.split(" = ", 2)[2])
            assert printed(top, expected["a"][j]) and below == _numbers(total)[-1] and printed(yhat, expected["p"][j])
    terms = [line for line in lines if re.match(r"  -log\(yhat\d\) = ", line)]
    assert [int(line[len("  -log(yhat")]) for line in terms] == [c + 1 for c in CE_CLASS]
    for line, expected in zip(terms, hand["rows"]):
        p, term, label = _numbers(line)
        assert printed(p, expected["p"][expected["class"]]) and printed(term, expected["term"])
    factors = [line for line in lines if re.match(r"  dL/dyhat\d = -\(1/4\) ", line)]
    cancels = [line for line in lines if re.match(r"  dL/da\d = dL/dyhat\d \* dyhat\d/da\d = ", line)]
    assert len(factors) == 4 and len(cancels) == 12
    for row, expected in enumerate(hand["rows"]):
        c, p = expected["class"], expected["p"]
        one, n, one_again, pc, d = _numbers(factors[row])
        assert (one, n, one_again) == (1, 4, 1) and printed(pc, p[c]) and printed(d, expected["dyhat"][c])
        for l in range(3):
            # dL/da_l = dL/dyhat_c * dyhat_c/da_l = d * p_c * (delta_cl - p_l) = ((p_l - y_l)/n) = value
            line = cancels[3 * row + l]
            assert line.startswith(f"  dL/da{l + 1} = dL/dyhat{c + 1} * dyhat{c + 1}/da{l + 1} = ")
            d2, pc2, delta, pl, pl2, yl, n2, value = _numbers(line.split(" = ", 2)[2])
            assert (d2, pc2, delta, yl, n2) == (d, pc, float(c == l), expected["y"][l], 4)
            assert printed(pl, p[l]) and pl2 == pl and printed(value, expected["dA"][l])
            product = d2 * pc2 * (delta - pl)
            assert abs(product - value) <= 3 * PRINTED * abs(d2 * pc2) * (abs(delta) + abs(pl)) + PRINTED * abs(value)
            assert abs((pl2 - yl) / n2 - value) <= PRINTED * abs(pl2) / n2 + PRINTED * abs(value)


# --- where a probability rounds to 0 or 1 -------------------------------------------------------


def test_a_probability_rounded_to_1_or_0_is_said_and_only_the_combined_factor_shown(run, bce, workdir):
    # With w5 = 60, w6 = 0, b3 = 0, a = 60 N1: N1 = tanh(z1) is near +-1 for z1 = w1 x1 (w1 = 30,
    # w2 = b1 = 0), so a is about +-60 and yhat = 1/(1 + exp(-60)) = 1 - 9e-27, 1 in float64, or
    # exp(-60) = 8.8e-27 (its float64 value in fwdback's sigmoid, 0.5 (1 + tanh(a/2)), is 0).
    steep = {name: 0.0 for name in BCE_WEIGHTS} | {"w1": 30.0, "w5": 60.0}
    (workdir / "bce.json").write_text(json.dumps(steep))
    for output_format in ("table", "markdown", "html"):
        text = explained(run, bce, output_format)
        assert "rounds to 1 in float64" in text and "rounds to 0 in float64" in text
        assert not re.search(r"\b(inf|nan|NaN|Infinity)\b", text)
    doc = json.loads(explained(run, bce, "json"), parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    for row, (x1, _), y in zip(doc["rows"], X, BCE_Y):
        n1 = math.tanh(30 * x1)
        p = 1 / (1 + math.exp(-60 * n1))
        assert row["factors_finite"] is False and row["dL_dyhat"] is None
        assert close(row["dL_da"], (p - y) / 4)  # the combined factor, a number all the same
        # log(1 + exp(a)) - y a, the term from the logit: a when y = 0 and a > 0, -a when y = 1 and a < 0, else ~0
        assert close(row["loss_term"], math.log1p(math.exp(-abs(60 * n1))) + max(60 * n1, 0) - y * 60 * n1)


# --- gradcheck --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bce", "ce"])
def test_gradcheck_passes_a_classifiers_gradients(run, request, kind):
    args = request.getfixturevalue(kind)
    result = run(["gradcheck", *args[:-2]])  # no --lr: gradcheck takes the initial weights
    assert result.exit_code == 0, result.stderr
    parameters = len(BCE_WEIGHTS) if kind == "bce" else len(CE_WEIGHTS)
    assert f"gradcheck: all {parameters} gradients ok" in result.stderr


@pytest.mark.parametrize("kind", ["bce", "ce"])
@pytest.mark.parametrize("broken, failing", [
    ("the mean's 1/n forgotten", "all"),  # dL/da = yhat - y: every gradient n = 4 times too large
    ("w1 off by 1e-4 of itself", "w1"),  # 100 times --max-error's 1e-6
])
def test_gradcheck_catches_a_broken_classifier_gradient(run, request, kind, broken, failing, monkeypatch):
    args = request.getfixturevalue(kind)
    correct = fwdback.gradcheck.backward

    def backward(params, X, y, fwd, convention="mse"):
        back = correct(params, X, y, fwd, convention)
        vector = back.gradients.vector.copy()
        if failing == "all":
            vector *= len(y)
        else:
            vector[0] *= 1 + 1e-4
        back.gradients = back.gradients.like(vector)
        return back

    monkeypatch.setattr(fwdback.gradcheck, "backward", backward)
    result = run(["gradcheck", *args[:-2]])
    assert result.exit_code == 1, (broken, result.stderr)
    parameters = len(BCE_WEIGHTS) if kind == "bce" else len(CE_WEIGHTS)
    count = parameters if failing == "all" else 1
    assert f"gradcheck: {count} of {parameters} gradients FAIL" in result.stderr


# --- what a person sees on a terminal --------------------------------------------------------


def _seen(columns, tmp_path):
    (tmp_path / "bce.csv").write_text(BCE_CSV)
    (tmp_path / "bce.json").write_text(json.dumps(BCE_WEIGHTS))
    (tmp_path / "ce.csv").write_text(CE_CSV)
    (tmp_path / "ce.json").write_text(json.dumps(CE_WEIGHTS))
    commands = (["explain", "bce.csv", "--features", "x1,x2", "--target", "label", "--loss", "bce", "--init", "bce.json"],
                ["explain", "ce.csv", "--features", "x1,x2", "--target", "animal", "--loss", "cross-entropy", "--init",
                 "ce.json", "--activation", "tanh"])
    with ThreadPoolExecutor(2 * len(commands)) as pool:
        references = [pool.submit(piped, args, tmp_path) for args in commands]
        screens = [pool.submit(in_terminal, args, tmp_path, columns) for args in commands]
        references, screens = [run.result() for run in references], [run.result() for run in screens]
    for reference_run, (written, code) in zip(references, screens):
        assert reference_run.returncode == 0, reference_run.stderr
        assert code == 0, written.decode(errors="replace")
        screen = screen_of(written, columns)
        assert max(map(len, screen)) <= columns
        assert_seen(reference_run.stdout.decode(), screen)


def test_every_word_is_seen_on_a_terminal_80_columns_wide(tmp_path):
    _seen(80, tmp_path)


@pytest.mark.slow  # about 3 s each
@pytest.mark.parametrize("columns", [100, 120])
def test_every_word_is_seen_on_wider_terminals(columns, tmp_path):
    _seen(columns, tmp_path)


def test_the_html_pages_draw_every_equation_within_an_800_pixel_column(browser_page, run, bce, ce, workdir):
    for name, args in (("bce", bce), ("ce", ce)):
        (workdir / f"{name}.html").write_text(explained(run, args, "html"), encoding="utf-8")
        page = browser_page.open(workdir / f"{name}.html")
        page.set_viewport_size({"width": 1280, "height": 900})
        sizes = page.evaluate("""() => Array.from(document.querySelectorAll('math')).map(m => {
            const box = m.getBoundingClientRect();
            return [box.width, box.height, m.getAttribute('display') === 'block' ? m.scrollWidth : 0];
        })""")
        assert all(width > 0 and height > 0 for width, height, _ in sizes), "every MathML element is drawn"
        assert max(scroll for _, _, scroll in sizes) <= 800, "no equation is wider than the 800-pixel column"
    assert browser_page.requests == [] and browser_page.errors == []


NUMERIC_SIDE = re.compile(r"(?:[\d.+\-*/() ]|e[+-]\d|log|exp)+")


def _evaluated_sides(text: str, sections: tuple[str, str]) -> list[tuple[str, float, float, str | None]]:
    """Each side of an equation between the headings `sections` written in numbers alone, as
    (side, its value by Python's arithmetic on the printed numbers, the equation's printed value,
    the side after it)."""
    lines = text.splitlines()
    start, end = lines.index(sections[0]), lines.index(sections[1])
    found = []
    for line in lines[start:end]:
        if not line.startswith("  ") or " = " not in line or re.match(r"  dL/d[wb]\d", line):
            continue  # (a sum of the gradient's terms, as the regressor's, can lose digits to cancellation)
        sides = re.sub(r"\s{3}\(row \d+.*\)$", "", line.strip()).split(" = ")
        if not NUMBER.fullmatch(sides[-1]):  # the general rule, in symbols
            continue
        value = float(sides[-1])
        for side, after in zip(sides[1:-1], sides[2:]):
            if NUMERIC_SIDE.fullmatch(side) and re.search(r"\d", side):
                python = side.replace(") (", ")*(")
                found.append((side, eval(python, {"log": math.log, "exp": math.exp}), value, after))
    return found


@pytest.mark.parametrize("kind, steep", [("bce", False), ("bce", True), ("ce", False), ("ce", True)])
def test_every_side_in_numbers_of_the_loss_and_the_cancellation_is_their_value_to_the_printed_digits(
        run, request, workdir, kind, steep):
    """What a student recomputes from the printed numbers gives the printed value: also where yhat
    is within 1e-4 of 1, whose 6 digits (0.99998) would lose 1 - yhat, log(yhat) and yhat - y."""
    args = request.getfixturevalue(kind)
    if steep:  # N1 = tanh(30 x1) = +-1 to 6e-8; a = +-10.8 (bce) or a_j = 10.8 * j * N1 (three classes)
        weights = BCE_WEIGHTS if kind == "bce" else CE_WEIGHTS
        steep_weights = {name: 0.0 for name in weights} | {"w1": 30.0, "w5": 10.8}
        if kind == "ce":
            steep_weights |= {"w7": 21.6, "w9": -10.8}
        (workdir / f"{kind}.json").write_text(json.dumps(steep_weights))
    text = explained(run, args)
    sides = _evaluated_sides(text, ("2. Loss", "4. Backward pass: the hidden layer, by the chain rule"))
    assert len(sides) >= 4 * (3 if kind == "bce" else 4)
    def holds(side, recomputed, value):
        # each printed number is within 5e-6 of itself: a product of k of them within k times that,
        # and a difference or a log only as explain writes it, within RECOMPUTED
        tolerance = max(len(NUMBER.findall(side)) * PRINTED, RECOMPUTED)
        return abs(recomputed - value) <= tolerance * max(abs(recomputed), abs(value))

    for side, recomputed, value, after in sides:
        # yhat - y of a yhat within 1e-4 of 1 loses its digits (0.99998 - 1): its value follows it
        lost = re.fullmatch(r"\(\(\d\.\d+ - 1\)/4\)", side) and re.fullmatch(r"\(-\d\.\d+e-0\d/4\)", after)
        assert holds(side, recomputed, value) or lost, (side, value)
    if steep:
        assert re.search(r"log\(1 - \d", text) and re.search(r"\(-?\d\.\d+e-0[45]/4\)", text)


@pytest.mark.parametrize("command", ["explain", "gradcheck"])
def test_classes_that_do_not_suit_the_loss_are_one_error_line(run, ce, command, no_crash):
    result = run([command, "ce.csv", "--features", "x1,x2", "--target", "animal", "--loss", "bce"])
    no_crash(result)
    assert result.exit_code == 1
    assert result.stderr == ("Error: ce.csv, column animal: --loss bce needs exactly 2 classes, and it has 3 classes "
                             "(cat, dog, emu); for more than two classes use --loss cross-entropy\n")
    assert result.stdout == ""
