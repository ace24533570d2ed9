"""fwdback: the lecture's 3-2-1 network, forward and backward propagation with every number visible.

    model = fwdback.fit(X, y, epochs=500)   # a fitted FwdbackRegressor: `fwdback train --epochs 500`
    model = fwdback.fit(X, labels, loss="cross-entropy")  # a fitted FwdbackClassifier
    net = fwdback.Network.random(seed=0)    # forward (N and yhat), backward, step, loss_of, explain

The names below load on first use, so that `fwdback --help` does not import NumPy.
"""

import importlib

_EXPORTS = {
    "FwdbackClassifier": "estimator",
    "FwdbackRegressor": "estimator",
    "Network": "estimator",
    "BackwardPass": "network",
    "ForwardPass": "network",
    "Gradients": "network",
    "Parameters": "network",
    "backward": "network",
    "collapsed_linear_map": "linear_map",
    "forward": "network",
    "init_parameters": "network",
    "mse_loss": "network",
    "parameter_names": "network",
    "update": "network",
    "TrainingPlan": "plan",
    "fit": "api",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fwdback' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __dir__():
    return __all__
