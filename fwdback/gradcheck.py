"""The gradient check: the backward pass against central finite differences of the loss.

For each parameter theta_j (w1..w8, b1..b3 for the lecture's network), with every other
parameter held fixed,

    numeric_j = (L(theta_j + h_j) - L(theta_j - h_j)) / (2 h_j)

Why central differences. A one-sided difference (L(theta + h) - L(theta)) / h is off by
h L''/2, an error O(h); the central one cancels the even terms of the Taylor series and is
off by h^2 L'''/6, O(h^2). For the lecture's network it is better still: yhat is linear in
any single parameter (yhat = w7*N1 + ..., N1 = w1*x1 + ...; the loss as a whole is a
polynomial of degree 4), so along one parameter's axis L is exactly a quadratic, L''' = 0,
and the central difference is exact up to rounding, for any step. With an activation that
stays true for the output layer's parameters only.

How the step is chosen. h_j = eps^(1/3) * max(1, |theta_j|), about 6e-6 for weights near 1.
For a smooth loss this balances truncation, h^2 |L'''| / 6, against rounding, about
eps |L| / h (two losses, each off by about eps |L|, subtracted and divided by 2h); the sum
is smallest at h = (3 eps |L| / |L'''|)^(1/3): eps^(1/3) times a scale unknown in advance,
for which max(1, |theta_j|) stands in, as usual (Numerical Recipes, section 5.7). For the
lecture's network no truncation is left to balance, so a larger step would round less; the
standard step keeps the check sound with an activation, and its rounding (1e-9 of a
gradient or less at random weights) is far below the tolerance. With relu, a step that would carry
some row's hidden input across 0, relu's kink, is divided by 10 until it does not.

Relative error. |a - n| / max(|a|, |n|, uncertainty / tol), for analytic a and numeric n.
At a converged point every gradient is about zero and a and n are both rounding noise, so a
plain |a - n| / max(|a|, |n|) would be about 1 there. `uncertainty` estimates how far n can
be from the true derivative: rounding (`loss_rounding`, for both losses, over the distance
between the two points) plus truncation, |n(2h) - n(h)| / 3 (truncation grows as h^2, so
the difference of the two is 3 times the truncation at h). So a check passes when a and n
agree to the relative tolerance, or, for gradients so small that tol * |gradient| is below
the uncertainty, when they differ by less than the uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Parameters, backward, forward, mse_loss

EPS = float(np.finfo(np.float64).eps)
# Observed |analytic - numeric| stayed below 1.7 times the bare rounding estimate, at random
# and at least-squares weights, on 1 to 100,000 rows, with data scaled from 1e-3 to 1e3.
ROUNDING_MARGIN = 10.0
# A step is divided by 10 at most this many times to keep off a relu kink.
KINK_RETRIES = 4


@dataclass
class GradientCheck:
    """One parameter's check.

    analytic        dL/dparameter from network.backward
    numeric         the central difference of the loss
    step            h: the parameter was moved to value + h and value - h
    uncertainty     how far `numeric` may be from the true derivative (rounding and truncation)
    relative_error  |analytic - numeric| / max(|analytic|, |numeric|, uncertainty / tol)
    ok              relative_error < tol
    kink            relu only: no step kept every row's hidden input on one side of 0, so the
                    derivative may not exist here
    """

    parameter: str
    analytic: float
    numeric: float
    step: float
    uncertainty: float
    relative_error: float
    ok: bool
    kink: bool = False


def step_size(value: float) -> float:
    """h = eps^(1/3) * max(1, |value|): the step that balances truncation and rounding."""
    return EPS ** (1 / 3) * max(1.0, abs(float(value)))


def check_gradients(params: Parameters, X: np.ndarray, y: np.ndarray, tol: float = 1e-6) -> list[GradientCheck]:
    """network.backward against central differences of network.mse_loss, one row per parameter.

    X : shape (n, k), y : shape (n,). Rows are in the lecture's order, w1..w8, b1..b3.
    """
    with np.errstate(all="ignore"):
        return _check_gradients(params, X, y, tol)


def _check_gradients(params: Parameters, X: np.ndarray, y: np.ndarray, tol: float) -> list[GradientCheck]:
    analytic = backward(params, X, y, forward(params, X)).vector
    sides = forward(params, X).Z > 0 if params.activation == "relu" else None
    rows = []
    for j, name in enumerate(params.names):
        h = step_size(params.vector[j])
        kink = sides is not None and _crosses_kink(params, X, j, 2 * h, sides)
        for _ in range(KINK_RETRIES):
            if not kink:
                break
            h /= 10
            kink = _crosses_kink(params, X, j, 2 * h, sides)
        numeric, rounding = central_difference(params, X, y, j, h)
        truncation = abs(central_difference(params, X, y, j, 2 * h)[0] - numeric) / 3
        uncertainty = rounding + truncation
        a = float(analytic[j])
        error = relative_error(a, numeric, uncertainty / tol)
        rows.append(GradientCheck(name, a, numeric, h, uncertainty, error, error < tol, kink))
    return rows


def central_difference(params: Parameters, X: np.ndarray, y: np.ndarray, j: int, h: float) -> tuple[float, float]:
    """(L(theta_j + h) - L(theta_j - h)) / distance, and how far rounding may move it.

    The distance is that between the two points actually evaluated, about 2h.
    X : shape (n, k), y : shape (n,).
    """
    up, down = _moved(params, j, h), _moved(params, j, -h)
    distance = float(up.vector[j] - down.vector[j])
    difference = mse_loss(y, forward(up, X).yhat) - mse_loss(y, forward(down, X).yhat)
    return difference / distance, (loss_rounding(up, X, y) + loss_rounding(down, X, y)) / distance


def relative_error(analytic: float, numeric: float, floor: float) -> float:
    """|a - n| / max(|a|, |n|, floor); 0 when a == n."""
    difference = abs(analytic - numeric)
    if difference == 0:
        return 0.0
    return float(difference / max(abs(analytic), abs(numeric), floor, np.finfo(np.float64).tiny))


def loss_rounding(params: Parameters, X: np.ndarray, y: np.ndarray) -> float:
    """About how far float64 rounding can move the computed loss at `params`.

    Each residual r_i = y_i - yhat_i is off by a few eps times the size of the numbers summed
    into it, |y_i| + s_i, where s_i is yhat_i computed from |weights| and |x|. The loss
    (1/n) sum r_i^2 then moves by about eps * mean(|r_i| (|y_i| + s_i)), times a small
    constant, ROUNDING_MARGIN. X : shape (n, k), y : shape (n,).
    """
    yhat = forward(params, X).yhat
    size = forward(params.like(np.abs(params.vector)), np.abs(X)).yhat
    return ROUNDING_MARGIN * EPS * float(np.mean(np.abs(y - yhat) * (np.abs(y) + size)))


def _crosses_kink(params: Parameters, X: np.ndarray, j: int, h: float, sides: np.ndarray) -> bool:
    """Whether moving parameter j by up to +-h turns some row's hidden input z across 0.

    z is linear in any one parameter, so looking at the two ends of the interval is enough.
    X : shape (n, k), sides : shape (n, H), z > 0 at the unmoved parameters.
    """
    return any(not np.array_equal(forward(_moved(params, j, step), X).Z > 0, sides) for step in (h, -h))


def _moved(params: Parameters, j: int, h: float) -> Parameters:
    vector = params.vector.copy()
    vector[j] += h
    return params.like(vector)
