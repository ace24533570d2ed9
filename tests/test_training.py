"""The epoch loop against manual epochs, least squares, and divergent learning rates; the
plan's choices (the learning rate, standardisation) and its stops (convergence, a signal)."""

import threading

import numpy as np
import pytest

import oracle
from hostile import (  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
    SINGLE_THREADED,
    SMALL_MEMORY_KIB,
    assets,
    csv_bytes,
    fingerprint,
    invoke,
    linear,
    refused,
    shell,
    ws,
)
from fwdback import Parameters, backward, collapsed_linear_map, forward, init_parameters, mse_loss, update
from fwdback.errors import FwdbackError, LossOverflow, TrainingDiverged
from fwdback.plan import StopReason, TrainingPlan
from fwdback.rounding import LossRounding
from fwdback.stepsize import RowStatistics, choose_lr, suggest_lr
from fwdback.synthetic import generate
from fwdback.training import Convergence, LossHistory, fit_rows, prepare
from fwdback.settings import CONVERGENCE_WINDOW


def train(X, y, initial, lr, epochs, on_epoch=None, stop=None):
    """Every one of `epochs` epochs at learning rate `lr` on the raw rows: the lecture's loop."""
    plan = TrainingPlan(lr=lr, epochs=epochs, tol=0, standardize=False)
    return fit_rows(prepare(X, y, plan), initial, plan, on_epoch=on_epoch, stop=stop).result


@pytest.fixture
def problem():
    X, y = generate(100, seed=3, noise=0.1)
    return X, y, init_parameters(np.random.default_rng(0))


def test_losses_are_recorded_before_each_update(problem):
    X, y, initial = problem
    lr = 0.1
    result = train(X, y, initial, lr=lr, epochs=5)

    assert result.losses.shape == (5,)
    assert result.losses[0] == mse_loss(y, forward(initial, X).yhat)
    after_one = update(initial, backward(initial, X, y, forward(initial, X)).gradients, lr)
    assert result.losses[1] == pytest.approx(mse_loss(y, forward(after_one, X).yhat), rel=1e-14)

    # Five manual epochs land on the same weights.
    params = initial
    for _ in range(5):
        params = update(params, backward(params, X, y, forward(params, X)).gradients, lr)
    np.testing.assert_allclose(result.final.vector, params.vector, rtol=1e-14, atol=1e-15)

    fwd = forward(result.final, X)
    assert result.final_loss == pytest.approx(mse_loss(y, fwd.yhat), rel=1e-14)
    np.testing.assert_allclose(
        result.final_gradients.vector, backward(result.final, X, y, fwd).gradients.vector, rtol=1e-14, atol=1e-15
    )
    np.testing.assert_array_equal(result.initial.vector, initial.vector)


def test_training_reaches_the_least_squares_optimum():
    X, y = generate(200, seed=1, noise=0.1)
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    best_loss = np.mean((y - A @ solution) ** 2)

    result = train(X, y, init_parameters(np.random.default_rng(0)), lr=0.1, epochs=3000)

    assert result.final_loss == pytest.approx(best_loss, rel=1e-6)
    assert result.final_loss >= best_loss * (1 - 1e-12)  # nothing beats least squares
    # Near the optimum L - L* = d^T (A^T A / n) d for d = (coef, intercept) - solution; the
    # Gram matrix's smallest eigenvalue is ~1/3 here, so |d| <= 1e-6 needs L - L* <= ~3e-13:
    # gradient descent converges linearly, and 3000 epochs reach the rounding floor.
    coef, intercept = collapsed_linear_map(result.final)
    np.testing.assert_allclose(np.append(coef, intercept), solution, rtol=0, atol=1e-6)
    assert np.abs(result.final_gradients.vector).max() < 1e-8


@pytest.mark.parametrize("seed", range(5))
def test_huge_lr_diverges_and_the_suggested_lr_trains(problem, seed):
    X, y, _ = problem
    initial = init_parameters(np.random.default_rng(seed))
    with pytest.raises(TrainingDiverged) as caught:
        train(X, y, initial, lr=50.0, epochs=100)
    error = caught.value
    assert isinstance(error, FwdbackError)
    assert error.exit_code == 3
    assert 1 <= error.epoch <= 100
    assert 0 < error.suggested_lr < 50.0
    assert f"epoch {error.epoch}" in str(error)

    result = train(X, y, initial, lr=error.suggested_lr, epochs=500)
    assert np.all(np.isfinite(result.losses))
    assert result.final_loss < result.losses[0]
    assert result.losses[-1] < 0.1 * result.losses[0]


@pytest.mark.parametrize("epochs", [0, -1])
def test_fewer_than_one_epoch_is_refused(problem, epochs):
    X, y, initial = problem
    with pytest.raises(ValueError, match="epochs"):
        train(X, y, initial, lr=0.1, epochs=epochs)


def test_on_epoch_is_called_once_per_epoch(problem):
    X, y, initial = problem
    seen = []
    result = train(X, y, initial, lr=0.1, epochs=7, on_epoch=seen.append)
    assert [record.number for record in seen] == [1, 2, 3, 4, 5, 6, 7]
    assert [record.loss for record in seen] == result.losses.tolist()
    np.testing.assert_array_equal(seen[0].params.vector, initial.vector)
    lecture = backward(initial, X, y, forward(initial, X)).gradients.vector
    np.testing.assert_allclose(seen[0].gradients.vector, lecture, rtol=1e-14, atol=1e-15)


def test_an_overflowing_first_loss_is_not_called_divergence(problem):
    # Before any update no learning rate can help: the data or the weights are too large.
    X, y, _ = problem
    enormous = Parameters(np.full(11, 1e200))
    with pytest.raises(LossOverflow) as caught:
        train(X, y, enormous, lr=0.1, epochs=3)
    assert "standardize=True" in str(caught.value) and "lr=" not in str(caught.value)


def test_memory_does_not_grow_with_the_epochs_asked_for(problem):
    # 10**12 epochs are not allocated up front: the run stops at once when told to.
    X, y, initial = problem
    stop = threading.Event()
    stop.set()
    result = train(X, y, initial, lr=0.1, epochs=10**12, stop=stop)
    assert result.epochs_run == 1 and result.interrupted


def test_the_loss_history_thins_beyond_its_capacity():
    history = LossHistory(validation=False, capacity=8)
    for epoch in range(1, 101):
        history.append(epoch, float(epoch), None)
    epochs, losses, val = history.arrays()
    assert val is None and len(epochs) <= 9
    assert epochs[0] == 1 and epochs[-1] == 100
    assert np.all(np.diff(epochs) > 0) and np.array_equal(losses, epochs.astype(float))
    strides = np.diff(epochs[:-1])
    assert len(set(strides.tolist())) == 1  # evenly spaced, the latest epoch appended


@pytest.mark.parametrize("power", [-4, -3, -2])
def test_suggested_lr_is_positive_for_lrs_just_below_a_power_of_ten(problem, power):
    # When lr is the smallest candidate, the suggestion is half of it rounded down to one digit:
    # for 0.5 * lr a hair below 10**power that is 9 * 10**(power - 1), never 0.
    X, y, initial = problem
    lr = 2 * np.nextafter(10.0**power, 0)
    suggested = suggest_lr(RowStatistics(X, y), initial, lr)
    assert 0 < suggested <= 0.5 * lr


# --- the plan's choices and stops ------------------------------------------------------------


def test_the_convergence_stop_ends_when_the_loss_no_longer_moves(problem):
    X, y, initial = problem
    every = train(X, y, initial, 0.1, 2000)
    plan = TrainingPlan(lr=0.1, epochs=2000, standardize=False)
    stopped = fit_rows(prepare(X, y, plan), initial, plan).result
    assert stopped.stop is StopReason.CONVERGED and stopped.epochs_run < 2000
    # The epochs it ran are the unbroken run's, and the last ten of them moved the loss by no
    # more than the plan's tol of itself or than rounding can.
    np.testing.assert_array_equal(stopped.losses, every.losses[: stopped.epochs_run])
    last = every.losses[stopped.epochs_run - 10 : stopped.epochs_run]
    rounding = 2 * LossRounding.of_rows(X, y).of(every.final, last.max())
    moved = max(TrainingPlan().tol * last[-1], rounding)
    assert last.max() - last.min() <= moved
    # A descent that slows geometrically, by at least half every ten epochs, has less left to go
    # than it went in its last ten: r**10 / (1 - r**10) <= 1 for r**10 <= 1/2.
    assert 0 <= stopped.final_loss - every.final_loss <= moved


def test_a_loss_that_does_not_move_converges_after_ten_epochs(problem):
    """The convergence window is 10 epochs (README: "over 10 epochs"): a step of 1e-300 leaves
    every weight as it is (far below half a unit in its last place), so the loss is the same
    each epoch and the tenth is the first with ten of them to compare."""
    X, y, initial = problem
    plan = TrainingPlan(lr=1e-300, epochs=100, standardize=False)
    result = fit_rows(prepare(X, y, plan), initial, plan).result
    assert np.array_equal(result.final.vector, initial.vector)
    assert result.stop is StopReason.CONVERGED and result.epochs_run == 10


class CountedBounds:
    """A rounding (rounding.LossRounding's of and zero) whose bounds are given epoch by epoch: the
    weights stand for the epoch's number; it counts the bounds asked for."""

    def __init__(self, bounds, floors):
        self.bounds, self.floors, self.asked = bounds, floors, 0

    def of(self, epoch, loss):
        self.asked += 1
        return self.bounds[epoch]

    def zero(self, epoch):
        self.asked += 1
        return self.floors[epoch]


def convergence_as_written(losses, bounds, floors, tol):
    """Convergence's rule with every bound taken every epoch, as its docstring states it: the epoch
    at which it first holds over the last CONVERGENCE_WINDOW epochs, or None."""
    for end in range(CONVERGENCE_WINDOW, len(losses) + 1):
        window = [(losses[e], bounds[e], floors[e]) for e in range(end - CONVERGENCE_WINDOW, end)]
        before = min(losses[: end - CONVERGENCE_WINDOW], default=np.inf)
        (highest, high_bound, _), (lowest, low_bound, _) = max(window), min(window)
        if highest - lowest <= tol * abs(losses[end - 1]) or all(loss <= floor for loss, _, floor in window) \
                or (lowest >= before and not abs(highest - lowest) > high_bound + low_bound):
            return end - 1
    return None


@pytest.mark.parametrize("case", ["descending", "settled by tol", "stirred by rounding", "ties", "at zero"])
def test_convergence_takes_the_bounds_it_reads_and_decides_as_its_rule_says(case):
    """The bounds are taken lazily (a small network's epoch costs as much as one): the stop comes at the
    epoch the rule with every bound gives, and a loss that keeps falling asks for about one in ten."""
    rng = np.random.default_rng(["descending", "settled by tol", "stirred by rounding", "ties", "at zero"].index(case))
    n = 200
    losses = {
        "descending": 1.0 / np.arange(1, n + 1),
        "settled by tol": np.r_[1.0 / np.arange(1, 31), np.full(n - 30, 1.0 / 30) * (1 + 1e-14 * rng.normal(size=n - 30))],
        "stirred by rounding": np.r_[1.0 / np.arange(1, 51), 0.02 + 1e-9 * rng.integers(0, 3, size=n - 50)],
        "ties": np.r_[1.0 / np.arange(1, 41), 0.025 + 1e-6 * (np.arange(n - 40) % 2)],
        "at zero": np.r_[1.0 / np.arange(1, 21), 1e-20 * rng.uniform(size=n - 20)],
    }[case].tolist()
    # with ties, the bounds of the equal losses decide: the rule takes the highest's largest, the lowest's smallest
    bounds = rng.uniform(*((0.2e-6, 0.6e-6) if case == "ties" else (0.5e-6, 1.5e-6)), size=n).tolist()
    floors = rng.uniform(1e-19, 2e-19, size=n).tolist()
    rounding, convergence = CountedBounds(bounds, floors), Convergence(1e-12)
    stopped = next((epoch for epoch in range(n) if convergence.reached(losses[epoch], rounding, epoch)), None)
    assert stopped == convergence_as_written(losses, bounds, floors, 1e-12)
    if case == "descending":
        assert stopped is None and rounding.asked <= n // CONVERGENCE_WINDOW + 1
    elif case != "ties":
        assert stopped is not None


def test_a_looser_tolerance_stops_sooner(problem):
    X, y, initial = problem
    plan = TrainingPlan(lr=0.1, epochs=2000, standardize=False)
    tight = fit_rows(prepare(X, y, plan), initial, plan).result
    looser = plan.replace(tol=1e-6)
    loose = fit_rows(prepare(X, y, looser), initial, looser).result
    assert loose.stop is StopReason.CONVERGED and loose.epochs_run < tight.epochs_run


def test_without_lr_the_step_is_half_the_largest_stable_one(problem):
    X, y, initial = problem
    plan = TrainingPlan(epochs=5)
    fitted = fit_rows(prepare(X, y, plan), initial, plan)
    assert fitted.plan.lr == choose_lr(RowStatistics(X, y), initial) > 0
    # Half of 2 / lambda_max at the start (measured by finite differences of the gradient) at most.
    h = 1e-6
    g0 = backward(initial, X, y, forward(initial, X)).gradients.vector
    columns = []
    for j in range(initial.vector.size):
        moved = initial.vector.copy()
        moved[j] += h
        p = initial.like(moved)
        columns.append((backward(p, X, y, forward(p, X)).gradients.vector - g0) / h)
    hessian = np.array(columns)
    lambda_max = np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1]
    assert fitted.plan.lr <= 0.5 * 2 / lambda_max * (1 + 1e-4)


@pytest.mark.parametrize("scale", [1e-3, 1e4])
def test_without_lr_badly_scaled_columns_are_standardised(scale):
    X, y = generate(300, seed=2)
    X = X * np.array([1.0, scale, 1.0])
    initial = init_parameters(np.random.default_rng(0))
    plan = TrainingPlan(epochs=3)
    chosen = fit_rows(prepare(X, y, plan), initial, plan)
    assert chosen.rows.scaling is not None and chosen.plan.standardize is True
    assert chosen.rows.scales.bad
    # Given a learning rate, the raw values are trained on, as the lecture does.
    with_lr = plan.replace(lr=1e-9)
    given = fit_rows(prepare(X, y, with_lr), initial, with_lr)
    assert given.rows.scaling is None and given.plan.standardize is False
    # Well-scaled columns are never standardised.
    assert fit_rows(prepare(*generate(300, seed=2), plan), initial, plan).rows.scaling is None


@pytest.mark.parametrize("convention", ["half-mse", "sse", "half-sse"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
def test_the_chosen_step_takes_the_same_step_in_every_loss_convention_and_rule(problem, convention, optimizer):
    """A convention's gradients are n / d(n) times the MSE's (oracle.DIVISORS), and momentum's
    steps add up to eta / (1 - mu): so the rate chosen for them, times n / d(n) and divided by
    1 - mu, is the MSE's gradient descent step, up to each being rounded down to 2 digits (< 10%)."""
    X, y, initial = problem
    n = len(y)
    lecture = TrainingPlan(epochs=1)
    mse = fit_rows(prepare(X, y, lecture), initial, lecture).plan.lr
    plan = lecture.replace(loss=convention, optimizer=optimizer, momentum=0.8)
    plan = fit_rows(prepare(X, y, plan), initial, plan).plan
    shrink = 1.0 if optimizer == "gd" else 1.0 - 0.8
    assert plan.lr * n / oracle.DIVISORS[convention](n) / shrink == pytest.approx(mse, rel=0.1)


# --- Numbers (the command line's failure contract: hostile.py)


@pytest.mark.parametrize("command", ["train", "explain"])
def test_data_whose_loss_overflows_asks_for_standardize(invoke, ws, command):
    # Given --lr, fwdback trains on the raw values, as the lecture does (without it, it would
    # standardise such badly scaled columns itself).
    (ws / "huge.csv").write_bytes(csv_bytes(*linear(12, scale=1e200)))
    before = fingerprint(ws)
    o = invoke(command, "huge.csv", "--lr", "0.05", *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, ["huge.csv", "--standardize"], ["--lr"], root=ws, before=before, train=command == "train")


def test_a_huge_learning_rate_diverges_without_warnings(invoke, ws):
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--lr", "1e10")
    refused(o, 3, ["--lr"], root=ws, before=before, train=True)


def test_a_wide_network_with_a_huge_learning_rate_diverges_promptly(ws):
    (ws / "w200.csv").write_bytes(csv_bytes(*linear(200, seed=11)))
    before = fingerprint(ws)
    # The learning-rate hint must not build a dense P x P matrix (P = 7501): in 1 GiB it cannot.
    o = shell("fwdback train w200.csv --hidden 1500 --lr 1e6", ws, memory_kib=SMALL_MEMORY_KIB, env=SINGLE_THREADED)
    refused(o, 3, ["--lr"], root=ws, before=before, train=True)
