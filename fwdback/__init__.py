"""fwdback: the lecture's 3-2-1 network, forward and backward propagation with every number visible."""

from .network import (
    ForwardPass,
    Gradients,
    Parameters,
    backward,
    collapsed_linear_map,
    forward,
    init_parameters,
    mse_loss,
    parameter_names,
    update,
)
from .training import TrainingResult, train

__all__ = [
    "ForwardPass",
    "Gradients",
    "Parameters",
    "TrainingResult",
    "backward",
    "collapsed_linear_map",
    "forward",
    "init_parameters",
    "mse_loss",
    "parameter_names",
    "train",
    "update",
]
