"""The training plan: what `fwdback train`'s options and FwdbackRegressor's parameters both say.

No NumPy here, so that the command line can show its defaults without importing it.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from .losses import LOSS_NAMES
from .optimizers import OPTIMIZER_NAMES

DEFAULT_EPOCHS = 10_000
# The default convergence stop: the loss moved by no more than this, relative, over
# CONVERGENCE_WINDOW epochs. About 280 times float64's resolution of a sum of squares (16 eps):
# a range of 16 eps is some twenty units in the last place of the loss, which the order of one
# BLAS's sums decides, so the epoch it fired at differed between processors; at 1e-12 the
# descent decides it, and the loss is settled to every digit a report prints (10).
DEFAULT_TOL = 1e-12
CONVERGENCE_WINDOW = 10
# The choices of the plan's loss convention and update rule, as their registries declare them.
LOSS_CONVENTIONS = LOSS_NAMES
OPTIMIZERS = OPTIMIZER_NAMES


class StopReason(enum.Enum):
    """Why training ended; the value is how the model file records it."""

    EPOCHS = "epochs"
    CONVERGED = "converged"
    EARLY_STOPPING = "early_stopping"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class TrainingPlan:
    """How to train, as `fwdback train`'s options and FwdbackRegressor's parameters say it.

    epochs        epochs to run at most
    lr            the learning rate eta; None: chosen from the data (stepsize.choose_lr)
    batch_size    rows per update, shuffled each epoch; None: all rows (the lecture's full batch)
    val_split     the fraction of rows held out (seeded) for a validation loss; None: none
    patience      stop when the monitored loss has not improved by more than min_delta for
                  this many epochs, keeping the best epoch's weights; None: no early stopping
    tol           stop when the loss moved by no more than this, relative, over the last
                  CONVERGENCE_WINDOW epochs; 0: run every epoch
    standardize   train on z-scores; None: when lr is chosen and the columns are badly scaled
    seed          the seed of the initial weights, the shuffles and the split
    loss          the loss convention (losses.LOSSES): "mse", the lecture's, "half-mse", "sse", "half-sse"
    shuffle       with batch_size: visit the rows in a seeded new order each epoch; False: in file order
    freeze        names of parameters that keep their values ("w1", "b3", ...)
    optimizer     the update rule (optimizers.py): "gd", the lecture's, "momentum", "nesterov", "adam";
                  momentum is mu of momentum and nesterov, beta1, beta2 and epsilon adam's
    """

    epochs: int = DEFAULT_EPOCHS
    lr: float | None = None
    batch_size: int | None = None
    val_split: float | None = None
    patience: int | None = None
    min_delta: float = 0.0
    tol: float = DEFAULT_TOL
    standardize: bool | None = None
    seed: int = 0
    loss: str = "mse"
    shuffle: bool = True
    freeze: tuple[str, ...] = ()
    optimizer: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    def replace(self, **changes) -> TrainingPlan:
        return dataclasses.replace(self, **changes)

    def record(self, first_epoch: int = 1) -> dict:
        """The plan as the model file keeps it; the parts beyond the lecture only where they are not
        the default, so the lecture's files stay as they were. Its epochs are the last epoch the run
        could reach, counted from the model's first (a run that began at `first_epoch`, resumed,
        adds its epochs to those before): the epochs of the one unbroken run that trains the same."""
        default = TrainingPlan()
        kept = [name for name in RESUMED if name in LECTURE_RESUMED or getattr(self, name) != getattr(default, name)]
        recorded = {name: list(value) if isinstance(value := getattr(self, name), tuple) else value for name in kept}
        return {"epochs": first_epoch - 1 + self.epochs} | recorded


# What a resumed run goes on with: everything but the number of epochs.
LECTURE_RESUMED = ("lr", "batch_size", "val_split", "patience", "min_delta", "tol", "standardize", "seed")
RESUMED = LECTURE_RESUMED + ("loss", "shuffle", "freeze", "optimizer", "momentum", "beta1", "beta2", "epsilon")
