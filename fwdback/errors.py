"""The exceptions fwdback raises for the user's mistakes; the CLI turns them into `Error: ...`.

Each message names the file, row or column and says how to fix the problem.
"""


class FwdbackError(Exception):
    """A problem the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 1


class DataError(FwdbackError):
    """The data CSV cannot be used as it is."""


class ModelFileError(FwdbackError):
    """A model or init JSON file cannot be used as it is."""


class TrainingDiverged(FwdbackError):
    """The loss became inf/NaN or grew without bound: the learning rate is too large."""

    exit_code = 3

    def __init__(self, epoch: int, loss: float, suggested_lr: float):
        self.epoch = epoch
        self.loss = loss
        self.suggested_lr = suggested_lr
        super().__init__(
            f"training diverged at epoch {epoch} (loss {loss:.6g}); "
            f"the learning rate is too large for this data: try --lr {suggested_lr:.2g}"
        )
