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

Every rule works element by element on the parameter vector. A frozen parameter keeps its value:
its step is zero and its state stays at zero. The state (v; m, s and t) is what a resumed run
must carry on with to continue bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Gradients, Parameters, update
from .plan import OPTIMIZERS


@dataclass(frozen=True)
class OptimizerSettings:
    """Which rule, and its hyper-parameters (those of the other rules are carried but unused)."""

    name: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.name!r}; choose one of {', '.join(OPTIMIZERS)}")

    @property
    def state_names(self) -> tuple[str, ...]:
        """The per-parameter state the rule keeps: () for gd, ("v",) for momentum and nesterov,
        ("m", "s") for adam."""
        return {"gd": (), "momentum": ("v",), "nesterov": ("v",), "adam": ("m", "s")}[self.name]


@dataclass
class OptimizerStep:
    """What one update did, for a reader (explain): the state after it (shape (P,) each), and
    for adam the bias-corrected moments and the update number t."""

    params: Parameters
    state: dict[str, np.ndarray]
    t: int
    corrected: dict[str, np.ndarray] | None = None


class Optimizer:
    """An update rule with its state, for parameters of one network.

    frozen : shape (P,) bool, the parameters that keep their values (None: none)
    state  : {"v": ..} or {"m": .., "s": ..}, each shape (P,); zeros when not given
    t      : updates made so far
    """

    def __init__(self, settings: OptimizerSettings, lr: float, size: int, frozen: np.ndarray | None = None,
                 state: dict[str, np.ndarray] | None = None, t: int = 0):
        self.settings, self.lr, self.t = settings, lr, t
        self.free = None if frozen is None or not frozen.any() else ~frozen
        self.state = {name: np.zeros(size) for name in settings.state_names}
        for name, values in (state or {}).items():
            self.state[name] = np.array(values, dtype=np.float64)

    def step(self, params: Parameters, grads: Gradients) -> Parameters:
        return self.explained_step(params, grads).params

    def explained_step(self, params: Parameters, grads: Gradients) -> OptimizerStep:
        """One update from `params` with their gradients `grads`, and what it computed."""
        self.t += 1
        g = grads.vector if self.free is None else grads.vector * self.free
        name, eta, corrected = self.settings.name, self.lr, None
        if name == "gd":
            new = update(params, grads if self.free is None else grads.like(g), eta)
        elif name in ("momentum", "nesterov"):
            mu = self.settings.momentum
            v = mu * self.state["v"] - eta * g
            self.state["v"] = v
            new = params.like(params.vector + (v if name == "momentum" else mu * v - eta * g))
        else:
            s = self.settings
            m = s.beta1 * self.state["m"] + (1.0 - s.beta1) * g
            second = s.beta2 * self.state["s"] + (1.0 - s.beta2) * g * g
            self.state["m"], self.state["s"] = m, second
            corrected = {"m": m / (1.0 - s.beta1**self.t), "s": second / (1.0 - s.beta2**self.t)}
            step = eta * corrected["m"] / (np.sqrt(corrected["s"]) + s.epsilon)
            new = params.like(params.vector - (step if self.free is None else step * self.free))
        return OptimizerStep(new, {key: value.copy() for key, value in self.state.items()}, self.t, corrected)

    def record(self) -> dict:
        """The state as the model file keeps it: lists of floats by name, and t."""
        return {"t": self.t, **{name: values.tolist() for name, values in self.state.items()}}
