"""Every setting of a run, declared once: its name, type, default, constraint, help, and where it applies.

The rest is derived from SETTINGS: plan.TrainingPlan's fields and the model file's record of
them, `fwdback train`'s, `explain`'s and `gradcheck`'s options (cli.py), FwdbackRegressor's
parameters and their checks (estimator.py), what --resume must agree with, and the README's
table of settings (docs/regenerate.py). A new setting is one entry here, plus its tests and docs.

No NumPy here, so that the command line can show its options without importing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# The choices are the names of the registries' records; none of them imports NumPy, so `fwdback --help` does not.
from .activations import ACTIVATION_NAMES, OUTPUT_ACTIVATION_NAMES
from .losses import LOSS_NAMES
from .optimizers import OPTIMIZER_NAMES, RULES_BY_SETTING

DEFAULT_EPOCHS = 10_000
# The default convergence stop: the loss moved by no more than this, relative, over
# CONVERGENCE_WINDOW epochs. About 280 times float64's resolution of a sum of squares (16 eps):
# a range of 16 eps is some twenty units in the last place of the loss, which the order of one
# BLAS's sums decides, so the epoch it fired at differed between processors; at 1e-12 the
# descent decides it, and the loss is settled to every digit a report prints (10).
DEFAULT_TOL = 1e-12
CONVERGENCE_WINDOW = 10



def _is_int(value) -> bool:
    """An integer (Python's or NumPy's, known by its type's name, without importing NumPy), not a bool."""
    return (isinstance(value, int) or type(value).__name__.startswith(("int", "uint"))) and not _is_bool(value)


def _is_bool(value) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def _is_real(value) -> bool:
    return (isinstance(value, (int, float)) or type(value).__name__.startswith(("int", "uint", "float"))) \
        and not _is_bool(value)


@dataclass(frozen=True)
class Integer:
    """A whole number of at least `low`."""

    low: int

    def admits(self, value) -> bool:
        return _is_int(value) and value >= self.low

    def need(self, json: bool = False) -> str:
        return f"{'a whole number' if json else 'an integer'} of at least {self.low}"


@dataclass(frozen=True)
class Real:
    """A finite number from `low` (excluded when low_open) to `high` (excluded when high_open), if any."""

    low: float
    low_open: bool = False
    high: float | None = None
    high_open: bool = False

    def admits(self, value) -> bool:
        try:
            if not _is_real(value) or not math.isfinite(value):
                return False
        except OverflowError:  # an integer beyond float64's range
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def need(self, json: bool = False) -> str:
        if self.high is None:
            return "a positive finite number" if self.low == 0 and self.low_open else f"a finite number of at least {self.low:g}"
        if self.low_open and self.high_open:
            return f"a fraction between {self.low:g} and {self.high:g}"
        return f"a number from {self.low:g} to below {self.high:g}"


@dataclass(frozen=True)
class Flag:
    """True or False."""

    def admits(self, value) -> bool:
        return _is_bool(value)

    def need(self, json: bool = False) -> str:
        return "true or false" if json else "True or False"


@dataclass(frozen=True)
class Choice:
    """One of `names` (a registry's)."""

    names: tuple[str, ...]

    def admits(self, value) -> bool:
        return isinstance(value, str) and value in self.names

    def need(self, json: bool = False) -> str:
        return f"one of {', '.join(self.names if json else map(repr, self.names))}"


@dataclass(frozen=True)
class Names:
    """Names of the network's parameters, each once (which ones it has is known once the network is)."""

    def admits(self, value) -> bool:
        if isinstance(value, str):
            return False
        try:
            names = list(value)
        except TypeError:
            return False
        return all(isinstance(name, str) and name for name in names) and len(set(names)) == len(names)

    def need(self, json: bool = False) -> str:
        return "a list of parameter names, each once" if json else "a list of parameter names, each once, e.g. ['b1', 'b2']"


@dataclass(frozen=True)
class UsedWith:
    """When a setting is used: while `on` (another setting) is one of `values` (`named`: what
    messages call `on`), or, with values None, while `on` is given at all (not None). `does` and
    `otherwise` word the latter: what the setting does, and why it does nothing without `on`."""

    on: str
    values: tuple | None = None
    named: str = ""
    does: str = ""
    otherwise: str = ""

    def holds(self, settings: dict) -> bool:
        value = settings[self.on]
        return value is not None if self.values is None else value in self.values


@dataclass(frozen=True)
class Setting:
    """One setting of a run.

    name         the plan's field, the option (--name, with - for _), the estimator's parameter
    constraint   what a value must be (None too where the default is None)
    help         the option's help text
    group        where it sits: "shape" (the network's), "run" (how long), "start", "scale", "plan"
    commands     the commands that take it as an option
    used_with    the rule it belongs to (UsedWith); None: every run uses it
    resumed      --resume goes on with the model's value, and a value given again must agree
    recorded     how the model file keeps it: "plan" (always, in "training"."plan"), "changed"
                 (there, where it is not the default: the lecture's files stay as they were),
                 "network" (the network's shape, in "params": network.Architecture's `recorded_as`,
                 where not `name`) or "no" (how one fit starts, not a setting of the run the file records)
    parameter    the estimator's name for it, where not `name`
    none_means   what None stands for, where it is the default
    decided      None is for the run to decide (lr, standardize): the model file records the decision
    words        how messages name it, where not by its name (the model's "hidden units")
    shown        how messages show a stored flag's values, where not as True/False
    metavar      the option's metavar, where click's is not the one
    """

    name: str
    default: object
    constraint: Integer | Real | Flag | Choice | Names
    help: str
    group: str
    commands: tuple[str, ...] = ("train", "explain", "gradcheck")
    used_with: UsedWith | None = None
    resumed: bool = True
    recorded: str = "changed"
    recorded_as: str = ""
    parameter: str = ""
    none_means: str = ""
    decided: bool = False
    words: str = ""
    shown: dict = field(default_factory=dict)
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def estimator_name(self) -> str:
        return self.parameter or self.name

    @property
    def optional(self) -> bool:
        return self.default is None

    def admits(self, value) -> bool:
        return (self.optional and value is None) or self.constraint.admits(value)

    def need(self) -> str:
        need = self.constraint.need()
        return f"None ({self.none_means}) or {need}" if self.optional else need

    def recorded_admits(self, value) -> bool:
        """Whether the model file's record of it, a JSON value, is one the run could have written."""
        if value is None:
            return self.optional and not self.decided
        return (isinstance(value, list) or not isinstance(self.constraint, Names)) and self.constraint.admits(value)

    def recorded_need(self) -> str:
        """What the model file's record of it must be, in JSON's words."""
        need = self.constraint.need(json=True)
        return f"{need}, or null" if self.optional and not self.decided else need

    def stored_words(self, value) -> str:
        """A value as messages show a stored one: b1,b2 for freeze, "none" for no batch_size."""
        if value in self.shown:
            return self.shown[value]
        if isinstance(value, tuple):
            return ",".join(value) if value else "none"
        return "none" if value is None else str(value)


_SHAPE = ("train", "explain", "gradcheck", "show", "exercise")


def _of_rules(name: str) -> UsedWith:
    """The setting `name` is used by the update rules that say so (optimizers.RULES_BY_SETTING)."""
    return UsedWith("optimizer", RULES_BY_SETTING[name], "the update rule")


# In the model file's order (plan.TrainingPlan's fields, then how its "plan" lists them).
SETTINGS = (
    Setting("hidden", 2, Integer(1), "Hidden units (the lecture's N1, N2: 2).", "shape", _SHAPE,
            recorded="network", recorded_as="n_hidden", words="hidden units"),
    Setting("activation", "identity", Choice(ACTIVATION_NAMES),
            "The hidden layer's activation (identity: the lecture's linear network).", "shape", _SHAPE, recorded="network"),
    Setting("output_activation", "identity", Choice(OUTPUT_ACTIVATION_NAMES),
            "The outputs' activation: yhat = sigmoid(w7*N1 + w8*N2 + b3), say (identity: the lecture's).", "shape",
            _SHAPE, recorded="network"),
    Setting("bias", True, Flag(), "--no-bias: a network without biases (no b1, b2, b3).", "shape", _SHAPE,
            recorded="network", words="biases", shown={True: "some", False: "none"}),
    Setting("epochs", DEFAULT_EPOCHS, Integer(1),
            "Epochs of gradient descent, at most (training stops sooner once the loss has converged).", "run",
            ("train",), resumed=False, recorded="plan"),
    Setting("lr", None, Real(0, low_open=True),
            "Learning rate eta (default: chosen from the data, half the largest stable step).", "start",
            recorded="plan", none_means="chosen from the data", decided=True),
    Setting("batch_size", None, Integer(1), "Rows per update: mini-batch descent, shuffled each epoch (default: all rows).",
            "plan", recorded="plan", none_means="all rows"),
    Setting("val_split", None, Real(0, low_open=True, high=1, high_open=True),
            "Hold out this fraction of rows (seeded) and report their loss each epoch.", "plan", recorded="plan",
            none_means="no validation rows"),
    Setting("patience", None, Integer(1),
            "Stop when the (validation) loss has not improved for this many epochs; keep the best weights.", "plan",
            recorded="plan", none_means="no early stopping"),
    Setting("min_delta", 0.0, Real(0), "How much the loss must fall to count as an improvement (with --patience).",
            "plan", used_with=UsedWith("patience", does="is how much the loss must fall for early stopping",
                                       otherwise="without it nothing stops early"), recorded="plan"),
    Setting("tol", DEFAULT_TOL, Real(0),
            "Stop once the loss has moved by no more than this, relative, or than rounding can move it, over 10 "
            "epochs; 0 runs every epoch.", "run", ("train",), recorded="plan"),
    Setting("standardize", None, Flag(),
            "Train on z-scores of the features and target (stored in the model; predict undoes it). Default: when "
            "--lr is not given and the columns' scales differ badly.", "scale", recorded="plan",
            none_means="when lr is None and the columns' scales differ badly", decided=True),
    Setting("seed", 0, Integer(0), "Seed of the random initial weights (any whole number from 0).", "start",
            recorded="plan", parameter="random_state"),
    Setting("loss", "mse", Choice(LOSS_NAMES),
            "mse: (1/n) sum (y - yhat)^2, the lecture's; half-mse: 1/(2n); sse: the sum; half-sse: half the sum "
            "(summed over outputs too). A classifier's: bce, binary cross-entropy of a sigmoid output (targets 0/1 "
            "or two labels); cross-entropy, of a softmax over one output per class (targets class labels).", "plan",
            ("train", "explain", "gradcheck", "exercise")),
    Setting("shuffle", True, Flag(),
            "With --batch-size: visit the rows in a new seeded order each epoch (default), or in the file's order "
            "(--no-shuffle; --batch-size 1 --no-shuffle updates row by row).", "plan",
            used_with=UsedWith("batch_size", does="orders the rows of mini-batches", otherwise="a full batch has no order"),
            shown={True: "shuffled batches", False: "batches in file order"}),
    Setting("freeze", (), Names(), "Parameters that keep their values, e.g. b1,b2,b3.", "plan", metavar="NAMES"),
    Setting("optimizer", "gd", Choice(OPTIMIZER_NAMES),
            "The update rule: gd, the lecture's w <- w - eta dL/dw; momentum, nesterov or adam.", "plan"),
    Setting("momentum", 0.9, Real(0, high=1, high_open=True), "mu of --optimizer momentum and nesterov: v <- mu v - eta dL/dw.",
            "plan", used_with=_of_rules("momentum")),
    Setting("beta1", 0.9, Real(0, high=1, high_open=True), "adam's decay of the first moment (the mean of the gradients).",
            "plan", used_with=_of_rules("beta1")),
    Setting("beta2", 0.999, Real(0, high=1, high_open=True), "adam's decay of the second moment (the mean of their squares).",
            "plan", used_with=_of_rules("beta2")),
    Setting("epsilon", 1e-8, Real(0, low_open=True), "adam's epsilon in w <- w - eta mhat / (sqrt(shat) + epsilon).",
            "plan", used_with=_of_rules("epsilon")),
    Setting("warm_start", False, Flag(),
            "True: fit goes on from the fitted weights, scaling, update rule's state and settings, the epochs numbered on "
            "(the command line's --resume MODEL).", "start", (), resumed=False, recorded="no"),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
# The settings of the training plan (plan.TrainingPlan).
PLAN_SETTINGS = tuple(setting for setting in SETTINGS if setting.recorded in ("plan", "changed"))


def option_words(setting: str, value=None) -> str:
    """A setting as the command line spells it: `--lr 0.002`, `--standardize`, `--no-shuffle`,
    `--freeze b1,b2`, `--batch-size` (no value: the option alone). The command line's messages
    and the page's command lines (reports.train) spell settings by it."""
    option = "--" + setting.replace("_", "-")
    if isinstance(value, bool):
        return option if value else f"--no-{option[2:]}"
    if value is None:
        return option
    return f"{option} {','.join(value) if isinstance(value, (tuple, list)) else value}"
