"""A training run as data that a page plays back: the weights and gradients epoch by epoch.

`EpochSamples` is an on_epoch callback that keeps, for up to MOST_EPOCHS epochs (every epoch of
a shorter run; evenly spaced ones of a longer, the first and the last always), the weights at
the start of the epoch, its gradients, its loss and its validation loss: exactly a --history
row. The page's size is bounded whatever the run: at most about SAMPLED_NUMBERS numbers for the
epochs, however many epochs and parameters.
"""

from __future__ import annotations

import numpy as np

from .network import Parameters
from .training import EpochRecord, Thinned

MOST_EPOCHS = 2000
SAMPLED_NUMBERS = 60_000
# The page shows the first rows of the data, with the network's values for each.
FIRST_ROWS = 8


class EpochSamples(Thinned):
    """Each kept epoch's row: the P weights at its start, its P gradients, its loss, its validation loss."""

    def __init__(self, n_parameters: int):
        capacity = max(2, min(MOST_EPOCHS, SAMPLED_NUMBERS // (2 * n_parameters + 2)))
        super().__init__(2 * n_parameters + 2, capacity)
        self.n_parameters = n_parameters

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


def network_document(params: Parameters, features, target: str) -> dict:
    """The network's shape and names, laid out as its layers: what the page draws and labels."""
    return {
        "inputs": [f"x{j + 1}" for j in range(params.n_inputs)],
        "features": list(features),
        "target": target,
        "hidden": params.n_hidden,
        "activation": params.activation,
        "names": list(params.names),
        "W_hidden": params.W_hidden_names.tolist(),
        "w_out": params.w_out_names.tolist(),
        "b_hidden": params.b_hidden_names.tolist(),
        "b_out": params.b_out_name,
    }


def rows_document(X: np.ndarray, y: np.ndarray, numbers: np.ndarray | None = None) -> dict:
    """The first FIRST_ROWS rows training saw (X : shape (n, k), y : shape (n,)), with their
    numbers in the data file (1..n where not given)."""
    shown = min(FIRST_ROWS, len(y))
    numbers = np.arange(1, shown + 1) if numbers is None else np.asarray(numbers)[:shown]
    return {"numbers": numbers.tolist(), "X": X[:shown].tolist(), "y": y[:shown].tolist()}
