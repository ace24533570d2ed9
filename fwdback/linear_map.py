"""The linear network as one linear map, and least squares: the best any of its weights can do.

With no activation the network computes a linear function of x,

    yhat = (w7 w1 + w8 w4) x1 + (w7 w2 + w8 w5) x2 + (w7 w3 + w8 w6) x3 + (w7 b1 + w8 b2 + b3),

so no weights can beat ordinary least squares on A = [x1, x2, x3, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Parameters


def collapsed_linear_map(params: Parameters) -> tuple[np.ndarray, float]:
    """The linear function an identity-activation network computes: yhat = coef . x + intercept.

    coef_j = sum_h w_out[h] * W_hidden[h, j] (for x1: w7*w1 + w8*w4) and
    intercept = w_out . b_hidden + b_out (w7*b1 + w8*b2 + b3). coef : shape (k,).
    """
    return params.w_out @ params.W_hidden, float(params.w_out @ params.b_hidden + params.b_out)


def linear_map_formulas(params: Parameters) -> list[list[str]]:
    """How each coefficient of the collapsed map is made, as products of names: for x1
    [["w7", "w1"], ["w8", "w4"]], ..., then for the intercept [["w7", "b1"], ["w8", "b2"], ["b3"]]."""
    out, W, b = params.w_out_names, params.W_hidden_names, params.b_hidden_names
    formulas = [[[out[h], W[h, j]] for h in range(params.n_hidden)] for j in range(params.n_inputs)]
    return formulas + [[[out[h], b[h]] for h in range(params.n_hidden)] + [[params.b_out_name]]]


@dataclass
class LeastSquares:
    """The least-squares fit on [x, 1], and the loss of the best constant (the mean of y).

    unique is False when the columns of [x, 1] are linearly dependent (a constant column,
    one column a multiple of another, fewer rows than columns): then many coefficient sets
    reach the same best loss, and `coef`, `intercept` are the one of smallest norm.
    """

    coef: np.ndarray
    intercept: float
    loss: float
    constant_loss: float
    zero_loss: float
    unique: bool
    constant_columns: list[int]
    rows: int

    @property
    def rounding(self) -> float:
        """Losses this small are zero up to float64 rounding, on the scale of y."""
        return 1e-12 * max(self.zero_loss, np.finfo(float).tiny)


def least_squares(X: np.ndarray, y: np.ndarray) -> LeastSquares:
    """The least-squares fit of y on A = [X, 1].  X : shape (n, k), y : shape (n,).

    np.linalg.lstsq on the columns centred and divided by their largest deviation, and y by
    its largest value, so that a column of values around 1e9 (or 1e300) beside others around 1
    keeps every direction the data span (lstsq drops those below eps times the largest
    singular value) and no square overflows; the intercept then follows from the means.
    """
    largest = _largest(X)
    mean = np.mean(X / largest, axis=0) * largest
    deviation = X - mean
    width = _largest(deviation)
    size = float(_largest(y[:, None])[0])
    centred = y - y.mean()
    solution, _, rank, _ = np.linalg.lstsq(deviation / width, centred / size, rcond=None)
    coef = solution * size / width
    intercept = float(y.mean() - mean @ coef)
    residual = deviation @ coef - centred
    return LeastSquares(
        coef=coef,
        intercept=intercept,
        loss=_mean_square(residual),
        constant_loss=_mean_square(centred),
        zero_loss=_mean_square(y),
        unique=bool(rank == X.shape[1]),
        constant_columns=[j for j in range(X.shape[1]) if np.ptp(X[:, j]) == 0],
        rows=len(y),
    )


def _largest(A: np.ndarray) -> np.ndarray:
    """Each column's largest |value|, 1 where the column is all zeros.  A : shape (n, k)."""
    largest = np.max(np.abs(A), axis=0, initial=0.0)
    return np.where(largest > 0, largest, 1.0)


def _mean_square(values: np.ndarray) -> float:
    """mean(values^2), without overflow where the squares would (values around 1e200)."""
    scale = float(np.max(np.abs(values), initial=0.0)) or 1.0
    return float(np.mean((values / scale) ** 2)) * scale * scale


@dataclass
class Comparison:
    """The trained network's linear map beside the least-squares one."""

    coef: np.ndarray
    intercept: float
    best: LeastSquares
    final_loss: float

    @property
    def gap(self) -> float:
        """How far above the best achievable loss training stopped."""
        return self.final_loss - self.best.loss

    @property
    def relative_gap(self) -> float | None:
        """gap / best loss; None where the best loss is zero up to rounding."""
        return None if self.best.loss <= self.best.rounding else self.gap / self.best.loss

    @property
    def converged(self) -> bool:
        """Within 1% of the best achievable loss, or of zero up to rounding."""
        return self.gap <= 0.01 * self.best.loss + self.best.rounding


def compare(params: Parameters, final_loss: float, best: LeastSquares) -> Comparison:
    """The network's linear map beside the best one, `best`, of the rows it trained on."""
    coef, intercept = collapsed_linear_map(params)
    return Comparison(coef, intercept, best, final_loss)


def balanced_minimizers(coef: np.ndarray, intercept: float, n_hidden: int = 2) -> tuple[Parameters, Parameters]:
    """Two weights of the linear network that compute coef . x + intercept, both layers of equal norm.

    Hidden unit 1 carries the map, the other units are zero. In the first the output bias holds
    the intercept: w_hidden = coef / sqrt(|coef|), w_out = sqrt(|coef|), b_out = intercept. In
    the second unit 1's bias holds it too, as if it were one more coefficient (of the input 1):
    [w_hidden, b_hidden] = theta / sqrt(|theta|), w_out = sqrt(|theta|), theta = [coef, intercept].
    Gradient descent from a small start settles between the two; a large intercept makes the
    second's curvature, and so the step it allows, much the smaller.
    """
    k = coef.size
    minimizers = []
    for theta, b_out in ((coef, intercept), (np.append(coef, intercept), 0.0)):
        scale = np.sqrt(np.linalg.norm(theta))
        W_tilde, w_out = np.zeros((n_hidden, k + 1)), np.zeros(n_hidden)
        if scale > 0:
            W_tilde[0, : theta.size], w_out[0] = theta / scale, scale
        minimizers.append(Parameters.of_layers(W_tilde[:, :k], w_out, W_tilde[:, k], b_out))
    return minimizers[0], minimizers[1]
