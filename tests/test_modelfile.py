"""The model file: exact round trips, and refusal of anything that is not a model.

How a model file reaches the disk (whole, only on success, never over an input) is outputs.py's, tested in test_outputs.py.
"""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hostile import (  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
    SINGLE_THREADED,
    SMALL_MEMORY_KIB,
    assets,
    command_line,
    fingerprint,
    invoke,
    refused,
    row,
    shell,
    unix_socket,
    ws,
)
from fwdback.errors import ModelFileError
from fwdback.modelfile import Model, TrainingRecord, load_init, load_model, model_json
from fwdback.network import Parameters, parameter_names
from fwdback.plan import StopReason

NAMES = parameter_names()
WEIGHTS = dict(zip(NAMES, [0.5, -0.25, 0.125, 1.0, -1.0, 0.0, 2.0, -0.5, 0.1, 0.2, 0.3]))
finite = st.floats(allow_nan=False, allow_infinity=False)


def bits(values) -> list[int]:
    """The float64 bit patterns, so -0.0 differs from 0.0 and every last bit counts."""
    return [struct.unpack("<q", struct.pack("<d", v))[0] for v in values]


def model(values=None, features=("x1", "x2", "x3"), target="y", training=None) -> Model:
    vector = list(WEIGHTS.values()) if values is None else values
    return Model(Parameters(vector), tuple(features), target, training or TrainingRecord())


def save_model(model: Model, path) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(model_json(model))


def document(**changes) -> dict:
    base = {"format": "fwdback-model", "version": 1, "features": ["x1", "x2", "x3"], "target": "y", "weights": dict(WEIGHTS), "training": {}}
    return base | changes


# --- round trips ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """One directory for the round-trip examples; each overwrites the same file."""
    return tmp_path_factory.mktemp("round")


@settings(max_examples=200, deadline=None)
@given(values=st.lists(finite, min_size=11, max_size=11))
def test_every_float_survives_save_and_load(scratch, values):
    path = str(scratch / "model.json")
    save_model(model(values), path)
    loaded = load_model(path)
    assert bits(loaded.params.vector.tolist()) == bits(values)
    assert list(loaded.params.as_dict()) == list(NAMES)


@settings(max_examples=100, deadline=None)
@given(
    features=st.lists(st.text(min_size=1), min_size=3, max_size=3, unique=True),
    target=st.text(min_size=1),
    initial=st.lists(finite, min_size=11, max_size=11),
    final_loss=finite,
    lr=st.floats(min_value=1e-12, max_value=10),
)
def test_columns_and_training_survive_save_and_load(scratch, features, target, initial, final_loss, lr):
    assume(target not in features)  # a model's columns are distinct (its target is no feature)
    path = str(scratch / "model.json")
    training = TrainingRecord(plan={"seed": 3, "lr": lr}, epochs=7, stop=StopReason.CONVERGED,
                              initial_weights=dict(zip(NAMES, initial)), final_loss=final_loss)
    save_model(model(features=features, target=target, training=training), path)
    loaded = load_model(path)
    assert loaded.features == tuple(features) and loaded.target == target
    assert loaded.training.plan == {"seed": 3, "lr": lr} and bits([loaded.training.final_loss]) == bits([final_loss])
    assert bits(loaded.training.initial_weights.values()) == bits(initial)
    assert loaded.training.stop is StopReason.CONVERGED and loaded.training.epochs == 7


def test_saved_file_is_json_with_the_names(tmp_path):
    path = tmp_path / "model.json"
    training = TrainingRecord(plan={"seed": 0, "lr": 0.1}, epochs=1, stop=StopReason.EPOCHS, initial_weights=WEIGHTS, final_loss=1.5)
    save_model(model(training=training), str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "fwdback-model" and data["version"] == 2
    assert data["weights"] == WEIGHTS
    assert data["features"] == ["x1", "x2", "x3"] and data["target"] == "y"
    assert data["training"]["final_loss"] == 1.5 and data["training"]["plan"] == {"seed": 0, "lr": 0.1}
    assert data["training"]["stop"] == "epochs"


def test_load_init_reads_top_level_nested_and_model_files(tmp_path):
    (tmp_path / "top.json").write_text(json.dumps(WEIGHTS))
    (tmp_path / "nested.json").write_text(json.dumps({"weights": WEIGHTS, "comment": "mine"}))
    save_model(model(), str(tmp_path / "model.json"))
    ints = {name: i for i, name in enumerate(NAMES)}
    (tmp_path / "ints.json").write_text(json.dumps(ints))
    for name in ("top.json", "nested.json", "model.json"):
        assert load_init(str(tmp_path / name)).params.as_dict() == WEIGHTS
    loaded = load_init(str(tmp_path / "ints.json")).params.as_dict()
    assert loaded == {name: float(i) for i, name in enumerate(NAMES)}
    assert all(type(v) is float for v in loaded.values())


@pytest.mark.parametrize(
    "content,fragment",
    [
        ({k: v for k, v in WEIGHTS.items() if k != "b3"}, "b3"),
        (WEIGHTS | {"w9": 0.0}, "w9"),
        ({"weights": WEIGHTS | {"bias": 0.0}}, "bias"),
        (WEIGHTS | {"w2": "0.5"}, "w2"),
        (WEIGHTS | {"w5": None}, "w5"),
        (WEIGHTS | {"b1": False}, "b1"),
        (WEIGHTS | {"w7": {"value": 1}}, "w7"),
        ([list(WEIGHTS.values())], ""),
        ("w1=0.5", ""),
    ],
)
def test_load_init_names_the_bad_weight(tmp_path, content, fragment):
    path = tmp_path / "init.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ModelFileError) as info:
        load_init(str(path))
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_non_finite_weight_is_refused():
    with pytest.raises(ValueError):
        model_json(model([float("nan")] + [0.0] * 10))


# --- load_model refuses what is not a model ------------------------------------------------

SCALING = {"mean": {"x1": 0.0, "x2": 1.0, "x3": -1.0, "y": 2.0}, "std": {"x1": 1.0, "x2": 2.0, "x3": 0.5, "y": 3.0}}
BAD_MODELS = [
    ("not JSON", "x1,x2,x3,y\n1,2,3,4\n", "JSON"),
    ("empty", "", "JSON"),
    ("a list", json.dumps([1, 2, 3]), "fwdback"),
    ("a number", "42", "fwdback"),
    ("bare weights", json.dumps(WEIGHTS), "fwdback"),
    ("other format", json.dumps(document(format="onnx")), "fwdback"),
    ("no format", json.dumps({k: v for k, v in document().items() if k != "format"}), "fwdback"),
    ("newer version", json.dumps(document(version=3)), "3"),
    ("version as text", json.dumps(document(version="1")), "version"),
    ("version zero", json.dumps(document(version=0)), "version"),
    ("version true", json.dumps(document(version=True)), "version"),
    ("two features", json.dumps(document(features=["x1", "x2"])), "features"),
    ("four features", json.dumps(document(features=["x1", "x2", "x3", "x4"])), "features"),
    ("features as text", json.dumps(document(features="x1,x2,x3")), "features"),
    ("empty feature name", json.dumps(document(features=["x1", "", "x3"])), "features"),
    ("target missing", json.dumps({k: v for k, v in document().items() if k != "target"}), "target"),
    ("weights missing", json.dumps({k: v for k, v in document().items() if k != "weights"}), "weights"),
    ("weights as a list", json.dumps(document(weights=list(WEIGHTS.values()))), "weights"),
    ("weights as matrices", json.dumps(document(weights={"W1": [[0, 0, 0], [0, 0, 0]], "w_out": [0, 0], "b": [0, 0, 0]})), "w1"),
    ("weight missing", json.dumps(document(weights={k: v for k, v in WEIGHTS.items() if k != "w6"})), "w6"),
    ("extra weight", json.dumps(document(weights=WEIGHTS | {"w9": 1.0})), "w9"),
    ("weight is a list", json.dumps(document(weights=WEIGHTS | {"w1": [0.5]})), "w1"),
    ("weight is text", json.dumps(document(weights=WEIGHTS | {"b3": "0.3"})), "b3"),
    ("weight is NaN", json.dumps(document(weights=WEIGHTS | {"w4": float("nan")})), ""),
    ("weight is Infinity", json.dumps(document(weights=WEIGHTS | {"w4": float("inf")})), ""),
    ("weight overflows", json.dumps(document()).replace("0.125", "1e400"), "w3"),
    ("integer weight beyond float64", json.dumps(document()).replace("0.125", "1" + "0" * 400), "w3"),
    ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "nested"),
    ("activation as a list", json.dumps(document(activation=["relu"])), "activation"),
    ("a billion hidden units", json.dumps(document(hidden=10**9)), "1,000,000,000 hidden units"),
    ("training not an object", json.dumps(document(training=[1])), "training"),
    ("training epochs as text", json.dumps(document(training={"epochs": "abc"})), "epochs"),
    ("training seed negative", json.dumps(document(training={"seed": -1})), "seed"),
    ("training lr zero", json.dumps(document(training={"lr": 0})), "lr"),
    ("plan epochs zero", json.dumps(document(version=2, training={"plan": {"epochs": 0}})), "\"plan\".\"epochs\" is 0"),
    ("training epochs beyond int64", json.dumps(document(training={"epochs": 10**3000})), "3001 digits"),
    ("a scaling std of 0", json.dumps(document(scaling=SCALING | {"std": SCALING["std"] | {"x2": 0}})), "std is not positive"),
    ("a scaling std of -0.0", json.dumps(document(scaling=SCALING | {"std": SCALING["std"] | {"y": -0.0}})), "std is not positive"),
    ("a subnormal scaling std", json.dumps(document(scaling=SCALING | {"std": SCALING["std"] | {"x1": 1e-320}})),
     "std is below 2.225e-308, too small to divide"),
    ("an integer of 5,000 digits", json.dumps(document(training={"epochs": 1})).replace(": 1}", ": 1" + "0" * 4999 + "}"), "5,000 digits, too long"),
]


@pytest.mark.parametrize("text,fragment", [c[1:] for c in BAD_MODELS], ids=[c[0] for c in BAD_MODELS])
def test_load_model_refuses(tmp_path, text, fragment):
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model(str(path))
    message = str(info.value)
    assert str(path) in message and fragment in message
    assert "\n" not in message.strip()


def test_an_init_of_a_newer_model_format_is_refused(tmp_path):
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(document(version=99)))
    with pytest.raises(ModelFileError, match="99"):
        load_init(str(path))


def test_load_model_refuses_binary_and_missing_files(tmp_path):
    (tmp_path / "blob.json").write_bytes(bytes(range(256)))
    for name in ("blob.json", "absent.json"):
        with pytest.raises(ModelFileError, match=name):
            load_model(str(tmp_path / name))
    with pytest.raises(ModelFileError):
        load_model(str(tmp_path))


def test_a_valid_hand_written_model_loads(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(document(features=["a", "b", "c"], target="price")))
    loaded = load_model(str(path))
    assert loaded.features == ("a", "b", "c") and loaded.target == "price"
    np.testing.assert_array_equal(loaded.params.vector, list(WEIGHTS.values()))


def test_a_number_too_long_for_python_is_named_as_too_long(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(document()).replace("0.125", "7" * 5000), encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        load_model(str(path))
    assert str(caught.value).startswith(f"{path}: holds a number of 5,000 digits, too long")
    assert "set_int_max_str_digits" not in str(caught.value)


@pytest.mark.parametrize("read, what", [(load_model, "a model"), (load_init, "an init")])
def test_an_empty_file_is_called_empty(tmp_path, read, what):
    path = tmp_path / "m.json"
    path.write_text(" \n", encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        read(str(path))
    assert str(caught.value) == f"{path}: is empty; give {what} JSON file"


@pytest.mark.parametrize("read, what", [(load_model, "model"), (load_init, "init")])
def test_a_csv_given_for_a_model_suggests_a_swap(tmp_path, read, what):
    path = tmp_path / "d.csv"
    path.write_text("x1,x2,x3,y\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(ModelFileError) as caught:
        read(str(path))
    assert "looks like CSV data" in str(caught.value) and f"did you swap the data and the {what} file?" in str(caught.value)
    (tmp_path / "broken.json").write_text('{"weights": ', encoding="utf-8")
    with pytest.raises(ModelFileError) as broken:
        read(str(tmp_path / "broken.json"))
    assert "CSV" not in str(broken.value)


@pytest.mark.parametrize("read, what", [(load_model, "model"), (load_init, "init")])
def test_a_closed_stdin_is_called_closed(monkeypatch, read, what):
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(ModelFileError) as caught:
        read("-")
    assert str(caught.value).startswith(f"<stdin>: is closed; give the {what} file's path")


def test_an_init_model_brings_its_scaling(tmp_path):
    from fwdback.scaling import Scaling

    scaled = model()
    scaled.scaling = Scaling(np.array([1.0, 2.0, 3.0]), np.array([0.5, 4.0, 1.0]), -2.0, 8.0)
    save_model(scaled, tmp_path / "z.json")
    start = load_init(str(tmp_path / "z.json"))
    assert start.params.as_dict() == WEIGHTS
    np.testing.assert_array_equal(start.scaling.x_std, [0.5, 4.0, 1.0])
    assert (start.scaling.y_mean, start.scaling.y_std) == (-2.0, 8.0)
    (tmp_path / "raw.json").write_text(json.dumps(WEIGHTS))
    assert load_init(str(tmp_path / "raw.json")).scaling is None


@pytest.mark.parametrize("use", [["predict", "--model", "m.json", "d.csv"], ["train", "d.csv", "--init", "m.json", "--no-save"]],
                         ids=["predict", "train --init"])
@pytest.mark.parametrize("std", [0, 1e-320])
def test_a_scaling_std_it_cannot_divide_by_is_refused_in_one_line(run, workdir, std, use):
    """A subnormal std made NaN predictions, and train --init printed LAPACK's own message."""
    (workdir / "m.json").write_text(json.dumps(document(scaling=SCALING | {"std": SCALING["std"] | {"x3": std}})))
    (workdir / "d.csv").write_text("x1,x2,x3,y\n1,2,3,4\n2,3,5,7\n3,5,8,1\n")
    result = run(use)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: m.json: a \"scaling\" std is ") and result.stderr.count("\n") == 1


# --- Model and init files (the command line's failure contract: hostile.py)


def _edited_model(assets, **changes) -> bytes:
    document = json.loads(assets.model)
    document.update(changes)
    return json.dumps(document, indent=2).encode()


def _huge_weight(assets) -> bytes:
    document = json.loads(assets.model)
    document["weights"]["w1"] = "@HUGE@"
    return json.dumps(document, indent=2).replace('"@HUGE@"', "1" + "0" * 400).encode()


BAD_MODEL_FILES = {
    "nested 100,000 deep": lambda assets: b"[" * 100_000 + b"]" * 100_000,
    "a weight of 10**400": _huge_weight,
    "activation is a list": lambda assets: _edited_model(assets, activation=["relu"]),
    "version 99": lambda assets: _edited_model(assets, version=99),
}

MODEL_USES = {
    "--init": lambda path: ["train", "d.csv", "--init", path, "--epochs", "5"],
    "--resume": lambda path: ["train", "d.csv", "--resume", path, "--epochs", "5"],
    "predict --model": lambda path: ["predict", "d.csv", "--model", path],
    "show": lambda path: ["show", path],
}


@pytest.mark.parametrize("use", list(MODEL_USES))
@pytest.mark.parametrize("kind", list(BAD_MODEL_FILES))
def test_a_bad_model_file_is_refused(invoke, ws, assets, use, kind):
    (ws / "bad.json").write_bytes(BAD_MODEL_FILES[kind](assets))
    before = fingerprint(ws)
    o = invoke(*MODEL_USES[use]("bad.json"))
    refused(o, 1, ["bad.json"], root=ws, before=before, train=use in ("--init", "--resume"))


def test_resume_refuses_an_epoch_count_that_is_not_a_number(invoke, ws, assets):
    document = json.loads(assets.model)
    document["training"]["epochs"] = "abc"
    (ws / "bad.json").write_text(json.dumps(document))
    before = fingerprint(ws)
    o = invoke(*MODEL_USES["--resume"]("bad.json"))
    refused(o, 1, ["bad.json"], root=ws, before=before, train=True)


@pytest.mark.parametrize("use", ["--resume", "predict --model", "show"])
def test_a_small_model_claiming_a_billion_hidden_units_is_refused_promptly(ws, assets, use):
    weights = json.loads(assets.model)["weights"]
    document = {"format": "fwdback-model", "version": 1, "features": ["x1", "x2", "x3"], "target": "y",
                "activation": "identity", "hidden": 1_000_000_000, "weights": weights}
    text = json.dumps(document)
    assert len(text) < 1024
    (ws / "wide.json").write_text(text)
    before = fingerprint(ws)
    o = shell(command_line(MODEL_USES[use]("wide.json")), ws, memory_kib=SMALL_MEMORY_KIB, env=SINGLE_THREADED)
    refused(o, 1, ["wide.json"], root=ws, before=before, train=use == "--resume")


def _symlink_loop(ws):
    os.symlink("loop_b", ws / "loop_a")
    os.symlink("loop_a", ws / "loop_b")
    return "loop_a", None


def _long_name(ws):
    return "n" * 5000 + ".csv", None


def _bound_socket(ws):
    return "s.sock", unix_socket("s.sock")


ODD_PATHS = {"a symlink loop": _symlink_loop, "a 5000-character name": _long_name, "a unix socket": _bound_socket}
PATH_USES = {
    "train DATA": lambda path: ["train", path, "--epochs", "5"],
    "predict DATA": lambda path: ["predict", path],
    **MODEL_USES,
}


@pytest.mark.parametrize("use", list(PATH_USES))
@pytest.mark.parametrize("kind", list(ODD_PATHS))
def test_a_path_that_cannot_be_read_is_refused(invoke, ws, use, kind):
    path, keep = ODD_PATHS[kind](ws)
    try:
        before = fingerprint(ws)
        o = invoke(*PATH_USES[use](path))
    finally:
        if keep is not None:
            keep.close()
    refused(o, 1, [path[:20]], root=ws, before=before, train=use.startswith("train") or use in ("--init", "--resume"))


# --- Numbers (the command line's failure contract: hostile.py)


def _yhat(weights, x) -> float:
    """The 3-2-1 linear network by hand, in Python floats (inf and nan as they fall)."""
    w = weights
    n1 = w["w1"] * x[0] + w["w2"] * x[1] + w["w3"] * x[2] + w["b1"]
    n2 = w["w4"] * x[0] + w["w5"] * x[1] + w["w6"] * x[2] + w["b2"]
    return w["w7"] * n1 + w["w8"] * n2 + w["b3"]


def test_predictions_that_overflow_are_refused_by_row(invoke, ws, assets):
    # One input of 1.7e308 and the others 0: the product with a hidden weight above 1.06 in size
    # overflows by itself, whatever order a BLAS kernel sums the terms in.
    weights = json.loads(assets.model)["weights"]
    candidates = (tuple(1.7e308 if j == k else 0.0 for j in range(3)) for k in range(3))
    x = next((c for c in candidates if not math.isfinite(_yhat(weights, c))), None)
    assert x is not None, "no single input of 1.7e308 overflows this model"
    (ws / "over.csv").write_text("x1,x2,x3,y\n0.5,0.25,-0.5,1\n" + ",".join(repr(v) for v in x) + ",0\n")
    before = fingerprint(ws)
    o = invoke("predict", "over.csv")
    refused(o, 1, ["over.csv", row(2)], root=ws, before=before)
