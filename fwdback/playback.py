"""A training run as data that a page plays back: the weights and gradients epoch by epoch,
and update by update within the epochs of a mini-batch run.

`EpochSamples` is an on_epoch callback that keeps, for up to MOST_EPOCHS epochs (every epoch of
a shorter run; evenly spaced ones of a longer, the first and the last always), the weights at
the start of the epoch, its gradients, its loss and its validation loss: exactly a --history
row. `StepSamples` is an on_step callback (training.fit_rows) that keeps, alike for up to
MOST_STEPS updates, the weights each update starts from and its batch's gradients. The page's
size is bounded whatever the run: at most about SAMPLED_NUMBERS numbers for the epochs, and
as many for the updates, however many epochs, updates and parameters.
"""

from __future__ import annotations

import numpy as np

from .network import Gradients, Parameters, output_names, output_symbols
from .engines import epoch_order
from .training import EpochRecord, Thinned

MOST_EPOCHS = 2000
MOST_STEPS = 2000
SAMPLED_NUMBERS = 60_000
# The page shows the first rows of the data, with the network's values for each.
FIRST_ROWS = 8
# Up to this many rows the page holds every row training saw and computes on them (a person's
# edited weights, training from there); a run on more keeps playback only. 10,000 rows of
# three inputs are about 0.8 MB of the page.
LIVE_ROWS = 10_000
# A shuffled mini-batch run's page carries the rows' order of its first epochs up to this many numbers.
ORDER_NUMBERS = 100_000


class EpochSamples(Thinned):
    """Each kept epoch's row: the P weights at its start, its P gradients, its loss, its validation
    loss; `steps`, the same run's StepSamples (its on_step callback)."""

    def __init__(self, n_parameters: int):
        capacity = max(2, min(MOST_EPOCHS, SAMPLED_NUMBERS // (2 * n_parameters + 2)))
        super().__init__(2 * n_parameters + 2, capacity)
        self.n_parameters = n_parameters
        self.steps = StepSamples(n_parameters)

    def __call__(self, record: EpochRecord) -> None:
        val = np.nan if record.val_loss is None else record.val_loss
        self.append(record.number, np.concatenate([record.params.vector, record.gradients.vector, [record.loss, val]]))

    def document(self) -> dict:
        """The kept epochs as JSON-ready lists: epochs, weights and gradients (one list a kept
        epoch, in the parameters' order), losses and validation losses (None where there are none)."""
        epochs, rows = self.arrays()
        p = self.n_parameters
        val = rows[:, 2 * p + 1]
        return {
            "epochs": epochs.tolist(),
            "weights": rows[:, :p].tolist(),
            "gradients": rows[:, p : 2 * p].tolist(),
            "losses": rows[:, 2 * p].tolist(),
            "val_losses": None if np.isnan(val).all() else val.tolist(),
        }


class StepSamples(Thinned):
    """Each kept update's row: its epoch, its number within the epoch (1, 2, ...), the P weights
    it starts from and its batch's P gradients."""

    def __init__(self, n_parameters: int):
        capacity = max(2, min(MOST_STEPS, SAMPLED_NUMBERS // (2 * n_parameters + 2)))
        super().__init__(2 * n_parameters + 2, capacity)
        self.n_parameters = n_parameters
        self.per_epoch = 0

    def __call__(self, epoch: int, step: int, params: Parameters, gradients: Gradients) -> None:
        self.per_epoch = max(self.per_epoch, step)
        self.append(self.count, np.concatenate([[epoch, step], params.vector, gradients.vector]))

    def document(self) -> dict | None:
        """The kept updates as JSON-ready lists (epochs, steps, weights, gradients: one entry an
        update), with the number of updates an epoch makes; None where each epoch made one."""
        if self.per_epoch < 2:
            return None
        _, rows = self.arrays()
        p = self.n_parameters
        return {
            "epochs": rows[:, 0].astype(int).tolist(),
            "steps": rows[:, 1].astype(int).tolist(),
            "weights": rows[:, 2 : 2 + p].tolist(),
            "gradients": rows[:, 2 + p :].tolist(),
            "per_epoch": self.per_epoch,
            "every_step": len(rows) == self.count,
        }


def network_document(params: Parameters, features, target, frozen=()) -> dict:
    """The network's shape and names, laid out as its layers: what the page draws and labels.
    `target` names the outputs' columns (network.output_names); "" names an absent bias."""
    m = params.n_outputs
    return {
        "inputs": [f"x{j + 1}" for j in range(params.n_inputs)],
        "features": list(features),
        "targets": list(output_names(target, m)),
        "outputs": list(output_symbols(m)),
        "hidden": params.n_hidden,
        "activation": params.activation,
        "output_activation": params.output_activation,
        "activated": params.activated,
        "out_activated": params.out_activated,
        "names": list(params.names),
        "W_hidden": params.W_hidden_names.tolist(),
        "W_out": params.W_out_names.tolist(),
        "b_hidden": params.b_hidden_names.tolist(),
        "b_outputs": params.b_outputs_names.tolist(),
        "frozen": [name for name in params.names if name in frozen],
    }


def rows_document(X: np.ndarray, y: np.ndarray, numbers: np.ndarray | None = None) -> dict:
    """The rows training saw (X : shape (n, k), y : shape (n,), or (n, m) for m outputs), with
    their numbers in the data file (1..n where not given): every row up to LIVE_ROWS ("live":
    the page computes on them), else the first FIRST_ROWS, which the page shows."""
    kept = len(y) if len(y) <= LIVE_ROWS else FIRST_ROWS
    numbers = np.arange(1, kept + 1) if numbers is None else np.asarray(numbers)[:kept]
    return {"numbers": numbers.tolist(), "X": X[:kept].tolist(), "y": y[:kept].tolist(), "live": kept == len(y),
            "shown": FIRST_ROWS}


def epoch_orders(plan, n: int, epochs: int) -> list[list[int]] | None:
    """The order of the n rows in each of the first `epochs` epochs of a shuffled mini-batch
    plan (epoch 1's first), as many of them as fit in ORDER_NUMBERS numbers: what a page needs
    to train on from any weights as `train --init` does, which starts at epoch 1's order.
    None for a plan that keeps the file's order or takes full batches."""
    if plan.batch_size is None or not plan.shuffle:
        return None
    return [epoch_order(plan.seed, epoch, n).tolist() for epoch in range(1, min(epochs, ORDER_NUMBERS // n) + 1)]
