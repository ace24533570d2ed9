"""One training plan and the epoch loop: forward, loss, backward, update; validation, early
stopping, the convergence stop, divergence.

The CLI's options and the estimator's parameters both map onto a TrainingPlan (plan.py), and
both train with `fit_rows` through run.fit, on rows `prepare` (or prepare_streamed) made:
equal settings give equal weights. An epoch itself is an objective's (engines/): the
lecture's full batch, its Gram form, or mini-batches. `train` is the loop: an objective, the
starting weights, the plan and the callbacks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .engines import GramEngine, LiteralEngine, step_scale
from .engines.rows import InMemoryRows, RowSummary, StreamedRows, TrainingRows, scaling_chosen
from .errors import LossOverflow, NotEnoughMemory, SplitTooSmall, TrainingDiverged
from .losses import LOSSES
from .network import Gradients, Parameters
from .notation import count
from .optimizers import RULES, Optimizer, OptimizerSettings
from .plan import StopReason, TrainingPlan
from .settings import CONVERGENCE_WINDOW
from .rounding import beyond_rounding
from .scaling import Scaling
from .stepsize import round_down, scales_of_rows

# A loss this many times the first epoch's is growing without bound.
DIVERGENCE_FACTOR = 1e6
# The random stream of the validation split, besides the initial weights' default_rng(seed).
SPLIT_STREAM = 2


def prepare(X: np.ndarray, y: np.ndarray, plan: TrainingPlan, scaling: Scaling | None = None) -> InMemoryRows:
    """Hold out plan.val_split of the rows (seeded), then standardise with the training rows'
    statistics where engines.rows.scaling_chosen says so (or with `scaling`, given when
    resuming a model): the features, and the target but for a classifier's. The raw rows'
    Scales are taken where the choice needs them, or when first asked for (InMemoryRows): a fit
    with its learning rate given skips their passes over the rows (233 ms on 1M rows).

    X : shape (n, k), y : shape (n,) or (n, m).
    """
    validation = None
    split = validation_split(len(y), plan)
    if split is not None:
        held, kept = split
        validation = (X[held], y[held])
        X, y = X[kept], y[kept]
    scaling, scales = scaling_chosen(
        plan, scaling, lambda: (lambda: Scaling.fit(X, y, LOSSES[plan.loss].classifies), scales_of_rows(X, y)))
    if scaling is not None:
        if scales is None:  # a resumed model's scaling: the raw rows' scales all the same
            scales = scales_of_rows(X, y)
        X, y = scaling.features(X), scaling.target(y)
        if validation is not None:
            validation = (scaling.features(validation[0]), scaling.target(validation[1]))
    return InMemoryRows(X, y, validation, scaling, scales)


def validation_split(n: int, plan: TrainingPlan) -> tuple[np.ndarray, np.ndarray] | None:
    """(held, kept): the 0-based numbers of the n rows held out for validation, shape (n_val,),
    and of those trained on, shape (n - n_val,), each in the data's order (seeded by plan.seed);
    None without plan.val_split. SplitTooSmall where either side would be empty."""
    if not plan.val_split:
        return None
    n_val = round(plan.val_split * n)
    if not 1 <= n_val < n:
        raise SplitTooSmall(plan.val_split, n, n_val)
    order = np.random.default_rng([SPLIT_STREAM, plan.seed]).permutation(n)
    return np.sort(order[:n_val]), np.sort(order[n_val:])


def prepare_streamed(
    make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]], plan: TrainingPlan, scaling: Scaling | None = None
) -> StreamedRows:
    """Rows read in chunks into the Gram engine's statistics, in z-scores where
    engines.rows.scaling_chosen says so (or with `scaling`, a resumed model's); no row is kept.

    `make_chunks()` returns a fresh iterable of (X, y), X : shape (m, k), y : shape (m,). The
    Gram engine reads the rows twice; one more pass first (RowSummary) takes their means,
    standard deviations and scales where the decision needs them.
    """
    scaling, scales = scaling_chosen(plan, scaling, lambda: RowSummary.of_chunks(make_chunks).moments_and_scales())
    if scaling is not None:
        raw, make_chunks = make_chunks, lambda: ((scaling.features(X), scaling.target(y)) for X, y in raw())
    return StreamedRows(GramEngine.from_chunks(make_chunks), scaling, scales)


def resolve(plan: TrainingPlan, rows: TrainingRows, initial: Parameters) -> TrainingPlan:
    """The plan with its choices made: the learning rate (choose_lr where it is None) and
    whether the rows are standardised.

    choose_lr gives gradient descent's step for the MSE; another loss convention scales the
    gradients by n / d(n) (n the rows of an update), so the step by d(n) / n; momentum and
    Nesterov's steps add up to eta / (1 - mu), so they take (1 - mu) times it (engines.step_scale);
    adam takes its default_lr (optimizers.Adam).
    """
    lr, rule = plan.lr, RULES[plan.optimizer]
    if lr is None and rule.default_lr is not None:
        lr = rule.default_lr
    elif lr is None:
        lr = rows.choose_lr(initial, plan.batch_size)
        if not np.isfinite(lr):
            lr = 1.0
        if not (LOSSES[plan.loss].lecture and rule.lecture):
            lr = round_down(lr * step_scale(plan, rows.count), 2)
    standardize = rows.scaling is not None
    if lr is plan.lr and standardize is plan.standardize:  # both given: no choice to make
        return plan
    return plan.replace(lr=lr, standardize=standardize)


def optimizer_for(plan: TrainingPlan, initial: Parameters, state: dict | None = None) -> Optimizer:
    """The plan's update rule for these parameters, with its learning rate (resolved) and
    frozen parameters; `state` is a resumed run's (Optimizer.record())."""
    settings = OptimizerSettings.of(plan)
    frozen = np.isin(np.array(initial.names), list(plan.freeze)) if plan.freeze else None
    state = dict(state or {})
    return settings.optimizer(plan.lr, initial.vector.size, frozen, {k: v for k, v in state.items() if k != "t"},
                              int(state.get("t", 0)))


# The loss history keeps every epoch up to this many; beyond, every other one, then every fourth, ...
HISTORY_CAPACITY = 1 << 22


class Thinned:
    """Rows of numbers, one an epoch, kept in bounded memory however many epochs come.

    Every epoch is kept while there are at most `capacity` of them; when that fills, every other
    kept epoch is dropped and from then on only every second epoch is kept (then every fourth,
    ...), the first and the latest epoch always. Each row holds `width` numbers.
    """

    def __init__(self, width: int, capacity: int):
        self.capacity = capacity
        self.stride = 1
        self._epochs = np.empty(min(capacity, 1024), dtype=np.int64)
        self._rows = np.empty((len(self._epochs), width))
        self._size = 0
        self.count = 0
        self.last: tuple[int, np.ndarray] | None = None

    def append(self, epoch: int, row) -> None:
        self.last = (epoch, row)
        self.count += 1
        offset = epoch - int(self._epochs[0]) if self._size else 0
        if offset % self.stride:
            return
        if self._size == self.capacity:
            self._thin()
            if offset % self.stride:
                return
        if self._size == len(self._epochs):
            grown = min(self.capacity, 2 * len(self._epochs))
            self._epochs = np.resize(self._epochs, grown)
            self._rows = np.resize(self._rows, (grown, self._rows.shape[1]))
        self._epochs[self._size], self._rows[self._size] = epoch, row
        self._size += 1

    def _thin(self) -> None:
        kept = len(range(0, self._size, 2))
        self._epochs[:kept] = self._epochs[: self._size : 2].copy()
        self._rows[:kept] = self._rows[: self._size : 2].copy()
        self._size = kept
        self.stride *= 2

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(epochs : shape (m,), rows : shape (m, width)), the latest epoch included."""
        epochs, rows = self._epochs[: self._size].copy(), self._rows[: self._size].copy()
        if self.last is not None and (not self._size or epochs[-1] != self.last[0]):
            epochs, rows = np.append(epochs, self.last[0]), np.vstack([rows, self.last[1]])
        return epochs, rows


class LossHistory(Thinned):
    """The losses (and validation losses) of a run, one row an epoch (Thinned)."""

    def __init__(self, validation: bool, capacity: int = HISTORY_CAPACITY):
        super().__init__(2 if validation else 1, capacity)
        self.validation = validation

    def append(self, epoch: int, loss: float, val_loss: float | None) -> None:
        super().append(epoch, (loss, val_loss) if self.validation else (loss,))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(epochs, losses, val_losses), the latest epoch included."""
        epochs, rows = super().arrays()
        return epochs, rows[:, 0].copy(), rows[:, 1].copy() if self.validation else None


@dataclass
class EpochRecord:
    """What one epoch did, for callbacks: its number, its loss (and validation loss), the
    parameters it started from and its gradients (with mini-batches, their size-weighted mean),
    and the optimizer's state after it ({} for gd; "v"; "m" and "s"; each shape (P,))."""

    number: int
    loss: float
    val_loss: float | None
    params: Parameters
    gradients: Gradients
    optimizer_state: dict[str, np.ndarray]


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
    last                          the weights after the last update (the start of the epoch after
                                  the last), whichever epoch early stopping keeps
    final_loss                    the training loss at the final weights (whole data, one pass)
    final_gradients               the full-batch gradients at the final weights
    epochs_run                    how many epochs ran;  first_epoch: the number of the first
    best_epoch                    with early stopping: the epoch whose weights were kept
    stop                          why training ended
    optimizer_state               the update rule's state after the last epoch (Optimizer.record())
    """

    initial: Parameters
    final: Parameters
    last: Parameters
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
    optimizer_state: dict

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
    """A finished `fit_rows`: the rows it trained on, the plan with its choices made, what it produced."""

    rows: TrainingRows
    plan: TrainingPlan
    result: TrainingResult


def fit_rows(
    rows: TrainingRows,
    initial: Parameters,
    plan: TrainingPlan,
    *,
    first_epoch: int = 1,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
    optimizer_state: dict | None = None,
    on_step: Callable[[int, int, Parameters, Gradients], None] | None = None,
) -> Fit:
    """Make the plan's choices (resolve), take the rows' objective (in memory, streamed or on a
    cluster: TrainingRows.objective) and train from `initial`. first_epoch, on_epoch, stop and
    optimizer_state are train's; with mini-batches, `on_step(epoch, step, params, gradients)`
    is called before each update (engines.MiniBatches.epoch)."""
    plan = resolve(plan, rows, initial)
    if rows.arrays is not None:
        check_memory(initial.vector.size, initial.n_hidden, rows.count, plan.batch_size)
    objective = rows.objective(initial, plan, on_step)
    result = train(objective, initial, plan, validation_loss=rows.validation_loss(initial, plan), on_epoch=on_epoch, stop=stop,
                   first_epoch=first_epoch, optimizer_state=optimizer_state)
    return Fit(rows, plan, result)


def train(
    objective,
    initial: Parameters,
    plan: TrainingPlan,
    *,
    validation_loss: Callable[[Parameters], float] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    stop: threading.Event | None = None,
    first_epoch: int = 1,
    optimizer_state: dict | None = None,
) -> TrainingResult:
    """Run up to plan.epochs epochs of gradient descent (or plan.optimizer's rule, from
    `optimizer_state` when resuming) from `initial`, with plan.lr (resolved).

    `objective` (a TrainingRows.objective, engines/) does an epoch's forward and backward passes and
    updates. `validation_loss(params)` adds a validation loss per epoch, which early stopping
    then watches (the training loss without it). Training ends after plan.epochs epochs, when
    the loss has converged (plan.tol), by early stopping (plan.patience), or after the current
    epoch once `stop` is set (by a signal handler, say). `on_epoch(record)` is called after
    every epoch with an EpochRecord. Epochs are numbered from `first_epoch` (a resumed model
    goes on counting). Memory does not grow with plan.epochs beyond the LossHistory.

    Raises LossOverflow when the first epoch's loss is already inf or NaN (the data or the
    weights are too large: no learning rate helps), and TrainingDiverged as soon as a later
    loss is inf/NaN or DIVERGENCE_FACTOR times the first epoch's.
    """
    if plan.epochs < 1:
        raise ValueError("epochs must be at least 1")
    start = time.perf_counter()
    history = LossHistory(validation_loss is not None)
    convergence = Convergence(plan.tol)
    early = EarlyStopping(plan.patience, plan.min_delta)
    divergence = Divergence(objective, initial, plan, first_epoch)
    optimizer = optimizer_for(plan, initial, optimizer_state)
    params, reason = initial, StopReason.EPOCHS
    with np.errstate(all="ignore"):
        for epoch in range(first_epoch, first_epoch + plan.epochs):
            at_start = params
            val_loss = None if validation_loss is None else validation_loss(params)
            params, loss, grads = objective.epoch(params, optimizer, epoch)
            divergence.check(epoch, loss)
            history.append(epoch, loss, val_loss)
            if on_epoch is not None:
                on_epoch(EpochRecord(epoch, loss, val_loss, at_start, grads, dict(optimizer.state)))
            last = epoch == first_epoch + plan.epochs - 1
            reason = (
                StopReason.EARLY_STOPPING if early.reached(epoch, at_start, loss if val_loss is None else val_loss)
                else StopReason.CONVERGED if convergence.reached(loss, objective.rounding, at_start) and not last
                else StopReason.INTERRUPTED if stop is not None and stop.is_set() and not last
                else StopReason.EPOCHS
            )
            if reason is not StopReason.EPOCHS:
                break
        last, params = params, early.best_params or params
        final_loss, final_gradients = objective.loss_and_gradients(params)
        divergence.check(history.last[0] + 1, final_loss)
        final_val_loss = None if validation_loss is None else validation_loss(params)
    loss_epochs, losses, val_losses = history.arrays()
    return TrainingResult(
        initial=initial, final=params, last=last, losses=losses, loss_epochs=loss_epochs, val_losses=val_losses,
        final_loss=final_loss, final_gradients=final_gradients, final_val_loss=final_val_loss,
        epochs_run=history.count, first_epoch=first_epoch, best_epoch=early.best_epoch, stop=reason,
        seconds=time.perf_counter() - start, engine=objective.name, optimizer_state=optimizer.record(),
    )


class EarlyStopping:
    """Whether the monitored loss has gone `patience` epochs without improving by more than
    `min_delta`, keeping the best epoch and its weights (those it started from); never with
    patience None."""

    def __init__(self, patience: int | None, min_delta: float):
        self.patience, self.min_delta = patience, min_delta
        self.best_epoch, self.best_params, self.best_loss, self.waited = None, None, None, 0

    def reached(self, epoch: int, params: Parameters, monitored: float) -> bool:
        if self.patience is None:
            return False
        if self.best_epoch is None or monitored < self.best_loss - self.min_delta:
            self.best_epoch, self.best_params, self.best_loss, self.waited = epoch, params, monitored, 0
            return False
        self.waited += 1
        return self.waited >= self.patience


class Convergence:
    """Whether more epochs can still change the loss measurably. Over the last
    CONVERGENCE_WINDOW epochs the loss has converged when it
      - moved by no more than `tol` of itself, or
      - stayed at zero up to rounding (each loss at most rounding.zero's floor), or
      - found no new lowest loss, moving by no more than rounding can move it (the two extremes'
        bounds, rounding.beyond_rounding): the steps no longer take it lower, rounding only
        stirs it (weights that cycle or wander by a last bit).
    A loss that keeps reaching new lows has not converged, however little it falls each epoch:
    the worst-case bound on one loss's rounding is far above what two nearby losses differ by
    in practice. Never with tol 0.

    The bounds are taken only where the decision reads them (_Epoch): an epoch's floor is asked
    for where no other loss of the window is already known to be above its own, and the two
    extremes' bounds only once no new lowest loss came (each costs about a pass over the weights,
    as much as a small network's epoch)."""

    def __init__(self, tol: float):
        self.tol = tol
        self.recent: list[_Epoch] = []
        self.lowest_before = np.inf  # the lowest loss before the window

    def reached(self, loss: float, rounding, params: Parameters) -> bool:
        """`rounding`: the objective's bounds (rounding.LossRounding or QuadraticRounding), taken
        at `params`, the weights this epoch's `loss` was computed at."""
        if self.tol <= 0:
            return False
        if len(self.recent) == CONVERGENCE_WINDOW:
            self.lowest_before = min(self.lowest_before, self.recent.pop(0).loss)
        self.recent.append(_Epoch(loss, rounding, params))
        if len(self.recent) < CONVERGENCE_WINDOW:
            return False
        highest, lowest = max(epoch.loss for epoch in self.recent), min(epoch.loss for epoch in self.recent)
        if highest - lowest <= self.tol * abs(loss):
            return True
        if lowest >= self.lowest_before:
            # the extremes' bounds: of equal losses, the largest bound of the highest, the smallest of the lowest
            high_bound = max(epoch.bound() for epoch in self.recent if epoch.loss == highest)
            low_bound = min(epoch.bound() for epoch in self.recent if epoch.loss == lowest)
            if not beyond_rounding(highest - lowest, high_bound, low_bound):
                return True
        # the floors known first, then the newest (whose floor, once known, serves the most epochs)
        known_first = sorted(reversed(self.recent), key=lambda epoch: not epoch.floor_known)
        return all(epoch.loss <= epoch.floor() for epoch in known_first)


class _Epoch:
    """An epoch's loss, and its rounding bound and floor at its weights (rounding.of, .zero),
    each taken when first asked for."""

    def __init__(self, loss: float, rounding, params: Parameters):
        self.loss, self.rounding, self.params = loss, rounding, params
        self._bound = self._floor = None

    @property
    def floor_known(self) -> bool:
        return self._floor is not None

    def bound(self) -> float:
        if self._bound is None:
            self._bound = self.rounding.of(self.params, self.loss)
        return self._bound

    def floor(self) -> float:
        if self._floor is None:
            self._floor = self.rounding.zero(self.params)
        return self._floor


class Divergence:
    """LossOverflow for a first loss that is not finite (no learning rate could help), and
    TrainingDiverged for a later one, or one DIVERGENCE_FACTOR times the first. The rate it
    suggests is the objective's; adam's, which the curvature does not bound, at most its default_lr."""

    def __init__(self, objective, initial: Parameters, plan: TrainingPlan, first_epoch: int):
        self.objective, self.initial, self.plan, self.first_epoch = objective, initial, plan, first_epoch
        self.first_loss = None

    def check(self, epoch: int, loss: float) -> None:
        first = self.first_loss is None
        self.first_loss = loss if first else self.first_loss
        if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(self.first_loss, np.finfo(float).tiny):
            return
        if first and not np.isfinite(loss):
            raise LossOverflow(loss, "at the initial weights" if epoch == 1 else f"at the start of epoch {count(epoch)}")
        suggested = self.objective.suggest_lr(self.initial, self.plan.lr)
        default_lr = RULES[self.plan.optimizer].default_lr
        if default_lr is not None:
            suggested = min(suggested, default_lr)
        raise TrainingDiverged(epoch, loss, suggested, self.objective.standardized)


# Working memory is refused beyond this fraction of the memory the machine has available...
MEMORY_FRACTION = 0.8
# ...which is not asked for below this many bytes.
SURELY_AVAILABLE = 256 << 20


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
    if batch_size:
        work = 8 * arrays_per_row * min(rows or batch_size, batch_size) * n_hidden
    else:
        work = LiteralEngine.WORK_BYTES
    needed = 8 * 6 * n_parameters + work
    if needed <= SURELY_AVAILABLE:
        return
    available = available_memory()
    if available is not None and needed > MEMORY_FRACTION * available:
        raise NotEnoughMemory(n_hidden, n_parameters, needed, available, batch_size is not None)
