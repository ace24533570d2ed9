"""The epoch loop: forward, loss, backward, update; the loss history; divergence."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import TrainingDiverged
from .network import Gradients, Parameters, backward, forward, largest_stable_lr, mse_loss, update

# A loss this many times the first epoch's is growing without bound.
DIVERGENCE_FACTOR = 1e6


@dataclass
class TrainingResult:
    """What a run of full-batch gradient descent produced.

    losses : shape (epochs,)  losses[k - 1] is epoch k's loss, from its forward pass, before its update
    final_loss                the loss at the final weights, after the last update
    final_gradients           the gradients at the final weights
    """

    initial: Parameters
    final: Parameters
    losses: np.ndarray
    final_loss: float
    final_gradients: Gradients
    seconds: float


def train(
    X: np.ndarray,
    y: np.ndarray,
    initial: Parameters,
    lr: float,
    epochs: int,
    on_epoch: Callable[[int], None] | None = None,
) -> TrainingResult:
    """Run `epochs` epochs of full-batch gradient descent from `initial`.

    X : shape (n, k), y : shape (n,). Raises TrainingDiverged as soon as the loss is inf/NaN
    or DIVERGENCE_FACTOR times the first epoch's loss. `on_epoch(k)` is called after epoch k.
    """
    if epochs < 1:
        raise ValueError("epochs must be at least 1")
    start = time.perf_counter()
    losses = np.empty(epochs)
    params = initial
    for epoch in range(1, epochs + 1):
        fwd = forward(params, X)
        loss = mse_loss(y, fwd.yhat)
        losses[epoch - 1] = loss
        _check_divergence(epoch, loss, losses[0], X, initial, lr)
        params = update(params, backward(params, X, y, fwd), lr)
        if on_epoch is not None:
            on_epoch(epoch)
    fwd = forward(params, X)
    final_loss = mse_loss(y, fwd.yhat)
    _check_divergence(epochs, final_loss, losses[0], X, initial, lr)
    final_gradients = backward(params, X, y, fwd)
    return TrainingResult(initial, params, losses, final_loss, final_gradients, time.perf_counter() - start)


def _check_divergence(epoch: int, loss: float, first_loss: float, X, initial: Parameters, lr: float) -> None:
    if np.isfinite(loss) and loss <= DIVERGENCE_FACTOR * max(first_loss, np.finfo(float).tiny):
        return
    raise TrainingDiverged(epoch, loss, suggest_lr(X, initial, lr))


def suggest_lr(X: np.ndarray, initial: Parameters, lr: float) -> float:
    """A learning rate to try after `lr` diverged: half the largest stable step at the start."""
    return min(0.5 * largest_stable_lr(initial, X), 0.5 * lr)
