"""The O(1) epoch: full-batch loss and gradients of the linear network from one pass over the data.

With the identity activation the network computes yhat = A theta, where A = [X, 1] and
theta = W~^T w_out + b_out e (W~ = [W_hidden, b_hidden], e = the last unit vector) is the
collapsed linear map. The MSE loss is a quadratic in theta, so around any reference point
theta0 it is exactly

    L(theta) = L0 + g0 . d + d^T G d,        d = theta - theta0, G = A^T A / n,
    g = dL/dtheta = g0 + 2 G d                (= A^T dL/dyhat),

with L0 and g0 = 2 A^T (A theta0 - y) / n the loss and gradient at theta0. The chain rule
then gives every parameter's gradient without touching a row again:

    dL/dW~ = outer(w_out, g)      (dL/dw1 = w7 g_1, ...)
    dL/dw_out = W~ g,             dL/db_out = g[-1]

theta0 is the least-squares solution, so near the optimum d is small and the loss keeps its
relative precision there (the expanded form theta^T G theta - 2 theta^T b + y.y/n would
cancel to nothing). Building G, L0 and g0 takes two passes over the rows, which may come in
chunks (`from_chunks`: a CSV larger than memory is streamed); every epoch after that costs
O(k^2), whatever n is. What limits the agreement with the literal engine is the
conditioning of G: where it is large (badly scaled or nearly dependent columns), `exact`
says no and the literal engine runs instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..errors import SquaresOverflow
from ..linear_map import LeastSquares
from ..network import Gradients, Parameters, loss_divisor
from ..stepsize import gram_root

# Above this condition number of G the Gram form may drift from the literal engine by more than
# 1e-9: over 3000 epochs the losses agreed to 1e-11 at cond(G) = 2e10 and to 5e-9 at 3e12.
MAX_CONDITION = 1e10


def first_pass_sums(X: np.ndarray, y: np.ndarray) -> tuple:
    """One piece's terms of the first pass: (its rows m, A^T A without its corner n, shape
    (k + 1, k + 1), A^T y, shape (k + 1,), y.y, each column's smallest and largest value).
    X : shape (m, k), y : shape (m,)."""
    m, k = X.shape
    AtA, Aty = np.zeros((k + 1, k + 1)), np.zeros(k + 1)
    AtA[:k, :k] = X.T @ X
    AtA[:k, k] = AtA[k, :k] = X.sum(axis=0)
    Aty[:k], Aty[k] = X.T @ y, y.sum()
    return m, AtA, Aty, float(y @ y), X.min(axis=0, initial=np.inf), X.max(axis=0, initial=-np.inf)


def second_pass_sums(X: np.ndarray, y: np.ndarray, theta0: np.ndarray, mean_y: float) -> tuple:
    """One piece's terms of the second pass: r.r, A^T r (r = A theta0 - y) and the sum of (y - mean_y)^2."""
    k = X.shape[1]
    residual = X @ theta0[:k] + theta0[k] - y
    deviation = y - mean_y
    return float(residual @ residual), np.append(X.T @ residual, residual.sum()), float(deviation @ deviation)


class GramEngine:
    """Loss and gradients at any weights in O(k^2), after two O(n k) passes over the rows."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        """X : shape (n, k), y : shape (n,): rows in memory, taken as one chunk."""
        self._fit(lambda: iter([(X, y)]))

    @classmethod
    def from_chunks(cls, make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]) -> GramEngine:
        """The engine of rows that are read in chunks and never held together.

        `make_chunks()` returns a fresh iterable of (X, y), X : shape (m, k), y : shape (m,);
        it is called twice, once for each pass.
        """
        engine = cls.__new__(cls)
        engine._fit(make_chunks)
        return engine

    @classmethod
    def from_sums(cls, first: Iterable[tuple], second: Callable[[np.ndarray, float], Iterable[tuple]]) -> GramEngine:
        """The engine of rows held elsewhere (a Dask cluster's partitions): `first` yields each
        piece's first_pass_sums, `second(theta0, mean_y)` each piece's second_pass_sums, in the
        pieces' order."""
        engine = cls.__new__(cls)
        engine._add_up(first, second)
        return engine

    def _fit(self, make_chunks) -> None:
        """Pass 1: A^T A, A^T y, y.y and each column's range; pass 2: the residual at theta0.
        SquaresOverflow where the sums of squares overflow float64 (values of 1e154 or more).

        Each chunk's sums are float64 BLAS products; the chunks' sums are then added in
        float64. Against the same rows taken in one chunk that changes only the order of
        summation: about 1e-15 relative in G and b, which theta0 and the losses inherit
        multiplied by at most cond(G) (<= MAX_CONDITION where `exact`).
        """
        self._add_up((first_pass_sums(X, y) for X, y in make_chunks()),
                     lambda theta0, mean_y: (second_pass_sums(X, y, theta0, mean_y) for X, y in make_chunks()))

    def _add_up(self, first: Iterable[tuple], second: Callable[[np.ndarray, float], Iterable[tuple]]) -> None:
        """The two passes' sums added in order, and what follows from them (from_sums)."""
        n, AtA, Aty, yy, low, high = 0, 0.0, 0.0, 0.0, np.inf, -np.inf
        for m, piece_AtA, piece_Aty, piece_yy, piece_low, piece_high in first:
            n, AtA, Aty, yy = n + m, AtA + piece_AtA, Aty + piece_Aty, yy + piece_yy
            low, high = np.minimum(low, piece_low), np.maximum(high, piece_high)
        if n == 0:
            raise ValueError("the Gram engine needs at least one row")
        if not (np.isfinite(AtA).all() and np.isfinite(Aty).all() and np.isfinite(yy)):
            raise SquaresOverflow()
        k = len(Aty) - 1
        AtA[k, k] = n
        self.rows = n
        self.G = AtA / n
        b = Aty / n
        self.condition = float(np.linalg.cond(self.G))
        self.theta0, _, self.rank, _ = np.linalg.lstsq(self.G, b, rcond=None)
        self.zero_loss = yy / n
        self.constant_columns = [j for j in range(k) if low[j] == high[j]]
        rr, Atr, centred = 0.0, 0.0, 0.0
        for piece_rr, piece_Atr, piece_centred in second(self.theta0, Aty[k] / n):
            rr, Atr, centred = rr + piece_rr, Atr + piece_Atr, centred + piece_centred
        self.loss0 = rr / n
        self.gradient0 = 2.0 * Atr / n
        self.constant_loss = centred / n

    @property
    def factor(self) -> np.ndarray:
        """F with F^T F = G, shape (k + 1, k + 1): G^(1/2), for the step size (stepsize.choose_lr)."""
        return gram_root(self.G)

    def least_squares(self) -> LeastSquares:
        """The least-squares yardstick from the statistics alone (for rows not in memory).

        theta0 solves the normal equations G theta = b, so it is yardstick.least_squares'
        solution up to cond(G) * 1e-16 relative; its rank is G's, which calls nearly dependent
        columns dependent sooner than lstsq on the rows does.
        """
        k = self.G.shape[0] - 1
        return LeastSquares(
            coef=self.theta0[:k].copy(),
            intercept=float(self.theta0[k]),
            loss=self.loss0,
            constant_loss=self.constant_loss,
            zero_loss=self.zero_loss,
            unique=bool(self.rank == k + 1),
            constant_columns=list(self.constant_columns),
            rows=self.rows,
        )

    @property
    def exact(self) -> bool:
        """Whether the Gram form matches the literal engine to 1e-9 relative on this data."""
        return np.isfinite(self.condition) and self.condition <= MAX_CONDITION

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        k = params.n_inputs
        W_hidden, W_out, b_hidden, b_out = params.layers
        w_out, b_out = W_out[0], b_out[0]
        W_tilde = np.concatenate((W_hidden, b_hidden[:, None]), axis=1)
        theta = W_tilde.T @ w_out
        theta[k] += b_out
        delta = theta - self.theta0
        G_delta = self.G @ delta
        loss = self.loss0 + float(self.gradient0 @ delta + delta @ G_delta)
        g = self.gradient0 + 2.0 * G_delta
        gradients = Gradients.of(np.empty(params.vector.size), params.architecture)
        dW_hidden, dW_out, db_hidden, _ = gradients.layers
        np.multiply.outer(w_out, g[:k], out=dW_hidden)
        np.matmul(W_tilde, g, out=dW_out[0])
        np.multiply(w_out, g[k], out=db_hidden)
        gradients.vector[-1] = g[k]
        return loss, gradients

    def loss(self, params: Parameters) -> float:
        return self.loss_and_gradients(params)[0]

    def with_loss(self, convention: str):
        """This engine for a loss convention (network.LOSSES): its MSE loss and gradients times n / d(n)."""
        return self if convention == "mse" else _Rescaled(self, self.rows / loss_divisor(convention, self.rows))


class _Rescaled:
    """A Gram engine's loss and gradients times a constant: another loss convention's."""

    def __init__(self, gram: GramEngine, factor: float):
        self.gram, self.factor = gram, factor

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        loss, gradients = self.gram.loss_and_gradients(params)
        return self.factor * loss, gradients.like(self.factor * gradients.vector)

    def loss(self, params: Parameters) -> float:
        return self.factor * self.gram.loss(params)
