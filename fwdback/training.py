"""One training plan and the epoch loop: forward, loss, backward, update; mini-batches,
validation, early stopping, the convergence stop, divergence.

The CLI's options and the estimator's parameters both map onto a TrainingPlan, and both call
`fit`: equal settings give equal weights.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import DataError, LossOverflow, NotEnoughMemory, TrainingDiverged
from .gram import GramEngine
from .network import Gradients, LiteralEngine, Parameters, backward, forward, mse_loss, update
from .plan import CONVERGENCE_WINDOW, StopReason, TrainingPlan
from .scaling import Scaling
from .stepsize import Scales, choose_lr, scales_of, scales_of_rows, suggest_lr

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
    `statistics` is their Gram engine. `scales` says how evenly the raw columns are scaled.
    """

    X: np.ndarray | None
    y: np.ndarray | None
    validation: tuple[np.ndarray, np.ndarray] | None
    scaling: Scaling | None
    scales: Scales
    statistics: GramEngine | None = None

    @property
    def rows(self) -> int:
        return self.statistics.rows if self.y is None else len(self.y)


def prepare(X: np.ndarray, y: np.ndarray, plan: TrainingPlan, scaling: Scaling | None = None) -> Prepared:
    """Hold out plan.val_split of the rows (seeded), then standardise with the training rows'
    statistics where the plan says so (or with `scaling`, given when resuming a model).

    X : shape (n, k), y : shape (n,). With plan.standardize None, the rows are standardised
    when plan.lr is None (the step is chosen) and the columns are badly scaled (stepsize.Scales).
    """
    validation = None
    if plan.val_split:
        n_val = round(plan.val_split * len(y))
        if not 1 <= n_val < len(y):
            raise DataError(
                f"--val-split {plan.val_split:g} of {len(y)} rows leaves {n_val} for validation and {len(y) - n_val} "
                "for training; both need at least one row"
            )
        order = np.random.default_rng([SPLIT_STREAM, plan.seed]).permutation(len(y))
        held, kept = np.sort(order[:n_val]), np.sort(order[n_val:])
        validation = (X[held], y[held])
        X, y = X[kept], y[kept]
    scales = scales_of_rows(X)
    standardize = plan.standardize if plan.standardize is not None else plan.lr is None and scales.bad
    if standardize and scaling is None:
        scaling = Scaling.fit(X, y)
    if scaling is not None:
        X, y = scaling.features(X), scaling.target(y)
        if validation is not None:
            validation = (scaling.features(validation[0]), scaling.target(validation[1]))
    return Prepared(X, y, validation, scaling, scales)


def prepare_streamed(make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]) -> Prepared:
    """Rows read in chunks, twice, into the Gram engine's statistics; no row is kept.

    `make_chunks()` returns a fresh iterable of (X, y), X : shape (m, k), y : shape (m,).
    """
    statistics = GramEngine.from_chunks(make_chunks)
    return Prepared(None, None, None, None, scales_of(statistics.G), statistics)


def resolve(plan: TrainingPlan, prepared: Prepared, initial: Parameters) -> TrainingPlan:
    """The plan with its choices made: the learning rate (choose_lr where it is None) and
    whether the rows are standardised."""
    lr = plan.lr
    if lr is None:
        lr = choose_lr(prepared.X, prepared.y, initial, plan.batch_size, prepared.statistics)
        if not np.isfinite(lr):
            lr = 1.0
    return plan.replace(lr=lr, standardize=prepared.scaling is not None)


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
    epochs_run                    how many epochs ran;  first_epoch: the number of the first
    best_epoch                    with early stopping: the epoch whose weights were kept
    stop                          why training ended
    """

    initial: Parameters
    final: Parameters
    losses: np.ndarray
    loss_epochs: np.ndarray
    val_losses: np.ndarray | None
    final_loss: float
    final_gradients: Gradients
    final_val_loss: float | None
    epochs_run: int
    first_epoch: int
    best_epoch: int | None
    stop: StopReason
    seconds: float
    engine: str

    @property
    def interrupted(self) -> bool:
        return self.stop is StopReason.INTERRUPTED

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


@dataclass
class Fit:
    """A finished `fit`: the rows it trained on, the plan with its choices made, what it produced."""

    prepared: Prepared
    plan: TrainingPlan
    result: TrainingResult


def fit(
    X: np.ndarray, y: np.ndarray, initial: Parameters, plan: TrainingPlan, *, scaling: Scaling | None = None, **run
) -> Fit:
    """Prepare the rows (split, standardise), make the plan's choices, and train from `initial`.

    X : shape (n, k), y : shape (n,). `scaling` is a resumed model's. `run` goes to run_plan.
    """
    return run_plan(prepare(X, y, plan, scaling), initial, plan, **run)


def run_plan(
    prepared: Prepared,
    initial: Parameters,
    plan: TrainingPlan,
    *,
    first_epoch: int = 1,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
    engine: str = "auto",
) -> Fit:
    """Train on prepared rows: `fit` for rows already prepared, or streamed (prepare_streamed)."""
    plan = resolve(plan, prepared, initial)
    objective = objective_for(prepared, initial, plan, engine)
    validation_loss = None
    if prepared.validation is not None:
        validation_loss = _validation_loss(prepared.validation, initial, plan, engine)
    result = train(objective, initial, plan, validation_loss=validation_loss, on_epoch=on_epoch, stop=stop,
                   first_epoch=first_epoch)
    return Fit(prepared, plan, result)


def train(
    objective,
    initial: Parameters,
    plan: TrainingPlan,
    *,
    validation_loss: Callable[[Parameters], float] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
    first_epoch: int = 1,
) -> TrainingResult:
    """Run up to plan.epochs epochs of gradient descent from `initial`, with plan.lr (resolved).

    `objective` (objective_for) does an epoch's forward and backward passes and updates.
    `validation_loss(params)` adds a validation loss per epoch, which early stopping then
    watches (the training loss without it). Training ends after plan.epochs epochs, when the
    loss has converged (plan.tol), by early stopping (plan.patience), or after the current
    epoch once `stop` is set (by a signal handler, say).

    Raises LossOverflow when the first epoch's loss is already inf or NaN (the data or the
    weights are too large: no learning rate helps), and TrainingDiverged as soon as a later
    loss is inf/NaN or DIVERGENCE_FACTOR times the first epoch's. `on_epoch(record)` is
    called after every epoch with an EpochRecord. Epochs are numbered from `first_epoch` (a
    resumed model goes on counting). Memory does not grow with plan.epochs beyond the
    LossHistory.
    """
    if plan.epochs < 1:
        raise ValueError("epochs must be at least 1")
    start = time.perf_counter()
    history = LossHistory(validation_loss is not None)
    convergence = Convergence(plan.tol, objective.loss_floor)
    best_epoch, best_params, best_monitored, waited = None, None, None, 0
    first_loss, reason = None, StopReason.EPOCHS
    params, epochs_run = initial, 0
    with np.errstate(all="ignore"):
        for epoch in range(first_epoch, first_epoch + plan.epochs):
            at_start = params
            val_loss = None if validation_loss is None else validation_loss(params)
            params, loss, grads = objective.epoch(params, plan.lr, epoch)
            first_loss = loss if first_loss is None else first_loss
            _check_divergence(objective, epoch, loss, first_loss, epoch == first_epoch, initial, plan.lr)
            history.append(epoch, loss, val_loss)
            epochs_run += 1
            if on_epoch is not None:
                on_epoch(EpochRecord(epoch, loss, val_loss, at_start, grads))
            if plan.patience is not None:
                monitored = val_loss if validation_loss is not None else loss
                if best_epoch is None or monitored < best_monitored - plan.min_delta:
                    best_epoch, best_params, best_monitored, waited = epoch, at_start, monitored, 0
                else:
                    waited += 1
                    if waited >= plan.patience:
                        reason = StopReason.EARLY_STOPPING
                        break
            if convergence.reached(loss) and epochs_run < plan.epochs:
                reason = StopReason.CONVERGED
                break
            if stop is not None and stop.is_set() and epochs_run < plan.epochs:
                reason = StopReason.INTERRUPTED
                break
        if best_params is not None:
            params = best_params
        final_loss, final_gradients = objective.loss_and_gradients(params)
        _check_divergence(objective, first_epoch + epochs_run, final_loss, first_loss, False, initial, plan.lr)
        final_val_loss = None if validation_loss is None else validation_loss(params)
    loss_epochs, losses, val_losses = history.arrays()
    return TrainingResult(
        initial=initial,
        final=params,
        losses=losses,
        loss_epochs=loss_epochs,
        val_losses=val_losses,
        final_loss=final_loss,
        final_gradients=final_gradients,
        final_val_loss=final_val_loss,
        epochs_run=epochs_run,
        first_epoch=first_epoch,
        best_epoch=best_epoch,
        stop=reason,
        seconds=time.perf_counter() - start,
        engine=objective.name,
    )


class Convergence:
    """Whether more epochs can still change the loss: over the last CONVERGENCE_WINDOW epochs,
    has it moved by more than `tol` of itself, and stayed above `floor`, the loss that is zero
    up to rounding?"""

    def __init__(self, tol: float, floor: float):
        self.tol, self.floor = tol, floor
        self.recent: list[float] = []

    def reached(self, loss: float) -> bool:
        if self.tol <= 0:
            return False
        self.recent = self.recent[-(CONVERGENCE_WINDOW - 1) :] + [loss]
        if len(self.recent) < CONVERGENCE_WINDOW:
            return False
        return max(self.recent) <= self.floor or max(self.recent) - min(self.recent) <= self.tol * abs(loss)


class FullBatch:
    """The lecture's epoch: the full-batch loss and gradients at the weights, then one step.

    `engine` computes them each epoch (network.LiteralEngine over the rows, gram.GramEngine
    from their statistics); `whole` computes them once more at the final weights (the literal
    engine wherever the rows are in memory). `rows` = (X, y), or None for streamed rows, which
    `statistics` (their Gram engine) stands for when a learning rate is to be suggested.
    """

    standardized = False

    def __init__(self, engine, whole, name: str, loss_floor: float, rows=None, statistics: GramEngine | None = None):
        self.engine, self.whole, self.name, self.loss_floor = engine, whole, name, loss_floor
        self.rows, self.statistics = rows, statistics

    def epoch(self, params: Parameters, lr: float, number: int):
        loss, grads = self.engine.loss_and_gradients(params)
        return update(params, grads, lr), loss, grads

    def loss_and_gradients(self, params: Parameters):
        return self.whole.loss_and_gradients(params)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        if self.rows is None:
            return suggest_lr(None, None, initial, lr, self.statistics)
        return suggest_lr(*self.rows, initial, lr)


class MiniBatches:
    """Mini-batch descent: epoch e visits the rows in the order epoch_order(seed, e, n), one
    update per batch_size rows, so a resumed run shuffles as an unbroken one.

    The epoch's loss is the mean of its batches' losses and its gradients the mean of theirs,
    both weighted by batch size. X : shape (n, k), y : shape (n,).
    """

    name = "mini-batch"
    standardized = False

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int, loss_floor: float):
        self.X, self.y, self.batch_size, self.seed, self.loss_floor = X, y, batch_size, seed, loss_floor

    def epoch(self, params: Parameters, lr: float, number: int):
        order = epoch_order(self.seed, number, len(self.y))
        return _minibatch_epoch(params, self.X, self.y, lr, self.batch_size, order)

    def loss_and_gradients(self, params: Parameters):
        return LiteralEngine(self.X, self.y, params.n_hidden).loss_and_gradients(params)

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(self.X, self.y, initial, lr, batch_size=self.batch_size)


def objective_for(prepared: Prepared, initial: Parameters, plan: TrainingPlan, engine: str = "auto"):
    """What computes an epoch for this plan: mini-batches, or a full batch by the Gram engine
    (where `engine` asks for it, or "auto" finds it applies, is exact and saves time) or the
    literal engine (the lecture's computation, to the last bit on lecture-sized data)."""
    if prepared.statistics is not None:
        if plan.batch_size is not None or initial.activation != "identity":
            raise ValueError("streamed rows train the linear network on full batches only")
        statistics = prepared.statistics
        return FullBatch(statistics, statistics, "gram", _floor(statistics.zero_loss), statistics=statistics)
    X, y = prepared.X, prepared.y
    check_memory(initial.vector.size, initial.n_hidden, len(y), plan.batch_size)
    floor = _floor(float(y @ y) / len(y))
    if plan.batch_size is not None:
        if engine == "gram":
            raise ValueError("the Gram engine needs the identity activation and full batches")
        objective = MiniBatches(X, y, plan.batch_size, plan.seed, floor)
    else:
        literal = LiteralEngine(X, y, initial.n_hidden)
        gram = _gram_engine(X, y, initial, engine)
        objective = FullBatch(gram or literal, literal, "gram" if gram else "literal", floor, rows=(X, y))
    objective.standardized = prepared.scaling is not None
    return objective


def _floor(zero_loss: float) -> float:
    """A loss this small is rounding on the scale of y: 16 eps^2 times the mean of y^2."""
    return 16 * float(np.finfo(np.float64).eps) ** 2 * zero_loss


def _validation_loss(validation, initial: Parameters, plan: TrainingPlan, engine: str) -> Callable[[Parameters], float]:
    X_val, y_val = validation
    gram = None if plan.batch_size is not None else _gram_engine(X_val, y_val, initial, engine)
    if gram is not None:
        return gram.loss
    return lambda params: mse_loss(y_val, forward(params, X_val).yhat)


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


def _gram_engine(X, y, initial: Parameters, engine: str) -> GramEngine | None:
    """The Gram engine where it is asked for, or where "auto" finds it applies and is exact."""
    if engine not in ("auto", "gram", "literal"):
        raise ValueError(f"unknown engine {engine!r}; choose auto, gram or literal")
    if engine == "literal":
        return None
    if initial.activation != "identity":
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


def _check_divergence(objective, epoch: int, loss: float, first_loss: float, first: bool, initial: Parameters, lr: float) -> None:
    """LossOverflow for a first loss that is not finite, TrainingDiverged for a later one or
    one DIVERGENCE_FACTOR times the first."""
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(first_loss, np.finfo(float).tiny):
        return
    if first and not np.isfinite(loss):
        raise LossOverflow(loss, "at the initial weights" if epoch == 1 else f"at the start of epoch {epoch}")
    raise TrainingDiverged(epoch, loss, objective.suggest_lr(initial, lr), objective.standardized)
