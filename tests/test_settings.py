"""Each setting of a run, declared once (fwdback/settings.py), through both doors alike.

Table-driven over settings.SETTINGS: for every setting, a value other than its default trains
the same weights by `fwdback train` and by FwdbackRegressor.fit, and by `fwdback train --loss
bce|cross-entropy` and FwdbackClassifier.fit for every setting a classifier has (all but
output_activation, its loss's link), or is refused by both with the same library error; an invalid value is refused by both; a model file gives every setting
back (FwdbackRegressor.from_model), and --resume refuses each of them given again otherwise
(run.resumed_settings's ResumeConflict, worded by the CLI); and every setting has its help, its option, its parameter
and its row in docs/reference/settings.md. A new setting fails these tests until it has a row in CHANGED and
INVALID below.

The expected weights of one door are the other door's: the two run the same float64
operations on the same numbers (the CSV holds each float's repr, which reads back exactly), so
they agree to the last bit; the bound 1e-12, relative to the largest weight, leaves room only
for a BLAS that sums 20 rows in another order (each sum within 20 eps, 4.4e-15, of the other
over the few epochs run here), and none for a setting that one door drops.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from fwdback import FwdbackClassifier, FwdbackRegressor
from fwdback import cli as cli_module
from fwdback.errors import SettingNotUsed
from fwdback.plan import TrainingPlan
from fwdback.run import check_used
from fwdback.estimator import CLASSIFIER_SETTINGS
from fwdback.settings import BY_NAME, PLAN_SETTINGS, SETTINGS, Flag, option_words
from cases import slow_after

ROOT = Path(__file__).resolve().parent.parent
ROWS = 20
# What every run of both doors shares, unless a case sets it: few epochs, every one of them, a
# given step (so that neither door chooses one), no standardising of its own.
BASE = {"epochs": 4, "tol": 0.0, "lr": 0.01}

# For every setting, a value other than its default, with the settings that make the run use it.
CHANGED = {
    "hidden": {"hidden": 3},
    "activation": {"activation": "tanh"},
    "output_activation": {"output_activation": "tanh"},
    "bias": {"bias": False},
    "epochs": {"epochs": 7},
    "lr": {"lr": 0.02},
    "batch_size": {"batch_size": 6},
    "val_split": {"val_split": 0.25},
    "patience": {"patience": 1, "epochs": 30, "lr": 0.3},
    "min_delta": {"min_delta": 0.5, "patience": 2, "epochs": 30},
    "tol": {"tol": 0.5, "epochs": 50},
    "standardize": {"standardize": True},
    "seed": {"seed": 5},
    "loss": {"loss": "half-sse"},
    "shuffle": {"shuffle": False, "batch_size": 6},
    "freeze": {"freeze": ("b1", "w3")},
    "optimizer": {"optimizer": "adam"},
    "momentum": {"momentum": 0.5, "optimizer": "nesterov"},
    "beta1": {"beta1": 0.5, "optimizer": "adam"},
    "beta2": {"beta2": 0.9, "optimizer": "adam"},
    "epsilon": {"epsilon": 1e-3, "optimizer": "adam"},
}
# For every setting, a value it cannot take: (the command line's arguments, the estimator's value).
INVALID = {
    "hidden": (["--hidden", "0"], 0),
    "activation": (["--activation", "softmax"], "softmax"),
    "output_activation": (["--output-activation", "relu"], "relu"),
    "bias": (["--bias=yes"], "yes"),
    "epochs": (["--epochs", "0"], 0),
    "lr": (["--lr", "-1"], -1.0),
    "batch_size": (["--batch-size", "0"], 0),
    "val_split": (["--val-split", "1"], 1.0),
    "patience": (["--patience", "0"], 0),
    "min_delta": (["--min-delta", "nan"], float("nan")),
    "tol": (["--tol", "-1"], -1.0),
    "standardize": (["--standardize=yes"], "yes"),
    "seed": (["--seed", "-1"], -1),
    "loss": (["--loss", "l1"], "l1"),
    "shuffle": (["--shuffle=no"], "no"),
    "freeze": (["--freeze", "b1,,b2"], "b1"),
    "optimizer": (["--optimizer", "sgd"], "sgd"),
    "momentum": (["--momentum", "1"], 1.0),
    "beta1": (["--beta1", "1.5"], 1.5),
    "beta2": (["--beta2", "-0.1"], -0.1),
    "epsilon": (["--epsilon", "0"], 0.0),
}
# Further invalid values, as (the setting, the command line's arguments, the estimator's value).
ALSO_INVALID = [
    ("freeze", ["--freeze", "w1,w1"], ("w1", "w1")),  # each name once
]


# The kinds of run through both doors: the regressor's, and a classifier's of each loss, on
# labels made of the same rows' y (bce: whether y is above its median; cross-entropy: y's
# thirds), with the loss given to both doors.
KINDS = {"regressor": (FwdbackRegressor, {}), "bce": (FwdbackClassifier, {"loss": "bce"}),
         "cross-entropy": (FwdbackClassifier, {"loss": "cross-entropy"})}


def _labels(y: np.ndarray, kind: str) -> list[str]:
    """A classifier's labels of the regressor's targets y, shape (n,): two classes or three."""
    edges = np.quantile(y, [0.5] if kind == "bce" else [1 / 3, 2 / 3])
    return [("low", "middle", "high")[int(np.searchsorted(edges, value))] if kind == "cross-entropy"
            else ("low", "high")[int(value > edges[0])] for value in y]


def _write_data(workdir, kind: str = "regressor"):
    """(X, y) of the sample data's first ROWS rows (y a classifier's labels for its `kind`), and
    d.csv holding them as they are in the file."""
    lines = (ROOT / "sample_data" / "linear.csv").read_text().splitlines()[: ROWS + 1]
    rows = np.array([[float(cell) for cell in line.split(",")] for line in lines[1:]])
    X, y = rows[:, :3], rows[:, 3]
    if kind != "regressor":
        y = _labels(y, kind)
        lines = [lines[0]] + [line.rsplit(",", 1)[0] + "," + label for line, label in zip(lines[1:], y)]
    (workdir / "d.csv").write_text("\n".join(lines) + "\n")
    return X, y


@pytest.fixture
def data(workdir):
    """(X, y) of the sample data's first ROWS rows, and d.csv holding them as they are in the file."""
    return _write_data(workdir)


def _applies(kind: str, name: str) -> bool:
    """Whether the setting `name` is one of the kind's estimator's parameters that its case can
    change (a classifier's loss is its kind's)."""
    estimator, fixed = KINDS[kind]
    return name not in fixed and name in {setting.name for setting in estimator._settings}


def _arguments(settings: dict) -> list[str]:
    """The settings as `fwdback train`'s options."""
    arguments = []
    for name, value in settings.items():
        flag = BY_NAME[name].flag
        if isinstance(BY_NAME[name].constraint, Flag):
            arguments.append(flag if value else f"--no-{flag[2:]}")
        else:
            arguments += [flag, ",".join(value) if isinstance(value, tuple) else value if isinstance(value, str) else repr(value)]
    return arguments


def _parameters(settings: dict) -> dict:
    """The settings as FwdbackRegressor's parameters."""
    return {BY_NAME[name].estimator_name: value for name, value in settings.items()}


def test_every_setting_has_a_case_of_each_kind():
    # warm_start, the estimator's alone (the command line's --resume MODEL), is tests/test_api.py's.
    assert set(CHANGED) == {name for name, setting in BY_NAME.items() if setting.commands} == set(INVALID)
    for name, settings in CHANGED.items():
        assert settings[name] != BY_NAME[name].default, name
        check_used({setting.name: setting.default for setting in PLAN_SETTINGS} | settings)  # the run uses it


@pytest.mark.parametrize("kind, name", [(kind, name) for kind in KINDS for name in CHANGED if _applies(kind, name)])
def test_a_changed_setting_trains_the_same_weights_through_both_doors_and_the_model_file_gives_it_back(run, workdir,
                                                                                                       kind, name):
    data = _write_data(workdir, kind)
    estimator, fixed = KINDS[kind]
    settings = BASE | fixed | CHANGED[name]
    result = run(["train", "d.csv", *_arguments(settings), "--model", "m.json", "-q"])
    assert result.exit_code == 0, result.stderr
    from_cli = json.loads(Path("m.json").read_text())["weights"]
    fitted = estimator(**_parameters(settings)).fit(*data)
    assert list(fitted.weights_) == list(from_cli)
    expected = np.array(list(from_cli.values()))
    bound = 1e-12 * np.max(np.abs(expected))
    np.testing.assert_allclose(np.array(list(fitted.weights_.values())), expected, rtol=0, atol=bound)

    unchanged = estimator(**_parameters(settings | {name: BY_NAME[name].default})).fit(*data)
    assert unchanged.weights_ != fitted.weights_  # the case changes the run: a door that dropped it would differ

    restored = estimator.from_model("m.json").get_params()
    standardized = fitted.scaling_ is not None  # standardize=None is decided by the data; the file keeps what was decided
    defaults = {setting.estimator_name: setting.default for setting in estimator._settings}
    expected_params = defaults | _parameters(settings) | {"standardize": standardized}
    assert restored == expected_params


@pytest.mark.parametrize("name", [setting.name for setting in SETTINGS if setting.used_with is not None])
def test_a_setting_the_run_would_not_use_is_the_same_refusal_through_both_doors(run, data, name):
    settings = BASE | {name: CHANGED[name][name]}  # without what makes the run use it
    with pytest.raises(SettingNotUsed) as refused:
        FwdbackRegressor(**_parameters(settings)).fit(*data)
    error = refused.value
    assert (error.setting, error.value) == (name, settings[name])
    for command in ("train", "explain", "gradcheck"):
        given = {key: value for key, value in settings.items() if command in BY_NAME[key].commands}
        result = run([command, "d.csv", *_arguments(given)] + (["--no-save"] if command == "train" else []))
        assert result.exit_code == 2, (command, result.stderr)
        assert f"Error: {error.message(option_words)}; see 'fwdback {command} --help'" in result.stderr, \
            (command, result.stderr)


@pytest.mark.parametrize("name", [setting.name for setting in SETTINGS if setting.used_with is not None])
def test_the_default_of_a_setting_the_run_would_not_use_may_be_given(run, data, name):
    default = BY_NAME[name].default
    result = run(["train", "d.csv", *_arguments(BASE | {name: default}), "--no-save", "-q"])
    assert result.exit_code == 0, result.stderr
    FwdbackRegressor(**_parameters(BASE | {name: default})).fit(*data)


@pytest.mark.parametrize("name, arguments, value", [(name, *INVALID[name]) for name in INVALID] + ALSO_INVALID)
def test_an_invalid_value_is_refused_through_both_doors(run, data, name, arguments, value):
    result = run(["train", "d.csv", *arguments, "--no-save"])
    assert result.exit_code == 2, result.stderr
    assert BY_NAME[name].flag in result.stderr, result.stderr
    parameter = BY_NAME[name].estimator_name
    with pytest.raises(ValueError, match=f"{parameter}="):
        FwdbackRegressor(**{parameter: value}).fit(*data)
    if _applies("cross-entropy", name):  # a classifier's parameter too
        with pytest.raises(ValueError, match=f"{parameter}="):
            FwdbackClassifier(**{parameter: value}).fit(data[0], _labels(data[1], "cross-entropy"))


def test_every_setting_has_its_help_option_parameter_and_row_in_the_settings_reference():
    page = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    table = page.split("<!-- settings -->", 1)[1].split("<!-- /settings -->", 1)[0]
    signature = inspect.signature(FwdbackRegressor).parameters
    for setting in SETTINGS:
        assert setting.help.strip(), setting.name
        for command in setting.commands:
            options = {option for param in cli_module.cli.commands[command].params for option in param.opts}
            assert setting.flag in options, (setting.name, command)
        assert signature[setting.estimator_name].default == setting.default, setting.name
        assert (f"\n| `{setting.flag}`" if setting.commands else f"\n|  | `{setting.estimator_name}` |") in table, setting.name
    assert set(signature) == {setting.estimator_name for setting in SETTINGS}
    classifier = inspect.signature(FwdbackClassifier).parameters
    assert set(classifier) == set(signature) - {"output_activation"}
    assert all(classifier[setting.estimator_name].default == setting.default for setting in CLASSIFIER_SETTINGS)
    assert classifier["loss"].default == "cross-entropy"
    assert tuple(TrainingPlan.__dataclass_fields__) == tuple(setting.name for setting in PLAN_SETTINGS)


@pytest.mark.parametrize("name", slow_after(4, [setting.name for setting in SETTINGS if setting.resumed]))
def test_resume_refuses_a_setting_given_again_that_is_not_the_model_s(run, data, name):
    from fwdback.errors import ResumeConflict
    from fwdback.modelfile import load_model
    from fwdback.run import resumed_settings, stored_settings

    assert run(["train", "d.csv", *_arguments(BASE), "--model", "m.json", "-q"]).exit_code == 0
    value = CHANGED[name][name]
    with pytest.raises(ResumeConflict) as refused:
        resumed_settings(load_model("m.json"), {name: value})
    conflict = refused.value
    assert (conflict.setting, conflict.value) == (name, value)
    result = run(["train", "d.csv", "--resume", "m.json", *_arguments({name: value}), "--no-save"])
    assert result.exit_code == 2, result.stderr
    assert (f"Error: --resume goes on with the model's {conflict.words}, {conflict.stored}; leave out "
            f"{option_words(name, value)}, or start afresh") in result.stderr
    same = stored_settings(load_model("m.json"))[name]  # what the model says, given again, is no conflict
    if same not in (None, ()):  # (no option says "none")
        assert run(["train", "d.csv", "--resume", "m.json", *_arguments({name: same}), "--no-save", "-q"]).exit_code == 0
