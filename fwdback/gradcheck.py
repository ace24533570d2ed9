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
gradient or less at random weights) is far below the tolerance.

Relu's kink. Along one parameter a row's hidden input z moves linearly, so the loss is smooth
on the piece between two kinks, where it equals the loss with every row's side of the kink
held (N = z * [z > 0] at the point). When a kink is within two steps, the differences are
taken of that held loss: the derivative of the piece the point lies on, which is the loss's
derivative, however close the kink (1e-12 away, say). Exactly at a kink (z = 0) the loss has
no derivative; the held loss then checks the side the backward pass takes.

Relative error. |a - n| / max(|a|, |n|), for analytic a and numeric n. A check passes when
that is below tol, or when a and n differ by less than the difference quotient's
`uncertainty`: how far n can be from the true derivative, rounding (rounding.LossRounding's
bound for each of the two losses, over the distance between the two points) plus truncation, |n(2h) - n(h)| / 3
(truncation grows as h^2, so the difference of the two is 3 times the truncation at h). At a
converged point every gradient is about zero and a and n are both rounding noise (a relative
error of about 1), and no finite difference can check any gradient more closely than its
uncertainty (a tol of 1e-12, say): those pass by rounding, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .network import ForwardPass, Parameters, backward, forward, loss
from .rounding import LossRounding

EPS = float(np.finfo(np.float64).eps)


@dataclass
class GradientCheck:
    """One parameter's check.

    analytic        dL/dparameter from network.backward
    numeric         the central difference of the loss
    step            h: the parameter was moved to value + h and value - h
    uncertainty     how far `numeric` may be from the true derivative (rounding and truncation)
    relative_error  |analytic - numeric| / max(|analytic|, |numeric|)
    ok              relative_error < tol, or |analytic - numeric| <= uncertainty
    by_rounding     ok only by the uncertainty: the two agree within the difference quotient's
                    rounding and truncation, which is more than tol of them
    pattern_held    relu only: some row's hidden input is within two steps of 0 (relu's kink), so
                    the differences were taken with every row's side of the kink held as it is
    kink            relu only: some row's hidden input is exactly 0, where the loss has no
                    derivative; the check is then of the side the backward pass takes (relu'(0) = 0)
    """

    parameter: str
    analytic: float
    numeric: float
    step: float
    uncertainty: float
    relative_error: float
    ok: bool
    by_rounding: bool = False
    pattern_held: bool = False
    kink: bool = False


def step_size(value: float) -> float:
    """h = eps^(1/3) * max(1, |value|): the step that balances truncation and rounding."""
    return EPS ** (1 / 3) * max(1.0, abs(float(value)))


def check_gradients(
    params: Parameters, X: np.ndarray, y: np.ndarray, tol: float = 1e-6, convention: str = "mse"
) -> list[GradientCheck]:
    """network.backward against central differences of network.loss (in a loss convention,
    losses.LOSSES), one row per parameter.

    X : shape (n, k), y : shape (n,) or (n, m). Rows are in the lecture's order, w1..w8, b1..b3.
    """
    with np.errstate(all="ignore"):
        return _check_gradients(params, X, y, tol, convention)


def _check_gradients(params: Parameters, X: np.ndarray, y: np.ndarray, tol: float, convention: str) -> list[GradientCheck]:
    analytic = backward(params, X, y, forward(params, X), convention).gradients.vector
    mask = (forward(params, X).Z > 0).astype(np.float64) if ACTIVATIONS[params.activation].kink else None
    rows = []
    for j, name in enumerate(params.names):
        h = step_size(params.vector[j])
        distance = np.inf if mask is None else kink_distance(params, X, j)
        held = mask if distance <= 2 * h else None
        numeric, rounding = central_difference(params, X, y, j, h, held, convention)
        truncation = abs(central_difference(params, X, y, j, 2 * h, held, convention)[0] - numeric) / 3
        uncertainty = rounding + truncation
        a = float(analytic[j])
        error = relative_error(a, numeric)
        within = abs(a - numeric) <= uncertainty
        rows.append(GradientCheck(name, a, numeric, h, uncertainty, error, error < tol or within, within and error >= tol,
                                  held is not None, distance == 0))
    return rows


def kink_distance(params: Parameters, X: np.ndarray, j: int) -> float:
    """How far parameter j can move before some row's hidden input crosses 0, relu's kink.

    A hidden weight w (unit h, input i) moves z_h of row r by its x_ri per unit, a hidden bias
    by 1, so row r's kink is |z_rh| / |x_ri| away; the output layer moves no z (inf).
    X : shape (n, k).
    """
    name = params.names[j]
    weight, bias = np.argwhere(params.W_hidden_names == name), np.flatnonzero(params.b_hidden_names == name)
    if len(weight):
        (unit, column), = weight
        slope = np.abs(X[:, column])
    elif len(bias):
        unit, slope = bias[0], np.ones(len(X))
    else:
        return np.inf
    z = np.abs(forward(params, X).Z[unit])
    moved = slope > 0
    return float(np.min(z[moved] / slope[moved])) if moved.any() else np.inf


def central_difference(
    params: Parameters, X: np.ndarray, y: np.ndarray, j: int, h: float, mask: np.ndarray | None = None,
    convention: str = "mse",
) -> tuple[float, float]:
    """(L(theta_j + h) - L(theta_j - h)) / distance, and how far rounding may move it.

    The distance is that between the two points actually evaluated, about 2h. With `mask`,
    shape (H, n), relu's pattern is held: N = z * mask, the loss on the piece the point lies on.
    X : shape (n, k), y : shape (n,) or (n, m).
    """
    up, down = _moved(params, j, h), _moved(params, j, -h)
    distance = float(up.vector[j] - down.vector[j])
    loss_up, loss_down = _loss(up, X, y, mask, convention), _loss(down, X, y, mask, convention)
    bounds = LossRounding.of_rows(X, y, convention)
    return (loss_up - loss_down) / distance, (bounds.of(up, loss_up) + bounds.of(down, loss_down)) / distance


def _loss(params: Parameters, X: np.ndarray, y: np.ndarray, mask: np.ndarray | None, convention: str) -> float:
    """The loss, with relu's pattern held by `mask` (shape (H, n)) where one is given."""
    if mask is None:
        return loss(y, forward(params, X), convention)
    Z = forward(params, X).Z
    N = Z * mask
    A = params.W_out @ N + params.b_outputs[:, None]
    out = ACTIVATIONS[params.output_activation]
    return loss(y, ForwardPass(Z, N, A, A if out.identity else out.function(A)), convention)


def relative_error(analytic: float, numeric: float) -> float:
    """|a - n| / max(|a|, |n|); 0 when a == n."""
    difference = abs(analytic - numeric)
    if difference == 0:
        return 0.0
    return float(difference / max(abs(analytic), abs(numeric)))


def _moved(params: Parameters, j: int, h: float) -> Parameters:
    vector = params.vector.copy()
    vector[j] += h
    return params.like(vector)
