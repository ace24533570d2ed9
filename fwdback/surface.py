"""The decision surface: what a classifier of two inputs computes over the plane of its inputs.

Over a square grid of cells covering the inputs' range, the forward pass (network.forward) at
each cell's centre gives every class's probability and each hidden unit's N: the TensorFlow
Playground's picture, a coloured field with the data over it and each hidden unit's own field in
its node (render/surface.py draws it; the run page's render/surface.js redraws it at each epoch).
The plane is in the data's own units; a network trained on z-scores reads it through its scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import NoSurface
from .losses import LOSSES
from .network import Parameters, forward
from .scaling import Scaling

# Cells a side of the field, and of each hidden unit's field in its node.
FIELD_CELLS, UNIT_CELLS = 40, 10
# How far the plane reaches beyond the rows' range, as a fraction of it on each side; and how many
# standard deviations from the mean on either side where a scaling stands in for the rows.
PAD, DEVIATIONS = 0.05, 3.0
# A classifier's outputs, by its loss (losses.Loss): (its link, whether it has one output, P(second class)).
CLASSIFIER_OUTPUTS = frozenset((loss.link, loss.binary) for loss in LOSSES.values() if loss.classifies)


@dataclass(frozen=True)
class Plane:
    """The rectangle of the input plane a field covers: x1 from low[0] to high[0], x2 from low[1]
    to high[1] (low, high : shape (2,)), in the data's own units."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of_rows(cls, X: np.ndarray) -> Plane:
        """The rows' range, PAD wider on each side (a constant column's, 1 either side).  X : shape (n, 2)."""
        low, high = X.min(axis=0), X.max(axis=0)
        reach = np.where(high > low, PAD * (high - low), 1.0)
        return cls(low - reach, high + reach)

    @classmethod
    def of_scaling(cls, scaling: Scaling | None) -> Plane:
        """DEVIATIONS standard deviations either side of the training rows' means, as the model's
        scaling records them; without one (a model trained on its rows as they are), the same
        square in the raw units, -3 to 3, where z-scored rows would lie."""
        if scaling is None:
            return cls(np.full(2, -DEVIATIONS), np.full(2, DEVIATIONS))
        return cls(scaling.x_mean - DEVIATIONS * scaling.x_std, scaling.x_mean + DEVIATIONS * scaling.x_std)

    def centres(self, cells: int) -> tuple[np.ndarray, np.ndarray]:
        """The cells' centres along x1 and along x2, each shape (cells,), ascending."""
        at = (np.arange(cells) + 0.5) / cells
        return self.low[0] + at * (self.high[0] - self.low[0]), self.low[1] + at * (self.high[1] - self.low[1])


@dataclass(frozen=True)
class Field:
    """The network over a grid of cells of `plane`, each value that at the cell's centre.

    x1, x2        : shape (c,)       the centres along each input, ascending
    probabilities : shape (q, c, c)  [j, r, s]: P(class j) at (x1[s], x2[r]); q = 2 for a sigmoid
                                     output (1 - yhat, yhat), the m outputs of a softmax
    N             : shape (H, c, c)  [h, r, s]: hidden unit h's output at (x1[s], x2[r])
    """

    plane: Plane
    x1: np.ndarray
    x2: np.ndarray
    probabilities: np.ndarray
    N: np.ndarray


def field(params: Parameters, plane: Plane, cells: int = FIELD_CELLS, scaling: Scaling | None = None) -> Field:
    """network.forward at the centres of a `cells` by `cells` grid of `plane`, read through
    `scaling` (the z-scores the network was trained on; None: the plane's values as they are).
    NoSurface for a network that is not a classifier of two inputs."""
    check_surface(params)
    x1, x2 = plane.centres(cells)
    grid = np.column_stack([np.tile(x1, cells), np.repeat(x2, cells)])
    fwd = forward(params, grid if scaling is None else scaling.features(grid))
    Yhat = np.vstack([1.0 - fwd.Yhat, fwd.Yhat]) if params.n_outputs == 1 else fwd.Yhat
    return Field(plane, x1, x2, Yhat.reshape(-1, cells, cells), fwd.N.reshape(-1, cells, cells))


def surfaced(params: Parameters) -> bool:
    """Whether the network has a decision surface: two inputs and a classifier's outputs (its loss's
    link: one sigmoid output, or a softmax over several)."""
    return params.n_inputs == 2 and (params.output_activation, params.n_outputs == 1) in CLASSIFIER_OUTPUTS


def check_surface(params: Parameters) -> None:
    """NoSurface unless the network has a decision surface (surfaced)."""
    if not surfaced(params):
        raise NoSurface(params.n_inputs)


def row_classes(y: np.ndarray) -> np.ndarray:
    """Each row's class index, shape (n,) ints, from the network's targets y (classes.Classes.targets):
    shape (n,) of 0/1 for a sigmoid output, (n, m) one-hot for a softmax."""
    return (y if y.ndim == 1 else y.argmax(axis=1)).astype(np.intp)
