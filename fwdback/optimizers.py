"""The next lecture's update rules: what to do with a gradient once backpropagation has it.

With g = dL/dw at the current weights w, eta the learning rate and t the number of the update
(1, 2, ... over the whole run, mini-batch steps included):

    gd        w <- w - eta g                                      (the lecture's)
    momentum  v <- mu v - eta g;      w <- w + v                  (heavy ball, v0 = 0)
    nesterov  v <- mu v - eta g;      w <- w + mu v - eta g       (Nesterov's look-ahead, written at
                                                                   the current weights as Bengio et
                                                                   al. 2013 and PyTorch do)
    adam      m <- beta1 m + (1 - beta1) g;   s <- beta2 s + (1 - beta2) g^2
              mhat = m / (1 - beta1^t);       shat = s / (1 - beta2^t)
              w <- w - eta mhat / (sqrt(shat) + epsilon)          (Kingma and Ba 2015, m0 = s0 = 0)

One class per rule (as scikit-learn's MLP has), declared once in RULES; nothing else compares
their names. Every rule works element by element on the parameter vector. A frozen parameter
keeps its value: its step is zero and its state stays at zero. The state (v; m, s and t) is
what a resumed run must carry on with to continue bit for bit. numpy is imported inside the
steps, so that the command line lists the rules without it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .network import Gradients, Parameters

# The symbols of the hyper-parameters named otherwise in the formulas: momentum's mu.
SYMBOLS = {"momentum": "mu"}


@dataclass(frozen=True)
class OptimizerSettings:
    """Which rule, and its hyper-parameters (those of the other rules are carried but unused)."""

    name: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    def __post_init__(self):
        if self.name not in RULES:
            raise ValueError(f"unknown optimizer {self.name!r}; choose one of {', '.join(RULES)}")

    @property
    def rule(self) -> type[Optimizer]:
        """The class of the rule named (optimizers.RULES)."""
        return RULES[self.name]

    @property
    def state_names(self) -> tuple[str, ...]:
        """The per-parameter state the rule keeps: () for gd, ("v",) for momentum and nesterov,
        ("m", "s") for adam."""
        return self.rule.state_names

    def optimizer(self, lr: float, size: int, frozen: np.ndarray | None = None,
                  state: dict[str, np.ndarray] | None = None, t: int = 0) -> Optimizer:
        """The rule with these settings, for parameters of `size` entries (see Optimizer)."""
        return self.rule(self, lr, size, frozen, state, t)


@dataclass
class OptimizerStep:
    """What one update did, for a reader (explain): the state after it (shape (P,) each), and
    for adam the bias-corrected moments and the update number t."""

    params: Parameters
    state: dict[str, np.ndarray]
    t: int
    corrected: dict[str, np.ndarray] | None = None


class Optimizer:
    """An update rule with its state, for parameters of one network; one subclass per rule.

    frozen : shape (P,) bool, the parameters that keep their values (None: none)
    state  : {"v": ..} or {"m": .., "s": ..}, each shape (P,); zeros when not given
    t      : updates made so far

    Each rule declares its name, its title (as explain names it), the state it keeps, the
    settings of OptimizerSettings it reads, the learning rate it starts from when none is
    given (None: chosen from the data's curvature), and whether it is the lecture's rule.
    """

    name: str
    title: str
    lecture: bool = False
    state_names: tuple[str, ...] = ()
    settings_used: tuple[str, ...] = ()
    default_lr: float | None = None

    def __init__(self, settings: OptimizerSettings, lr: float, size: int, frozen: np.ndarray | None = None,
                 state: dict[str, np.ndarray] | None = None, t: int = 0):
        import numpy as np

        self.settings, self.lr, self.t = settings, lr, t
        self.free = None if frozen is None or not frozen.any() else ~frozen
        self.state = {name: np.zeros(size) for name in self.state_names}
        for name, values in (state or {}).items():
            self.state[name] = np.array(values, dtype=np.float64)

    @classmethod
    def settings_words(cls, settings: OptimizerSettings) -> str:
        """The rule's hyper-parameters as a report lists them: "mu 0.9" for momentum."""
        return ", ".join(f"{SYMBOLS.get(name, name)} {getattr(settings, name):g}" for name in cls.settings_used)

    @staticmethod
    def step_scale(settings: OptimizerSettings) -> float:
        """How much smaller than gradient descent's this rule's step must be for the same stability
        (the curvature bounds eta over this); `settings` carries the hyper-parameters (a
        TrainingPlan does too)."""
        return 1.0

    def step(self, params: Parameters, grads: Gradients) -> Parameters:
        return self.explained_step(params, grads).params

    def explained_step(self, params: Parameters, grads: Gradients) -> OptimizerStep:
        """One update from `params` with their gradients `grads`, and what it computed."""
        self.t += 1
        g = grads.vector if self.free is None else grads.vector * self.free
        new, corrected = self._update(params, grads, g)
        return OptimizerStep(new, {key: value.copy() for key, value in self.state.items()}, self.t, corrected)

    def _update(self, params: Parameters, grads: Gradients, g: np.ndarray) -> tuple[Parameters, dict | None]:
        """The new parameters from the gradients g (shape (P,), zero where frozen), and what a
        reader needs besides the state (Adam's corrected moments), or None."""
        raise NotImplementedError

    def record(self) -> dict:
        """The state as the model file keeps it: lists of floats by name, and t."""
        return {"t": self.t, **{name: values.tolist() for name, values in self.state.items()}}


class GradientDescent(Optimizer):
    """w <- w - eta g: the lecture's network.update."""

    name, title = "gd", "gradient-descent"
    lecture = True

    def _update(self, params, grads, g):
        from .network import update

        return update(params, grads if self.free is None else grads.like(g), self.lr), None


class Momentum(Optimizer):
    """v <- mu v - eta g; w <- w + v. Its steps add up to eta / (1 - mu) times gd's."""

    name, title = "momentum", "momentum"
    state_names = ("v",)
    settings_used = ("momentum",)
    look_ahead = False

    @staticmethod
    def step_scale(settings: OptimizerSettings) -> float:
        return 1.0 - settings.momentum

    def _update(self, params, grads, g):
        mu = self.settings.momentum
        v = mu * self.state["v"] - self.lr * g
        self.state["v"] = v
        return params.like(params.vector + (mu * v - self.lr * g if self.look_ahead else v)), None


class Nesterov(Momentum):
    """v <- mu v - eta g; w <- w + mu v - eta g: momentum with Nesterov's look-ahead."""

    name, title = "nesterov", "Nesterov momentum"
    look_ahead = True


class Adam(Optimizer):
    """Kingma and Ba's moments m, s with bias correction. Without a given eta it takes their
    default, default_lr: its steps are about eta in size, whatever the data, and the curvature
    does not bound them."""

    name, title = "adam", "Adam"
    state_names = ("m", "s")
    settings_used = ("beta1", "beta2", "epsilon")
    default_lr = 0.001

    @staticmethod
    def step_scale(settings: OptimizerSettings) -> float:
        return math.inf

    def _update(self, params, grads, g):
        import numpy as np

        s = self.settings
        m = s.beta1 * self.state["m"] + (1.0 - s.beta1) * g
        second = s.beta2 * self.state["s"] + (1.0 - s.beta2) * g * g
        self.state["m"], self.state["s"] = m, second
        corrected = {"m": m / (1.0 - s.beta1**self.t), "s": second / (1.0 - s.beta2**self.t)}
        step = self.lr * corrected["m"] / (np.sqrt(corrected["s"]) + s.epsilon)
        return params.like(params.vector - (step if self.free is None else step * self.free)), corrected


# Every update rule by name, the lecture's first.
RULES: dict[str, type[Optimizer]] = {rule.name: rule for rule in (GradientDescent, Momentum, Nesterov, Adam)}
OPTIMIZER_NAMES = tuple(RULES)
# Each hyper-parameter of OptimizerSettings, in its order, with the names of the rules that read
# it: "momentum" -> ("momentum", "nesterov"), "beta1" -> ("adam",), ...
RULES_BY_SETTING = {
    setting.name: tuple(name for name, rule in RULES.items() if setting.name in rule.settings_used)
    for setting in dataclasses.fields(OptimizerSettings) if setting.name != "name"
}

