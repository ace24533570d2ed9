"""The lecture's network: its parameters, forward pass, loss, backward pass and update.

    z_h  = w_h . x + b_h                for each hidden unit h   (z1 = w1*x1 + w2*x2 + w3*x3 + b1)
    N_h  = act(z_h)                     (identity in the lecture: N1 = z1)
    yhat = w_out . N + b_out            (yhat = w7*N1 + w8*N2 + b3)
    L    = (1/n) * sum_i (y_i - yhat_i)^2                        (MSE: the one loss convention)
    w(t+1) = w(t) - eta * dL/dw(t)      for every parameter

Each hidden quantity is one value per data row, as the lecture writes N1 and N2: arrays of
shape (H, n) whose row h is unit h's (N[0] is N1). The backward pass is the chain rule, output
layer first, and each of its per-row terms is kept (BackwardPass), so that a reader (explain)
can show them. All parameters live in one
float64 vector in the lecture's order: w1..w(k*H) (hidden weights, unit 1's k weights first),
w(k*H+1)..w(k*H+H) (output weights), b1..bH (hidden biases), b(H+1) (output bias); for k = 3
inputs and H = 2 hidden units that is exactly w1..w8, b1..b3. The layer matrices, and the
parameters' names, are laid out alike as views of that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def parameter_count(n_inputs: int = 3, n_hidden: int = 2) -> int:
    """P = k*H hidden weights + H output weights + H hidden biases + 1 output bias (11 for 3-2-1)."""
    return n_inputs * n_hidden + 2 * n_hidden + 1


def parameter_names(n_inputs: int = 3, n_hidden: int = 2) -> tuple[str, ...]:
    """The lecture's names, in vector order: w1..w8, b1..b3 for the 3-2-1 network."""
    n_weights = n_inputs * n_hidden + n_hidden
    return tuple(f"w{i}" for i in range(1, n_weights + 1)) + tuple(f"b{i}" for i in range(1, n_hidden + 2))


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * Z))  # = 1 / (1 + exp(-z)), without overflow


# name -> (act(z), dN/dz from z and N = act(z)); identity's derivative is never formed.
ACTIVATIONS = {
    "identity": (None, None),
    "tanh": (np.tanh, lambda Z, N: 1.0 - N * N),
    "relu": (lambda Z: np.maximum(Z, 0.0), lambda Z, N: (Z > 0).astype(np.float64)),
    "sigmoid": (_sigmoid, lambda Z, N: N * (1.0 - N)),
}


class Parameters:
    """The network's parameters: a float64 vector in the lecture's order, with its layers as views.

    W_hidden : shape (H, k)   unit h's weights in row h (w1..w6 for the 3-2-1 network)
    w_out    : shape (H,)     the output weights (w7, w8)
    b_hidden : shape (H,)     the hidden biases (b1, b2)
    b_out    : shape ()       the output bias (b3)
    The same views of `names` (W_hidden_names, ...) give each entry's name, so that nothing
    outside this class does arithmetic on positions. The activation is part of the network's
    shape, so it travels with its parameters.
    """

    def __init__(self, vector, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.n_inputs = n_inputs
        self.n_hidden = n_hidden
        self.activation = activation
        self.vector = np.array(vector, dtype=np.float64)
        size = parameter_count(n_inputs, n_hidden)
        if self.vector.shape != (size,):
            raise ValueError(f"expected {size} parameters, got shape {self.vector.shape}")

    def _layers(self, flat):
        k, h = self.n_inputs, self.n_hidden
        return flat[: k * h].reshape(h, k), flat[k * h : k * h + h], flat[k * h + h : k * h + 2 * h], flat[-1]

    @property
    def layers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(W_hidden, w_out, b_hidden, b_out) at once: views, so writing to one writes the vector."""
        return self._layers(self.vector)

    @property
    def W_hidden(self) -> np.ndarray:
        return self._layers(self.vector)[0]

    @property
    def w_out(self) -> np.ndarray:
        return self._layers(self.vector)[1]

    @property
    def b_hidden(self) -> np.ndarray:
        return self._layers(self.vector)[2]

    @property
    def b_out(self) -> np.ndarray:
        return self._layers(self.vector)[3]

    @property
    def names(self) -> tuple[str, ...]:
        return parameter_names(self.n_inputs, self.n_hidden)

    @property
    def W_hidden_names(self) -> np.ndarray:
        """shape (H, k): "w1".. laid out as W_hidden."""
        return self._layers(np.array(self.names, dtype=object))[0]

    @property
    def w_out_names(self) -> np.ndarray:
        """shape (H,): "w7", "w8" for the 3-2-1 network."""
        return self._layers(np.array(self.names, dtype=object))[1]

    @property
    def b_hidden_names(self) -> np.ndarray:
        """shape (H,): "b1", "b2" for the 3-2-1 network."""
        return self._layers(np.array(self.names, dtype=object))[2]

    @property
    def b_out_name(self) -> str:
        return self.names[-1]

    def as_dict(self) -> dict[str, float]:
        """Name -> value, e.g. {"w1": 0.5, ..., "b3": -0.1}."""
        return dict(zip(self.names, self.vector.tolist()))

    @classmethod
    def from_dict(cls, values: dict[str, float], n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity"):
        """The inverse of as_dict; the caller has checked that the names are exactly right."""
        return cls([values[name] for name in parameter_names(n_inputs, n_hidden)], n_inputs, n_hidden, activation)

    @staticmethod
    def flat(W_hidden, w_out, b_hidden, b_out) -> np.ndarray:
        """Per-layer arrays (of values, names, anything) laid out in the vector's order."""
        return np.concatenate([np.ravel(W_hidden), np.ravel(w_out), np.ravel(b_hidden), [b_out]])

    @classmethod
    def of_layers(cls, W_hidden, w_out, b_hidden, b_out, activation: str = "identity"):
        """Parameters (or Gradients) from per-layer arrays; W_hidden : shape (H, k)."""
        n_hidden, n_inputs = np.shape(W_hidden)
        return cls(cls.flat(W_hidden, w_out, b_hidden, b_out), n_inputs, n_hidden, activation)

    def like(self, vector):
        """Another vector of values (parameters or gradients, as this is) for the same network."""
        return type(self)(vector, self.n_inputs, self.n_hidden, self.activation)

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value:.6g}" for name, value in self.as_dict().items())
        return f"{type(self).__name__}({values})"


class Gradients(Parameters):
    """dL/dparameter for every parameter, in the same layout and order as Parameters."""


def init_parameters(
    rng: np.random.Generator, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity"
) -> Parameters:
    """Random initial parameters, as PyTorch's nn.Linear draws them.

    Each layer's weights and biases are uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)]: the
    hidden layer (w1..w6, then b1, b2) with fan_in = k, then the output layer (w7, w8, then
    b3) with fan_in = H. Draw order is fixed, so a seed gives the same weights everywhere.
    """
    k, h = n_inputs, n_hidden
    hidden = rng.uniform(-1, 1, size=k * h + h) / np.sqrt(k)
    output = rng.uniform(-1, 1, size=h + 1) / np.sqrt(h)
    vector = np.concatenate([hidden[: k * h], output[:h], hidden[k * h :], output[h:]])
    return Parameters(vector, n_inputs, n_hidden, activation)


@dataclass
class ForwardPass:
    """What the forward pass computes for n rows; each hidden quantity is a row of values, one
    per data row, as the lecture writes N1 and N2.

    Z    : shape (H, n)  what goes into each hidden unit, z = w . x + b; Z[0] is z1
    N    : shape (H, n)  what comes out, N = act(z) (Z itself for identity); N[0] is N1
    yhat : shape (n,)    the network's output
    """

    Z: np.ndarray
    N: np.ndarray
    yhat: np.ndarray


def forward(params: Parameters, X: np.ndarray) -> ForwardPass:
    """z_h = w_h . x + b_h for every unit h and row, N = act(z), yhat = w_out . N + b_out.

    X : shape (n, k); X.T holds the columns x1..xk, so Z = W_hidden X^T + b_hidden reads as
    z1 = w1*x1 + w2*x2 + w3*x3 + b1 for the 3-2-1 network.
    """
    Z = params.W_hidden @ X.T + params.b_hidden[:, None]
    activate, _ = ACTIVATIONS[params.activation]
    N = Z if activate is None else activate(Z)
    yhat = params.w_out @ N + params.b_out
    return ForwardPass(Z, N, yhat)


def mse_loss(y: np.ndarray, yhat: np.ndarray) -> float:
    """L = (1/n) * sum (y_i - yhat_i)^2.  y, yhat : shape (n,)."""
    error = y - yhat
    return float(error @ error) / len(y)


@dataclass
class BackwardPass:
    """The chain rule's terms for every row, and the gradients they sum to.

    dL_dyhat  : shape (n,)      dL/dyhat_i = -(2/n) (y_i - yhat_i)
    dL_dN     : shape (H, n)    dL/dN_h,i = w_out[h] * dL/dyhat_i             (dL/dN1_i = w7 * dL/dyhat_i)
    dN_dZ     : shape (H, n)    dN_h/dz_h of each row; None for identity, where it is 1
    dL_dZ     : shape (H, n)    dL/dz_h,i = dL/dN_h,i * dN_h/dz_h             (dL_dN itself for identity)
    gradients : dL/dw1 = sum_i dL/dz1_i * x1_i, dL/db1 = sum_i dL/dz1_i,
                dL/dw7 = sum_i dL/dyhat_i * N1_i, dL/db3 = sum_i dL/dyhat_i, ...
    """

    dL_dyhat: np.ndarray
    dL_dN: np.ndarray
    dN_dZ: np.ndarray | None
    dL_dZ: np.ndarray
    gradients: Gradients


def backward(params: Parameters, X: np.ndarray, y: np.ndarray, fwd: ForwardPass) -> BackwardPass:
    """All gradients of the MSE loss by the chain rule, output layer first.  X : shape (n, k), y : shape (n,)."""
    dL_dyhat = -(2.0 / len(y)) * (y - fwd.yhat)
    dw_out = fwd.N @ dL_dyhat
    db_out = dL_dyhat.sum()
    dL_dN = params.w_out[:, None] * dL_dyhat
    _, derivative = ACTIVATIONS[params.activation]
    dN_dZ = None if derivative is None else derivative(fwd.Z, fwd.N)
    dL_dZ = dL_dN if dN_dZ is None else dL_dN * dN_dZ
    dW_hidden = dL_dZ @ X
    db_hidden = dL_dZ.sum(axis=1)
    gradients = Gradients.of_layers(dW_hidden, dw_out, db_hidden, db_out, params.activation)
    return BackwardPass(dL_dyhat, dL_dN, dN_dZ, dL_dZ, gradients)


def update(params: Parameters, grads: Gradients, lr: float) -> Parameters:
    """One gradient-descent step for every parameter: w(t+1) = w(t) - eta * dL/dw(t)."""
    return params.like(params.vector - lr * grads.vector)
