"""One epoch worked by hand: every value network.py computes for one update of a run.

`work_epoch` runs the network (forward, loss, backward, the optimizer's update) and keeps every
intermediate value, the backward pass's per-row terms included, as a WorkedEpoch. What explain
shows of it lives apart: reports/explain.py writes it as format-free sections, reports/explain_json.py
as explain's JSON document, render/notebook.py shows it in a notebook.

Any k inputs, H hidden units and m outputs are named as the lecture names its 3-2-1 network:
inputs x1..xk, hidden units N1..NH with weights w1..w(kH) (unit 1's k weights first) and
biases b1..bH, then the output yhat (yhat1..yhatm for several, with targets y1..ym) with its
weights and bias. With an activation, z_h = w . x + b is what goes into unit h and
N_h = act(z_h) what comes out; with an output activation, a_j = w . N + b goes into output j
and yhat_j = out(a_j) comes out.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATIONS, Activation
from .engines import MiniBatches
from .engines.rows import InMemoryRows
from .errors import EpochNotReached, LossOverflow, StepNotInEpoch, TrainingDiverged
from .losses import LOSSES, Loss
from .network import (
    BackwardPass, ForwardPass, Gradients, Parameters, as_rows, backward, classification_terms, forward, loss, output_symbols,
)
from .notation import count
from .optimizers import Optimizer, OptimizerSettings, OptimizerStep
from .plan import StopReason, TrainingPlan
from .scaling import Scaling
from .stepsize import suggest_lr
from .training import Divergence, EpochRecord, check_memory, fit_rows, optimizer_for, validation_split

@dataclass
class WorkedEpoch:
    """Update `step` of epoch `epoch`, with every intermediate value.

    params are the weights at the start of the step, new_params those after it. The step is
    full-batch over the training rows, or with `batch_size` the epoch's step-th mini-batch; X,
    y and the passes' per-row arrays hold the rows of that step, n of them.
    X : shape (n, k), y : shape (n,), or (n, m) for m outputs
    forward, backward       network.forward's and network.backward's results for these rows
    loss, loss_after        the loss of these rows before and after the step (`convention`'s)
    row_numbers : (n,)      each row's 1-based row number in the data file
    n_train                 the rows training sees (the mini-batch is drawn from them)
    scaling                 how the rows were standardised, or None
    validation_rows         rows held out for validation (they take no part in the step)
    step, steps             which update of the epoch this is, of how many; `shuffle`: in a
                            shuffled order (else the file's)
    optimizer, update       the update rule and what it did (its state after the step, each shape (P,))
    state_before            the rule's state before the step: {"v": (P,)}, {"m": (P,), "s": (P,)}, {}
    frozen                  the names of the parameters that keep their values
    """

    epoch: int
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: Parameters
    forward: ForwardPass
    backward: BackwardPass
    loss: float
    new_params: Parameters
    loss_after: float
    row_numbers: np.ndarray
    n_train: int
    optimizer: OptimizerSettings
    batch_size: int | None = None
    scaling: Scaling | None = None
    validation_rows: int = 0
    step: int = 1
    steps: int = 1
    shuffle: bool = True
    convention: str = "mse"
    update: OptimizerStep | None = None
    state_before: dict = field(default_factory=dict)
    frozen: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def k(self) -> int:
        return self.params.n_inputs

    @property
    def inputs(self) -> tuple[str, ...]:
        """x1..xk."""
        return tuple(f"x{j}" for j in range(1, self.k + 1))

    @property
    def hidden(self) -> int:
        return self.params.n_hidden

    @property
    def m(self) -> int:
        return self.params.n_outputs

    @property
    def activation(self) -> str:
        return self.params.activation

    @property
    def act(self) -> Activation:
        """The hidden layer's activation, its registry record."""
        return ACTIVATIONS[self.activation]

    @property
    def activated(self) -> bool:
        """Whether the hidden layer has an activation (anything but the lecture's identity)."""
        return self.params.activated

    @property
    def output_activation(self) -> str:
        return self.params.output_activation

    @property
    def out_act(self) -> Activation:
        """The outputs' activation, its registry record."""
        return ACTIVATIONS[self.output_activation]

    @property
    def out_activated(self) -> bool:
        """Whether the outputs have an activation (the lecture's have none)."""
        return self.params.out_activated

    @property
    def loss_convention(self) -> Loss:
        """The loss convention's registry record."""
        return LOSSES[self.convention]

    @property
    def outputs(self) -> tuple[str, ...]:
        """yhat, or yhat1..yhatm."""
        return output_symbols(self.m)

    @property
    def targets(self) -> tuple[str, ...]:
        """y, or y1..ym."""
        return tuple(output[0] + output[4:] for output in self.outputs)

    @property
    def into_outputs(self) -> tuple[str, ...]:
        """What goes into each output: yhat itself without an output activation, else a (a1..am)."""
        if not self.out_activated:
            return self.outputs
        return ("a",) if self.m == 1 else tuple(f"a{j}" for j in range(1, self.m + 1))

    @property
    def Y(self) -> np.ndarray:
        """shape (m, n): the targets, a row per output."""
        return as_rows(self.y)

    @property
    def error(self) -> np.ndarray:
        """y - yhat, shaped as y."""
        return self.y - self.forward.yhat

    @property
    def E(self) -> np.ndarray:
        """shape (m, n): y_j - yhat_j, a row per output."""
        return self.Y - self.forward.Yhat

    @property
    def factor(self) -> float:
        """The loss convention's derivative factor 2/d(n): dL/dyhat_i = -factor (y_i - yhat_i)."""
        return LOSSES[self.convention].factor(self.n)

    @property
    def gradients(self) -> Gradients:
        return self.backward.gradients

    @property
    def classifies(self) -> bool:
        """Whether the loss is a classifier's (bce, cross-entropy): yhat are probabilities."""
        return self.loss_convention.classifies

    @property
    def loss_terms(self) -> np.ndarray:
        """shape (n,): each row's term of a classifier's loss, from the logits (network.classification_terms)."""
        return classification_terms(self.y, self.forward, self.convention)

    @property
    def class_indices(self) -> np.ndarray:
        """shape (n,): each row's class as an output index, 0-based (cross-entropy's one-hot targets)."""
        return self.Y.argmax(axis=0)

    @property
    def dL_dYhat_apart(self) -> np.ndarray:
        """shape (m, n): a classifier's dL/dyhat taken apart from its link's slope: for bce
        (1/n) (-(y/yhat) + (1 - y)/(1 - yhat)), for cross-entropy -(1/n) y_j/yhat_j (0 where y_j = 0).
        inf or nan in a row whose probability rounds to 0 or 1 (separable says which)."""
        Y, P = self.Y, self.forward.Yhat
        with np.errstate(all="ignore"):
            if self.loss_convention.binary:
                return self.factor * (-(Y / P) + (1 - Y) / (1 - P))
            return np.where(Y == 0, 0.0, -self.factor * Y / P)

    @property
    def jacobian(self) -> np.ndarray:
        """shape (n, m, m): dyhat_j/da_l of every row, the link's slope: yhat (1 - yhat) for the
        sigmoid (m = 1), yhat_j (delta_jl - yhat_l) for the softmax."""
        P = self.forward.Yhat.T
        return P[:, :, None] * (np.eye(self.m)[None] - P[:, None, :])

    @property
    def separable(self) -> np.ndarray:
        """shape (n,) of bool: whether a classifier's row has dL/dyhat and dyhat/da as finite
        numbers, whose product is dL/da: not where a probability it divides by rounds to 0 or 1."""
        finite = np.isfinite(self.dL_dYhat_apart).all(axis=0)
        if self.loss_convention.binary:
            P = self.forward.Yhat[0]
            return finite & (P > 0) & (P < 1)
        return finite

    @property
    def numbered_in_order(self) -> bool:
        """Whether the rows are the data file's rows 1..n, in order."""
        return np.array_equal(self.row_numbers, np.arange(1, self.n + 1))


def work_epoch(
    rows: InMemoryRows,
    params: Parameters,
    plan: TrainingPlan,
    epoch: int = 1,
    row_numbers: np.ndarray | None = None,
    step: int = 1,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> WorkedEpoch:
    """Train from `params` as `fwdback train` would up to update `step` of epoch `epoch`, then keep
    every value of that update.

    `rows` are the rows training sees (split and scaled) and `plan` the training plan with its
    choices made (training.resolve); it shapes the epochs before, which run whatever the
    convergence stop would say (epoch `epoch` is asked for), and the steps of epoch `epoch`
    before `step`, with the same optimizer, so that its state is the run's. The explained step
    is full-batch without plan.batch_size (its one step); with it, the step-th mini-batch of
    epoch `epoch`, in the order train visits that epoch's rows. `row_numbers` : shape (n,) are the
    rows' numbers in the data file (default 1..n). `on_epoch` is called after each epoch before
    epoch `epoch`. Raises StepNotInEpoch for a step beyond the
    epoch's updates, LossOverflow or TrainingDiverged when the loss overflows, EpochNotReached
    when early stopping would end training before epoch `epoch`.
    """
    X, y, lr, batch_size = rows.X, rows.y, plan.lr, plan.batch_size
    row_numbers = np.arange(1, len(y) + 1) if row_numbers is None else np.asarray(row_numbers)
    check_memory(params.vector.size, params.n_hidden, len(y), batch_size or len(y), arrays_per_row=10)
    batches = [np.arange(len(y))] if batch_size is None else MiniBatches(
        X, y, batch_size, plan.seed, plan.shuffle, plan.loss).batches(epoch)
    if step > len(batches):
        raise StepNotInEpoch(step, len(batches), epoch, len(y), batch_size)
    start, optimizer = _start_of_step(rows, params, plan, epoch, batches[: step - 1], on_epoch)
    chosen = batches[step - 1]
    X_step, y_step = (X, y) if batch_size is None else (X[chosen], y[chosen])
    with np.errstate(all="ignore"):
        fwd = forward(start, X_step)
        loss_before = loss(y_step, fwd, plan.loss)
        back = backward(start, X_step, y_step, fwd, plan.loss)
        state_before = {name: values.copy() for name, values in optimizer.state.items()}
        update = optimizer.explained_step(start, back.gradients)
        loss_after = loss(y_step, forward(update.params, X_step), plan.loss)
    where = "at the initial weights" if (epoch, step) == (1, 1) else f"at the start of epoch {count(epoch)}"
    if not np.isfinite(loss_before):
        raise LossOverflow(loss_before, where if step == 1 else f"{where}, step {step}")
    if not (np.isfinite(loss_after) and np.isfinite(update.params.vector).all()):
        batched = None if batch_size is None else (X, batch_size)
        raise TrainingDiverged(epoch, loss_after, suggest_lr(rows.statistics, params, lr, batched), rows.scaling is not None)
    return WorkedEpoch(
        epoch=epoch, lr=lr, X=X_step, y=y_step, params=start, forward=fwd, backward=back, loss=loss_before,
        new_params=update.params, loss_after=loss_after, row_numbers=row_numbers[chosen], n_train=len(y),
        batch_size=batch_size, scaling=rows.scaling, validation_rows=0 if rows.validation is None else len(rows.validation[1]),
        step=step, steps=len(batches), shuffle=plan.shuffle, convention=plan.loss,
        optimizer=OptimizerSettings.of(plan),
        update=update, state_before=state_before, frozen=tuple(name for name in start.names if name in plan.freeze),
    )


def _start_of_step(
    rows: InMemoryRows, params: Parameters, plan: TrainingPlan, epoch: int, earlier: list[np.ndarray],
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> tuple[Parameters, Optimizer]:
    """The weights after epoch-1 epochs of the plan, every one of them run, and then the
    `earlier` batches of epoch `epoch` (row indices each); and the optimizer, with its state there."""
    state = None
    if epoch > 1:
        result = fit_rows(rows, params, plan.replace(epochs=epoch - 1, tol=0.0), on_epoch=on_epoch).result
        if result.stop is StopReason.EARLY_STOPPING:
            watched = "validation" if rows.validation is not None else "training"
            raise EpochNotReached(epoch, result.last_epoch, watched, plan.min_delta, plan.patience)
        if result.last is not result.final:
            # Epoch `epoch` starts from the last update's weights, not from the best epoch's that early stopping
            # keeps: they are checked for divergence as the end of a run without early stopping checks them.
            divergence = Divergence(rows.objective(params, plan), params, plan, 1)
            divergence.check(1, float(result.losses[0]))
            divergence.check(epoch, divergence.objective.loss_and_gradients(result.last)[0])
        params, state = result.last, result.optimizer_state
    optimizer = optimizer_for(plan, params, state)
    with np.errstate(all="ignore"):
        for batch in earlier:
            X, y = rows.X[batch], rows.y[batch]
            params = optimizer.step(params, backward(params, X, y, forward(params, X), plan.loss).gradients)
    return params, optimizer


def training_row_numbers(n: int, plan: TrainingPlan) -> np.ndarray:
    """The 1-based data-file numbers of the n rows training keeps (training.validation_split), in its order."""
    split = validation_split(n, plan)
    return np.arange(1, n + 1) if split is None else split[1] + 1
