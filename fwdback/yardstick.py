"""The least-squares yardstick: the best any weights of the linear network can do.

With no activation the network computes a linear function of x, so no weights can beat
ordinary least squares on A = [x1, x2, x3, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Parameters, collapsed_linear_map


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
    """np.linalg.lstsq on A = [X, 1].  X : shape (n, k), y : shape (n,)."""
    A = np.column_stack([X, np.ones(len(X))])
    solution, _, rank, _ = np.linalg.lstsq(A, y, rcond=None)
    residual = A @ solution - y
    centred = y - y.mean()
    return LeastSquares(
        coef=solution[:-1],
        intercept=float(solution[-1]),
        loss=float(residual @ residual) / len(y),
        constant_loss=float(centred @ centred) / len(y),
        zero_loss=float(y @ y) / len(y),
        unique=bool(rank == A.shape[1]),
        constant_columns=[j for j in range(X.shape[1]) if np.ptp(X[:, j]) == 0],
        rows=len(y),
    )


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


def compare(
    params: Parameters, final_loss: float, X: np.ndarray | None, y: np.ndarray | None, best: LeastSquares | None = None
) -> Comparison:
    """The network beside least squares on X, y, or beside `best` for rows not in memory (X, y = None)."""
    coef, intercept = collapsed_linear_map(params)
    return Comparison(coef, intercept, least_squares(X, y) if best is None else best, final_loss)


def balanced_minimizer(coef: np.ndarray, intercept: float, n_hidden: int = 2) -> Parameters:
    """Weights that compute the linear map coef . x + intercept, with both layers of equal norm.

    Hidden unit 1 carries coef / sqrt(|coef|), w_out[0] = sqrt(|coef|), the other units are
    zero and b_out is the intercept: a least-squares minimizer of the kind gradient descent
    from a small init approaches.
    """
    k = coef.size
    scale = np.sqrt(np.linalg.norm(coef))
    params = Parameters(np.zeros(k * n_hidden + 2 * n_hidden + 1), k, n_hidden)
    if scale > 0:
        params.W_hidden[0] = coef / scale
        params.w_out[0] = scale
    params.vector[-1] = intercept
    return params
