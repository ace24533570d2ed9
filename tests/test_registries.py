"""Every entry of the registries (activations.py, losses.py, optimizers.py) against an independent
reference: each activation's function against mpmath and its derivative against central
differences, each loss convention's value and gradient against its definition and finite
differences, each update rule's first two steps against its formulas worked by hand. A new
entry without a reference here fails test_every_entry_has_a_reference."""

from __future__ import annotations

import dataclasses
import math
import re
import warnings

import mpmath
import numpy as np
import pytest

from fwdback.activations import ACTIVATION_NAMES, ACTIVATIONS, OUTPUT_ACTIVATION_NAMES
from fwdback.losses import LOSSES, REGRESSION_LOSS_NAMES
from fwdback.network import ForwardPass, Gradients, Parameters, as_rows, backward, forward, loss
from fwdback.optimizers import RULES, RULES_BY_SETTING, OptimizerSettings

U = 2.0**-53  # float64's unit roundoff

mpmath.mp.dps = 40
# act(z) to 40 digits, and sup |act'''(z)| (the central difference's truncation is h^2/6 of it).
MP_ACTIVATIONS = {
    "identity": (lambda z: z, 0.0),
    "tanh": (mpmath.tanh, 2.0),  # tanh''' = -2 (1 - t^2)(1 - 3 t^2): |.| <= 2, at z = 0
    "relu": (lambda z: max(z, 0), 0.0),  # linear on each side of its kink
    "sigmoid": (lambda z: 1 / (1 + mpmath.exp(-z)), 1 / 8),  # s''' = s(1-s)(1 - 6 s(1-s)): |.| <= 1/8
}
# c(n) of L = c(n) sum (y - yhat)^2, as each convention is defined.
SCALES = {"mse": lambda n: 1 / n, "half-mse": lambda n: 1 / (2 * n), "sse": lambda n: 1.0, "half-sse": lambda n: 0.5}
SETTINGS = {"momentum": 0.8, "beta1": 0.7, "beta2": 0.95, "epsilon": 1e-3}


def _gd(w, g1, g2, eta, s):
    w1 = [w - eta * g for w, g in zip(w, g1)]
    return w1, [w - eta * g for w, g in zip(w1, g2)]


def _momentum(w, g1, g2, eta, s, nesterov=False):
    mu = s["momentum"]
    v1 = [-eta * g for g in g1]  # v0 = 0
    w1 = [w + (mu * v - eta * g if nesterov else v) for w, v, g in zip(w, v1, g1)]
    v2 = [mu * v - eta * g for v, g in zip(v1, g2)]
    return w1, [w + (mu * v - eta * g if nesterov else v) for w, v, g in zip(w1, v2, g2)]


def _adam(w, g1, g2, eta, s):
    b1, b2, eps = s["beta1"], s["beta2"], s["epsilon"]
    m1 = [(1 - b1) * g for g in g1]
    s1 = [(1 - b2) * g * g for g in g1]
    w1 = [w - eta * (m / (1 - b1)) / (math.sqrt(v / (1 - b2)) + eps) for w, m, v in zip(w, m1, s1)]
    m2 = [b1 * m + (1 - b1) * g for m, g in zip(m1, g2)]
    s2 = [b2 * v + (1 - b2) * g * g for v, g in zip(s1, g2)]
    return w1, [w - eta * (m / (1 - b1**2)) / (math.sqrt(v / (1 - b2**2)) + eps) for w, m, v in zip(w1, m2, s2)]


# Two steps of each rule from w with gradients g1 then g2, by its formulas (module docstring of optimizers.py).
HAND_STEPS = {"gd": _gd, "momentum": _momentum, "nesterov": lambda *a: _momentum(*a, nesterov=True), "adam": _adam}


def test_every_entry_has_a_reference():
    assert set(MP_ACTIVATIONS) == set(ACTIVATION_NAMES)
    assert set(SCALES) == set(REGRESSION_LOSS_NAMES)
    assert set(HAND_STEPS) == set(RULES)
    assert set(OUTPUT_ACTIVATION_NAMES) <= set(ACTIVATIONS)


@pytest.mark.parametrize("name", [name for name in ACTIVATION_NAMES if not ACTIVATIONS[name].identity])
def test_activation_function_matches_mpmath(name):
    """act(z) within the roundings its record declares (each at most u relative, one u more for
    the last rounding of the result), plus u of z's size for functions whose result cancels."""
    act = ACTIVATIONS[name]
    Z = np.linspace(-6.0, 6.0, 241)
    exact = np.array([float(MP_ACTIVATIONS[name][0](mpmath.mpf(z))) for z in Z])
    bound = (act.roundings + 1) * U * (np.abs(exact) + 1.0)
    assert np.all(np.abs(act.function(Z) - exact) <= bound)


@pytest.mark.parametrize("name", [name for name in ACTIVATION_NAMES if not ACTIVATIONS[name].identity])
def test_activation_derivative_matches_central_differences(name):
    """(act(z + h) - act(z - h)) / (distance) against act'(z) = derivative(z, act(z)).

    The error of the central difference is at most h^2/6 sup|act'''| (truncation) plus the
    rounding of the two values, each within (roundings + 1) u |act| (roundings from the record;
    |act| <= 1 + |z|), divided by the distance ~2h; the derivative's own formula adds a few u.
    h = 1e-5 balances the two at about 1e-10. A kink (relu) is kept 2h away from every z."""
    act = ACTIVATIONS[name]
    h = 1e-5
    Z = np.linspace(-6.0, 6.0, 241)
    if act.kink:
        Z = Z[np.abs(Z) > 2 * h]
    up, down = Z + h, Z - h
    numeric = (act.function(up) - act.function(down)) / (up - down)
    analytic = act.derivative(Z, act.function(Z))
    truncation = h**2 / 6 * MP_ACTIVATIONS[name][1]
    rounding = 2 * (act.roundings + 1) * U * (1.0 + np.abs(Z) + h) / (up - down) + 8 * U
    assert np.all(np.abs(numeric - analytic) <= truncation + rounding)


# z out to +-800 (the sigmoid's exp(-z) overflows below z = -709.78), infinities and NaN, shape (3, 160)
KERNEL_Z = np.concatenate([np.linspace(-6.0, 6.0, 240), np.linspace(-800.0, 800.0, 237), [-np.inf, np.inf, np.nan]]).reshape(3, -1)


@pytest.mark.parametrize("name", [name for name in ACTIVATION_NAMES if not ACTIVATIONS[name].identity])
def test_activation_kernels_compute_what_the_function_and_derivative_do(name):
    """The engines' kernels, into another array and in place, small arrays and large (19,200
    elements, where relu's take other loops), give network.py's values bit for bit (the mini-batch
    engine's results differ from network.py's only in the order of their sums), silently."""
    act = ACTIVATIONS[name]
    for Z in (KERNEL_Z, np.tile(KERNEL_Z, 40)):
        N, slope, N_in_place = np.empty_like(Z), np.empty_like(Z), Z.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            act.into(Z, N)
            act.into(N_in_place, N_in_place)
            act.slope_into(N, slope)
            act.slope_into(N_in_place, N_in_place)
        np.testing.assert_array_equal(N, act.function(Z))
        np.testing.assert_array_equal(slope, act.derivative(Z, N))
        np.testing.assert_array_equal(N_in_place, slope)


@pytest.mark.parametrize("name", [name for name in ACTIVATION_NAMES if ACTIVATIONS[name].of_negated])
def test_kernels_from_minus_z_match_mpmath_and_the_function(name):
    """act(z) from -z, in place (the literal engine's sigmoid, 1 / (1 + exp(-z))), against mpmath
    within the roundings the record declares, relative to the value (one below float64's smallest
    normal may come out as 0, where exp(-z) overflows), and against network.py's function within
    both's bounds (this one's, and test_activation_function_matches_mpmath's, which allows u of
    cancellation), without a warning; inf and NaN as network.py's; large arrays as small."""
    act = ACTIVATIONS[name]
    Z = KERNEL_Z
    N, big = -Z, -np.tile(Z, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        act.of_negated(N)
        act.of_negated(big)
    finite = np.isfinite(Z)
    exact = np.array([float(MP_ACTIVATIONS[name][0](mpmath.mpf(z))) for z in Z[finite]])
    kernel_bound = (act.roundings + 1) * U * np.abs(exact) + np.finfo(float).tiny
    assert np.all(np.abs(N[finite] - exact) <= kernel_bound)
    function_bound = (act.roundings + 1) * U * (np.abs(exact) + 1.0)
    assert np.all(np.abs(N[finite] - act.function(Z)[finite]) <= kernel_bound + function_bound)
    np.testing.assert_array_equal(N[~finite], act.function(Z)[~finite])
    np.testing.assert_array_equal(big, np.tile(N, 40))


def _passed(yhat: np.ndarray) -> ForwardPass:
    """A forward pass whose outputs are `yhat`, shape (n, m), with no activation: what network.loss reads."""
    return ForwardPass(None, None, as_rows(yhat), as_rows(yhat))


@pytest.mark.parametrize("name", REGRESSION_LOSS_NAMES)
def test_loss_value_and_gradient_match_the_definition_and_finite_differences(name):
    """L = c(n) sum_ij (y - yhat)^2 by its definition, and dL/dyhat (backward's dL_dYhat) by
    central differences. L is quadratic in each yhat, so the central difference has no truncation
    error: what is left is the rounding of the two losses (each a sum of n m squares, within
    gamma(n m + 2) of the sum of squares, times c(n)), over the distance ~2h, and the midpoint of
    the two points being within u |yhat_ij| of yhat_ij (L's second derivative is 2 c(n))."""
    rng = np.random.default_rng(3)
    n, m = 5, 2
    y, yhat = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    c = SCALES[name](n)
    expected = c * sum((a - b) ** 2 for a, b in zip(y.ravel().tolist(), yhat.ravel().tolist()))
    gamma = (n * m + 2) * U / (1 - (n * m + 2) * U)
    assert abs(loss(y, _passed(yhat), name) - expected) <= 2 * gamma * expected

    params = Parameters(np.zeros(2 * (1 + m) + 2 + m), n_inputs=1, n_hidden=2, n_outputs=m)
    fwd = forward(params, np.zeros((n, 1)))
    fwd.Yhat = as_rows(yhat)  # backward reads yhat from the forward pass: take it as given
    analytic = backward(params, np.zeros((n, 1)), y, fwd, name).dL_dYhat.T
    h = 1e-4
    for i in range(n):
        for j in range(m):
            up, down = yhat.copy(), yhat.copy()
            up[i, j] += h
            down[i, j] -= h
            distance = up[i, j] - down[i, j]
            numeric = (loss(y, _passed(up), name) - loss(y, _passed(down), name)) / distance
            rounding = gamma * c * (np.sum((y - up) ** 2) + np.sum((y - down) ** 2)) / distance
            bound = 2 * rounding + 2 * c * U * abs(yhat[i, j]) + 4 * U * abs(numeric)
            assert abs(numeric - analytic[i, j]) <= bound


@pytest.mark.parametrize("name", RULES)
def test_update_rule_first_two_steps_match_the_formulas_by_hand(name):
    """Two steps from w0 with gradients g1, g2 against the rule's formulas worked with Python
    floats. Each weight is at most eight operations from w0 and g, each within u of its result,
    and the results are of the size of w (about 1): 16 u |w| bounds the difference."""
    rng = np.random.default_rng(7)
    w0, g1, g2 = rng.normal(size=11), rng.normal(size=11), rng.normal(size=11)
    eta = 0.05
    settings = OptimizerSettings(name, **SETTINGS)
    optimizer = settings.optimizer(eta, w0.size)
    params = Parameters(w0)
    first = optimizer.step(params, Gradients(g1))
    second = optimizer.step(first, Gradients(g2))
    hand_first, hand_second = HAND_STEPS[name](w0.tolist(), g1.tolist(), g2.tolist(), eta, SETTINGS)
    for got, hand in ((first.vector, hand_first), (second.vector, hand_second)):
        hand = np.array(hand)
        assert np.all(np.abs(got - hand) <= 16 * U * (np.abs(hand) + 1.0))
    assert optimizer.t == 2
    assert set(optimizer.record()) == {"t", *settings.state_names}


def test_no_name_is_compared_outside_its_registry():
    """Code dispatches on the records, never on a name: no `== "tanh"`, `in ("momentum", ...)` or
    table keyed by these names in fwdback/ outside the three registries (a key that is also a
    setting's name, momentum, is the setting's)."""
    from pathlib import Path

    import fwdback
    from fwdback.plan import TrainingPlan

    every = (*ACTIVATIONS, *LOSSES, *RULES)
    names = "|".join(map(re.escape, every))
    keys = "|".join(re.escape(name) for name in every if name not in {f.name for f in dataclasses.fields(TrainingPlan)})
    compared = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=|\bin\b)|[{{,]\s*["']({keys})["']\s*:""")
    registries = {"activations.py", "losses.py", "optimizers.py"}
    root = Path(fwdback.__file__).parent
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}"
             for path in sorted(root.rglob("*.py")) if path.name not in registries or path.parent != root
             for number, line in enumerate(path.read_text().splitlines(), start=1) if compared.search(line)]
    assert found == []


def test_each_hyper_parameter_is_read_by_the_rules_whose_formulas_have_it():
    """mu is in momentum's and Nesterov's formulas, beta1, beta2 and epsilon in Adam's (optimizers.py)."""
    assert RULES_BY_SETTING == {"momentum": ("momentum", "nesterov"), "beta1": ("adam",), "beta2": ("adam",),
                                "epsilon": ("adam",)}
