"""The epoch loop: forward, loss, backward, update; mini-batches, validation, early stopping, divergence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import DataError, LossOverflow, NotEnoughMemory, TrainingDiverged
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


# The loss history keeps every epoch up to this many; beyond, every other one, then every fourth, ...
HISTORY_CAPACITY = 1 << 22


class LossHistory:
    """The losses of a run, kept in bounded memory however many epochs it runs.

    Every epoch is kept while there are at most HISTORY_CAPACITY of them; when that fills, every
    other kept epoch is dropped and from then on only every second epoch is kept (then every
    fourth, ...), the first and the latest epoch always. `epochs`, `losses` and `val_losses`
    are arrays of equal length.
    """

    def __init__(self, validation: bool, capacity: int = HISTORY_CAPACITY):
        self.capacity = capacity
        self.stride = 1
        self._epochs = np.empty(min(capacity, 1024), dtype=np.int64)
        self._losses = np.empty(len(self._epochs))
        self._val = np.empty(len(self._epochs)) if validation else None
        self._size = 0
        self.last: tuple[int, float, float | None] | None = None

    def append(self, epoch: int, loss: float, val_loss: float | None) -> None:
        self.last = (epoch, loss, val_loss)
        offset = epoch - int(self._epochs[0]) if self._size else 0
        if offset % self.stride:
            return
        if self._size == self.capacity:
            self._thin()
            if offset % self.stride:
                return
        self._store(epoch, loss, val_loss)

    def _store(self, epoch: int, loss: float, val_loss: float | None) -> None:
        if self._size == len(self._epochs):
            grown = min(self.capacity, 2 * len(self._epochs))
            self._epochs = np.resize(self._epochs, grown)
            self._losses = np.resize(self._losses, grown)
            if self._val is not None:
                self._val = np.resize(self._val, grown)
        self._epochs[self._size], self._losses[self._size] = epoch, loss
        if self._val is not None:
            self._val[self._size] = val_loss
        self._size += 1

    def _thin(self) -> None:
        keep = slice(0, self._size, 2)
        kept = len(range(0, self._size, 2))
        self._epochs[:kept] = self._epochs[keep].copy()
        self._losses[:kept] = self._losses[keep].copy()
        if self._val is not None:
            self._val[:kept] = self._val[keep].copy()
        self._size = kept
        self.stride *= 2

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(epochs, losses, val_losses), the latest epoch included."""
        epochs, losses = self._epochs[: self._size].copy(), self._losses[: self._size].copy()
        val = None if self._val is None else self._val[: self._size].copy()
        if self.last is not None and (not self._size or epochs[-1] != self.last[0]):
            epochs, losses = np.append(epochs, self.last[0]), np.append(losses, self.last[1])
            if val is not None:
                val = np.append(val, self.last[2])
        return epochs, losses, val


@dataclass
class EpochRecord:
    """What one epoch did, for callbacks: its number, its loss (and validation loss), the
    parameters it started from and its gradients (with mini-batches, their size-weighted mean)."""

    number: int
    loss: float
    val_loss: float | None
    params: Parameters
    gradients: Gradients


@dataclass
class TrainingResult:
    """What a run of gradient descent produced.

    losses : shape (m,)           the loss of the epochs in loss_epochs: epoch k's loss is that of its
                                  forward pass, before its update (with mini-batches: the mean over its
                                  batches, weighted by size). Every epoch run, unless more than
                                  HISTORY_CAPACITY ran (LossHistory).
    loss_epochs : shape (m,)      the epoch numbers of `losses`, first and last epoch always
    val_losses : shape (m,) or None   the validation loss at the same weights as losses
    final                         the weights training ends with: after the last update, or
                                  with early stopping the weights of the best epoch
    final_loss                    the training loss at the final weights (whole data, one pass)
    final_gradients               the full-batch gradients at the final weights
    best_epoch                    with early stopping: the epoch whose weights were kept
    stop_reason                   why training ended, in words
    epochs_run                    how many epochs ran
    """

    initial: Parameters
    final: Parameters
    losses: np.ndarray
    final_loss: float
    final_gradients: Gradients
    seconds: float
    epochs_run: int
    loss_epochs: np.ndarray
    interrupted: bool = False
    val_losses: np.ndarray | None = None
    final_val_loss: float | None = None
    best_epoch: int | None = None
    stop_reason: str = "ran every epoch"
    first_epoch: int = 1
    engine: str = "literal"

    @property
    def last_epoch(self) -> int:
        return self.first_epoch + self.epochs_run - 1

    @property
    def epochs_in_weights(self) -> int:
        """How many epochs' updates the final weights hold: with early stopping, those
        before the best epoch (its weights are those at its start)."""
        return self.best_epoch - 1 if self.best_epoch is not None else self.last_epoch

    @property
    def last_loss(self) -> float:
        return float(self.losses[-1])


def train(
    X: np.ndarray,
    y: np.ndarray,
    initial: Parameters,
    lr: float,
    epochs: int,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
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
    e]).permutation(n), one update per batch, so a resumed run shuffles as an unbroken one.
    `validation` = (X_val, y_val) adds a validation loss per epoch, which `early_stopping` then
    watches (the training loss without it).

    Raises LossOverflow when the first epoch's loss is already inf or NaN (the data or the
    weights are too large: no learning rate helps), and TrainingDiverged as soon as a later
    loss is inf/NaN or DIVERGENCE_FACTOR times the first epoch's. `on_epoch(record)` is
    called after every epoch with an EpochRecord. When `stop` is set (by a signal handler,
    say), training ends after the current epoch with the epochs run so far. Epochs are
    numbered from `first_epoch` (a resumed model goes on counting). Memory does not grow
    with `epochs` beyond the LossHistory.

    `engine`: "literal" runs forward and backward over every row each epoch, as the lecture
    does (network.LiteralEngine); "gram" computes the same full-batch loss and gradients from
    one-off statistics of the rows (gram.py), in O(1) per epoch, for the identity activation;
    "auto" takes "gram" where it applies, agrees with "literal" to 1e-9 and saves time
    (GRAM_MIN_ROWS rows or more), "literal" elsewhere, so lecture-sized data runs the
    lecture's computation to the last bit. The final loss and gradients are computed
    literally (LiteralEngine) from the rows in memory.

    `statistics`, the Gram engine of rows not in memory (prepare_streamed), trains on them
    with X, y = None: the identity activation and full batches only, no validation. Every
    epoch is then the Gram engine's, and so are the final loss and gradients.
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    if batch_size is not None and shuffle_seed is None:
        raise ValueError("mini-batches need a shuffle_seed")
    if statistics is not None and (
        X is not None or batch_size is not None or validation is not None or initial.activation != "identity"
    ):
        raise ValueError("training on statistics takes X, y = None, the identity activation, full batches, no validation")
    start = time.perf_counter()
    check_memory(initial.vector.size, initial.n_hidden, None if y is None else len(y), batch_size)
    history = LossHistory(validation is not None)
    best_epoch, best_params, best_monitored, waited = None, None, None, 0
    first_loss = None
    stop_reason = "ran every epoch"
    gram = statistics if statistics is not None else _gram_engine(X, y, initial, batch_size, engine)
    literal = LiteralEngine(X, y, initial.n_hidden) if gram is None and batch_size is None else None
    val_gram = None if validation is None else _gram_engine(*validation, initial, batch_size, engine)
    params = initial
    epochs_run = 0
    with np.errstate(all="ignore"):
        for epoch in range(first_epoch, first_epoch + epochs):
            at_start = params
            val_loss = None
            if validation is not None:
                val_loss = val_gram.loss(params) if val_gram else mse_loss(validation[1], forward(params, validation[0]).yhat)
            if batch_size is None:
                loss, grads = (gram or literal).loss_and_gradients(params)
                first_loss = loss if first_loss is None else first_loss
                _check_divergence(epoch, loss, first_loss, first_epoch, X, y, initial, lr, statistics)
                params = update(params, grads, lr)
            else:
                order = epoch_order(shuffle_seed, epoch, len(y))
                params, loss, grads = _minibatch_epoch(params, X, y, lr, batch_size, order)
                first_loss = loss if first_loss is None else first_loss
                _check_divergence(epoch, loss, first_loss, first_epoch, X, y, initial, lr, statistics)
            history.append(epoch, loss, val_loss)
            epochs_run += 1
            if on_epoch is not None:
                on_epoch(EpochRecord(epoch, loss, val_loss, at_start, grads))
            if early_stopping is not None:
                monitored = val_loss if validation is not None else loss
                if best_epoch is None or monitored < best_monitored - early_stopping.min_delta:
                    best_epoch, best_params, best_monitored, waited = epoch, at_start, monitored, 0
                else:
                    waited += 1
                    if waited >= early_stopping.patience:
                        stop_reason = (
                            f"early stopping: the {'validation' if validation is not None else 'training'} loss did not "
                            f"improve by more than {early_stopping.min_delta:g} for {early_stopping.patience} epochs; "
                            f"kept the weights of epoch {best_epoch}"
                        )
                        break
            if stop is not None and stop.is_set() and epochs_run < epochs:
                stop_reason = f"interrupted after epoch {epoch}"
                break
        interrupted = stop_reason.startswith("interrupted")
        if best_params is not None:
            params = best_params
            if stop_reason == "ran every epoch":
                stop_reason = f"ran every epoch; kept the weights of the best epoch, {best_epoch}"
        final_engine = statistics or literal or LiteralEngine(X, y, initial.n_hidden)
        final_loss, final_gradients = final_engine.loss_and_gradients(params)
        _check_divergence(first_epoch + epochs_run, final_loss, first_loss, first_epoch, X, y, initial, lr, statistics)
        final_val_loss = None if validation is None else mse_loss(validation[1], forward(params, validation[0]).yhat)
    loss_epochs, losses, val_losses = history.arrays()
    return TrainingResult(
        initial,
        params,
        losses,
        final_loss,
        final_gradients,
        time.perf_counter() - start,
        epochs_run,
        loss_epochs,
        interrupted,
        val_losses,
        final_val_loss,
        best_epoch,
        stop_reason,
        first_epoch,
        "literal" if gram is None else "gram",
    )


# Working memory is refused beyond this fraction of the memory the machine has available.
MEMORY_FRACTION = 0.8


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(
    n_parameters: int, n_hidden: int, rows: int | None, batch_size: int | None, arrays_per_row: int = 4
) -> None:
    """NotEnoughMemory, before any work, where the parameters and one step's working arrays
    cannot fit: a few copies of the P parameters, and per row of a step (a batch, or a block of
    the literal engine, whose work arrays are bounded) `arrays_per_row` numbers per hidden unit."""
    available = available_memory()
    if available is None:
        return
    if batch_size:
        work = 8 * arrays_per_row * min(rows or batch_size, batch_size) * n_hidden
    else:
        work = LiteralEngine.WORK_BYTES
    needed = 8 * 6 * n_parameters + work
    if needed > MEMORY_FRACTION * available:
        raise NotEnoughMemory(
            f"a network of {n_hidden:,} hidden units ({n_parameters:,} parameters) "
            f"needs about {needed / 2**30:.1f} GiB to train, more than the {available / 2**30:.1f} GiB available; "
            "use fewer hidden units (--hidden)" + (" or smaller batches (--batch-size)" if batch_size else "")
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


def _check_divergence(
    epoch: int, loss: float, first_loss: float, first_epoch: int, X, y, initial: Parameters, lr: float, statistics
) -> None:
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(first_loss, np.finfo(float).tiny):
        return
    if epoch == first_epoch and not np.isfinite(loss):
        raise LossOverflow(loss, "at the initial weights" if first_epoch == 1 else f"at the start of epoch {epoch}")
    raise TrainingDiverged(epoch, loss, suggest_lr(X, y, initial, lr, statistics))


def suggest_lr(
    X: np.ndarray | None, y: np.ndarray | None, initial: Parameters, lr: float, statistics: GramEngine | None = None
) -> float:
    """A learning rate to try after `lr` diverged, rounded down to one significant digit.

    Half the largest stable step, both where training starts and at a least-squares
    minimizer, where it has to settle; never more than half of `lr`. Weights so large that
    the curvature overflows leave just half of `lr`. With X, y = None, from `statistics`.
    """
    with np.errstate(all="ignore"):
        try:
            best = least_squares(X, y) if statistics is None else statistics.least_squares()
            at_minimum = balanced_minimizer(best.coef, best.intercept, initial.n_hidden)
            gram = gram_matrix(X) if statistics is None else statistics.G
            stable = min(largest_stable_lr_from_gram(initial, gram), largest_stable_lr_from_gram(at_minimum, gram), lr)
        except (np.linalg.LinAlgError, ValueError):
            stable = lr
    mantissa, exponent = f"{0.5 * stable:.15e}".split("e")
    return float(f"{mantissa[0]}e{exponent}")
