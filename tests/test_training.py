"""The epoch loop against manual epochs, least squares, and divergent learning rates."""

import threading

import numpy as np
import pytest

from fwdback import Parameters, backward, collapsed_linear_map, forward, init_parameters, mse_loss, train, update
from fwdback.errors import FwdbackError, LossOverflow, TrainingDiverged
from fwdback.synthetic import generate
from fwdback.training import LossHistory, suggest_lr


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
    after_one = update(initial, backward(initial, X, y, forward(initial, X)), lr)
    assert result.losses[1] == pytest.approx(mse_loss(y, forward(after_one, X).yhat), rel=1e-14)

    # Five manual epochs land on the same weights.
    params = initial
    for _ in range(5):
        params = update(params, backward(params, X, y, forward(params, X)), lr)
    np.testing.assert_allclose(result.final.vector, params.vector, rtol=1e-14, atol=1e-15)

    fwd = forward(result.final, X)
    assert result.final_loss == pytest.approx(mse_loss(y, fwd.yhat), rel=1e-14)
    np.testing.assert_allclose(
        result.final_gradients.vector, backward(result.final, X, y, fwd).vector, rtol=1e-14, atol=1e-15
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
    np.testing.assert_array_equal(seen[0].gradients.vector, backward(initial, X, y, forward(initial, X)).vector)


def test_an_overflowing_first_loss_is_not_called_divergence(problem):
    # Before any update no learning rate can help: the data or the weights are too large.
    X, y, _ = problem
    enormous = Parameters(np.full(11, 1e200))
    with pytest.raises(LossOverflow) as caught:
        train(X, y, enormous, lr=0.1, epochs=3)
    assert "--standardize" in str(caught.value) and "--lr" not in str(caught.value)


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
    suggested = suggest_lr(X, y, initial, lr)
    assert 0 < suggested <= 0.5 * lr
