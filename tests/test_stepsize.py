"""The step size and the scales from the smaller side of the data: with n rows and k features,
G = A^T A / n, shape (k + 1, k + 1), and A A^T / n, shape (n, n), have the same nonzero
eigenvalues, so 40 rows of 5,000 features are a 40 x 40 problem.

The expected values come from the Gauss-Newton Hessian written out parameter by parameter,
(2/n) J^T J with J = dyhat/dtheta by hand, and from G itself, shape (k + 1, k + 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from fwdback.engines.gram import GramEngine
from fwdback.network import Parameters, forward, init_parameters
from fwdback.plan import StopReason, TrainingPlan
from fwdback.stepsize import (RowStatistics, choose_lr, gram_matrix, largest_stable_lr, largest_stable_lr_for_batches,
                              round_down, scales_of, scales_of_rows)
from fwdback.training import fit_rows, prepare


def jacobian(params: Parameters, X: np.ndarray) -> np.ndarray:
    """dyhat_i/dtheta of the linear network, shape (n, P), in the parameters' vector order:
    dyhat/dW[h, j] = w_out[h] x_j, dyhat/dw_out[h] = N_h, dyhat/db_h = w_out[h], dyhat/db_out = 1."""
    W, w, b = params.W_hidden, params.w_out, params.b_hidden
    N = X @ W.T + b
    n, H, k = len(X), len(w), X.shape[1]
    dW = (w[None, :, None] * X[:, None, :]).reshape(n, H * k)
    return np.column_stack([dW, N, np.tile(w, (n, 1)), np.ones(n)])


def largest_stable_lr_by_hand(params: Parameters, X: np.ndarray) -> float:
    """2 / the largest eigenvalue of the Gauss-Newton Hessian (2/n) J^T J, shape (P, P)."""
    J = jacobian(params, X)
    return 2.0 / float(np.linalg.eigvalsh(2.0 / len(X) * J.T @ J)[-1])


SHAPES = {"tall, 200 x 3": (200, 3), "square, 11 x 10": (11, 10), "wide, 6 x 30": (6, 30), "wide, 20 x 120": (20, 120)}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_largest_stable_step_is_the_gauss_newton_hessians_from_either_side(shape):
    n, k = shape
    rng = np.random.default_rng(k)
    X = rng.normal(size=(n, k)) * rng.uniform(0.1, 3.0, k) + rng.normal(size=k)
    params = init_parameters(rng, k, 3)
    assert largest_stable_lr(params, X) == pytest.approx(largest_stable_lr_by_hand(params, X), rel=1e-10)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_rows_and_their_gram_matrix_give_the_same_step_and_scales(shape):
    # A GramEngine knows only G (G^(1/2) is its factor); RowStatistics works from the rows where they are fewer.
    n, k = shape
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, k)) * rng.uniform(0.1, 30.0, k) + rng.normal(size=k) * 5
    y = X[:, 0] - 2 * X[:, -1] + rng.normal(size=n)
    initial = init_parameters(rng, k, 2)
    rows, gram = RowStatistics(X, y), GramEngine(X, y)
    if n > k:  # else the two least-squares solutions differ (many fit), and so the points the step is taken at
        two_digits = 0.01  # choose_lr rounds down to two significant digits: allow one unit either way
        assert choose_lr(rows, initial) == pytest.approx(choose_lr(gram, initial), rel=two_digits)
    by_rows, by_gram = scales_of_rows(X, y), scales_of(gram_matrix(X), n, float(np.max(np.abs(y))))
    assert by_rows.condition == pytest.approx(by_gram.condition, rel=1e-6)
    assert by_rows.standardized == pytest.approx(by_gram.standardized, rel=1e-6)
    assert by_rows.bad == by_gram.bad


def test_the_step_for_mini_batches_is_the_bound_of_the_batches_by_hand():
    # Any batch's curvature is at most min(max_i |a_i|^2, (n/B) lambda_max(G)) times M M^T's largest eigenvalue.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 8))
    params = init_parameters(rng, 8, 3)
    A = np.column_stack([X, np.ones(50)])
    W_tilde = np.column_stack([params.W_hidden, params.b_hidden])
    MMt = float(params.w_out @ params.w_out) * np.eye(9) + W_tilde.T @ W_tilde
    MMt[8, 8] += 1.0
    batch = min(float(np.max(np.sum(A * A, axis=1))), 50 / 10 * float(np.linalg.eigvalsh(A.T @ A / 50)[-1]))
    expected = 2.0 / (2.0 * batch * float(np.linalg.eigvalsh(MMt)[-1]))
    assert largest_stable_lr_for_batches(params, X, 10) == pytest.approx(expected, rel=1e-10)


def test_the_chosen_step_is_half_the_smallest_stable_one_at_the_start_and_at_least_squares():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12, 30))
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=12)
    initial = init_parameters(rng, 30, 2)
    from fwdback.linear_map import balanced_minimizers, least_squares

    best = least_squares(X, y)
    points = (initial, *balanced_minimizers(best.coef, best.intercept, 2))
    expected = round_down(0.5 * min(largest_stable_lr_by_hand(p, X) for p in points), 2)
    assert choose_lr(RowStatistics(X, y), initial) == expected


def test_5000_features_of_40_rows_train_with_a_chosen_step():
    # Once (k + 1)^2 eigendecompositions of 5,001 x 5,001 matrices, now 40 x 40 ones.
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 5000))
    y = X[:, :3] @ np.array([1.0, 2.0, 3.0]) + rng.normal(size=40)
    plan = TrainingPlan(epochs=1)
    fitted = fit_rows(prepare(X, y, plan), init_parameters(rng, 5000, 2), plan)
    assert fitted.plan.lr > 0 and fitted.result.stop is StopReason.EPOCHS and fitted.result.epochs_run == 1
    assert np.isfinite(forward(fitted.result.final, X).yhat).all()


def test_a_constant_column_spans_nothing_however_its_mean_rounds_and_a_tiny_spread_around_a_large_mean_does():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 2))
    y = X[:, 0] + rng.normal(size=300)
    constant = np.column_stack([X, np.full(300, 1e6 + 0.1)])  # its mean rounds: deviations of a few ulps
    assert scales_of_rows(constant, y).standardized == pytest.approx(scales_of_rows(X, y).standardized, rel=1e-12)
    assert scales_of(gram_matrix(constant), 300).standardized == pytest.approx(scales_of_rows(X, y).standardized, rel=1e-6)
    # Columns spread by 1 around 1e6: the spread is far above their rounding, so they span their
    # directions (as z-scores, well conditioned), and the raw columns are badly scaled.
    offset = X + 1e6
    assert scales_of_rows(offset, y).bad and not scales_of_rows(X, y).bad
    assert scales_of_rows(offset, y).standardized == pytest.approx(scales_of_rows(X, y).standardized, rel=1e-6)
