"""The learning rate: the largest stable step, the step fwdback takes when none is given, the
step it suggests after a divergence, and whether the columns are too unevenly scaled for any.

Gradient descent on a loss of curvature lambda is stable while eta < 2 / lambda. Near a fit
the MSE loss's Hessian is its Gauss-Newton part (2/n) J^T J, J = dyhat/dtheta. Every column
of J is a linear combination of the columns of A = [X, 1] (exactly so without an activation;
an activation's slope, at most 1, only shrinks it), J = A M, so the curvature comes from the
small matrix G = A^T A / n and M, without another pass over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .linear_map import LeastSquares, balanced_minimizers, least_squares
from .network import Parameters
from .rounding import constant_spread, eigenvalue_resolution, gamma

# A target whose values reach this size is standardised when the step is chosen: the loss, its
# square, would come within reach of float64's largest number.
TARGET_LIMIT = 1e150
# Columns are badly scaled when z-scores would make G's condition number this many times smaller...
SCALING_GAIN = 10.0
# ...and it is this large to begin with (below it gradient descent converges quickly anyway).
SCALING_CONDITION = 100.0


def gram_matrix(X: np.ndarray) -> np.ndarray:
    """G = A^T A / n, shape (k + 1, k + 1), where A = [X, 1].  X : shape (n, k)."""
    A = np.column_stack([X, np.ones(len(X))])
    return A.T @ A / len(X)


def rows_factor(X: np.ndarray) -> np.ndarray:
    """F = A / sqrt(n), shape (n, k + 1), A = [X, 1]: F^T F = G.  X : shape (n, k). Written once
    into its own array (stacking, then dividing, makes two of n rows)."""
    n, k = X.shape
    F = np.empty((n, k + 1))
    F[:, :k], F[:, k] = X, 1.0
    F /= np.sqrt(n)
    return F


def spectrum(F: np.ndarray) -> np.ndarray:
    """The eigenvalues of F^T F, largest first, from the smaller of F^T F and F F^T, which have
    the same nonzero eigenvalues: G's from its n rows when there are fewer rows than columns
    (40 rows of 5,000 features: a 40 x 40 problem, not 5,001 x 5,001). F : shape (r, c)."""
    small = F @ F.T if F.shape[0] < F.shape[1] else F.T @ F
    return np.linalg.eigvalsh(small)[::-1]


def largest_stable_lr(params: Parameters, X: np.ndarray) -> float:
    """The largest learning rate for which full-batch gradient descent is stable near `params`.

    X : shape (n, k).
    """
    return largest_stable_lr_from_factor(params, rows_factor(X))


def largest_stable_lr_from_factor(params: Parameters, F: np.ndarray) -> float:
    """largest_stable_lr from a factor F of G = A^T A / n = F^T F, shape (r, k + 1): the rows
    [X, 1] / sqrt(n), or G^(1/2) for rows not in memory.

    The Hessian (2/n) J^T J = 2 M^T G M, shape (P, P), has the nonzero eigenvalues of the small
    2 F M M^T F^T, shape (r, r), and M M^T has a closed form: the hidden weights of unit h
    contribute w_out[h]^2 to the diagonal (their bias to the last entry), the output weights
    contribute W~^T W~ (W~ = [W_hidden, b_hidden]) and b_out the last entry: M M^T =
    |w_out|^2 I + C^T C, C = [W~; e^T], shape (H + 1, k + 1). So F M M^T F^T = |w_out|^2 F F^T +
    (F C^T)(F C^T)^T, and the step costs O(r k H + r^3), however wide the network.

    With several outputs the Hessian's largest eigenvalue is at most the sum of each output's
    (a sum of positive semi-definite blocks), so their sum bounds the curvature; an output
    activation's slope, at most 1, and a missing bias only shrink it.
    """
    FFt = F @ F.T
    FCt = F @ _c_matrix(params).T
    shared = FCt @ FCt.T
    curvature = 2.0 * sum(_largest_eigenvalue(float(w @ w) * FFt + shared) for w in params.W_out)
    return 2.0 / curvature if curvature > 0 else np.inf


def _c_matrix(params: Parameters) -> np.ndarray:
    """C = [W~; e^T], shape (H + 1, k + 1), W~ = [W_hidden, b_hidden]: M M^T = |w_out|^2 I + C^T C."""
    k = params.n_inputs
    C = np.zeros((params.n_hidden + 1, k + 1))
    C[:-1, :k], C[:-1, k], C[-1, k] = params.W_hidden, params.b_hidden, 1.0
    return C


def gram_root(gram: np.ndarray) -> np.ndarray:
    """G^(1/2) of a symmetric positive semi-definite G: a factor of it (G^(1/2) G^(1/2) = G), shape
    (k + 1, k + 1): what stands for the rows where they are not in memory."""
    values, vectors = np.linalg.eigh(gram)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _largest_eigenvalue(matrix: np.ndarray) -> float:
    if not np.isfinite(matrix).all():
        raise np.linalg.LinAlgError("the curvature overflows float64")
    return float(np.linalg.eigvalsh(matrix)[-1])


def largest_stable_lr_for_batches(params: Parameters, X: np.ndarray, batch_size: int) -> float:
    """The largest stable step for updates on batches of `batch_size` rows of X, shape (n, k).

    A batch's G_S = A_S^T A_S / B is at most (n / B) G (its rows are among all n), and its
    largest eigenvalue at most max_i ||a_i||^2 (each row's own); the curvature of any batch
    is at most the smaller of the two times M M^T's largest eigenvalue, |w_out|^2 + C C^T's
    (largest_stable_lr_from_factor). For B = n that bound is the full batch's, taken exactly instead.
    """
    n = len(X)
    if batch_size >= n:
        return largest_stable_lr(params, X)
    rows = float(np.max(np.einsum("ij,ij->i", X, X))) + 1.0
    bound = min(rows, n / batch_size * float(spectrum(rows_factor(X))[0]))
    C = _c_matrix(params)
    largest = _largest_eigenvalue(C @ C.T)
    curvature = 2.0 * bound * sum(float(w @ w) + largest for w in params.W_out)
    return 2.0 / curvature if curvature > 0 else np.inf


class RowStatistics:
    """What the step depends on, of rows held in memory: a factor of G = A^T A / n and the
    least-squares fit.

    engines.GramEngine offers the same two (`factor`, `least_squares()`) for rows not in memory.
    X : shape (n, k), y : shape (n,).
    """

    def __init__(self, X: np.ndarray, y: np.ndarray):
        self.X, self.y = X, y

    @cached_property
    def factor(self) -> np.ndarray:
        """F with F^T F = G: the rows [X, 1] / sqrt(n) where there are no more of them than
        columns, else G^(1/2), shape (k + 1, k + 1)."""
        n, k = self.X.shape
        return rows_factor(self.X) if n <= k + 1 else gram_root(gram_matrix(self.X))

    def least_squares(self) -> LeastSquares:
        return least_squares(self.X, self.y)


def choose_lr(statistics, initial: Parameters, batches: tuple[np.ndarray, int] | None = None) -> float:
    """The step fwdback takes when none is given: half the largest stable step, both where
    training starts and at a least-squares minimizer (where it has to settle), rounded down to
    two significant digits.

    `statistics` are the rows' (RowStatistics, or a GramEngine: a `factor` and `least_squares()`);
    `batches` = (X, batch_size) for mini-batches of X, shape (n, k). Half, because the curvature
    between the two points can exceed both.
    """
    return round_down(0.5 * _stable(statistics, initial, batches), 2)


def suggest_lr(
    statistics, initial: Parameters, lr: float, batches: tuple[np.ndarray, int] | None = None, scale: float = 1.0
) -> float:
    """A learning rate to try after `lr` diverged: choose_lr's, but never more than half of
    `lr`, rounded down to one significant digit. Weights so large that the curvature
    overflows leave just half of `lr`. `scale` is the plan's step per gradient descent's on
    the MSE (training.step_scale: another loss convention, momentum; inf for adam, whose step
    the curvature does not bound)."""
    return round_down(0.5 * min(scale * _stable(statistics, initial, batches), lr), 1)


def _stable(statistics, initial: Parameters, batches: tuple[np.ndarray, int] | None) -> float:
    """The largest stable step at the start and at least-squares minimizers, the smallest."""
    with np.errstate(all="ignore"):
        try:
            points = (initial,)
            if initial.architecture.lecture:
                best = statistics.least_squares()
                points += balanced_minimizers(best.coef, best.intercept, initial.n_hidden)
            if batches is not None:
                return min(largest_stable_lr_for_batches(p, *batches) for p in points)
            return min(largest_stable_lr_from_factor(p, statistics.factor) for p in points)
        except (np.linalg.LinAlgError, ValueError):
            return np.inf


def round_down(value: float, digits: int) -> float:
    """`value` rounded down to `digits` significant digits (inf stays inf)."""
    if not np.isfinite(value):
        return value
    mantissa, exponent = f"{value:.15e}".split("e")
    kept = mantissa.replace(".", "")[:digits]
    return float(f"{kept[0]}.{kept[1:] or '0'}e{exponent}")


@dataclass
class Scales:
    """How evenly the columns of [X, 1] are scaled, by the condition number of G = A^T A / n.

    condition : G's, over the directions the data span (inf where G overflows float64)
    standardized : the same for the columns' z-scores (G then is their correlations and a 1)
    target_size : the largest |y|
    A condition number tells how many times slower gradient descent moves along the flattest
    direction than along the steepest. Where z-scores would make it SCALING_GAIN times smaller
    (and it is over SCALING_CONDITION), the columns are badly scaled: no single learning rate
    suits them all.
    """

    condition: float
    standardized: float
    target_size: float = 0.0

    @property
    def bad(self) -> bool:
        """Badly scaled columns (an infinite condition number always is: squares overflowing
        float64, or directions lost in rounding), or a target too large for the loss's squares."""
        uneven = self.condition > SCALING_CONDITION and (
            not np.isfinite(self.condition) or self.condition > SCALING_GAIN * self.standardized)
        return uneven or not self.target_size < TARGET_LIMIT


def scales_of_rows(X: np.ndarray, y: np.ndarray) -> Scales:
    """Scales of the rows X, shape (n, k), and their target y, shape (n,), from the rows
    themselves (of G = A^T A / n through its factor A / sqrt(n): with fewer rows than columns
    an n x n problem), in the columns' z-scores for the standardized one. Where the squares
    overflow float64 (values around 1e200) the raw condition number is infinite, and the
    z-scores are taken of the columns divided by their largest values (which does not change them)."""
    target_size = float(np.max(np.abs(y), initial=0.0))
    with np.errstate(all="ignore"):
        work = np.multiply(X, X)
        finite = bool(np.isfinite(np.sum(work)))  # then so is every entry of G (Cauchy-Schwarz)
        peak = np.abs(X, out=work).max(axis=0, initial=0.0)
        columns = X if finite else X / np.where(peak > 0, peak, 1.0)
        mean = columns.mean(axis=0)
        deviation = columns - mean
        std = np.sqrt(np.mean(np.multiply(deviation, deviation, out=work), axis=0))
        spread = peak if finite else np.abs(columns).max(axis=0, initial=0.0)
        varying = std > constant_spread(spread, len(X))
        chosen = deviation if varying.all() else deviation[:, varying]
        standardized = _condition(rows_factor(np.divide(chosen, std[varying], out=chosen)))
        return Scales(_condition(rows_factor(X)) if finite else np.inf, standardized, target_size)


def scales_of(gram: np.ndarray, rows: int, target_size: float = 0.0) -> Scales:
    """Scales from G = A^T A / n of n `rows` alone, shape (k + 1, k + 1), for rows not in
    memory: the z-scores' G follows from it.

    The means are G[:k, k], the covariances G[:k, :k] - mean mean^T, so the z-scores' G is the
    correlation matrix beside a 1 (a constant column's z-score is 0 and spans nothing). A
    variance below the rounding of G[j, j] - mean_j^2 (gamma(2n + 3) G[j, j]: G[j, j]'s sum of n
    squares, mean_j's, the square and the subtraction) is a constant column's.
    """
    if not np.isfinite(gram).all():  # values whose squares overflow float64: no condition number to speak of
        return Scales(np.inf, np.inf, target_size)
    k = gram.shape[0] - 1
    mean = gram[:k, k]
    covariance = gram[:k, :k] - np.outer(mean, mean)
    variance = np.diag(covariance)
    varying = variance > gamma(2 * rows + 3) * np.diag(gram)[:k]
    std = np.sqrt(np.where(varying, variance, 1.0))
    standardized = np.eye(int(varying.sum()) + 1)
    standardized[:-1, :-1] = covariance[np.ix_(varying, varying)] / np.outer(std[varying], std[varying])
    formed = rows + 2 * (k + 1)  # G's sums over the rows, then G^(1/2)'s eigendecomposition
    return Scales(_condition(gram_root(gram), formed), _condition(gram_root(standardized), formed), target_size)


def _condition(F: np.ndarray, formed: int = 0) -> float:
    """G's largest eigenvalue over its smallest, among the directions the data span, for
    G = F^T F, F : shape (r, k + 1) (the rows, or G^(1/2), which `formed` more roundings per
    entry made: G's sums and its root's decomposition).

    Which directions the data span is decided on G with every column scaled to 1 (a column of
    values around 1e9 beside others around 1 would otherwise hide theirs in the rounding of the
    largest): an eigenvalue beyond the rounding of the sums and the decomposition
    (rounding.eigenvalue_resolution) is a direction spanned. The condition number is then G's
    own, over that many of its largest eigenvalues; where the smallest of them is lost in the
    decomposition of G (backward stable: within gamma(dimension) of the largest), it is infinite.
    """
    products = max(F.shape) + formed  # spectrum's sums run along the longer side
    with np.errstate(all="ignore"):
        work = np.multiply(F, F)  # one array of F's size, used three times
        size = np.sqrt(np.sum(work, axis=0))
        scaled = np.divide(F, np.where(size > 0, size, 1.0), out=work)
        equilibrated = spectrum(scaled)
        resolution = eigenvalue_resolution(float(np.sum(np.multiply(scaled, scaled, out=work))), products + 2, min(F.shape))
        rank = int(np.sum(equilibrated > resolution))
        values = spectrum(F)
    if rank == 0 or not values[0] > 0:
        return 1.0
    smallest = values[rank - 1]
    return float(values[0] / smallest) if smallest > gamma(min(F.shape)) * values[0] else np.inf
