"""The training plan: what `fwdback train`'s options and FwdbackRegressor's parameters both say.

Its fields are the plan's settings as settings.py declares them (settings.PLAN_SETTINGS), in
that order, with their defaults. No NumPy here, so that the command line can show its defaults
without importing it.
"""

from __future__ import annotations

import dataclasses
import enum

from .settings import PLAN_SETTINGS


class StopReason(enum.Enum):
    """Why training ended; the value is how the model file records it."""

    EPOCHS = "epochs"
    CONVERGED = "converged"
    EARLY_STOPPING = "early_stopping"
    INTERRUPTED = "interrupted"


class _Plan:
    """How to train, as `fwdback train`'s options and FwdbackRegressor's parameters say it: one
    field per setting of settings.PLAN_SETTINGS (whose help says what each does)."""

    def replace(self, **changes) -> TrainingPlan:
        return dataclasses.replace(self, **changes)

    def record(self, first_epoch: int = 1) -> dict:
        """The plan as the model file keeps it; the parts beyond the lecture only where they are not
        the default, so the lecture's files stay as they were. Its epochs are the last epoch the run
        could reach, counted from the model's first (a run that began at `first_epoch`, resumed,
        adds its epochs to those before): the epochs of the one unbroken run that trains the same."""
        kept = [setting.name for setting in PLAN_SETTINGS if setting.name != "epochs"
                and (setting.recorded == "plan" or getattr(self, setting.name) != setting.default)]
        recorded = {name: list(value) if isinstance(value := getattr(self, name), tuple) else value for name in kept}
        return {"epochs": first_epoch - 1 + self.epochs} | recorded


TrainingPlan = dataclasses.make_dataclass(
    "TrainingPlan",
    [(setting.name, object, dataclasses.field(default=setting.default)) for setting in PLAN_SETTINGS],
    bases=(_Plan,),
    frozen=True,
)
TrainingPlan.__module__, TrainingPlan.__doc__ = __name__, _Plan.__doc__
