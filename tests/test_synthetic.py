"""Synthetic data against least squares: the known coefficients come back."""

import numpy as np

from fwdback.synthetic import DEFAULT_COEF, generate


def least_squares(X, y):
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    return A, solution


def test_same_seed_same_data_different_seed_different_data():
    X1, y1 = generate(50, seed=4)
    X2, y2 = generate(50, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, y3 = generate(50, seed=5)
    assert not np.array_equal(X1, X3)
    assert not np.array_equal(y1, y3)


def test_shapes_and_range():
    X, y = generate(40, seed=0, coef=(1.0, 2.0, 3.0, 4.0, 5.0))
    assert X.shape == (40, 4)
    assert y.shape == (40,)
    assert np.all((X >= -1) & (X <= 1))


def test_noise_free_data_recovers_the_coefficients_exactly():
    coef = (2.0, -3.0, 0.5, 1.0)
    X, y = generate(50, seed=9, noise=0.0, coef=coef)
    np.testing.assert_allclose(y, X @ np.array(coef[:-1]) + coef[-1], rtol=0, atol=1e-12)
    _, solution = least_squares(X, y)
    np.testing.assert_allclose(solution, coef, rtol=0, atol=1e-10)


def test_noisy_data_recovers_the_coefficients_within_standard_errors():
    noise = 0.1
    X, y = generate(20000, seed=2, noise=noise)
    A, solution = least_squares(X, y)
    # OLS standard errors with the known noise: sigma * sqrt(diag((A^T A)^-1)), ~0.0012 and ~0.0007.
    standard_errors = noise * np.sqrt(np.diag(np.linalg.inv(A.T @ A)))
    assert np.all(np.abs(solution - DEFAULT_COEF) < 4 * standard_errors)
    # The residuals carry the noise; their sample std is within 0.5% (1/sqrt(2n)) of it.
    residual = y - A @ solution
    assert abs(residual.std() / noise - 1) < 0.03


def test_blocks_are_the_same_numbers_as_one_draw():
    from fwdback.synthetic import generate_blocks

    X, y = generate(1000, seed=42)
    blocks = list(generate_blocks(1000, seed=42, block_rows=77))
    np.testing.assert_array_equal(np.vstack([b[0] for b in blocks]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), y)
    zero = list(generate_blocks(3, seed=1, noise=-0.0))[0][1]
    np.testing.assert_array_equal(zero, generate(3, seed=1, noise=0.0)[1])
