"""The engine against independent computations: by hand, by finite differences, by closed form."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from fwdback import (
    Parameters,
    backward,
    collapsed_linear_map,
    forward,
    init_parameters,
    mse_loss,
    parameter_names,
    update,
)
from fwdback.network import parameter_count
from fwdback.plan import TrainingPlan
from fwdback.stepsize import largest_stable_lr
from fwdback.training import fit_rows, prepare

NAMES = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2", "b3")


def lecture_loss(theta, X, y):
    """L by the oracle, from the values in the lecture's order."""
    return oracle.loss(dict(zip(NAMES, theta)), X, y)


def lecture_yhat(theta, X):
    """yhat by the oracle.  X : shape (n, 3)."""
    return oracle.forward(dict(zip(NAMES, theta)), X).yhat[:, 0]


def random_problem(seed, rows, scale):
    rng = np.random.default_rng(seed)
    theta = scale * rng.normal(size=11)
    X = scale * rng.normal(size=(rows, 3))
    y = scale * rng.normal(size=rows)
    return Parameters(theta), X, y


# --- one epoch by hand ------------------------------------------------------------------


def test_one_epoch_by_hand():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, -1.0]])
    y = np.array([1.0, 2.0])
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.5, -1.0, 0.0, 1.0, 0.5, -0.5, 2.0, -1.0
    b1, b2, b3 = 0.5, 0.0, 0.5
    params = Parameters([w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3])
    eta = 0.05
    n = 2

    # Forward pass.
    N1_row1 = 0.5 * 1 + (-1) * 2 + 0 * 3 + 0.5  # = -1
    N2_row1 = 1 * 1 + 0.5 * 2 + (-0.5) * 3 + 0  # = 0.5
    yhat_row1 = 2 * N1_row1 + (-1) * N2_row1 + 0.5  # = -2
    N1_row2 = 0.5 * 2 + (-1) * 0 + 0 * (-1) + 0.5  # = 1.5
    N2_row2 = 1 * 2 + 0.5 * 0 + (-0.5) * (-1) + 0  # = 2.5
    yhat_row2 = 2 * N1_row2 + (-1) * N2_row2 + 0.5  # = 1
    assert (N1_row1, N2_row1, yhat_row1) == (-1.0, 0.5, -2.0)
    assert (N1_row2, N2_row2, yhat_row2) == (1.5, 2.5, 1.0)

    # Loss.
    loss = ((1 - yhat_row1) ** 2 + (2 - yhat_row2) ** 2) / n  # (9 + 1) / 2
    assert loss == 5.0

    # Backward pass, output layer first.
    dL_dyhat_row1 = -(2 / n) * (1 - yhat_row1)  # = -3
    dL_dyhat_row2 = -(2 / n) * (2 - yhat_row2)  # = -1
    dL_dw7 = dL_dyhat_row1 * N1_row1 + dL_dyhat_row2 * N1_row2  # 3 - 1.5
    dL_dw8 = dL_dyhat_row1 * N2_row1 + dL_dyhat_row2 * N2_row2  # -1.5 - 2.5
    dL_db3 = dL_dyhat_row1 + dL_dyhat_row2
    dL_dN1_row1, dL_dN1_row2 = dL_dyhat_row1 * w7, dL_dyhat_row2 * w7  # -6, -2
    dL_dN2_row1, dL_dN2_row2 = dL_dyhat_row1 * w8, dL_dyhat_row2 * w8  # 3, 1
    dL_dw1 = dL_dN1_row1 * 1 + dL_dN1_row2 * 2  # -6 - 4
    dL_dw2 = dL_dN1_row1 * 2 + dL_dN1_row2 * 0  # -12
    dL_dw3 = dL_dN1_row1 * 3 + dL_dN1_row2 * (-1)  # -18 + 2
    dL_db1 = dL_dN1_row1 + dL_dN1_row2
    dL_dw4 = dL_dN2_row1 * 1 + dL_dN2_row2 * 2  # 3 + 2
    dL_dw5 = dL_dN2_row1 * 2 + dL_dN2_row2 * 0  # 6
    dL_dw6 = dL_dN2_row1 * 3 + dL_dN2_row2 * (-1)  # 9 - 1
    dL_db2 = dL_dN2_row1 + dL_dN2_row2
    expected_grads = {
        "w1": dL_dw1, "w2": dL_dw2, "w3": dL_dw3, "w4": dL_dw4, "w5": dL_dw5, "w6": dL_dw6,
        "w7": dL_dw7, "w8": dL_dw8, "b1": dL_db1, "b2": dL_db2, "b3": dL_db3,
    }  # fmt: skip
    assert expected_grads == {
        "w1": -10.0, "w2": -12.0, "w3": -16.0, "w4": 5.0, "w5": 6.0, "w6": 8.0,
        "w7": 1.5, "w8": -4.0, "b1": -8.0, "b2": 4.0, "b3": -4.0,
    }  # fmt: skip

    # Update: w(t+1) = w(t) - eta * dL/dw.
    expected_updated = {
        "w1": 0.5 - 0.05 * (-10), "w2": -1 - 0.05 * (-12), "w3": 0 - 0.05 * (-16),
        "w4": 1 - 0.05 * 5, "w5": 0.5 - 0.05 * 6, "w6": -0.5 - 0.05 * 8,
        "w7": 2 - 0.05 * 1.5, "w8": -1 - 0.05 * (-4),
        "b1": 0.5 - 0.05 * (-8), "b2": 0 - 0.05 * 4, "b3": 0.5 - 0.05 * (-4),
    }  # fmt: skip

    fwd = forward(params, X)
    np.testing.assert_allclose(fwd.N, [[N1_row1, N1_row2], [N2_row1, N2_row2]], rtol=0, atol=1e-12)  # N[0] is N1
    np.testing.assert_allclose(fwd.yhat, [yhat_row1, yhat_row2], rtol=0, atol=1e-12)
    assert mse_loss(y, fwd.yhat) == pytest.approx(loss, abs=1e-12)
    back = backward(params, X, y, fwd)
    grads = back.gradients
    assert grads.as_dict() == pytest.approx(expected_grads, abs=1e-12)
    # The per-row terms the gradients are sums of, as worked out above.
    np.testing.assert_allclose(back.dL_dyhat, [dL_dyhat_row1, dL_dyhat_row2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(back.dL_dN, [[dL_dN1_row1, dL_dN1_row2], [dL_dN2_row1, dL_dN2_row2]], rtol=0, atol=1e-12)
    assert back.dN_dZ is None, "the identity's slope is 1, never formed"
    np.testing.assert_array_equal(back.dL_dZ, back.dL_dN)
    updated = update(params, grads, eta)
    assert updated.as_dict() == pytest.approx(expected_updated, abs=1e-12)
    # The update returns new parameters and leaves the old ones as they were.
    np.testing.assert_array_equal(params.vector, [w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3])


# --- gradients against finite differences -----------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    rows=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.1, 0.5, 1.0, 2.0, 10.0]),
)
def test_gradients_match_central_differences(rows, seed, scale):
    params, X, y = random_problem(seed, rows, scale)
    analytic = backward(params, X, y, forward(params, X)).gradients.as_dict()
    numeric, bound = oracle.central_differences(params.as_dict(), X, y)
    for name in NAMES:
        assert abs(analytic[name] - numeric[name]) <= bound[name], name


def test_engine_loss_equals_lecture_loss():
    params, X, y = random_problem(7, 20, 1.0)
    assert mse_loss(y, forward(params, X).yhat) == pytest.approx(lecture_loss(params.vector, X, y), rel=1e-12)


# --- parameters and their names ---------------------------------------------------------


def test_parameter_names_are_the_lecture_names():
    assert parameter_names() == NAMES
    assert Parameters(np.zeros(11)).names == NAMES


def test_as_dict_from_dict_round_trip():
    values = np.random.default_rng(3).normal(size=11)
    params = Parameters(values)
    as_dict = params.as_dict()
    assert list(as_dict) == list(NAMES)
    assert as_dict == dict(zip(NAMES, values.tolist()))
    np.testing.assert_array_equal(Parameters.from_dict(as_dict).vector, values)


def test_layer_views_map_to_lecture_names():
    params = Parameters(np.arange(1.0, 12.0))  # w1 = 1, ..., w8 = 8, b1 = 9, b2 = 10, b3 = 11
    np.testing.assert_array_equal(params.W_hidden[0], [1, 2, 3])  # w1, w2, w3
    np.testing.assert_array_equal(params.W_hidden[1], [4, 5, 6])  # w4, w5, w6
    np.testing.assert_array_equal(params.w_out, [7, 8])  # w7, w8
    np.testing.assert_array_equal(params.b_hidden, [9, 10])  # b1, b2
    assert params.b_out == 11  # b3


def test_layers_written_write_the_vector_of_a_copy_or_a_pickle_too():
    """The layers are made once and kept; a copy or a pickle makes its own views of its own vector."""
    params = Parameters(np.arange(1.0, 12.0))
    params.W_hidden[1, 2] = 60.0  # w6, through the kept view
    assert params.vector[5] == 60.0
    for other in (copy.deepcopy(params), pickle.loads(pickle.dumps(params)), copy.copy(params).like(params.vector)):
        other.W_hidden[0, 0] = -1.0  # w1
        other.b_hidden[1] = -10.0  # b2
        assert other.vector[0] == -1.0 and other.vector[9] == -10.0 and other.W_hidden[1, 2] == 60.0
        assert params.vector[0] == 1.0 and params.vector[9] == 10.0


def test_wrong_number_of_parameters_is_refused():
    with pytest.raises(ValueError, match="expected 11 parameters"):
        Parameters(np.zeros(10))
    with pytest.raises(ValueError, match="expected 11 parameters"):
        Parameters.of(np.zeros(12), Parameters(np.zeros(11)).architecture)


def test_init_same_seed_same_vector():
    a = init_parameters(np.random.default_rng(42))
    b = init_parameters(np.random.default_rng(42))
    np.testing.assert_array_equal(a.vector, b.vector)


def test_init_different_seeds_differ():
    a = init_parameters(np.random.default_rng(1))
    b = init_parameters(np.random.default_rng(2))
    assert not np.array_equal(a.vector, b.vector)


def test_init_bounds_are_one_over_sqrt_fan_in():
    draws = np.array([init_parameters(np.random.default_rng(seed)).vector for seed in range(500)])
    hidden = draws[:, [0, 1, 2, 3, 4, 5, 8, 9]]  # w1..w6, b1, b2: fan_in = 3
    output = draws[:, [6, 7, 10]]  # w7, w8, b3: fan_in = 2
    assert np.abs(hidden).max() <= 1 / np.sqrt(3)
    assert np.abs(output).max() <= 1 / np.sqrt(2)
    # The whole interval is used: 500 uniform draws per parameter come within 2% of the bound.
    assert np.all(np.abs(hidden).max(axis=0) > 0.98 / np.sqrt(3))
    assert np.all(np.abs(output).max(axis=0) > 0.98 / np.sqrt(2))


# --- the linear map the network computes ------------------------------------------------


def test_collapsed_linear_map_written_out():
    params = Parameters(np.random.default_rng(5).normal(size=11))
    w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3 = params.vector
    coef, intercept = collapsed_linear_map(params)
    np.testing.assert_allclose(coef, [w7 * w1 + w8 * w4, w7 * w2 + w8 * w5, w7 * w3 + w8 * w6], rtol=1e-14)
    assert intercept == pytest.approx(w7 * b1 + w8 * b2 + b3, rel=1e-14)

    X = np.random.default_rng(6).normal(size=(30, 3))
    np.testing.assert_allclose(X @ coef + intercept, forward(params, X).yhat, rtol=1e-12, atol=1e-12)


# --- largest stable learning rate -------------------------------------------------------


def hessian_by_finite_differences(params, X, y, h=1e-5):
    """Central differences of the analytic gradient, symmetrized."""

    def gradient(vector):
        p = Parameters(vector)
        return backward(p, X, y, forward(p, X)).gradients.vector

    H = np.empty((11, 11))
    for j in range(11):
        plus, minus = params.vector.copy(), params.vector.copy()
        plus[j] += h
        minus[j] -= h
        H[:, j] = (gradient(plus) - gradient(minus)) / (2 * h)
    return (H + H.T) / 2


def fitted_by_construction():
    """Targets computed noise-free from the parameters themselves: every residual is zero."""
    rng = np.random.default_rng(11)
    params = init_parameters(rng)
    X = rng.uniform(-1, 1, size=(200, 3))
    return params, X, lecture_yhat(params.vector, X)


def fitted_by_training():
    """Noise-free data from a known linear function, trained until the loss is ~0."""
    rng = np.random.default_rng(12)
    X = rng.uniform(-1, 1, size=(200, 3))
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0
    plan = TrainingPlan(lr=0.1, epochs=3000, tol=0)
    result = fit_rows(prepare(X, y, plan), init_parameters(rng), plan).result
    assert result.final_loss < 1e-20
    return result.final, X, y


@pytest.mark.parametrize("fitted", [fitted_by_construction, fitted_by_training])
def test_largest_stable_lr_is_two_over_the_hessians_largest_eigenvalue(fitted):
    params, X, y = fitted()
    lambda_max = np.linalg.eigvalsh(hessian_by_finite_differences(params, X, y))[-1]
    # With zero residuals the Hessian is exactly its Gauss-Newton part, and the gradient is a
    # cubic in the parameters, so the only error left is the O(h^2) of the differences.
    assert largest_stable_lr(params, X) == pytest.approx(2 / lambda_max, rel=1e-6)


def test_names_are_laid_out_like_the_values():
    params = Parameters(np.arange(11.0))  # w1 = 0, w2 = 1, ..., b3 = 10
    by_name = params.as_dict()
    assert params.W_hidden_names.tolist() == [["w1", "w2", "w3"], ["w4", "w5", "w6"]]
    assert params.w_out_names.tolist() == ["w7", "w8"] and params.b_hidden_names.tolist() == ["b1", "b2"]
    assert params.b_out_name == "b3"
    for names, values in ((params.W_hidden_names, params.W_hidden), (params.w_out_names, params.w_out),
                          (params.b_hidden_names, params.b_hidden)):
        assert [by_name[name] for name in np.ravel(names)] == np.ravel(values).tolist()
    wide = Parameters(np.zeros(parameter_count(4, 3)), 4, 3)
    assert wide.W_hidden_names[2].tolist() == ["w9", "w10", "w11", "w12"]  # unit 3's weights
    assert wide.w_out_names.tolist() == ["w13", "w14", "w15"] and wide.b_out_name == "b4"
