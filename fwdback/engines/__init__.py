"""The fast paths behind one small interface: an objective that runs an epoch.

An objective has
    epoch(params, lr, number) -> (params after the epoch, its loss, its gradients)
    loss_and_gradients(params) -> (the full-batch loss, its gradients) at the given weights
    suggest_lr(initial, lr) -> a learning rate to try after `lr` diverged
    name, loss_floor (a loss that is zero up to rounding), standardized (the rows are z-scores)
and computes what network.py's forward, mse_loss, backward and update compute, up to the
order of summation (about 1e-15 relative; the Gram engine to 1e-9 where it is used), as
tests/test_engines.py proves for each:

    FullBatch(LiteralEngine)  the lecture's epoch over every row, in cache-sized blocks
    FullBatch(GramEngine)     the same full-batch loss and gradients from the rows' Gram matrix,
                              O(1) an epoch, for the linear network
    MiniBatches               one step per batch of rows, in a seeded order each epoch

`objective_for` chooses among them for a training plan.
"""

from __future__ import annotations

import numpy as np

from ..errors import SquaresOverflow
from ..network import Gradients, Parameters, backward, forward, mse_loss, update
from ..stepsize import RowStatistics, suggest_lr
from .batches import BatchSteps
from .gram import GramEngine
from .literal import LiteralEngine

# From this many rows on, the linear network trains with the Gram engine (where it is exact).
GRAM_MIN_ROWS = 10_000
# The random stream of the shuffles, besides the initial weights' default_rng(seed).
SHUFFLE_STREAM = 1


class FullBatch:
    """The lecture's epoch: the full-batch loss and gradients at the weights, then one step.

    `engine` computes them each epoch (LiteralEngine over the rows, GramEngine from their
    statistics); `whole` computes them once more at the final weights (the literal engine
    wherever the rows are in memory). `statistics` (stepsize.RowStatistics, or the rows'
    GramEngine) give a learning rate to suggest after a divergence.
    """

    standardized = False

    def __init__(self, engine, whole, name: str, loss_floor: float, statistics):
        self.engine, self.whole, self.name, self.loss_floor, self.statistics = engine, whole, name, loss_floor, statistics

    def epoch(self, params: Parameters, lr: float, number: int):
        loss, grads = self.engine.loss_and_gradients(params)
        return update(params, grads, lr), loss, grads

    def loss_and_gradients(self, params: Parameters):
        return self.whole.loss_and_gradients(params)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(self.statistics, initial, lr)


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which mini-batch epoch `epoch` visits the n rows: the same in a resumed run."""
    return np.random.default_rng([SHUFFLE_STREAM, seed, epoch]).permutation(n)


class MiniBatches:
    """Mini-batch descent: epoch e visits the rows in epoch_order(seed, e, n), one update per
    batch_size rows.

    The epoch's loss is the mean of its batches' losses (each before its update) and its
    gradients the mean of theirs, both weighted by batch size. X : shape (n, k), y : shape (n,).
    """

    name = "mini-batch"
    standardized = False

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int, loss_floor: float):
        self.X, self.y, self.batch_size, self.seed, self.loss_floor = X, y, batch_size, seed, loss_floor
        self._steps = self._whole = None

    def epoch(self, params: Parameters, lr: float, number: int):
        """The epoch by batches.BatchSteps: network.py's steps below, without their per-call costs."""
        if len(self.y) < LiteralEngine.LECTURE_ROWS:  # lecture-sized: the lecture's own steps, bit for bit
            return self.lecture_epoch(params, lr, number)
        order = epoch_order(self.seed, number, len(self.y))
        if self._steps is None:
            self._steps = BatchSteps(self.X, self.y, params.n_hidden, self.batch_size)
        return self._steps.epoch(params, lr, order)

    def lecture_epoch(self, params: Parameters, lr: float, number: int):
        """The same epoch by network.forward, backward and update, batch by batch, as the lecture writes it."""
        order = epoch_order(self.seed, number, len(self.y))
        loss_sum, gradient_sum = 0.0, np.zeros_like(params.vector)
        for first in range(0, len(self.y), self.batch_size):
            rows = order[first : first + self.batch_size]
            X, y = self.X[rows], self.y[rows]
            fwd = forward(params, X)
            grads = backward(params, X, y, fwd).gradients
            loss_sum += mse_loss(y, fwd.yhat) * len(rows)
            gradient_sum += grads.vector * len(rows)
            params = update(params, grads, lr)
        n = len(self.y)
        return params, loss_sum / n, Gradients(gradient_sum / n, params.n_inputs, params.n_hidden, params.activation)

    def loss_and_gradients(self, params: Parameters):
        if self._whole is None:
            self._whole = LiteralEngine(self.X, self.y, params.n_hidden)
        return self._whole.loss_and_gradients(params)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(RowStatistics(self.X, self.y), initial, lr, (self.X, self.batch_size))


def objective_for(rows, initial: Parameters, batch_size: int | None, seed: int):
    """What computes an epoch: mini-batches with a batch size, else a full batch by the Gram
    engine where it applies, is exact and saves time (GRAM_MIN_ROWS rows or more, or rows
    streamed), by the literal engine elsewhere, so lecture-sized data runs the lecture's
    computation. `rows` is training.TrainingRows."""
    if rows.gram is not None:
        if batch_size is not None or initial.activation != "identity":
            raise ValueError("streamed rows train the linear network on full batches only")
        return FullBatch(rows.gram, rows.gram, "gram", _floor(rows.gram.zero_loss), rows.gram)
    X, y = rows.X, rows.y
    floor = _floor(float(y @ y) / len(y))
    if batch_size is not None:
        objective = MiniBatches(X, y, batch_size, seed, floor)
    else:
        literal = LiteralEngine(X, y, initial.n_hidden)
        gram = gram_engine(X, y) if initial.activation == "identity" and len(y) >= GRAM_MIN_ROWS else None
        objective = FullBatch(gram or literal, literal, "gram" if gram else "literal", floor, rows.statistics)
    objective.standardized = rows.scaling is not None
    return objective


def gram_engine(X: np.ndarray, y: np.ndarray) -> GramEngine | None:
    """The Gram engine of these rows where it agrees with the literal engine to 1e-9 (GramEngine.exact)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            gram = GramEngine(X, y)
    except SquaresOverflow:
        return None
    return gram if gram.exact else None


def validation_loss(X: np.ndarray, y: np.ndarray, initial: Parameters, batch_size: int | None):
    """The loss on validation rows X, shape (m, k), y, shape (m,), as a function of the weights."""
    gram = gram_engine(X, y) if initial.activation == "identity" and batch_size is None and len(y) >= GRAM_MIN_ROWS else None
    if gram is not None:
        return gram.loss
    return lambda params: mse_loss(y, forward(params, X).yhat)


def _floor(zero_loss: float) -> float:
    """A loss this small is rounding on the scale of y: 16 eps^2 times the mean of y^2."""
    return 16 * float(np.finfo(np.float64).eps) ** 2 * zero_loss
