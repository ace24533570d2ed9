"""fwdback/run.py, the library's run: every check of a run refuses a case with a library error and
accepts its neighbour; both doors refuse freezing every parameter; the run's record says which
rows it trained on; explain, reading where training stands at epoch K, works the epoch on the
rows and weights an independent computation arrives at."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fwdback import run as library
from fwdback.errors import DaskConflict, EpochNotReached, FrozenParameters, InitOnRawValues, NoEpochsLeft, \
    ResumeConflict, RunConflict, SettingNotUsed, StreamingConflict
from fwdback.estimator import FwdbackRegressor
from fwdback.modelfile import MAX_EPOCHS, Model, TrainingRecord
from fwdback.network import Parameters, backward, forward, loss
from fwdback.plan import TrainingPlan
from fwdback.training import prepare

from conftest import NAMES, csv_text

LECTURE = library.NetworkSettings()


def _model(epochs: int = 0, **plan) -> Model:
    """A saved model of the lecture's network with hand-picked weights, trained `epochs` epochs by `plan`."""
    params = Parameters.from_dict({name: 0.1 * i for i, name in enumerate(NAMES, 1)})
    return Model(params, ("x1", "x2", "x3"), "y", TrainingRecord(plan=TrainingPlan(**plan).record(), epochs=epochs))


# --- the checks, each refusing a case and accepting its neighbour ---------------------------------

def test_freezing_names_the_network_lacks_or_every_parameter_is_refused_and_some_of_them_accepted():
    params = Parameters.from_dict(dict.fromkeys(NAMES, 0.5))
    with pytest.raises(FrozenParameters) as unknown:
        library.check_frozen(("w1", "w9"), params)
    assert unknown.value.unknown == "w9"
    with pytest.raises(FrozenParameters) as every:
        library.check_frozen(NAMES, params)
    assert every.value.unknown is None and "lists every parameter" in str(every.value)
    library.check_frozen(NAMES[:-1], params)


def test_freezing_every_parameter_is_refused_by_both_doors(run, small_csv, small_xy):
    every = ",".join(NAMES)
    result = run(["train", small_csv, "--freeze", every, "--no-save"])
    assert result.exit_code == 2
    assert result.stderr == ("Error: --freeze lists every parameter, so nothing would train; leave at least one out; "
                             "see 'fwdback train --help'\n")
    with pytest.raises(FrozenParameters, match="^freeze lists every parameter"):
        FwdbackRegressor(freeze=list(NAMES)).fit(*small_xy)
    assert FwdbackRegressor(freeze=list(NAMES[:-1]), epochs=3).fit(*small_xy).n_iter_ == 3


def test_a_setting_the_plan_would_not_use_is_refused_at_the_start_and_its_rule_accepts_it():
    with pytest.raises(SettingNotUsed):
        library.starting_point(TrainingPlan(momentum=0.5), LECTURE)
    start = library.starting_point(TrainingPlan(momentum=0.5, optimizer="momentum"), LECTURE)
    assert start.plan.momentum == 0.5 and start.resumed is None


def test_weights_trained_on_z_scores_are_refused_for_raw_values_and_bring_their_scaling_otherwise(run, small_csv):
    assert run(["train", small_csv, "--standardize", "--epochs", "3", "--model", "z.json", "-q"]).exit_code == 0
    with pytest.raises(InitOnRawValues) as refused:
        library.starting_point(TrainingPlan(standardize=False), LECTURE, init="z.json")
    assert refused.value.exit_code == 2 and isinstance(refused.value, ValueError)
    start = library.starting_point(TrainingPlan(), LECTURE, init="z.json")
    assert start.weights.scaling is not None and start.init == "z.json"


def test_a_resumed_run_that_could_count_past_a_model_files_epochs_is_refused_up_to_the_last_one():
    model = _model(epochs=MAX_EPOCHS - 5)
    with pytest.raises(NoEpochsLeft, match=r"epochs=5 or fewer"):
        library.check_epochs_left(model, TrainingPlan(epochs=6), "model.json")
    library.check_epochs_left(model, TrainingPlan(epochs=5), "model.json")


def test_a_resumed_run_refuses_other_columns_given_and_goes_on_with_the_models_when_not_given():
    model = _model(lr=0.25)
    other = library.NetworkSettings(features=("a", "b", "c"))
    with pytest.raises(ResumeConflict) as conflict:
        library.resumed_run(model, other, TrainingPlan(), frozenset({"features"}))
    assert (conflict.value.setting, conflict.value.stored, conflict.value.value) == ("features", "x1,x2,x3", ("a", "b", "c"))
    with pytest.raises(ResumeConflict):
        library.resumed_run(model, LECTURE, TrainingPlan(lr=0.5), frozenset({"lr"}))
    network, plan = library.resumed_run(model, other, TrainingPlan(lr=0.5, epochs=7), frozenset())
    assert network.features == ("x1", "x2", "x3") and plan.lr == 0.25 and plan.epochs == 7


@pytest.mark.parametrize(
    ("plan", "network", "chunksize", "refused"),
    [
        (TrainingPlan(), LECTURE, 5000, "chunksize"),
        (TrainingPlan(val_split=0.2), LECTURE, None, "val_split"),
        (TrainingPlan(batch_size=4), LECTURE, None, "batch_size"),
        (TrainingPlan(), library.NetworkSettings(target=("y1", "y2")), None, "target"),
    ],
)
def test_a_run_on_a_dask_cluster_refuses_what_it_cannot_do(plan, network, chunksize, refused):
    with pytest.raises(DaskConflict) as conflict:
        library.check_dask(plan, network, chunksize)
    assert conflict.value.setting == refused and isinstance(conflict.value, RunConflict)


def test_a_run_on_a_dask_cluster_accepts_mini_batches_with_a_learning_rate():
    library.check_dask(TrainingPlan(batch_size=4, lr=0.1), LECTURE)


@pytest.mark.parametrize(
    ("network", "plan", "history", "setting", "of_resume"),
    [
        (library.NetworkSettings(activation="tanh"), TrainingPlan(), False, "activation", False),
        (library.NetworkSettings(output_activation="sigmoid"), TrainingPlan(), False, "output_activation", False),
        (library.NetworkSettings(target=("y1", "y2")), TrainingPlan(), False, "target", False),
        (library.NetworkSettings(bias=False), TrainingPlan(), False, "bias", False),
        (LECTURE, TrainingPlan(batch_size=8), False, "batch_size", False),
        (LECTURE, TrainingPlan(val_split=0.1), False, "val_split", False),
        (LECTURE, TrainingPlan(), True, "history", False),
    ],
)
def test_streamed_training_is_refused_beyond_the_linear_network_on_full_batches(network, plan, history, setting, of_resume):
    conflict = library.streaming_conflict(network, plan, history)
    assert isinstance(conflict, StreamingConflict) and (conflict.setting, conflict.of_resume) == (setting, of_resume)


def test_streamed_training_is_the_lecture_network_and_a_resumed_ones_conflict_says_so():
    assert library.streaming_conflict(LECTURE, TrainingPlan()) is None
    resumed = library.streaming_conflict(library.NetworkSettings(activation="relu"), TrainingPlan(), of_resume=True)
    assert resumed.message() == (
        "chunksize cannot be used with the relu activation of resume: streamed training is the linear network "
        "(identity activation) on full batches of every row")


# --- the record ------------------------------------------------------------------------------------

def _split(n: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(held, kept) by hand: round(val_split * n) rows held out, the first of a permutation drawn
    from default_rng([2, seed]) (the split's own random stream, apart from the weights'), each sorted."""
    order = np.random.default_rng([2, seed]).permutation(n)
    n_val = round(val_split * n)
    return np.sort(order[:n_val]), np.sort(order[n_val:])


def test_the_record_says_which_rows_trained_and_which_were_held_out(small_xy):
    X, y = small_xy
    plan = TrainingPlan(val_split=0.25, seed=5, lr=0.05, epochs=4, tol=0.0)
    record = library.fit(library.starting_point(plan, LECTURE), prepare(X, y, plan))
    held, kept = _split(len(y), 0.25, 5)
    assert record.held_out.tolist() == held.tolist() and record.kept.tolist() == kept.tolist()
    np.testing.assert_array_equal(record.rows.X, X[kept])
    training = record.training_record("data.csv")
    assert (training.rows, training.validation_rows, training.epochs, training.lr_chosen) == (9, 3, 4, False)


def test_without_a_split_every_row_trains(small_xy):
    X, y = small_xy
    plan = TrainingPlan(lr=0.05, epochs=2)
    record = library.fit(library.starting_point(plan, LECTURE), prepare(X, y, plan))
    assert record.held_out is None and record.kept.tolist() == list(range(len(y)))


# --- explain reads where training stands -----------------------------------------------------------

def _descent(params: Parameters, X: np.ndarray, y: np.ndarray, lr: float, epochs: int) -> list[Parameters]:
    """The weights at the start of epochs 1..epochs+1 of full-batch gradient descent, w <- w - lr dL/dw,
    by network.py's forward and backward passes (the lecture's equations)."""
    path = [params]
    for _ in range(epochs):
        grads = backward(params, X, y, forward(params, X)).gradients
        params = params.like(params.vector - lr * grads.vector)
        path.append(params)
    return path


# Each epoch sums 9 rows: its rounding is a few units in float64's last place of each weight
# (about 9 * 2**-53 ~ 1e-15 relative); three epochs compound that a few times, far below 1e-12.
RTOL = 1e-12


def test_explain_with_patience_and_a_split_works_epoch_k_from_the_last_updates_weights(run, workdir, small_xy,
                                                                                       init_file, init_weights):
    X, y = small_xy
    (workdir / "data.csv").write_text(csv_text(X, y))
    result = run(["explain", "data.csv", "--init", init_file, "--lr", "0.05", "--val-split", "0.25", "--seed", "5",
                  "--patience", "3", "--epoch", "4", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    held, kept = _split(len(y), 0.25, 5)
    path = _descent(Parameters.from_dict(init_weights), X[kept], y[kept], 0.05, 4)
    start, after = path[3], path[4]
    # Early stopping keeps the best epoch's weights (at best epoch 3's start); epoch 4 starts after epoch 3's update.
    validation = [loss(y[held], forward(p, X[held])) for p in path[:4]]
    assert validation == sorted(validation, reverse=True) and not np.allclose(path[2].vector, start.vector)
    assert [row["row"] for row in document["rows"]] == (kept + 1).tolist()
    assert (document["training_rows"], document["validation_rows"]) == (9, 3)
    weights = np.array([document["weights"][name] for name in NAMES])
    np.testing.assert_allclose(weights, start.vector, rtol=RTOL)
    gradients = backward(start, X[kept], y[kept], forward(start, X[kept])).gradients
    np.testing.assert_allclose([document["gradients"][name] for name in NAMES], gradients.vector, rtol=RTOL)
    np.testing.assert_allclose([document["weights_after"][name] for name in NAMES], after.vector, rtol=RTOL)
    assert document["loss"] == pytest.approx(loss(y[kept], forward(start, X[kept])), rel=RTOL)


def test_explain_refuses_an_epoch_early_stopping_never_reaches_and_works_the_last_it_does(run, workdir, small_xy,
                                                                                         init_file, init_weights):
    X, y = small_xy
    (workdir / "data.csv").write_text(csv_text(X, y))
    # No fall of the validation loss beats min-delta 1e9: with patience 1, epoch 2 is the last.
    common = ["explain", "data.csv", "--init", init_file, "--lr", "0.05", "--val-split", "0.25", "--seed", "5",
              "--patience", "1", "--min-delta", "1e9", "--format", "json"]
    refused = run([*common, "--epoch", "3"])
    assert refused.exit_code == EpochNotReached.exit_code
    assert refused.stderr.startswith("Error: early stopping ends training after epoch 2, so there is no epoch 3 to explain")
    accepted = run([*common, "--epoch", "2"])
    assert accepted.exit_code == 0, accepted.stderr
    _, kept = _split(len(y), 0.25, 5)
    start = _descent(Parameters.from_dict(init_weights), X[kept], y[kept], 0.05, 1)[1]
    np.testing.assert_allclose([json.loads(accepted.stdout)["weights"][name] for name in NAMES], start.vector, rtol=RTOL)


# --- the command line words the run's refusals as usage errors, as it always has ---------------------

_STREAMED = "streamed training is the linear network (identity activation) on full batches of every row"


@pytest.mark.parametrize(
    ("options", "line"),
    [
        (["--dask", "--val-split", "0.2"], "--dask cannot be used with --val-split: the rows are split on one machine only"),
        (["--dask", "--batch-size", "4"],
         "--dask with --batch-size needs --lr: the step for mini-batches is chosen from rows in memory"),
        (["--chunksize", "1000", "--activation", "tanh"], f"--chunksize cannot be used with --activation tanh: {_STREAMED}"),
        (["--chunksize", "1000", "--no-bias"], f"--chunksize cannot be used with --no-bias: {_STREAMED}"),
        (["--chunksize", "1000", "--features", "x1,x2", "--target", "x3,y"],
         f"--chunksize cannot be used with several --target columns: {_STREAMED}"),
        (["--resume", "m.json", "--activation", "tanh"], "--resume goes on with the model's activation, identity; leave out "
         "--activation tanh, or start afresh from its weights with --init"),
        (["--resume", "m.json", "--chunksize", "1000", "--epochs", "2"], None),
    ],
)
def test_train_words_the_runs_refusals_with_its_options(run, small_csv, options, line):
    assert run(["train", small_csv, "--epochs", "3", "--model", "m.json", "-q"]).exit_code == 0
    result = run(["train", small_csv, *options, "--no-save"])
    if line is None:
        assert result.exit_code == 0, result.stderr
    else:
        assert (result.exit_code, result.stderr) == (2, f"Error: {line}; see 'fwdback train --help'\n")


@pytest.mark.parametrize("patience", [[], ["--patience", "50"]])
def test_explain_refuses_an_epoch_whose_starting_weights_diverged_with_early_stopping_or_without(run, small_csv, small_xy,
                                                                                              init_file, init_weights,
                                                                                              patience):
    X, y = small_xy
    path = _descent(Parameters.from_dict(init_weights), X, y, 3.0, 2)
    losses = [loss(y, forward(p, X)) for p in path]
    # By hand: epoch 2 starts below a million times epoch 1's loss, epoch 3 above it (training's divergence bound);
    # early stopping would keep epoch 2's weights, but epoch 3 starts from the diverged update after it.
    assert losses[1] < 1e6 * losses[0] < losses[2]
    result = run(["explain", small_csv, "--init", init_file, "--lr", "3", "--epoch", "3", *patience])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: training diverged at epoch 3 (loss {losses[2]:.6g});")
