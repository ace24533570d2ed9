"""How far float64 rounding can move what fwdback computes: the one place it decides that two
losses differ by rounding alone (training's convergence stop, explain's verdict on a step, the
report's zero changes and gap, gradcheck's uncertainty) and that an eigenvalue of the data's
Gram matrix or a column's spread is rounding (stepsize: the directions the data span).

Each bound follows from the arithmetic done, not from observed runs, so it holds for any order
of summation (another BLAS, rows permuted, blocks, chunks, partitions). With u = 2^-53, float64's
unit roundoff, a sum of m terms, each a product or not, added in any order, is off by at most
gamma(m) = m u / (1 - m u) times the sum of the terms' absolute values (Higham, Accuracy and
Stability of Numerical Algorithms, 2nd ed., Lemma 3.1 and section 3.1), and
gamma(a) + gamma(b) + gamma(a) gamma(b) <= gamma(a + b) chains them.

The residual of row i, output j, r_ij = yhat_ij - y_ij, is computed as
    z_h = sum_l W[h, l] x_il + b_h             k + 1 terms,
    N_h = act(z_h)                             ACTIVATION_ROUNDINGS roundings (libm's tanh is
                                               within 2 ulp; the sigmoid is 0.5 (1 + tanh(z/2)),
                                               1 / (1 + exp(-z)) in the literal engine: 4 either way),
    yhat_ij = out(sum_h W_out[j, h] N_h + b_j) H + 1 terms, then the output activation's,
    r_ij = yhat_ij - y_ij                      one more,
so it is off by at most e_ij = gamma(m) s_ij, m = (k + 1) + (H + 1) + 1 + the activations'
roundings, where s_ij = |y_ij| + sum_h |W_out[j, h]| (sum_l |W[h, l]| |x_il| + |b_h|) + |b_j|,
plus |W_out[j]| . 1 for the sigmoid (N near 1/2 where z is near 0) and 1 for an output
activation (|out| <= 1). Every activation's slope is at most 1, so an error in z passes on
undiminished at most, and |tanh(z)|, |relu(z)| <= |z|. The sizes s_ij are linear in |x_i| and
|y_ij|, so by the triangle inequality in the root mean square over rows, rms_i(s_ij) <=
sum_l c_jl rms(x_l) + d_j + rms(y_j), with c_j = |W|^T |W_out[j]|: E = (1/d(n)) sum_ij e_ij^2
needs only each column's root mean square, which every engine has (the Gram engine from G's
diagonal), and costs O(k H) an epoch.

The loss L = (1/d(n)) sum_ij r_ij^2 of the computed residuals rhat, Lhat, then differs from the
exact loss of the weights by at most (Cauchy-Schwarz, ||rhat - r|| <= sqrt(d(n) E))
    2 sqrt(L~ E) + E + gamma(nm + 4) L~,    L~ = Lhat / (1 - gamma(nm + 4)),
the last term the rounding of the n m squares, their sum and the divisions (SUM_ROUNDINGS).
Two computed losses differ beyond rounding only when they differ by more than the sum of their
bounds (beyond_rounding). Weights that fit the rows exactly give computed residuals of at most
e_ij, so a loss of at most about E: zero up to rounding (LossRounding.zero). The Gram engine
computes its loss as a quadratic in the collapsed map instead, with its own bound
(QuadraticRounding).
"""

from __future__ import annotations

import numpy as np

from .activations import ACTIVATIONS
from .losses import LOSSES
from .network import Parameters, loss_divisor

U = 2.0**-53
# The roundings of a loss besides its n m - 1 additions and n m squares: dividing by d(n), and
# where partitions are summed (engines.dask), each one's mean times its rows, divided by n.
SUM_ROUNDINGS = 4


# A root mean square between this and its inverse had squares and a sum far from float64's
# limits (1e-308, 1e308): neither underflow nor overflow moved it.
SAFE_SQUARE = 1e-100


def gamma(m: int) -> float:
    """gamma(m) = m u / (1 - m u): the relative error of a sum of m terms, in any order, in float64."""
    return m * U / (1.0 - m * U)


def root_mean_square(values: np.ndarray) -> np.ndarray:
    """sqrt(mean(values^2)) of each column, without overflow or underflow where the squares
    would leave float64's range. values : shape (n, k) -> shape (k,).

    One pass over the values (einsum's own loop, in either layout; not BLAS, whose threads cost
    more than they give on a loaded machine): a fit on a million rows takes it before its first
    epoch. Only where a column's mean square is not comfortably inside the range (or is 0) does a
    second pass divide the column by its largest |value| first."""
    with np.errstate(all="ignore"):
        rms = np.sqrt(np.einsum("ij,ij->j", values, values) / max(len(values), 1))
    if np.all((rms > SAFE_SQUARE) & (rms < 1.0 / SAFE_SQUARE)):
        return rms
    peak = np.max(np.abs(values), axis=0, initial=0.0)
    peak = np.where(peak > 0, peak, 1.0)
    return peak * np.sqrt(np.mean((values / peak) ** 2, axis=0))


class LossRounding:
    """The rounding bound of a loss computed from residuals (network.loss, the literal engine,
    mini-batches, partitions), from the rows' column sizes alone.

    x_rms : shape (k,)      each feature's root mean square over the n rows
    y_rms : shape (m,)      each output's target's
    rows                    n, the rows the loss is summed over
    convention              the loss convention (losses.LOSSES), whose d(n) divides the sum
    """

    def __init__(self, x_rms: np.ndarray, y_rms: np.ndarray, rows: int, convention: str = "mse"):
        self.x_rms, self.y_rms, self.rows, self.convention = np.asarray(x_rms, float), np.atleast_1d(y_rms), rows, convention

    @classmethod
    def of_rows(cls, X: np.ndarray, y: np.ndarray, convention: str = "mse") -> LossRounding:
        """The bound for the rows X, shape (n, k), y, shape (n,) or (n, m)."""
        return cls(root_mean_square(X), root_mean_square(y.reshape(len(y), -1)), len(y), convention)

    @classmethod
    def of_gram(cls, gram, convention: str = "mse") -> LossRounding:
        """The bound for the rows of a GramEngine (streamed, or on a cluster): the columns' mean
        squares are G's diagonal, the target's y.y / n."""
        k = gram.G.shape[0] - 1
        return cls(np.sqrt(np.diag(gram.G)[:k]), np.sqrt([gram.zero_loss]), gram.rows, convention)

    def residual_error(self, params: Parameters, roundings: int = 0) -> float:
        """E = (1/d(n)) sum_ij e_ij^2 bounded from above: the mean square of the residuals' rounding
        (with `roundings` more in each residual's chain)."""
        W_hidden, W_out, b_hidden, b_outputs = (np.abs(layer) for layer in params.layers)
        act, out = ACTIVATIONS[params.activation], ACTIVATIONS[params.output_activation]
        m = params.n_inputs + params.n_hidden + 3 + roundings + act.roundings + out.roundings
        sizes = W_out @ (W_hidden @ self.x_rms + b_hidden) + b_outputs + self.y_rms  # (m outputs,)
        if act.bounded:  # |N| <= 1, not |z|: the sigmoid's N = 1/2 at z = 0
            sizes = sizes + W_out.sum(axis=1)
        if params.out_activated:
            sizes = sizes + 1.0
        return float(np.sum((gamma(m) * sizes) ** 2)) * self.rows / loss_divisor(self.convention, self.rows)

    def logit_error(self, params: Parameters) -> tuple[np.ndarray, float]:
        """Each output's logit a = w . N + b bounded in size (root mean square over the rows), shape
        (m,), and the relative rounding of a logit: as residual_error's chain, without y's term."""
        W_hidden, W_out, b_hidden, b_outputs = (np.abs(layer) for layer in params.layers)
        act = ACTIVATIONS[params.activation]
        sizes = W_out @ (W_hidden @ self.x_rms + b_hidden) + b_outputs
        m = params.n_inputs + params.n_hidden + 2 + act.roundings
        if act.bounded:
            sizes = sizes + W_out.sum(axis=1)
        return sizes, gamma(m)

    def of(self, params: Parameters, loss: float) -> float:
        """How far the computed `loss` at `params` can be from the weights' exact loss.

        A classifier's loss (network.loss, from the logits): each row's term moves by at most
        |yhat - y| (at most 1 for bce, 2 summed over the classes for cross-entropy) times its
        logits' rounding, and the term's own evaluation (log, exp, the shift by the largest logit,
        subtracting y a) rounds by a few units of |a| and of the term; then the sum over n rows."""
        spec = LOSSES[self.convention]
        if spec.classifies:
            sizes, relative = self.logit_error(params)
            logits = float(np.sum(sizes))
            total = gamma(self.rows * len(self.y_rms) + SUM_ROUNDINGS)
            return 2.0 * relative * logits + gamma(8) * (abs(loss) + 2.0 * logits) + total * abs(loss)
        squares = gamma(self.rows * len(self.y_rms) + SUM_ROUNDINGS)
        exact_part = abs(loss) / (1.0 - squares)
        error = self.residual_error(params)
        return float(2.0 * np.sqrt(exact_part) * np.sqrt(error) + error + squares * exact_part)

    def zero(self, params: Parameters) -> float:
        """The largest loss computed at weights near `params` that fit the rows exactly, or as
        nearly as float64 weights can (each weight's own rounding, in each of the two layers, is
        two more roundings in a residual's chain): zero up to rounding. Each computed residual is
        then at most e_ij, so the loss at most (1 + gamma(nm + 4)) E. A classifier's loss is 0 only
        in the limit of infinite logits: its floor is what rounding can make of a loss of 0."""
        if LOSSES[self.convention].classifies:
            return self.of(params, 0.0)
        return (1.0 + gamma(self.rows * len(self.y_rms) + SUM_ROUNDINGS)) * self.residual_error(params, roundings=2)


class QuadraticRounding:
    """The rounding bounds of the Gram engine's loss L0 + g0 . d + d^T G d (engines.GramEngine;
    in another loss convention `factor` = n / d(n) times it).

    L0, g0 and G are the engine's, made once and fixed for the run: their own rounding is the
    same every epoch, and `of` bounds what changes with the weights. The quadratic's evaluation
    is off by at most gamma(2 (k + 1) + 3) times the sum of its terms' absolute values; theta =
    W~^T w_out + b_out e (W~ = [W_hidden, b_hidden]) and d = theta - theta0 by at most
    err = gamma(H + 2) (|W~|^T |w_out| + |b_out| e + |d|) in each entry, which moves the
    quadratic by at most |g| . err + err^T |G| err (g = g0 + 2 G d, its gradient). `zero` adds
    a residual loss's floor (LossRounding.of_gram): L0 is one, made by the engine's second pass.
    """

    def __init__(self, gram, convention: str = "mse"):
        self.gram, self.residuals = gram, LossRounding.of_gram(gram, convention)
        self.factor = gram.rows / loss_divisor(convention, gram.rows)
        self.G_sizes = np.abs(gram.G)  # |G|, once: the bound is taken every epoch

    def of(self, params: Parameters, loss: float) -> float:
        """How far the computed `loss` at `params` can be from the quadratic's exact value there."""
        gram, k = self.gram, params.n_inputs
        W_tilde = np.concatenate((params.W_hidden, params.b_hidden[:, None]), axis=1)
        theta = W_tilde.T @ params.w_out
        theta[k] += params.b_out
        sizes = np.abs(W_tilde).T @ np.abs(params.w_out)
        sizes[k] += abs(params.b_out)
        delta = np.abs(theta - gram.theta0)
        G = self.G_sizes
        terms = abs(gram.loss0) + float(np.abs(gram.gradient0) @ delta) + float(delta @ G @ delta)
        error = gamma(params.n_hidden + 2) * (sizes + delta)
        gradient = np.abs(gram.gradient0 + 2.0 * gram.G @ (theta - gram.theta0))
        bound = gamma(2 * (k + 1) + 3) * terms + float(gradient @ error) + float(error @ G @ error)
        return float(self.factor * bound + gamma(1) * abs(loss))

    def zero(self, params: Parameters) -> float:
        """The largest loss computed at weights near `params` that fit the rows exactly (LossRounding.zero)."""
        return self.residuals.zero(params) + self.of(params, 0.0)


def eigenvalue_resolution(trace: float, products: int, dimension: int) -> float:
    """How far rounding can move any eigenvalue of a symmetric positive semi-definite S = F^T F
    (a Gram matrix, stepsize) formed by sums of `products` products and decomposed by LAPACK's
    eigvalsh at `dimension`: the sums are off by at most gamma(products) |F|^T |F|, whose
    2-norm is at most its trace, S's own `trace`, and an eigenvalue moves by at most the
    perturbation's 2-norm (Weyl); the decomposition is backward stable, within dimension u ||S||
    <= dimension u trace. An eigenvalue no larger than this is lost in rounding."""
    return gamma(products + dimension) * trace


def constant_spread(size: float, rows: int) -> float:
    """The largest standard deviation rounding gives a column whose n `rows` all hold one value
    of magnitude `size`: the mean, n - 1 additions and a division, is off by gamma(n) size, and
    so is every deviation from it (one more rounding each)."""
    return gamma(rows + 1) * size


def beyond_rounding(change: float, *bounds: float) -> bool:
    """Whether a difference of computed losses is more than their rounding bounds (each
    LossRounding.of or QuadraticRounding.of) add up to: a change rounding alone cannot make."""
    return abs(change) > sum(bounds)
