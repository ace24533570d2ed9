"""fwdback exercise --init MODEL: every variant starts from the file's weights, its seed drawing its rows alone.

The expected numbers are Matt Mazur's, from "A Step by Step Backpropagation Example" (2-2-2 sigmoid
network, loss (1/2) sum of squares, eta 0.5), as he prints them: his forward values and updated
weights to his 8-9 digits, so the tolerance is half a unit in his last printed digit."""

from __future__ import annotations

import json

MAZUR_WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55,
                 "b1": 0.35, "b2": 0.35, "b3": 0.60, "b4": 0.60}
MAZUR = ["--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid", "--output-activation", "sigmoid",
         "--loss", "half-sse", "--lr", "0.5", "--init", "mazur.json"]
# His numbers as printed, each with half a unit in its last digit: out_h1, out_o1, E_total, w5+, w1+.
PRINTED = {"N1[1]": "0.593269992", "yhat1[1]": "0.75136507", "L": "0.298371109", "w5'": "0.35891648", "w1'": "0.149780716",
           "w8'": "0.561370121"}


def test_an_exercise_on_mazur_s_own_weights_has_his_numbers(run, workdir):
    (workdir / "mazur.csv").write_text("x1,x2,y1,y2\n0.05,0.10,0.01,0.99\n")
    (workdir / "mazur.json").write_text(json.dumps(MAZUR_WEIGHTS))
    result = run(["exercise", "mazur.csv", *MAZUR, "--format", "json", "--output-dir", "maz"])
    assert result.exit_code == 0, result.stderr
    key = {entry["quantity"]: entry["value"] for entry in json.loads((workdir / "maz" / "key-0.json").read_text())}
    assert {name: key[name] for name in MAZUR_WEIGHTS} == MAZUR_WEIGHTS
    for name, printed in PRINTED.items():
        half_unit = 0.5 * 10.0 ** -len(printed.split(".")[1])
        assert abs(key[name] - float(printed)) <= half_unit, name
    result = run(["exercise", "mazur.csv", *MAZUR, "--format", "md", "--output-dir", "md"])
    assert result.exit_code == 0, result.stderr
    assert "--init mazur.json" in (workdir / "md" / "key-0.md").read_text()  # the key's command regenerates it


def test_with_init_the_variants_share_the_file_s_weights_and_differ_by_their_rows(run, workdir):
    weights = {"w1": 0.5, "w2": -0.25, "w3": 0.75, "w4": -0.5, "w5": 0.25, "w6": 0.5, "w7": 1.25, "w8": -0.75,
               "b1": 0.1, "b2": -0.1, "b3": 0.2}
    (workdir / "start.json").write_text(json.dumps(weights))
    rows = "".join(f"{0.1 * i:.1f},{-0.05 * i:.2f},{0.3 - 0.02 * i:.2f},{0.5 + 0.1 * i:.1f}\n" for i in range(1, 21))
    (workdir / "data.csv").write_text("x1,x2,x3,y\n" + rows)
    result = run(["exercise", "data.csv", "--init", "start.json", "--rows", "2", "--variants", "3", "--seed", "5",
                  "--format", "json", "--output-dir", "out"])
    assert result.exit_code == 0, result.stderr
    sheets = sorted((workdir / "out").glob("sheet-*.json"))
    assert len(sheets) == 3
    drawn = set()
    for path in sheets:
        seed = path.stem.split("-")[1]
        key = {entry["quantity"]: entry["value"] for entry in json.loads((workdir / "out" / f"key-{seed}.json").read_text())}
        assert {name: key[name] for name in weights} == weights
        drawn.add(tuple(json.loads(path.read_text())["rows"]))
        again = run(["exercise", "data.csv", "--init", "start.json", "--rows", "2", "--seed", seed, "--format", "json",
                     "--output-dir", f"again-{seed}"])
        assert again.exit_code == 0, again.stderr
        assert (workdir / f"again-{seed}" / f"key-{seed}.json").read_text() == (workdir / "out" / f"key-{seed}.json").read_text()
    assert len(drawn) == 3


def test_init_of_another_network_s_weights_is_one_error_line(run, workdir):
    (workdir / "mazur.json").write_text(json.dumps(MAZUR_WEIGHTS))
    (workdir / "data.csv").write_text("x1,x2,x3,y\n0.1,0.2,0.3,0.4\n0.5,0.6,0.7,0.8\n")
    result = run(["exercise", "data.csv", "--init", "mazur.json", "--output-dir", "out"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: mazur.json: 'b4' is not a weight") and len(result.stderr.splitlines()) == 1
    assert not (workdir / "out").exists()
