"""fwdback exercise and the worksheet behind it, checked against a hand computation in Python's decimal module.

The decimal computation below writes the lecture's 3-2-1 network out by name (N1 = w1*x1 + w2*x2
+ w3*x3 + b1, ..., dL/dw1 = sum_i w7 dL/dyhat_i x1_i, w1' = w1 - eta dL/dw1) with 40 digits, and
with `digits` rounds every quantity to that many significant digits, half up, before it is used
again: what a student writes. It shares nothing with fwdback but the inputs.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest

from fwdback.network import Architecture, Parameters
from fwdback.render.markdown import markdown
from fwdback.reports.exercise import key, sheet
from fwdback.worksheet import KINDS, Exercise, dull, evaluate, evaluate_by_hand, exercises, worksheet

D = Decimal
# Short numbers, as a sheet has them: x1..x3 and y of two rows, w1..w8, b1..b3.
X = [["0.35", "-0.12", "0.8"], ["0.5", "0.25", "-0.4"]]
Y = ["1.5", "-0.3"]
W = ["0.16", "-0.27", "-0.53", "-0.56", "0.36", "0.48", "0.06", "0.62", "0.12", "0.26", "0.45"]
ETA = "0.1"
# The float path's rounding next to the decimal one's: each quantity comes from at most a few dozen
# float operations on numbers below 10, each off by at most 2^-53 relative of partial sums below 100,
# so by less than 40 * 100 * 2^-53 < 5e-13 (and tanh by 2 ulp more).
FLOAT_SLACK = 1e-12


def _round(value: Decimal, digits: int | None) -> Decimal:
    if digits is None or value == 0:
        return value
    quantum = D(1).scaleb(value.adjusted() - digits + 1)
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _tanh(z: Decimal) -> Decimal:
    e = (2 * z).exp()
    return (e - 1) / (e + 1)


def hand(digits: int | None, activation: str = "identity") -> dict[str, Decimal]:
    """Every quantity of the epoch by name, the 3-2-1 network with mse over the two rows."""
    with localcontext() as context:
        context.prec = 40
        r = lambda value: _round(value, digits)
        w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3 = (D(v) for v in W)
        x, y, eta, n = [[D(v) for v in row] for row in X], [D(v) for v in Y], D(ETA), 2
        q: dict[str, Decimal] = {}
        for i, (x1, x2, x3) in enumerate(x, 1):
            for h, (a, b, c, bias) in enumerate(((w1, w2, w3, b1), (w4, w5, w6, b2)), 1):
                if activation == "tanh":
                    q[f"z{h}[{i}]"] = r(a * x1 + b * x2 + c * x3 + bias)
                    q[f"N{h}[{i}]"] = r(_tanh(q[f"z{h}[{i}]"]))
                else:
                    q[f"N{h}[{i}]"] = r(a * x1 + b * x2 + c * x3 + bias)
            q[f"yhat[{i}]"] = r(w7 * q[f"N1[{i}]"] + w8 * q[f"N2[{i}]"] + b3)
        q["L"] = r(sum((y[i - 1] - q[f"yhat[{i}]"]) ** 2 for i in (1, 2)) / n)
        for i in (1, 2):
            q[f"dL/dyhat[{i}]"] = r(-2 * (y[i - 1] - q[f"yhat[{i}]"]) / n)
        q["dL/dw7"] = r(sum(q[f"dL/dyhat[{i}]"] * q[f"N1[{i}]"] for i in (1, 2)))
        q["dL/dw8"] = r(sum(q[f"dL/dyhat[{i}]"] * q[f"N2[{i}]"] for i in (1, 2)))
        q["dL/db3"] = r(q["dL/dyhat[1]"] + q["dL/dyhat[2]"])
        into = "z" if activation == "tanh" else "N"
        for i in (1, 2):
            q[f"dL/dN1[{i}]"] = r(w7 * q[f"dL/dyhat[{i}]"])
            q[f"dL/dN2[{i}]"] = r(w8 * q[f"dL/dyhat[{i}]"])
            if activation == "tanh":
                for h in (1, 2):
                    q[f"dL/dz{h}[{i}]"] = r(q[f"dL/dN{h}[{i}]"] * (1 - q[f"N{h}[{i}]"] ** 2))
        for h, names in ((1, ("w1", "w2", "w3")), (2, ("w4", "w5", "w6"))):
            for l, name in enumerate(names):
                q[f"dL/d{name}"] = r(sum(q[f"dL/d{into}{h}[{i}]"] * x[i - 1][l] for i in (1, 2)))
            q[f"dL/db{h}"] = r(q[f"dL/d{into}{h}[1]"] + q[f"dL/d{into}{h}[2]"])
        for name, value in zip(("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3"), (w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3)):
            q[f"{name}'"] = r(value - eta * q[f"dL/d{name}"])
        return q


def _sheet(digits, activation="identity"):
    params = Parameters([float(v) for v in W], activation=activation)
    return worksheet(params, np.array(X, dtype=float), np.array(Y, dtype=float), float(ETA), "mse", digits)


@pytest.mark.parametrize("activation", ["identity", "tanh"])
def test_exact_values_match_the_decimal_hand_computation(activation):
    expected = hand(None, activation)
    worked = {q.name: q for q in _sheet(None, activation) if q.kind != "given"}
    assert set(worked) == set(expected)
    for name, value in expected.items():
        assert abs(worked[name].value - float(value)) <= FLOAT_SLACK, name


@pytest.mark.parametrize("activation, digits", [("identity", 3), ("identity", 4), ("tanh", 4)])
def test_rounded_key_is_worked_from_rounded_values_as_a_student_would(activation, digits):
    # at 3 digits N1[1] = 0.3445 is a tie, which a student rounds up to 0.345 (float arithmetic would not see it)
    expected = hand(digits, activation)
    worked = {q.name: q for q in _sheet(digits, activation) if q.kind != "given"}
    for name, value in expected.items():
        quantity = worked[name]
        assert quantity.rounded == float(value), name
        # the tolerance accepts both the exact and the rounded value
        assert abs(quantity.value - quantity.rounded) <= quantity.tolerance, name


def test_formulas_recompute_every_value_from_upstream_values():
    """Each formula, evaluated on the exact upstream values, gives network.py's value (a classifier too)."""
    rng = np.random.default_rng(3)
    cases = [(Architecture(activation="relu"), "mse", rng.random(4)),
             (Architecture(activation="sigmoid", output_activation="sigmoid"), "bce", np.array([0.0, 1.0, 1.0, 0.0])),
             (Architecture(n_outputs=3, activation="tanh", output_activation="softmax"), "cross-entropy", np.eye(3)[[0, 2, 1, 0]])]
    for architecture, convention, y in cases:
        params = Parameters.of(rng.uniform(-1, 1, architecture.size), architecture)
        quantities = worksheet(params, rng.normal(size=(4, 3)), y, 0.1, convention)
        values = {q.name: q.value for q in quantities}
        for q in quantities:
            if q.formula:
                # a few dozen roundings of numbers below 100 (see FLOAT_SLACK)
                assert abs(evaluate(q.formula, values) - q.value) <= FLOAT_SLACK * max(1.0, abs(q.value)), (convention, q.name)


def test_a_dead_relu_unit_is_dull():
    # z1 = -x1 - x2 - x3 - 1 < 0 on rows of positive inputs: unit 1 never passes a gradient
    params = Parameters([-1, -1, -1, 0.5, 0.5, 0.5, 0.3, 0.2, -1, 0.1, 0.0], activation="relu")
    quantities = worksheet(params, np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), np.array([1.0, 2.0]), 0.1)
    assert dull(quantities, params).detail == "hidden unit 1 is dead (z1 <= 0 on every row)"


def test_variants_skip_dull_seeds_deterministically():
    rng = np.random.default_rng(0)
    X_data, y_data = np.round(rng.random((6, 3)), 2), np.round(rng.random(6), 2)
    architecture = Architecture(activation="relu")
    drawn = exercises(X_data, y_data, architecture, "mse", 0.1, 6, 0, rows=2)
    seeds = [variant.seed for variant in drawn]
    assert seeds == sorted(seeds) and len(set(seeds)) == 6 and seeds[-1] > 5  # some seeds were passed over
    for variant in drawn:
        assert dull(variant.quantities, variant.params) is None
    for skipped in sorted(set(range(seeds[0], seeds[-1])) - set(seeds)):
        again = exercises(X_data, y_data, architecture, "mse", 0.1, 1, skipped, rows=2)[0]
        assert again.seed > skipped  # the skipped seed itself was dull
    assert [v.seed for v in exercises(X_data, y_data, architecture, "mse", 0.1, 1, seeds[3], rows=2)] == [seeds[3]]


def test_exercise_writes_sheets_and_keys_each_regenerated_by_its_seed(run, workdir):
    (workdir / "data.csv").write_text("x1,x2,x3,y\n" + "\n".join(",".join(X[i] + [Y[i]]) for i in range(2))
                                      + "\n0.1,0.9,-0.3,0.7\n")
    result = run(["exercise", "data.csv", "--variants", "3", "--seed", "4", "--rows", "2", "--round", "4",
                  "--format", "json", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    keys = sorted((workdir / "out").glob("key-*.json"))
    assert len(keys) == 3 and len(list((workdir / "out").glob("sheet-*.json"))) == 3
    seed = keys[1].stem.split("-")[1]
    key = json.loads(keys[1].read_text())
    assert {"quantity", "value", "rounded", "tolerance", "depends_on"} <= set(key[0])
    asked = [entry["quantity"] for entry in key if entry["asked"]]
    assert asked[0] == "N1[1]" and "dL/dw1" in asked and "w1'" in asked
    sheet = json.loads((workdir / "out" / f"sheet-{seed}.json").read_text())
    assert sheet["seed"] == int(seed) and "command" not in sheet  # the command that writes the key is the key's alone
    again = run(["exercise", "data.csv", "--seed", seed, "--rows", "2", "--round", "4", "--format", "json",
                 "--output-dir", "again"])
    assert again.exit_code == 0, again.stderr
    assert (workdir / "again" / f"key-{seed}.json").read_text() == keys[1].read_text()
    for extension in ("md", "html"):
        shown = run(["exercise", "data.csv", "--seed", seed, "--format", extension, "--ask", "loss", "--output-dir", extension])
        assert shown.exit_code == 0, shown.stderr
        assert "dL/dw1" in (workdir / extension / f"key-{seed}.{extension}").read_text()
        assert "dL/dw1" not in (workdir / extension / f"sheet-{seed}.{extension}").read_text()


def test_exercise_asks_for_quantities_by_name_and_refuses_one_it_does_not_have(run, workdir):
    (workdir / "data.csv").write_text("x1,x2,x3,y\n0.1,0.2,0.3,1\n0.4,0.5,0.6,2\n")
    result = run(["exercise", "data.csv", "--ask", "loss,dL/dw1,w1'", "--format", "json", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    asked = [entry["quantity"] for entry in json.loads((workdir / "out" / "key-0.json").read_text()) if entry["asked"]]
    assert asked == ["L", "dL/dw1", "w1'"]
    result = run(["exercise", "data.csv", "--ask", "forward,hessians", "--output-dir", "refused"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --ask: 'hessians' is neither a kind of quantity ({', '.join(KINDS)}) nor a "
                                    "quantity of this network's epoch, such as dL/db2")
    assert not (workdir / "refused").exists()


def test_a_formula_worked_by_hand_keeps_its_numbers_in_their_places():
    """-(2/3)(y - yhat) with y - yhat = 0.5 is -1/3; 0.16*0.35 + 0.27*0.05 is 0.0695 exactly, not a float near it."""
    # 2/3 to 40 digits, then times 0.5: off from -1/3 by at most a unit in the 40th digit
    with localcontext() as context:
        context.prec = 50
        assert abs(evaluate_by_hand("-2/3*(y[1] - yhat[1])", {"y[1]": 1.0, "yhat[1]": 0.5}) + D(1) / D(3)) <= D("1e-40")
    assert evaluate_by_hand("w1*x1[1] + w2*x2[1]", {"w1": 0.16, "x1[1]": 0.35, "w2": 0.27, "x2[1]": 0.05}) == D("0.0695")


def test_data_that_only_gives_dull_exercises_is_one_error_line(run, workdir):
    # inputs of 0 and no biases: every hidden unit is 0, so dL/dw7 = sum dL/dyhat_i N1_i = 0 for every seed
    (workdir / "zero.csv").write_text("x1,x2,x3,y\n0,0,0,1\n0,0,0,2\n")
    result = run(["exercise", "zero.csv", "--no-bias", "--output-dir", "out"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: seeds 0 to 100 all give dull exercises (a zero gradient: 101; the last: dL/dw7 is 0); try other data or "
                             "--rows, another --activation, more --digits, a larger --lr or a --round of more digits\n")
    assert not (workdir / "out").exists()


def test_a_classifier_s_exercise_asks_for_its_probabilities_and_its_loss(run, workdir):
    (workdir / "labels.csv").write_text("x1,x2,y\n0.5,-0.25,0\n-0.75,0.5,1\n0.25,0.75,1\n")
    result = run(["exercise", "labels.csv", "--features", "x1,x2", "--loss", "bce", "--activation", "tanh", "--format", "json",
                  "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    key = {entry["quantity"]: entry for entry in json.loads(next((workdir / "out").glob("key-*.json")).read_text())}
    assert key["yhat[1]"]["formula"] == "sigmoid(a[1])" and key["dL/da[1]"]["formula"] == "(yhat[1] - y[1])/3"
    p = [key[f"yhat[{i}]"]["value"] for i in (1, 2, 3)]
    # the mean binary cross-entropy of the labels 0, 1, 1, by hand
    expected = -(np.log(1 - p[0]) + np.log(p[1]) + np.log(p[2])) / 3
    assert abs(key["L"]["value"] - expected) <= FLOAT_SLACK


def test_a_sheet_says_which_of_data_s_columns_x1_and_y_are(run, workdir):
    (workdir / "prices.csv").write_text("a,b,c,price\n0.1,0.2,0.3,1\n0.4,0.5,0.6,2\n")
    result = run(["exercise", "prices.csv", "--features", "a,b,c", "--target", "price", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    assert "The data's columns: x1 is `a`, x2 is `b`, x3 is `c`, y is `price`." in (workdir / "out" / "sheet-0.md").read_text()


PARAMETER_NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")


def test_an_update_the_key_s_precision_cannot_show_is_dull_where_the_sheet_asks_it():
    # w1' = 0.16 - 0.1*0.00379974 = 0.159620026: a step of 3.8e-4. Rounded to 3 significant digits (--round 3)
    # w1' is 0.160 and its tolerance |exact - rounded| + 5e-4 reaches w1 = 0.16: the student cannot show the step,
    # and the first such update in the key's order is named. At 4 digits (w1' = 0.1596, tolerance 2e-5 + 5e-5)
    # every step shows. Without --round an update's tolerance is its step's to 3 significant digits: 3.80e-4
    # gives half a unit of 1e-6, 5e-7, so w1' = 0.159620 is asked for, never 0.160, and no step hides.
    eta = ETA
    params = Parameters([float(v) for v in W])
    X_, Y_ = np.array(X, dtype=float), np.array(Y, dtype=float)
    expected = hand(None)
    step = D(W[0]) - expected["w1'"]
    assert D("0.0003") < step < D("0.0004")
    exact = {q.name: q for q in worksheet(params, X_, Y_, float(eta), "mse")}
    assert exact["w1'"].tolerance == pytest.approx(5e-7, rel=1e-12)
    assert dull(list(exact.values()), params) is None
    at_3 = worksheet(params, X_, Y_, float(eta), "mse", 3)
    first = next(q.name for q in at_3 if q.kind == "updates"
                 and abs(q.value - float(W[PARAMETER_NAMES.index(q.name[:-1])])) <= q.tolerance)
    dullness = dull(at_3, params)
    assert dullness.why == "a step under the sheet's precision" and dullness.detail.startswith(f"{first} = ")
    assert first == "w1'"
    # not asked, it does not count
    assert dull(at_3, params, ("forward", "loss", "output-gradients", "hidden-gradients")) is None
    assert dull(worksheet(params, X_, Y_, float(eta), "mse", 4), params) is None


def test_a_zero_gradient_the_sheet_does_not_ask_is_not_dull_and_a_layer_of_zero_weights_is():
    # w1 = w2 = w3 = b1 = 0: N1 = 0 on both rows, so dL/dw7 = sum_i dL/dyhat_i * N1_i = 0
    values = [0.0, 0.0, 0.0, *map(float, W[3:8]), 0.0, *map(float, W[9:])]
    params = Parameters(values)
    quantities = worksheet(params, np.array(X, dtype=float), np.array(Y, dtype=float), float(ETA))
    assert dull(quantities, params).detail == "dL/dw7 is 0"
    assert dull(quantities, params, ("forward", "loss")) is None
    zero_out = Parameters([*map(float, W[:6]), 0.0, 0.0, *map(float, W[8:])])
    quantities = worksheet(zero_out, np.array(X, dtype=float), np.array(Y, dtype=float), float(ETA))
    assert dull(quantities, zero_out, ("forward",)).detail == "w7, w8 are all 0"


def _markdown_of(document, decimals, digits, values=None):
    params = Parameters([float(v) for v in (values or W)])
    quantities = worksheet(params, np.array(X, dtype=float), np.array(Y, dtype=float), float(ETA), "mse", digits)
    exercise = Exercise(7, np.array([1, 2]), params, float(ETA), "mse", digits, quantities, KINDS, decimals)
    blocks = sheet(exercise, ("x1", "x2", "x3"), ("y",), (), "none") if document == "sheet" else key(
        exercise, "fwdback exercise data.csv --seed 7 --output-dir out", ("x1", "x2", "x3"), ("y",), (), "none")
    return markdown(blocks)


def test_givens_are_written_with_the_variant_s_decimal_places_and_never_as_minus_zero():
    text = _markdown_of("sheet", 2, None)
    # 0.35 -> "0.35", 0.5 -> "0.50", -0.3 -> "-0.30", 0.8 -> "0.80"
    assert "| 1 | 0.35 | -0.12 | 0.80 | 1.50 |" in text and "| 2 | 0.50 | 0.25 | -0.40 | -0.30 |" in text
    assert "| w7 = 0.06 |" in text and "| b3 = 0.45 |" in text
    # rounded to no decimals, a -0.0 weight is written 0 and 1.0 is 1
    text = _markdown_of("sheet", 0, None, ["1", "-0.0", "0", "0", "1", "0", "1", "1", "0", "0", "0"])
    assert "| w1 = 1 |" in text and "| w2 = 0 |" in text and "-0" not in text.split("## Starting weights")[1]
    assert "at least 3 significant digits" in text  # without --round, the precision the key expects


def test_the_key_writes_rounded_values_with_their_significant_digits_trailing_zeros_kept():
    for digits in (3, 4):
        expected = hand(digits)
        rows = {line.split(" | ")[0].lstrip("| ").replace("\\", ""): line.split(" | ")
                for line in _markdown_of("key", 2, digits).splitlines() if line.startswith("| ")}
        for name, value in expected.items():
            assert rows[name][4] == format(value, "f"), (digits, name)


def test_rows_beyond_the_data_s_are_refused_and_a_long_file_gives_four_rows_by_default(run, workdir):
    (workdir / "two.csv").write_text("x1,x2,x3,y\n0.1,0.2,0.3,1\n0.4,0.5,0.6,2\n")
    result = run(["exercise", "two.csv", "--rows", "3", "--output-dir", "out"])
    assert result.exit_code == 2 and not (workdir / "out").exists()
    assert result.stderr.startswith("Error: --rows 3 is more than the data's 2 rows; give at most 2")
    rows = [f"{i / 10},{i / 20},{-i / 10},{i}" for i in range(1, 8)]
    (workdir / "seven.csv").write_text("x1,x2,x3,y\n" + "\n".join(rows) + "\n")
    result = run(["exercise", "seven.csv", "--variants", "2", "--format", "json", "--output-dir", "seven"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Each sheet works on 4 of DATA's 7 rows, drawn by its seed") == 1
    for path in (workdir / "seven").glob("sheet-*.json"):
        assert len(json.loads(path.read_text())["rows"]) == 4
    result = run(["exercise", "two.csv", "--format", "json", "--output-dir", "small"])
    assert result.exit_code == 0 and "rows" not in result.stderr.split("Wrote")[0]
    assert json.loads(next((workdir / "small").glob("sheet-*.json")).read_text())["rows"] == [1, 2]


def test_the_sheet_names_its_seed_and_only_the_key_the_command_with_data_as_typed(run, workdir):
    (workdir / "data.csv").write_text("x1,x2,x3,y\n0.1,0.2,0.3,1\n0.4,0.5,0.6,2\n")
    for extension in ("md", "html"):
        result = run(["exercise", "data.csv", "--seed", "3", "--format", extension, "--output-dir", extension])
        assert result.exit_code == 0, result.stderr
        seed = result.stderr.split("seed ")[1].split(",")[0].rstrip(".\n")
        sheet_text = (workdir / extension / f"sheet-{seed}.{extension}").read_text()
        key_text = (workdir / extension / f"key-{seed}.{extension}").read_text()
        assert "fwdback exercise" not in sheet_text and "data.csv" not in sheet_text and f"seed: " in sheet_text
        assert f"fwdback exercise data.csv --format {extension} --seed {seed} --output-dir {extension}" in key_text
        assert str(workdir) not in key_text


def test_a_classifier_s_sheet_names_its_classes_and_draws_rows_of_more_than_one(run, workdir):
    # rows 1-3 are cats, row 4 the one dog: a draw of 2 rows without row 4 is of one class, and dull
    (workdir / "pets.csv").write_text("a,b,kind\n0.5,-0.25,cat\n-0.75,0.5,cat\n0.25,0.75,cat\n0.1,0.2,dog\n")
    result = run(["exercise", "pets.csv", "--features", "a,b", "--target", "kind", "--loss", "bce", "--rows", "2",
                  "--variants", "4", "--format", "md", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    assert "(dull: one class)" in result.stderr
    for path in (workdir / "out").glob("*-*.md"):
        text = path.read_text()
        assert "y = 1 means `kind` = `dog`, y = 0 means `kind` = `cat`." in text and "The data's columns: x1 is `a`" in text
        data = text.split("## Data")[1].split("##")[0]
        targets = [line.split(" | ")[-1].rstrip(" |") for line in data.splitlines()[3:] if line.startswith("| ")]
        assert sorted(targets) == ["0", "1"]  # both classes, written as integers
    (workdir / "three.csv").write_text("a,b,kind\n0.5,-0.25,cat\n-0.75,0.5,dog\n0.25,0.75,fish\n")
    result = run(["exercise", "three.csv", "--features", "a,b", "--target", "kind", "--loss", "cross-entropy",
                  "--format", "md", "--output-dir", "three"])
    assert result.exit_code == 0, result.stderr
    assert ("y1 is [`kind` = `cat`], y2 is [`kind` = `dog`], y3 is [`kind` = `fish`] (1 where true, 0 where not)."
            in next((workdir / "three").glob("sheet-*.md")).read_text().replace("\\", ""))


def test_the_message_names_every_seed_passed_over_from_seed_on_grouped_by_why(run, workdir):
    # relu on inputs of one sign: a draw whose unit's weights and bias are all negative is dead
    (workdir / "pos.csv").write_text("x1,x2,x3,y\n0.1,0.2,0.3,1\n0.4,0.5,0.6,2\n")
    result = run(["exercise", "pos.csv", "--activation", "relu", "--ask", "forward,loss", "--variants", "3",
                  "--format", "json", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    message = result.stderr.strip()
    chosen = sorted(int(path.stem.split("-")[1]) for path in (workdir / "out").glob("key-*.json"))
    assert message.startswith(f"Wrote 3 sheets and keys to out: seeds {chosen[0]} to {chosen[-1]}, passing over ")
    groups = message.split("passing over ")[1].rstrip(".").split("; ")
    named = []
    for group in groups:
        listed, why = group.split(" (dull: ")
        assert why.rstrip(")") == "a dead relu unit"
        for part in listed.split(", "):
            first, _, last = part.partition(" to ")
            named += range(int(first), int(last or first) + 1)
    # every seed from --seed 0 to the last variant's is either a variant or passed over, and named once
    assert sorted(named + chosen) == list(range(chosen[-1] + 1))
    for seed in named:  # each passed over one is passed over again when the run starts there
        again = run(["exercise", "pos.csv", "--activation", "relu", "--ask", "forward,loss", "--seed", seed, "--format", "json",
                     "--output-dir", f"again-{seed}"])
        assert f"seed {seed}" not in again.stderr.split("passing over")[0]
