"""The fast paths behind one small interface: an objective that runs an epoch.

An objective has
    epoch(params, optimizer, number) -> (params after the epoch, its loss, its gradients)
    loss_and_gradients(params) -> (the full-batch loss, its gradients) at the given weights
    suggest_lr(initial, lr) -> a learning rate to try after `lr` diverged
    rounding            rounding.py's bounds for its arithmetic: .of(params, loss), how far
                        rounding can move the loss it computed at the weights; .zero(params),
                        the largest loss it computes for an exact fit
    name, standardized (the rows are z-scores)
and computes what network.py's forward, mse_loss, backward and update compute, up to the
order of summation (about 1e-15 relative; the Gram engine to 1e-9 where it is used), as
tests/test_engines.py proves for each:

    FullBatch(LiteralEngine)  the lecture's epoch over every row, in cache-sized blocks
    FullBatch(GramEngine)     the same full-batch loss and gradients from the rows' Gram matrix,
                              O(1) an epoch, for the linear network
    FullBatch(WholeRows)      network.py itself over every row at once, for the networks beyond
                              the lecture's kind (several outputs, an output activation, no biases)
    MiniBatches               one step per batch of rows, in a seeded order each epoch (or in file order)

The objective computes the gradients; the optimizer (optimizers.py) turns them into a step.

and, for rows held by the workers of a Dask cluster, engines.dask's DataParallel and
DataParallelMiniBatches (the same, one map-reduce over the partitions an epoch or a step; the
linear network trains on their Gram statistics), as tests/test_dask.py proves.

A source of training rows (engines.rows.TrainingRows: in memory, streamed, on a cluster)
chooses among them for a training plan (its `objective`).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..errors import SquaresOverflow
from ..losses import LOSSES
from ..network import Gradients, Parameters, backward, forward, loss, loss_divisor
from ..optimizers import RULES, Optimizer
from ..rounding import LossRounding
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

    def __init__(self, engine, whole, name: str, rounding, statistics, standardized: bool = False, step_scale: float = 1.0):
        """`standardized`: the rows are z-scores; `step_scale`: the plan's step per gradient
        descent's on the MSE (step_scale), which scales the rate suggest_lr gives."""
        self.engine, self.whole, self.name, self.rounding, self.statistics = engine, whole, name, rounding, statistics
        self.standardized, self.step_scale = standardized, step_scale

    def epoch(self, params: Parameters, optimizer: Optimizer, number: int):
        loss, grads = self.engine.loss_and_gradients(params)
        return optimizer.step(params, grads), loss, grads

    def loss_and_gradients(self, params: Parameters):
        return self.whole.loss_and_gradients(params)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(self.statistics, initial, lr, scale=self.step_scale)


class WholeRows:
    """network.py's forward and backward passes over every row at once: the loss and gradients
    of any network, for those the fast engines do not cover.  X : shape (n, k), y : shape (n,) or (n, m)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, convention: str):
        self.X, self.y, self.convention = X, y, convention

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        fwd = forward(params, self.X)
        return loss(self.y, fwd, self.convention), backward(params, self.X, self.y, fwd, self.convention).gradients


class ChunkedRows:
    """network.py's forward and backward passes over rows read a chunk at a time, never held: the
    full-batch loss and gradients of any network, one pass over the rows an epoch. Each chunk's
    loss and gradients times its d(m) are its sums of the rows' terms; their sum over the n rows
    divided by d(n) is WholeRows' (up to the order of summation).

    `make_chunks()` returns a fresh iterable of (X, y), X : shape (m, k), y : shape (m,) or (m, c)."""

    def __init__(self, make_chunks, convention: str):
        self.make_chunks, self.convention = make_chunks, convention

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        loss_sum, gradient_sum, n = 0.0, np.zeros_like(params.vector), 0
        for X, y in self.make_chunks():
            fwd = forward(params, X)
            divisor = loss_divisor(self.convention, len(y))
            loss_sum += loss(y, fwd, self.convention) * divisor
            gradient_sum += backward(params, X, y, fwd, self.convention).gradients.vector * divisor
            n += len(y)
        divisor = loss_divisor(self.convention, n)
        return loss_sum / divisor, Gradients.of(gradient_sum / divisor, params.architecture)


def full_batch_engine(X: np.ndarray, y: np.ndarray, initial: Parameters, convention: str):
    """The literal engine for the lecture's kind of network, network.py's passes for the others."""
    if initial.architecture.lecture:
        return LiteralEngine(X, y, initial.n_hidden, convention)
    return WholeRows(X, y, convention)


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool = True) -> np.ndarray:
    """The order in which mini-batch epoch `epoch` visits the n rows: the same in a resumed run;
    the file's order without `shuffle`."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([SHUFFLE_STREAM, seed, epoch]).permutation(n)


class MiniBatches:
    """Mini-batch descent: epoch e visits the rows in epoch_order(seed, e, n, shuffle), one
    update per batch_size rows.

    The epoch's loss is the loss convention over all n rows, each row's error taken at its
    batch's forward pass (for MSE: the batches' losses averaged, weighted by size); its
    gradients are the batches' gradients rescaled alike (for MSE: their size-weighted mean).
    X : shape (n, k), y : shape (n,) or (n, m).
    """

    name = "mini-batch"

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                 shuffle: bool = True, convention: str = "mse", on_step=None, *,
                 standardized: bool = False, step_scale: float = 1.0):
        """`on_step(number, step, params, gradients)`, given, is called before each update (step 1,
        2, ...) with the weights it starts from and its batch's gradients; `standardized` and
        `step_scale` as FullBatch's."""
        self.X, self.y, self.batch_size, self.seed = X, y, batch_size, seed
        self.shuffle, self.convention, self.on_step = shuffle, convention, on_step
        self.standardized, self.step_scale = standardized, step_scale
        self._steps = self._whole = None

    def batches(self, number: int):
        """The row indices of epoch `number`'s batches, in the order they are visited."""
        order = epoch_order(self.seed, number, len(self.y), self.shuffle)
        return [order[first : first + self.batch_size] for first in range(0, len(self.y), self.batch_size)]

    def epoch(self, params: Parameters, optimizer: Optimizer, number: int):
        """The epoch by batches.BatchSteps, network.py's steps without their per-call costs, where
        it applies (the lecture's kind of network and loss, plain gradient descent, more than
        lecture-sized data); else lecture_epoch."""
        plain = optimizer.lecture and optimizer.free is None and self.on_step is None
        lecture = params.architecture.lecture and LOSSES[self.convention].lecture
        if plain and lecture and len(self.y) >= LiteralEngine.LECTURE_ROWS:
            if self._steps is None:
                self._steps = BatchSteps(self.X, self.y, params.n_hidden, self.batch_size)
            return self._steps.epoch(params, optimizer.lr, epoch_order(self.seed, number, len(self.y), self.shuffle))
        return self.lecture_epoch(params, optimizer, number)

    def lecture_epoch(self, params: Parameters, optimizer: Optimizer, number: int):
        """The epoch by network.forward, backward and the optimizer's step, batch by batch, as the
        lecture writes it, on_step called before each update."""
        loss_sum, gradient_sum = 0.0, np.zeros_like(params.vector)
        for step, rows in enumerate(self.batches(number), start=1):
            X, y = self.X[rows], self.y[rows]
            fwd = forward(params, X)
            grads = backward(params, X, y, fwd, self.convention).gradients
            if self.on_step is not None:
                self.on_step(number, step, params, grads)
            divisor = loss_divisor(self.convention, len(rows))
            loss_sum += loss(y, fwd, self.convention) * divisor
            gradient_sum += grads.vector * divisor
            params = optimizer.step(params, grads)
        divisor = loss_divisor(self.convention, len(self.y))
        return params, loss_sum / divisor, Gradients.of(gradient_sum / divisor, params.architecture)

    def loss_and_gradients(self, params: Parameters):
        if self._whole is None:
            self._whole = full_batch_engine(self.X, self.y, params, self.convention)
        return self._whole.loss_and_gradients(params)

    @cached_property
    def rounding(self) -> LossRounding:
        """LossRounding of the rows. Taken at the epoch's starting weights, its bounds are the
        size of the epoch's loss's rounding rather than a bound: each row's residual is taken
        at its batch's weights, a few steps from those."""
        return LossRounding.of_rows(self.X, self.y, self.convention)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(RowStatistics(self.X, self.y), initial, lr, (self.X, self.batch_size), self.step_scale)


def step_scale(plan, n: int) -> float:
    """The plan's step per gradient descent's on the MSE, for n rows: a loss's curvature over
    the rows of an update is a fraction of the MSE's (losses.Loss.step_scale: d(n) / n for a
    squared error's convention, 8 for bce, 4 for cross-entropy), its steps that many times; momentum and Nesterov's steps add up to eta / (1 - mu), so (1 - mu) times that;
    inf for adam, whose steps the curvature does not bound."""
    rows = min(plan.batch_size or n, n)
    return LOSSES[plan.loss].step_scale(rows) * RULES[plan.optimizer].step_scale(plan)


def gram_applies(initial: Parameters) -> bool:
    """Whether the Gram engine computes this network's loss: the lecture's kind, linear."""
    return initial.architecture.lecture and initial.architecture.linear


def gram_engine(X: np.ndarray, y: np.ndarray, convention: str = "mse") -> GramEngine | None:
    """The Gram engine of these rows where it agrees with the literal engine to 1e-9 (GramEngine.exact)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            gram = GramEngine(X, y)
    except SquaresOverflow:
        return None
    return gram.with_loss(convention) if gram.exact else None


def validation_loss(X: np.ndarray, y: np.ndarray, initial: Parameters, plan):
    """The loss on validation rows X, shape (v, k), y, shape (v,) or (v, m), as a function of the weights."""
    applies = gram_applies(initial) and plan.batch_size is None and len(y) >= GRAM_MIN_ROWS
    gram = gram_engine(X, y, plan.loss) if applies else None
    if gram is not None:
        return gram.loss
    return lambda params: loss(y, forward(params, X), plan.loss)
