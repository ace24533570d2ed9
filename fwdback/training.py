"""The epoch loop: forward, loss, backward, update; mini-batches, validation, early stopping, divergence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import DataError, TrainingDiverged
from .gram import GramEngine
from .network import (
    Gradients,
    LiteralEngine,
    Parameters,
    backward,
    forward,
    gram_matrix,
    largest_stable_lr_from_gram,
    mse_loss,
    update,
)
from .scaling import Scaling
from .yardstick import balanced_minimizer, least_squares

# A loss this many times the first epoch's is growing without bound.
DIVERGENCE_FACTOR = 1e6
# From this many rows on, "auto" trains the linear network with the Gram engine.
GRAM_MIN_ROWS = 10_000
# Random streams besides the initial weights' default_rng(seed): default_rng([stream, seed]).
SHUFFLE_STREAM, SPLIT_STREAM = 1, 2


@dataclass
class Prepared:
    """The rows training sees: validation rows held out, all in z-scores when scaled.

    X : shape (n_train, k), y : shape (n_train,); validation = (X_val, y_val) or None.
    Rows streamed from a file (prepare_streamed) are not held: X and y are None and
    `statistics` is their Gram engine.
    """

    X: np.ndarray | None
    y: np.ndarray | None
    validation: tuple[np.ndarray, np.ndarray] | None
    scaling: Scaling | None
    statistics: GramEngine | None = None

    @property
    def rows(self) -> int:
        return self.statistics.rows if self.y is None else len(self.y)


def prepare(
    X: np.ndarray, y: np.ndarray, seed: int, val_split: float | None, standardize: bool, scaling: Scaling | None = None
) -> Prepared:
    """Hold out a seeded fraction of the rows for validation, then standardise with the
    training rows' statistics (or with `scaling`, given when resuming a model)."""
    validation = None
    if val_split:
        n_val = round(val_split * len(y))
        if not 1 <= n_val < len(y):
            raise DataError(
                f"--val-split {val_split:g} of {len(y)} rows leaves {n_val} for validation and {len(y) - n_val} "
                "for training; both need at least one row"
            )
        order = np.random.default_rng([SPLIT_STREAM, seed]).permutation(len(y))
        held, kept = np.sort(order[:n_val]), np.sort(order[n_val:])
        validation = (X[held], y[held])
        X, y = X[kept], y[kept]
    if standardize and scaling is None:
        scaling = Scaling.fit(X, y)
    if scaling is not None:
        X, y = scaling.features(X), scaling.target(y)
        if validation is not None:
            validation = (scaling.features(validation[0]), scaling.target(validation[1]))
    return Prepared(X, y, validation, scaling)


def prepare_streamed(make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]) -> Prepared:
    """Rows read in chunks, twice, into the Gram engine's statistics; no row is kept.

    `make_chunks()` returns a fresh iterable of (X, y), X : shape (m, k), y : shape (m,).
    """
    return Prepared(None, None, None, None, GramEngine.from_chunks(make_chunks))


@dataclass
class EarlyStopping:
    """Stop when the monitored loss has not improved by more than `min_delta` for `patience` epochs."""

    patience: int
    min_delta: float = 0.0


def schedule(
    seed: int, batch_size: int | None, patience: int | None, min_delta: float, validation
) -> dict:
    """train's keyword arguments for mini-batches, validation and early stopping, set alike by
    the CLI and the Python API so that equal settings give equal weights."""
    return {
        "batch_size": batch_size,
        "shuffle_seed": seed if batch_size else None,
        "validation": validation,
        "early_stopping": EarlyStopping(patience, min_delta) if patience else None,
    }


@dataclass
class TrainingResult:
    """What a run of gradient descent produced.

    losses : shape (epochs run,)  losses[k - 1] is epoch k's loss, from its forward pass, before its
                                  update (with mini-batches: the mean over its batches, weighted by size)
    val_losses : shape (epochs run,) or None   the validation loss at the same weights as losses
    final                         the weights training ends with: after the last update, or
                                  with early stopping the weights of the best epoch
    final_loss                    the training loss at the final weights (whole data, one pass)
    final_gradients               the full-batch gradients at the final weights
    best_epoch                    with early stopping: the epoch whose weights were kept
    stop_reason                   why training ended, in words
    parameter_history : shape (epochs run, P)  with record=True: the parameters at the start of each epoch
    gradient_history : shape (epochs run, P)   with record=True: the epoch's gradients (with
                                               mini-batches: their mean, weighted by batch size)
    """

    initial: Parameters
    final: Parameters
    losses: np.ndarray
    final_loss: float
    final_gradients: Gradients
    seconds: float
    interrupted: bool = False
    parameter_history: np.ndarray | None = None
    gradient_history: np.ndarray | None = None
    val_losses: np.ndarray | None = None
    final_val_loss: float | None = None
    best_epoch: int | None = None
    stop_reason: str = "ran every epoch"
    first_epoch: int = 1
    engine: str = "literal"

    @property
    def epochs_run(self) -> int:
        return len(self.losses)

    @property
    def last_epoch(self) -> int:
        return self.first_epoch + self.epochs_run - 1

    @property
    def epochs_in_weights(self) -> int:
        """How many epochs' updates the final weights hold: with early stopping, those
        before the best epoch (its weights are those at its start)."""
        return self.best_epoch - 1 if self.best_epoch is not None else self.last_epoch

    @property
    def epoch_numbers(self) -> np.ndarray:
        return np.arange(self.first_epoch, self.last_epoch + 1)


def train(
    X: np.ndarray,
    y: np.ndarray,
    initial: Parameters,
    lr: float,
    epochs: int,
    on_epoch: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    record: bool = False,
    batch_size: int | None = None,
    shuffle_seed: int | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    early_stopping: EarlyStopping | None = None,
    first_epoch: int = 1,
    engine: str = "auto",
    statistics: GramEngine | None = None,
) -> TrainingResult:
    """Run up to `epochs` epochs of gradient descent from `initial`.

    X : shape (n, k), y : shape (n,). Full-batch, as in the lecture, unless `batch_size` is
    given: then epoch e visits the rows in the order default_rng([SHUFFLE_STREAM, shuffle_seed,
    e]).permutation(n), one update per batch, so a resumed run shuffles as an unbroken one. `validation` = (X_val, y_val) adds a validation loss per epoch, which
    `early_stopping` then watches (the training loss without it).

    Raises TrainingDiverged as soon as the loss is inf/NaN or DIVERGENCE_FACTOR times the
    first epoch's loss. `on_epoch(k)` is called after epoch k. When `stop` is set (by a signal
    handler, say), training ends after the current epoch with the epochs run so far. With
    `record`, every epoch's parameters and gradients are kept too (2 * P floats an epoch).
    Epochs are numbered from `first_epoch` (a resumed model goes on counting).

    `engine`: "literal" runs forward and backward over every row each epoch, as the lecture
    does (network.LiteralEngine); "gram" computes the same full-batch loss and gradients from one-off statistics of
    the rows (gram.py), in O(1) per epoch, for the identity activation; "auto" takes "gram"
    where it applies, agrees with "literal" to 1e-9 and saves time (GRAM_MIN_ROWS rows or
    more), "literal" elsewhere, so lecture-sized data runs the lecture's computation to the
    last bit. The final loss and gradients are computed literally (LiteralEngine) from the
    rows in memory.

    `statistics`, the Gram engine of rows not in memory (prepare_streamed), trains on them
    with X, y = None: the identity activation and full batches only, no validation. Every
    epoch is then the Gram engine's, and so are the final loss and gradients.
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    if batch_size is not None and shuffle_seed is None:
        raise ValueError("mini-batches need a shuffle_seed")
    start = time.perf_counter()
    size = initial.vector.size
    losses = np.empty(epochs)
    val_losses = np.empty(epochs) if validation is not None else None
    parameter_history = np.empty((epochs, size)) if record else None
    gradient_history = np.empty((epochs, size)) if record else None
    monitored = val_losses if val_losses is not None else losses
    best_epoch, best_params, waited = None, None, 0
    stop_reason = "ran every epoch"
    if statistics is not None and (
        X is not None or batch_size is not None or validation is not None or initial.activation != "identity"
    ):
        raise ValueError("training on statistics takes X, y = None, the identity activation, full batches, no validation")
    gram = statistics if statistics is not None else _gram_engine(X, y, initial, batch_size, engine)
    literal = LiteralEngine(X, y, initial.n_hidden) if gram is None and batch_size is None else None
    val_gram = None if validation is None else _gram_engine(*validation, initial, batch_size, engine)
    params = initial
    for epoch in range(1, epochs + 1):
        at_start = params
        if validation is not None:
            val_losses[epoch - 1] = (
                val_gram.loss(params) if val_gram else mse_loss(validation[1], forward(params, validation[0]).yhat)
            )
        if batch_size is None:
            loss, grads = (gram or literal).loss_and_gradients(params)
            _check_divergence(first_epoch + epoch - 1, loss, losses[0] if epoch > 1 else loss, X, y, initial, lr, statistics)
            params = update(params, grads, lr)
        else:
            order = epoch_order(shuffle_seed, first_epoch + epoch - 1, len(y))
            params, loss, grads = _minibatch_epoch(params, X, y, lr, batch_size, order)
            _check_divergence(first_epoch + epoch - 1, loss, losses[0] if epoch > 1 else loss, X, y, initial, lr, statistics)
        losses[epoch - 1] = loss
        if record:
            parameter_history[epoch - 1] = at_start.vector
            gradient_history[epoch - 1] = grads.vector
        if on_epoch is not None:
            on_epoch(epoch)
        if early_stopping is not None:
            if best_epoch is None or monitored[epoch - 1] < monitored[best_epoch - 1] - early_stopping.min_delta:
                best_epoch, best_params, waited = epoch, at_start, 0
            else:
                waited += 1
                if waited >= early_stopping.patience:
                    stop_reason = (
                        f"early stopping: the {'validation' if validation is not None else 'training'} loss did not "
                        f"improve by more than {early_stopping.min_delta:g} for {early_stopping.patience} epochs; "
                        f"kept the weights of epoch {first_epoch + best_epoch - 1}"
                    )
                    epochs = epoch
                    break
        if stop is not None and stop.is_set() and epoch < epochs:
            stop_reason = f"interrupted after epoch {first_epoch + epoch - 1}"
            epochs = epoch
            break
    interrupted = stop_reason.startswith("interrupted")
    losses = losses[:epochs]
    val_losses = None if val_losses is None else val_losses[:epochs]
    if record:
        parameter_history, gradient_history = parameter_history[:epochs], gradient_history[:epochs]
    if best_params is not None:
        params = best_params
        if stop_reason == "ran every epoch":
            stop_reason = f"ran every epoch; kept the weights of the best epoch, {first_epoch + best_epoch - 1}"
    final_engine = statistics or literal or LiteralEngine(X, y, initial.n_hidden)
    final_loss, final_gradients = final_engine.loss_and_gradients(params)
    _check_divergence(first_epoch + len(losses) - 1, final_loss, losses[0], X, y, initial, lr, statistics)
    final_val_loss = None if validation is None else mse_loss(validation[1], forward(params, validation[0]).yhat)
    return TrainingResult(
        initial,
        params,
        losses,
        final_loss,
        final_gradients,
        time.perf_counter() - start,
        interrupted,
        parameter_history,
        gradient_history,
        val_losses,
        final_val_loss,
        None if best_epoch is None else first_epoch + best_epoch - 1,
        stop_reason,
        first_epoch,
        "literal" if gram is None else "gram",
    )


def _gram_engine(X, y, initial: Parameters, batch_size: int | None, engine: str) -> GramEngine | None:
    """The Gram engine where it is asked for, or where "auto" finds it applies and is exact."""
    if engine not in ("auto", "gram", "literal"):
        raise ValueError(f"unknown engine {engine!r}; choose auto, gram or literal")
    if engine == "literal":
        return None
    if batch_size is not None or initial.activation != "identity":
        if engine == "gram":
            raise ValueError("the Gram engine needs the identity activation and full batches")
        return None
    if engine == "auto" and len(y) < GRAM_MIN_ROWS:
        return None
    gram = GramEngine(X, y)
    return gram if engine == "gram" or gram.exact else None


def epoch_order(shuffle_seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which mini-batch epoch `epoch` visits the n rows."""
    return np.random.default_rng([SHUFFLE_STREAM, shuffle_seed, epoch]).permutation(n)


def _minibatch_epoch(params: Parameters, X, y, lr: float, batch_size: int, order: np.ndarray):
    """One epoch of mini-batch descent in the row order `order`; the new weights, the epoch's
    loss and its mean gradient."""
    n = len(y)
    loss_sum = 0.0
    gradient_sum = np.zeros_like(params.vector)
    for first in range(0, n, batch_size):
        rows = order[first : first + batch_size]
        X_batch, y_batch = X[rows], y[rows]
        fwd = forward(params, X_batch)
        grads = backward(params, X_batch, y_batch, fwd)
        loss_sum += mse_loss(y_batch, fwd.yhat) * len(rows)
        gradient_sum += grads.vector * len(rows)
        params = update(params, grads, lr)
    return params, loss_sum / n, Gradients(gradient_sum / n, params.n_inputs, params.n_hidden, params.activation)


def _check_divergence(epoch: int, loss: float, first_loss: float, X, y, initial: Parameters, lr: float, statistics) -> None:
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(first_loss, np.finfo(float).tiny):
        return
    raise TrainingDiverged(epoch, loss, suggest_lr(X, y, initial, lr, statistics))


def suggest_lr(
    X: np.ndarray | None, y: np.ndarray | None, initial: Parameters, lr: float, statistics: GramEngine | None = None
) -> float:
    """A learning rate to try after `lr` diverged, rounded down to one significant digit.

    Half the largest stable step, both where training starts and at a least-squares
    minimizer, where it has to settle; never more than half of `lr`. Weights so large that
    the curvature overflows leave just half of `lr`. With X, y = None, from `statistics`.
    """
    best = least_squares(X, y) if statistics is None else statistics.least_squares()
    at_minimum = balanced_minimizer(best.coef, best.intercept, initial.n_hidden)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            gram = gram_matrix(X) if statistics is None else statistics.G
            stable = min(largest_stable_lr_from_gram(initial, gram), largest_stable_lr_from_gram(at_minimum, gram), lr)
        except np.linalg.LinAlgError:
            stable = lr
    mantissa, exponent = f"{0.5 * stable:.15e}".split("e")
    return float(f"{mantissa[0]}e{exponent}")
