"""The rounding bounds of rounding.py, checked against the exact loss, on data made to sit at
float64's floor, with the loss summed in many orders (as another BLAS would), and the
convergence stop and explain's verdict that use them.

The exact loss of float weights on float rows is computed by mpmath at 80 digits: the
residuals there are exact to far below any float64 rounding.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from fwdback.engines.gram import GramEngine
from fwdback.engines.literal import LiteralEngine
from fwdback.explain import work_epoch
from fwdback.reports.explain import loss_verdict
from fwdback.network import Parameters, forward, init_parameters, loss, loss_divisor
from fwdback.plan import StopReason, TrainingPlan
from fwdback.rounding import LossRounding, QuadraticRounding, beyond_rounding, gamma
from fwdback.synthetic import generate
from fwdback.training import Convergence, fit_rows, prepare

mpmath.mp.dps = 80
MP_ACTIVATIONS = {"identity": lambda z: z, "tanh": mpmath.tanh, "relu": lambda z: max(z, 0),
                  "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}


def exact_loss(params: Parameters, X: np.ndarray, y: np.ndarray, convention: str = "mse"):
    """The loss of these float weights on these float rows, to 80 digits."""
    W, W_out, b, b_out = (layer.tolist() for layer in params.layers)
    act, out = MP_ACTIVATIONS[params.activation], MP_ACTIVATIONS[params.output_activation]
    targets = y.reshape(len(y), -1).tolist()
    total = mpmath.mpf(0)
    for x, row_targets in zip(X.tolist(), targets):
        N = [act(mpmath.fsum(mpmath.mpf(w) * v for w, v in zip(unit, x)) + bias) for unit, bias in zip(W, b)]
        for weights, bias, target in zip(W_out, b_out, row_targets):
            yhat = out(mpmath.fsum(mpmath.mpf(w) * n for w, n in zip(weights, N)) + bias)
            total += (yhat - target) ** 2
    return total / loss_divisor(convention, len(y))


def least_squares_fit(X, y, spread=1e3) -> Parameters:
    """3-2-1 weights that compute the least-squares map c . x + c0 as the difference of two
    units `spread` times the size of y: N1 = (c + v) . x + (c0 + t), N2 = v . x + t, yhat = N1 - N2
    (v . x and t about spread |y|), so large terms cancel in every residual."""
    A = np.column_stack([X, np.ones(len(X))])
    size = A / np.abs(A).max(axis=0)
    solution, *_ = np.linalg.lstsq(size, y, rcond=None)
    coef, intercept = solution[:-1] / np.abs(X).max(axis=0), solution[-1]
    y_size = float(np.sqrt(np.mean(y**2)))
    t = spread * y_size
    v = t * np.array([1.0, -0.5, 0.25]) / np.sqrt(np.mean(X**2, axis=0))
    return Parameters.of_layers(np.array([coef + v, v]), np.array([1.0, -1.0]), np.array([intercept + t, t]), 0.0)


def exactly_linear(rows: int, seed: int, offset: float = 0.0, scale: float = 1.0):
    """Rows on which a linear map fits to float64's floor: y = c . x + c0 rounded once."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (rows, 3)) * scale + offset
    y = X @ np.array([2.0, -3.0, 0.5]) + 1.0 * scale
    return X, y


FLOOR_DATA = {
    "exact fit": lambda: exactly_linear(200, 1),
    "4 rows, 4 unknowns": lambda: generate(4, seed=5),
    "offset 1e6": lambda: exactly_linear(200, 2, offset=1e6),
    "scale 1e100": lambda: exactly_linear(200, 3, scale=1e100),
    "scale 1e-100": lambda: exactly_linear(200, 4, scale=1e-100),
    "3000 rows": lambda: exactly_linear(3000, 5),
}


def losses_in_many_orders(params: Parameters, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The same loss summed as different code (or another BLAS) might: network.py's, the
    blocked literal engine's, the rows permuted or reversed, pairwise, exactly rounded, one by
    one, and yhat from the collapsed map A theta instead of layer by layer."""
    rng = np.random.default_rng(0)
    residual = forward(params, X).yhat - y
    order = rng.permutation(len(y))
    permuted = forward(params, X[order]).yhat - y[order]
    theta = params.W_hidden.T @ params.w_out
    collapsed = X[::-1] @ theta + (params.b_hidden @ params.w_out + params.b_out) - y[::-1]
    n = len(y)
    losses = {
        "network.loss": loss(y, forward(params, X)),
        "permuted, add.reduce": float(np.add.reduce(permuted**2)) / n,
        "math.fsum": math.fsum(residual**2) / n,
        "reversed, one by one": sum(float(r) ** 2 for r in residual[::-1]) / n,
        "collapsed map, reversed rows": float(collapsed @ collapsed) / n,
    }
    if n >= LiteralEngine.LECTURE_ROWS:
        losses["literal engine, blocked"] = LiteralEngine(X, y, params.n_hidden).loss_and_gradients(params)[0]
    return losses


@pytest.mark.parametrize("data", FLOOR_DATA.values(), ids=FLOOR_DATA.keys())
def test_at_the_floor_every_order_of_summation_is_within_the_bound_of_the_exact_loss(data):
    X, y = data()
    params = least_squares_fit(X, y)
    exact = exact_loss(params, X, y)
    bound = LossRounding.of_rows(X, y)
    losses = losses_in_many_orders(params, X, y)
    for how, computed in losses.items():
        assert abs(mpmath.mpf(computed) - exact) <= bound.of(params, computed), how
    for a in losses.values():  # any two orders differ by rounding alone: within both bounds
        for b in losses.values():
            assert not beyond_rounding(a - b, bound.of(params, a), bound.of(params, b))


@pytest.mark.parametrize("activation,outputs,output_activation,convention", [
    ("tanh", 1, "identity", "mse"), ("relu", 1, "identity", "half-mse"), ("sigmoid", 1, "identity", "sse"),
    ("identity", 2, "identity", "mse"), ("tanh", 2, "sigmoid", "half-sse"), ("sigmoid", 1, "tanh", "mse"),
])
def test_the_bound_holds_with_activations_outputs_and_conventions(activation, outputs, output_activation, convention):
    rng = np.random.default_rng(7)
    X = rng.normal(0, 3, (60, 4)) + [0, 100, 0, -5]
    initial = init_parameters(rng, 4, 5, activation, n_outputs=outputs, output_activation=output_activation)
    params = initial.like(initial.vector * 40)  # large weights: large terms cancelling in each sum
    y = forward(params, X).yhat + 1e-13 * rng.normal(size=forward(params, X).yhat.shape)  # at the floor
    computed = loss(y, forward(params, X), convention)
    bound = LossRounding.of_rows(X, y, convention).of(params, computed)
    assert abs(mpmath.mpf(computed) - exact_loss(params, X, y, convention)) <= bound


def test_the_gram_engines_loss_moves_by_its_bound_at_most_where_the_exact_loss_does_not_move():
    # Two weights that compute the same linear map (the hidden layer times 4, the output
    # weights divided by 4: powers of two, exact): the exact loss is the same, so the Gram
    # engine's two losses differ by rounding alone.
    X, y = exactly_linear(500, 6)
    engine = GramEngine(X, y)
    first = least_squares_fit(X, y)
    W, w_out, b, b_out = first.W_hidden, first.w_out, first.b_hidden, first.b_out
    second = Parameters.of_layers(W * 4.0, w_out / 4.0, b * 4.0, b_out)
    a, b_loss = engine.loss(first), engine.loss(second)
    rounding = QuadraticRounding(engine)
    assert not beyond_rounding(a - b_loss, rounding.of(first, a), rounding.of(second, b_loss))
    assert max(a, b_loss) <= rounding.zero(first)  # an exact fit's loss: zero up to rounding


@pytest.mark.parametrize("order", ["as generated", "permuted", "reversed"])
@pytest.mark.parametrize("data", FLOOR_DATA.values(), ids=FLOOR_DATA.keys())
def test_at_the_floor_the_convergence_stop_fires_in_any_row_order(data, order):
    X, y = data()
    rows = {"as generated": np.arange(len(y)), "permuted": np.random.default_rng(1).permutation(len(y)),
            "reversed": np.arange(len(y))[::-1]}[order]
    initial = init_parameters(np.random.default_rng(0), 3, 2)
    plan = TrainingPlan()
    result = fit_rows(prepare(X[rows], y[rows], plan), initial, plan).result
    assert result.stop is StopReason.CONVERGED, (result.epochs_run, result.final_loss)


def test_with_many_rows_the_gram_engines_convergence_stop_fires_at_the_floor():
    X, y = exactly_linear(20_000, 8, offset=10.0)
    plan = TrainingPlan()
    fitted = fit_rows(prepare(X, y, plan), init_parameters(np.random.default_rng(0), 3, 2), plan)
    assert fitted.result.engine == "gram" and fitted.result.stop is StopReason.CONVERGED


def test_a_loss_moving_by_well_over_its_rounding_does_not_stop_and_one_within_it_does():
    X, y = generate(200, seed=3)
    params = least_squares_fit(X, y)
    rounding = LossRounding.of_rows(X, y)
    minimum = loss(y, forward(params, X))
    bound = rounding.of(params, minimum)

    tol = 16 * 2.0**-52  # float64's resolution of a sum of squares: far under the bound

    def stops(losses):
        convergence = Convergence(tol)
        return [convergence.reached(value, rounding, params) for value in losses][-1]

    assert bound > 1e3 * tol * minimum  # the tolerance alone would not stop any of these
    assert not stops([minimum + 10 * (20 - i) * bound for i in range(20)])  # falling by 10 bounds an epoch
    assert not stops([minimum + 0.04 * (20 - i) * bound for i in range(20)])  # falling to new lows, if slowly
    assert not stops([minimum + 10 * (i % 2) * bound for i in range(20)])  # no new low, but jumping by 10 bounds
    assert stops([minimum + 0.4 * (i % 2) * bound for i in range(20)])  # no new low, stirred within its rounding
    floor = rounding.zero(params)
    assert stops([floor * (1 - 0.01 * i) for i in range(10)])  # falling, but zero up to rounding


def worked_step(X, y, params, lr):
    """explain's worked epoch 1 from `params`, on the rows as they are."""
    plan = TrainingPlan(lr=lr, standardize=False, epochs=1)
    return work_epoch(prepare(X, y, plan), params, plan)


@pytest.mark.parametrize("data", FLOOR_DATA.values(), ids=FLOOR_DATA.keys())
def test_explain_calls_a_step_at_the_floor_within_rounding(data):
    X, y = data()
    params = least_squares_fit(X, y)
    lr = 1e-9 / max(1.0, float(np.mean(X**2)))  # a step the curvature of any of these rows allows
    assert "did not change beyond float64's rounding" in loss_verdict(worked_step(X, y, params, lr))


def test_explain_calls_a_change_well_above_the_bound_a_change():
    # Noisy rows at least squares, one weight moved: the step back moves the loss by far more
    # than rounding could.
    X, y = generate(200, seed=3)
    best = least_squares_fit(X, y, spread=0.0)
    moved = best.like(best.vector + np.eye(best.vector.size)[0] * 1e-5)
    change = loss(y, forward(best, X)) - loss(y, forward(moved, X))
    bound = LossRounding.of_rows(X, y)
    assert abs(change) > 100 * bound.of(moved, loss(y, forward(moved, X)))  # well above the bound
    verdict = loss_verdict(worked_step(X, y, moved, 0.01))
    assert verdict == "went down"


def test_gamma_is_the_textbook_constant():
    assert gamma(1) == pytest.approx(2.0**-53 / (1 - 2.0**-53), rel=1e-15)
    assert gamma(10) == pytest.approx(10 * 2.0**-53, rel=1e-14)


@pytest.mark.parametrize("scale", [1.0, 1e200, 1e-200, 0.0])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_the_columns_root_mean_square_is_the_closed_form_at_any_scale_and_layout(scale, layout):
    """Columns of +-c and +-2c (mean square 5c^2/2): their root mean square is c sqrt(5/2), computed
    by mpmath, in either memory layout, with squares that would overflow (1e200) or underflow (1e-200)."""
    from fwdback.rounding import root_mean_square

    pattern = np.array([[1.0, -2.0], [-2.0, 1.0], [2.0, 2.0], [-1.0, -1.0]])
    values = np.array(np.tile(pattern, (3, 1)) * scale, order=layout)
    expected = float(mpmath.mpf(scale) * mpmath.sqrt(mpmath.mpf(5) / 2))
    # 12 squares summed (11 roundings), a division and a square root: within 8 units of the last place
    assert np.allclose(root_mean_square(values), expected, rtol=8 * 2.0**-53, atol=0.0)
    assert np.allclose(root_mean_square(values[:, :1]), expected, rtol=8 * 2.0**-53, atol=0.0)
