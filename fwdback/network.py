"""The lecture's network: its parameters, forward pass, loss, backward pass and update.

    z_h    = w_h . x + b_h              for each hidden unit h   (z1 = w1*x1 + w2*x2 + w3*x3 + b1)
    N_h    = act(z_h)                   (identity in the lecture: N1 = z1)
    a_j    = w_j . N + b_j              for each output j        (a1 = w7*N1 + w8*N2 + b3)
    yhat_j = out(a_j)                   (identity in the lecture: yhat = a1)
    L      = c(n) * sum_i sum_j (y_ij - yhat_ij)^2   the loss convention: c = 1/n for the
             lecture's MSE, 1/(2n) half-mse, 1 sse, 1/2 half-sse
    (a classifier: yhat = sigmoid(a) with L = (1/n) sum -(y log yhat + (1 - y) log(1 - yhat)),
     or yhat = softmax(a) over the outputs with L = (1/n) sum_i -sum_j y_ij log yhat_ij; y the
     class as 0/1, or one column per class, 1 in the row's class's)
    w(t+1) = w(t) - eta * dL/dw(t)      for every parameter (optimizers.py has the others)

Each hidden and output quantity is one value per data row, as the lecture writes N1 and N2:
arrays of shape (H, n) whose row h is unit h's (N[0] is N1), and (m, n) for the m outputs. The
backward pass is the chain rule, output layer first, and each of its per-row terms is kept
(BackwardPass), so that a reader (explain) can show them.

All parameters live in one float64 vector in the lecture's order: the hidden weights unit by
unit (unit 1's k weights first), the output weights output by output, the hidden biases, the
output biases. For k = 3 inputs, H = 2 hidden units and one output that is exactly w1..w8,
b1..b3; with 2 inputs, 2 hidden units and 2 outputs: w1, w2 feed N1, w3, w4 feed N2, w5, w6
feed the first output, w7, w8 the second, then b1, b2 (hidden) and b3, b4 (outputs). A network
without biases has the weights alone. The layer matrices, and the parameters' names, are laid
out alike as views of that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .activations import ACTIVATION_NAMES, ACTIVATIONS, NETWORK_OUTPUT_ACTIVATIONS
from .losses import LOSSES


def loss_divisor(convention: str, n: int) -> float:
    """d(n) of a loss convention (losses.LOSSES): L = (sum of squared errors) / d(n), dL/dyhat_i = -(2/d(n)) (y_i - yhat_i).
    The derivative factor 2/d(n) is 2/n for MSE, 1/n for half-mse, 2 for sse, 1 for half-sse."""
    return LOSSES[convention].divisor(n)


@dataclass(frozen=True)
class Architecture:
    """The network's shape: k inputs, H hidden units with their activation, m outputs with
    theirs, and whether there are biases. The default is the lecture's 3-2-1 linear network."""

    n_inputs: int = 3
    n_hidden: int = 2
    n_outputs: int = 1
    activation: str = "identity"
    output_activation: str = "identity"
    bias: bool = True

    def __post_init__(self):
        for name in ("n_inputs", "n_hidden", "n_outputs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} is {value!r}: a network needs a whole number of at least 1")
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATION_NAMES)}")
        if self.output_activation not in NETWORK_OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"unknown output activation {self.output_activation!r}; choose one of {', '.join(NETWORK_OUTPUT_ACTIVATIONS)}"
            )
        if ACTIVATIONS[self.output_activation].across_outputs and self.n_outputs < 2:
            raise ValueError("a softmax output needs at least 2 outputs, one per class")

    @property
    def n_weights(self) -> int:
        return self.n_hidden * (self.n_inputs + self.n_outputs)

    @property
    def n_biases(self) -> int:
        return self.n_hidden + self.n_outputs if self.bias else 0

    @cached_property
    def size(self) -> int:
        """P: k*H hidden weights + m*H output weights (+ H hidden and m output biases): 11 for 3-2-1."""
        return self.n_weights + self.n_biases

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The lecture's names, in vector order: w1..w8, b1..b3 for the 3-2-1 network."""
        return tuple(f"w{i}" for i in range(1, self.n_weights + 1)) + tuple(f"b{i}" for i in range(1, self.n_biases + 1))

    @property
    def activated(self) -> bool:
        """Whether the hidden units apply an activation (N = act(z), not z itself)."""
        return not ACTIVATIONS[self.activation].identity

    @property
    def out_activated(self) -> bool:
        """Whether the outputs apply an activation (yhat = out(a), not a itself)."""
        return not ACTIVATIONS[self.output_activation].identity

    @property
    def linear(self) -> bool:
        """Whether the network computes a linear map of its inputs (no activation anywhere)."""
        return not (self.activated or self.out_activated)

    @property
    def lecture(self) -> bool:
        """Whether this is the lecture's kind of network: one output, no output activation, biases."""
        return self.n_outputs == 1 and not self.out_activated and self.bias


def parameter_count(n_inputs: int = 3, n_hidden: int = 2, n_outputs: int = 1, bias: bool = True) -> int:
    """P = k*H hidden weights + m*H output weights + H hidden biases + m output biases (11 for 3-2-1)."""
    return Architecture(n_inputs, n_hidden, n_outputs, bias=bias).size


def parameter_names(n_inputs: int = 3, n_hidden: int = 2, n_outputs: int = 1, bias: bool = True) -> tuple[str, ...]:
    """The lecture's names, in vector order: w1..w8, b1..b3 for the 3-2-1 network."""
    return Architecture(n_inputs, n_hidden, n_outputs, bias=bias).names


class Parameters:
    """The network's parameters: a float64 vector in the lecture's order, with its layers as views.

    W_hidden  : shape (H, k)   unit h's weights in row h (w1..w6 for the 3-2-1 network)
    W_out     : shape (m, H)   output j's weights in row j (w7, w8)
    b_hidden  : shape (H,)     the hidden biases (b1, b2); zeros, not a view, without biases
    b_outputs : shape (m,)     the output biases (b3)
    w_out and b_out are the one output's weights and bias, shape (H,) and (), as the lecture writes them.
    The same views of `names` (W_hidden_names, ...) give each entry's name, so that nothing
    outside this class does arithmetic on positions. The architecture (activations, outputs,
    biases) is part of the network's shape, so it travels with its parameters.
    """

    def __init__(
        self, vector, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity", *,
        n_outputs: int = 1, output_activation: str = "identity", bias: bool = True,
    ):
        self._set(vector, Architecture(n_inputs, n_hidden, n_outputs, activation, output_activation, bias))

    @classmethod
    def of(cls, vector, architecture: Architecture):
        """Of a network whose Architecture is made (and checked) already: an epoch makes several."""
        params = cls.__new__(cls)
        params._set(vector, architecture)
        return params

    def _set(self, vector, architecture: Architecture) -> None:
        self.architecture = architecture
        self.vector = np.array(vector, dtype=np.float64)
        if self.vector.shape != (architecture.size,):
            raise ValueError(f"expected {architecture.size} parameters, got shape {self.vector.shape}")

    n_inputs = property(lambda self: self.architecture.n_inputs)
    n_hidden = property(lambda self: self.architecture.n_hidden)
    n_outputs = property(lambda self: self.architecture.n_outputs)
    activation = property(lambda self: self.architecture.activation)
    output_activation = property(lambda self: self.architecture.output_activation)
    activated = property(lambda self: self.architecture.activated)
    out_activated = property(lambda self: self.architecture.out_activated)
    bias = property(lambda self: self.architecture.bias)

    def _layers(self, flat):
        k, h, m = self.n_inputs, self.n_hidden, self.n_outputs
        W_hidden, W_out = flat[: k * h].reshape(h, k), flat[k * h : (k + m) * h].reshape(m, h)
        if not self.bias:
            zero = "" if flat.dtype == object else 0.0
            return W_hidden, W_out, np.full(h, zero, dtype=flat.dtype), np.full(m, zero, dtype=flat.dtype)
        return W_hidden, W_out, flat[(k + m) * h : (k + m + 1) * h], flat[(k + m + 1) * h :]

    @cached_property
    def layers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(W_hidden, W_out, b_hidden, b_outputs) at once: views, so writing to one writes the vector.
        Made once (the passes read them several times an epoch)."""
        return self._layers(self.vector)

    def __getstate__(self) -> dict:
        """Pickled or copied without the layers made, which would come back as copies, not views."""
        return {name: value for name, value in self.__dict__.items() if name != "layers"}

    W_hidden = property(lambda self: self.layers[0])
    W_out = property(lambda self: self.layers[1])
    b_hidden = property(lambda self: self.layers[2])
    b_outputs = property(lambda self: self.layers[3])

    @property
    def w_out(self) -> np.ndarray:
        """shape (H,): the output weights (w7, w8) of a network with one output, as the lecture's."""
        return self._one_output(self.W_out)

    @property
    def b_out(self) -> np.float64:
        """The output bias (b3) of a network with one output, as the lecture's."""
        return self._one_output(self.b_outputs)

    def _one_output(self, layer):
        if self.n_outputs != 1:
            raise ValueError(f"this network has {self.n_outputs} outputs: use W_out and b_outputs")
        return layer[0]

    @property
    def names(self) -> tuple[str, ...]:
        return self.architecture.names

    @property
    def name_layers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The names laid out as `layers`: (H, k), (m, H), (H,), (m,); "" for an absent bias."""
        return self._layers(np.array(self.names, dtype=object))

    W_hidden_names = property(lambda self: self.name_layers[0])
    W_out_names = property(lambda self: self.name_layers[1])
    b_hidden_names = property(lambda self: self.name_layers[2])
    b_outputs_names = property(lambda self: self.name_layers[3])

    @property
    def w_out_names(self) -> np.ndarray:
        """shape (H,): "w7", "w8" for the 3-2-1 network."""
        return self._one_output(self.W_out_names)

    @property
    def b_out_name(self) -> str:
        return self._one_output(self.b_outputs_names)

    def as_dict(self) -> dict[str, float]:
        """Name -> value, e.g. {"w1": 0.5, ..., "b3": -0.1}."""
        return dict(zip(self.names, self.vector.tolist()))

    @classmethod
    def from_dict(cls, values: dict[str, float], n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity", **shape):
        """The inverse of as_dict; the caller has checked that the names are exactly right.
        `shape`: n_outputs, output_activation, bias, as Parameters takes them."""
        architecture = Architecture(n_inputs, n_hidden, activation=activation, **shape)
        return cls.of([values[name] for name in architecture.names], architecture)

    def flat(self, W_hidden, W_out, b_hidden, b_outputs) -> np.ndarray:
        """Per-layer arrays (of values, names, anything) laid out in this vector's order."""
        biases = [np.ravel(b_hidden), np.ravel(b_outputs)] if self.bias else []
        return np.concatenate([np.ravel(W_hidden), np.ravel(W_out), *biases])

    @classmethod
    def of_layers(cls, W_hidden, W_out, b_hidden, b_outputs, activation: str = "identity"):
        """Parameters (or Gradients) with biases from per-layer arrays; W_hidden : shape (H, k),
        W_out : shape (m, H) (or (H,) for one output), b_outputs : shape (m,) (or a number)."""
        n_hidden, n_inputs = np.shape(W_hidden)
        W_out = np.reshape(W_out, (-1, n_hidden))
        vector = np.concatenate([np.ravel(W_hidden), np.ravel(W_out), np.ravel(b_hidden), np.ravel(b_outputs)])
        return cls(vector, n_inputs, n_hidden, activation, n_outputs=len(W_out))

    def like(self, vector):
        """Another vector of values (parameters or gradients, as this is) for the same network."""
        return type(self).of(vector, self.architecture)

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value:.6g}" for name, value in self.as_dict().items())
        return f"{type(self).__name__}({values})"


class Gradients(Parameters):
    """dL/dparameter for every parameter, in the same layout and order as Parameters."""


def init_parameters(
    rng: np.random.Generator, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity", **shape
) -> Parameters:
    """Random initial parameters, as PyTorch's nn.Linear draws them.

    Each layer's weights and biases are uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)]: the
    hidden layer (w1..w6, then b1, b2) with fan_in = k, then the output layer (w7, w8, then
    b3) with fan_in = H. Draw order is fixed, so a seed gives the same weights everywhere;
    without biases the same numbers are drawn and the biases' dropped. `shape`: n_outputs,
    output_activation, bias, as Parameters takes them.
    """
    architecture = Architecture(n_inputs, n_hidden, activation=activation, **shape)
    k, h, m = n_inputs, n_hidden, architecture.n_outputs
    hidden = rng.uniform(-1, 1, size=k * h + h) / np.sqrt(k)
    output = rng.uniform(-1, 1, size=m * h + m) / np.sqrt(h)
    weights = [hidden[: k * h], output[: m * h]]
    biases = [hidden[k * h :], output[m * h :]] if architecture.bias else []
    return Parameters.of(np.concatenate(weights + biases), architecture)


def output_symbols(n_outputs: int) -> tuple[str, ...]:
    """What the outputs are called: "yhat" for one, "yhat1", "yhat2", ... for several."""
    return ("yhat",) if n_outputs == 1 else tuple(f"yhat{j}" for j in range(1, n_outputs + 1))


def output_names(target, n_outputs: int) -> tuple[str, ...]:
    """The columns the outputs predict, one per output: `target` names them (a sequence of m
    names, or one name for one output); where it does not, the outputs' symbols stand in."""
    names = (target,) if isinstance(target, str) else tuple(target)
    return names if len(names) == n_outputs else output_symbols(n_outputs)


def as_rows(y: np.ndarray) -> np.ndarray:
    """Targets as the network lays out its outputs: shape (m, n) from y : shape (n,) or (n, m)."""
    return y[None, :] if y.ndim == 1 else y.T


@dataclass
class ForwardPass:
    """What the forward pass computes for n rows; each hidden quantity is a row of values, one
    per data row, as the lecture writes N1 and N2.

    Z    : shape (H, n)  what goes into each hidden unit, z = w . x + b; Z[0] is z1
    N    : shape (H, n)  what comes out, N = act(z) (Z itself for identity); N[0] is N1
    A    : shape (m, n)  what goes into each output, a = w . N + b
    Yhat : shape (m, n)  the network's outputs, out(a) (A itself for identity)
    """

    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    Yhat: np.ndarray

    @property
    def yhat(self) -> np.ndarray:
        """The outputs shaped as the targets: (n,) for one output, (n, m) for several."""
        return self.Yhat[0] if len(self.Yhat) == 1 else self.Yhat.T


def forward(params: Parameters, X: np.ndarray) -> ForwardPass:
    """z_h = w_h . x + b_h for every unit h and row, N = act(z), a = W_out N + b_out, yhat = out(a).

    X : shape (n, k); X.T holds the columns x1..xk, so Z = W_hidden X^T + b_hidden reads as
    `z1 = w1*x1 + w2*x2 + w3*x3 + b1` for the 3-2-1 network.
    """
    Z = params.W_hidden @ X.T + params.b_hidden[:, None]
    act = ACTIVATIONS[params.activation]
    N = Z if act.identity else act.function(Z)
    A = params.W_out @ N + params.b_outputs[:, None]
    out = ACTIVATIONS[params.output_activation]
    return ForwardPass(Z, N, A, A if out.identity else out.function(A))


def loss(y: np.ndarray, fwd: ForwardPass, convention: str = "mse") -> float:
    """L = c(n) * sum_i sum_j (y_ij - yhat_ij)^2: (1/n) sum (y_i - yhat_i)^2 for the lecture's
    MSE; a classifier's, (1/n) sum_i of its rows' terms (classification_terms).
    y : shape (n,) or (n, m), the targets of the rows `fwd` passed forward."""
    spec = LOSSES[convention]
    if spec.classifies:
        return float(classification_terms(y, fwd, convention).sum()) / spec.divisor(len(y))
    error = np.ravel(as_rows(y) - fwd.Yhat)
    return float(error @ error) / spec.divisor(len(y))


def classification_terms(y: np.ndarray, fwd: ForwardPass, convention: str) -> np.ndarray:
    """Each row's term of a classifier's loss, shape (n,); y : shape (n,) of 0/1 (bce) or (n, m) one-hot.

    Computed from the logits A rather than from yhat, whose log would be log(0) once a
    probability rounds to 0 or 1:
        bce            -(y log yhat + (1 - y) log(1 - yhat)) = log(1 + exp(a)) - y a
        cross-entropy  -sum_j y_j log yhat_j = log(sum_j exp(a_j)) - sum_j y_j a_j   (sum_j y_j = 1)
    with log(1 + exp(a)) = max(a, 0) + log(1 + exp(-|a|)) and log(sum_j exp(a_j)) = max_j a_j +
    log(sum_j exp(a_j - max_j a_j)), which never overflow.
    """
    Y = as_rows(y)
    if LOSSES[convention].binary:
        return (np.logaddexp(0.0, fwd.A) - Y * fwd.A)[0]
    top = fwd.A.max(axis=0)
    return top + np.log(np.exp(fwd.A - top).sum(axis=0)) - (Y * fwd.A).sum(axis=0)


def mse_loss(y: np.ndarray, yhat: np.ndarray) -> float:
    """L = (1/n) * sum (y_i - yhat_i)^2.  y, yhat : shape (n,) or (n, m)."""
    error = np.ravel(y - yhat)
    return float(error @ error) / len(y)


@dataclass
class BackwardPass:
    """The chain rule's terms for every row, and the gradients they sum to.

    dL_dYhat  : shape (m, n)    dL/dyhat_j,i = -(2/d(n)) (y_j,i - yhat_j,i)   (-(2/n) (y_i - yhat_i) for MSE);
                                None for a classifier's loss
    dYhat_dA  : shape (m, n)    out'(a_j,i); None for the identity, where it is 1, and for a classifier's loss
    dL_dA     : shape (m, n)    dL/da_j,i = dL/dyhat_j,i * dyhat_j/da_j         (dL_dYhat itself for identity);
                                (1/n) (yhat_j,i - y_j,i) for a classifier's loss, where the link's
                                derivative and the loss's cancel (taken apart they would divide by
                                yhat (1 - yhat), 0 once a probability rounds to 0 or 1)
    dL_dN     : shape (H, n)    dL/dN_h,i = sum_j W_out[j, h] * dL/da_j,i      (dL/dN1_i = w7 * dL/dyhat_i)
    dN_dZ     : shape (H, n)    dN_h/dz_h of each row; None for identity, where it is 1
    dL_dZ     : shape (H, n)    dL/dz_h,i = dL/dN_h,i * dN_h/dz_h             (dL_dN itself for identity)
    gradients : dL/dw1 = sum_i dL/dz1_i * x1_i, dL/db1 = sum_i dL/dz1_i,
                dL/dw7 = sum_i dL/da1_i * N1_i, dL/db3 = sum_i dL/da1_i, ...
    """

    dL_dYhat: np.ndarray | None
    dYhat_dA: np.ndarray | None
    dL_dA: np.ndarray
    dL_dN: np.ndarray
    dN_dZ: np.ndarray | None
    dL_dZ: np.ndarray
    gradients: Gradients

    @property
    def dL_dyhat(self) -> np.ndarray | None:
        """dL/dyhat shaped as the targets: (n,) for one output, (n, m) for several; None for a classifier's loss."""
        if self.dL_dYhat is None:
            return None
        return self.dL_dYhat[0] if len(self.dL_dYhat) == 1 else self.dL_dYhat.T


def backward(params: Parameters, X: np.ndarray, y: np.ndarray, fwd: ForwardPass, convention: str = "mse") -> BackwardPass:
    """All gradients of the loss by the chain rule, output layer first.  X : shape (n, k), y : shape (n,) or (n, m)."""
    spec = LOSSES[convention]
    if spec.classifies:
        if params.output_activation != spec.link:
            raise ValueError(f"the {convention} loss needs a {spec.link} output, not {params.output_activation}")
        dL_dYhat = dYhat_dA = None
        dL_dA = spec.factor(len(y)) * (fwd.Yhat - as_rows(y))
    else:
        dL_dYhat = -spec.factor(len(y)) * (as_rows(y) - fwd.Yhat)
        out = ACTIVATIONS[params.output_activation]
        dYhat_dA = None if out.identity else out.derivative(fwd.A, fwd.Yhat)
        dL_dA = dL_dYhat if dYhat_dA is None else dL_dYhat * dYhat_dA
    dW_out = dL_dA @ fwd.N.T
    db_out = dL_dA.sum(axis=1)
    dL_dN = params.W_out.T @ dL_dA
    act = ACTIVATIONS[params.activation]
    dN_dZ = None if act.identity else act.derivative(fwd.Z, fwd.N)
    dL_dZ = dL_dN if dN_dZ is None else dL_dN * dN_dZ
    dW_hidden = dL_dZ @ X
    db_hidden = dL_dZ.sum(axis=1)
    gradients = Gradients.of(params.flat(dW_hidden, dW_out, db_hidden, db_out), params.architecture)
    return BackwardPass(dL_dYhat, dYhat_dA, dL_dA, dL_dN, dN_dZ, dL_dZ, gradients)


def update(params: Parameters, grads: Gradients, lr: float) -> Parameters:
    """One gradient-descent step for every parameter: w(t+1) = w(t) - eta * dL/dw(t)."""
    return params.like(params.vector - lr * grads.vector)
