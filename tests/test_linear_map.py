"""The linear network as one linear map, and least squares on [x, 1]: the yardstick."""

import numpy as np
import pytest

from fwdback.linear_map import balanced_minimizers, collapsed_linear_map, least_squares
from fwdback.synthetic import generate


def reference(X, y):
    """lstsq on [X, 1] with each column, and y, divided by its largest value: (coef, intercept, loss)."""
    A = np.column_stack([X, np.ones(len(X))])
    size, target = np.abs(A).max(axis=0), np.abs(y).max()
    solution, *_ = np.linalg.lstsq(A / size, y / target, rcond=None)
    residual = A / size @ solution - y / target
    return solution[:-1] * target / size[:-1], solution[-1] * target, float(np.mean(residual**2)) * target**2


@pytest.mark.parametrize("scale", [
    [1.0, 1.0, 1.0], [1e6, 1.0, 1.0], [1e-6, 1.0, 1e6], [1e150, 1e150, 1e150], [1e300, 1.0, 1.0],
])  # fmt: skip
def test_least_squares_keeps_every_direction_whatever_the_columns_scales(scale):
    X, y = generate(300, seed=3)
    X = X * np.array(scale)
    coef, intercept, loss = reference(X, y)
    best = least_squares(X, y)
    assert best.unique and best.constant_columns == []
    assert best.loss == pytest.approx(loss, rel=1e-6, abs=1e-15)
    np.testing.assert_allclose(best.coef, coef, rtol=1e-9)
    assert best.intercept == pytest.approx(intercept, rel=1e-9)


def test_least_squares_of_offset_columns_and_a_large_target():
    X, y = generate(300, seed=4)
    X = X * [1e7, 1.0, 1.0] + [1.7e9, 0.0, 0.0]  # Unix times
    coef, intercept, loss = reference(X, y * 1e100)
    best = least_squares(X, y * 1e100)
    assert best.loss == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(best.coef, coef, rtol=1e-6)


def test_dependent_columns_are_told_apart_from_independent_ones():
    X, y = generate(100, seed=5)
    X[:, 2] = X[:, 0] + X[:, 1]
    assert not least_squares(X, y).unique
    X[:, 2] = 5.0
    best = least_squares(X, y)
    assert not best.unique and best.constant_columns == [2]
    assert not least_squares(X[:3], y[:3]).unique  # 3 rows cannot pin down 4 coefficients


@pytest.mark.parametrize("hidden", [1, 2, 5])
def test_both_balanced_minimizers_compute_the_map_with_layers_of_equal_norm(hidden):
    coef, intercept = np.array([2.0, -3.0, 0.5]), 20.0
    for params in balanced_minimizers(coef, intercept, hidden):
        got_coef, got_intercept = collapsed_linear_map(params)
        np.testing.assert_allclose(got_coef, coef, rtol=1e-14)
        assert got_intercept == pytest.approx(intercept, rel=1e-14)
        W_tilde = np.column_stack([params.W_hidden, params.b_hidden])
        in_norm = np.linalg.norm(W_tilde[0][: 3 if params.b_out else 4])
        assert in_norm == pytest.approx(np.linalg.norm(params.w_out), rel=1e-14)
    in_bias = balanced_minimizers(coef, intercept, hidden)[1]
    assert in_bias.b_out == 0 and in_bias.b_hidden[0] != 0
