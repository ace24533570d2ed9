"""The epoch loop: forward, loss, backward, update; the loss history; divergence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import TrainingDiverged
from .network import Gradients, Parameters, backward, forward, largest_stable_lr, mse_loss, update
from .yardstick import balanced_minimizer, least_squares

# A loss this many times the first epoch's is growing without bound.
DIVERGENCE_FACTOR = 1e6


@dataclass
class TrainingResult:
    """What a run of full-batch gradient descent produced.

    losses : shape (epochs run,)  losses[k - 1] is epoch k's loss, from its forward pass, before its update
    final_loss                    the loss at the final weights, after the last update
    final_gradients               the gradients at the final weights
    interrupted                   True when `stop` ended training before the planned epochs
    parameter_history : shape (epochs run, P)  with record=True: the parameters at the start of each epoch
    gradient_history : shape (epochs run, P)   with record=True: the gradients of each epoch
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

    @property
    def epochs_run(self) -> int:
        return len(self.losses)


def train(
    X: np.ndarray,
    y: np.ndarray,
    initial: Parameters,
    lr: float,
    epochs: int,
    on_epoch: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    record: bool = False,
) -> TrainingResult:
    """Run `epochs` epochs of full-batch gradient descent from `initial`.

    X : shape (n, k), y : shape (n,). Raises TrainingDiverged as soon as the loss is inf/NaN
    or DIVERGENCE_FACTOR times the first epoch's loss. `on_epoch(k)` is called after epoch k.
    When `stop` is set (by a signal handler, say), training ends after the current epoch
    and the result holds the epochs run so far. With `record`, every epoch's parameters and
    gradients are kept too (2 * P floats an epoch).
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    start = time.perf_counter()
    losses = np.empty(epochs)
    parameter_history = np.empty((epochs, initial.vector.size)) if record else None
    gradient_history = np.empty((epochs, initial.vector.size)) if record else None
    params = initial
    for epoch in range(1, epochs + 1):
        fwd = forward(params, X)
        loss = mse_loss(y, fwd.yhat)
        losses[epoch - 1] = loss
        _check_divergence(epoch, loss, losses[0], X, y, initial, lr)
        grads = backward(params, X, y, fwd)
        if record:
            parameter_history[epoch - 1] = params.vector
            gradient_history[epoch - 1] = grads.vector
        params = update(params, grads, lr)
        if on_epoch is not None:
            on_epoch(epoch)
        if stop is not None and stop.is_set():
            losses = losses[:epoch]
            break
    fwd = forward(params, X)
    final_loss = mse_loss(y, fwd.yhat)
    _check_divergence(len(losses), final_loss, losses[0], X, y, initial, lr)
    final_gradients = backward(params, X, y, fwd)
    seconds = time.perf_counter() - start
    if record:
        parameter_history, gradient_history = parameter_history[: len(losses)], gradient_history[: len(losses)]
    return TrainingResult(
        initial, params, losses, final_loss, final_gradients, seconds, len(losses) < epochs, parameter_history, gradient_history
    )


def _check_divergence(epoch: int, loss: float, first_loss: float, X, y, initial: Parameters, lr: float) -> None:
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(first_loss, np.finfo(float).tiny):
        return
    raise TrainingDiverged(epoch, loss, suggest_lr(X, y, initial, lr))


def suggest_lr(X: np.ndarray, y: np.ndarray, initial: Parameters, lr: float) -> float:
    """A learning rate to try after `lr` diverged, rounded down to one significant digit.

    Half the largest stable step, both where training starts and at a least-squares
    minimizer, where it has to settle; never more than half of `lr`. Weights so large that
    the curvature overflows leave just half of `lr`.
    """
    best = least_squares(X, y)
    at_minimum = balanced_minimizer(best.coef, best.intercept, initial.n_hidden)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            stable = min(largest_stable_lr(initial, X), largest_stable_lr(at_minimum, X), lr)
        except np.linalg.LinAlgError:
            stable = lr
    mantissa, exponent = f"{0.5 * stable:.15e}".split("e")
    return float(f"{mantissa[0]}e{exponent}")
