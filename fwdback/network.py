"""The NumPy engine: the lecture's network, its forward pass, MSE loss, backward pass and update.

Loss convention (used everywhere): L = (1/n) * sum_i (y_i - yhat_i)^2.

The hidden layer's activation is identity by default, as in the lecture; tanh, relu and
sigmoid are the next steps. With an activation, z = w . x + b is a hidden unit's input and
N = act(z) its output, so the chain rule gains a factor: dL/dw1 = dL/dN1 * dN1/dz1 * dz1/dw1.

All parameters live in one float64 vector in the lecture's order,
w1..w(k*H) (hidden weights, unit 1's k weights first), w(k*H+1)..w(k*H+H) (output weights),
b1..bH (hidden biases), b(H+1) (output bias). For k=3 inputs and H=2 hidden units that is
exactly w1..w8, b1..b3. The layer matrices are views into that vector, so the update is a
single vector operation and a parameter's name is its position.
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
    return tuple(f"w{i}" for i in range(1, n_weights + 1)) + tuple(
        f"b{i}" for i in range(1, n_hidden + 2)
    )


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
    """The network's parameters: a float64 vector in the lecture's order, with layer views.

    W_hidden : shape (H, k)   z = X @ W_hidden.T + b_hidden, N = act(z)   (w1..w6 for the 3-2-1 net)
    w_out    : shape (H,)     yhat = N @ w_out + b_out                    (w7, w8)
    b_hidden : shape (H,)                                                 (b1, b2)
    b_out    : shape ()                                                   (b3)
    The activation is part of the network's shape, so it travels with its parameters.
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

    @property
    def names(self) -> tuple[str, ...]:
        return parameter_names(self.n_inputs, self.n_hidden)

    @property
    def W_hidden(self) -> np.ndarray:
        k, h = self.n_inputs, self.n_hidden
        return self.vector[: k * h].reshape(h, k)

    @property
    def w_out(self) -> np.ndarray:
        k, h = self.n_inputs, self.n_hidden
        return self.vector[k * h : k * h + h]

    @property
    def b_hidden(self) -> np.ndarray:
        k, h = self.n_inputs, self.n_hidden
        return self.vector[k * h + h : k * h + 2 * h]

    @property
    def b_out(self) -> np.ndarray:
        return self.vector[-1]

    def as_dict(self) -> dict[str, float]:
        """Name -> value, e.g. {"w1": 0.5, ..., "b3": -0.1}."""
        return dict(zip(self.names, self.vector.tolist()))

    @classmethod
    def from_dict(cls, values: dict[str, float], n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity"):
        """The inverse of as_dict; the caller has checked that the names are exactly right."""
        return cls([values[name] for name in parameter_names(n_inputs, n_hidden)], n_inputs, n_hidden, activation)

    def gradients(self, dW_hidden, dw_out, db_hidden, db_out) -> Gradients:
        """Gradients laid out like these parameters, from the per-layer arrays."""
        vector = np.concatenate([np.ravel(dW_hidden), dw_out, db_hidden, [db_out]])
        return Gradients(vector, self.n_inputs, self.n_hidden, self.activation)

    def like(self, vector):
        """Another vector of values for the same network."""
        return Parameters(vector, self.n_inputs, self.n_hidden, self.activation)

    def copy(self):
        return type(self)(self.vector.copy(), self.n_inputs, self.n_hidden, self.activation)

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
    """What the forward pass computes for n rows.

    N    : shape (n, H)  hidden values, N[:, 0] is the lecture's N1
    yhat : shape (n,)    the network's output
    Z    : shape (n, H)  the hidden units' inputs before the activation (N itself for identity)
    """

    N: np.ndarray
    yhat: np.ndarray
    Z: np.ndarray


def forward(params: Parameters, X: np.ndarray) -> ForwardPass:
    """z = X W_hidden^T + b_hidden, N = act(z), yhat = N w_out + b_out.  X : shape (n, k).

    Computed feature-major, as z^T = W_hidden X^T (shape (H, n)): matrix products with an
    inner dimension of 2 or 3 are many times faster that way round. N and Z are returned as
    (n, H) views of those arrays. X is fastest in Fortran order (X.T contiguous).
    """
    ZT = params.W_hidden @ X.T
    ZT += params.b_hidden[:, None]
    activate, _ = ACTIVATIONS[params.activation]
    NT = ZT if activate is None else activate(ZT)
    yhat = params.w_out @ NT
    yhat += params.b_out
    return ForwardPass(NT.T, yhat, ZT.T)


def mse_loss(y: np.ndarray, yhat: np.ndarray) -> float:
    """L = (1/n) * sum (y_i - yhat_i)^2.  y, yhat : shape (n,)."""
    error = y - yhat
    return float(error @ error) / len(y)


def backward(params: Parameters, X: np.ndarray, y: np.ndarray, fwd: ForwardPass) -> Gradients:
    """All gradients of the MSE loss by the chain rule, output layer first.

    dL/dyhat_i = -(2/n) (y_i - yhat_i)
    dL/dw7 = sum_i dL/dyhat_i * N1_i,        dL/db3 = sum_i dL/dyhat_i
    dL/dN1_i = dL/dyhat_i * w7
    dL/dz1_i = dL/dN1_i * dN1/dz1_i          (identity: dN1/dz1 = 1, so dL/dz1 is dL/dN1)
    dL/dw1 = sum_i dL/dz1_i * x1_i,          dL/db1 = sum_i dL/dz1_i
    X : shape (n, k), y : shape (n,).
    """
    dyhat = (fwd.yhat - y) * (2.0 / len(y))
    dw_out = fwd.N.T @ dyhat
    db_out = dyhat.sum()
    dNT = params.w_out[:, None] * dyhat  # dL/dN, feature-major: shape (H, n)
    _, derivative = ACTIVATIONS[params.activation]
    dZT = dNT if derivative is None else dNT * derivative(fwd.Z.T, fwd.N.T)
    return params.gradients(dZT @ X, dw_out, dZT.sum(axis=1), db_out)


def update(params: Parameters, grads: Gradients, lr: float) -> Parameters:
    """One gradient-descent step for every parameter: w(t+1) = w(t) - eta * dL/dw(t)."""
    return params.like(params.vector - lr * grads.vector)


def collapsed_linear_map(params: Parameters) -> tuple[np.ndarray, float]:
    """The linear function an identity-activation network computes: yhat = coef . x + intercept.

    With no activation, coef_j = sum_h w_out[h] * W_hidden[h, j] (for x1: w7*w1 + w8*w4) and
    intercept = w_out . b_hidden + b_out (w7*b1 + w8*b2 + b3).
    """
    return params.w_out @ params.W_hidden, float(params.w_out @ params.b_hidden + params.b_out)


class LiteralEngine:
    """forward, loss and backward over every row, as the functions above compute them, but fast.

    The rows are taken in blocks of CHUNK_ROWS, small enough that a block's hidden values,
    residuals and per-row gradients stay in the processor's cache; the blocks' sums of the
    chain rule's terms add up to the full-batch gradients. Data are read feature-major
    (X^T, shape (k, n)), so every product is a BLAS call on long contiguous rows, and the
    work arrays are allocated once.

    Data of one block run the very operations of forward/mse_loss/backward, so the results
    are theirs to the bit. On more rows, with the identity activation, dL/dN_h,i =
    w_out[h] * dL/dyhat_i, so w_out[h] moves out of the sums over rows: one pass gives
    g = sum_i dL/dyhat_i x_i and s = sum_i dL/dyhat_i, and the chain rule gives every gradient
    from them (dL/dw1 = w7 g_1, dL/db1 = w7 s, dL/dw7 = w1 g_1 + w2 g_2 + w3 g_3 + b1 s,
    dL/db3 = s). Results then equal forward/mse_loss/backward up to the order of summation
    (about 1e-15 relative).
    """

    CHUNK_ROWS = 65536
    # The two (H, rows) work arrays stay within this; a wide network takes fewer rows a block.
    WORK_BYTES = 64 << 20

    def __init__(self, X: np.ndarray, y: np.ndarray, n_hidden: int):
        """X : shape (n, k), y : shape (n,). X.T is copied once if it is not contiguous."""
        self.XT = np.ascontiguousarray(X.T)
        self.y = y
        self.chunk_rows = min(self.CHUNK_ROWS, max(1, self.WORK_BYTES // (16 * n_hidden)))
        rows = min(self.chunk_rows, len(y))
        self.Z = np.empty((n_hidden, rows))
        self.r = np.empty(rows)
        self.dZ = np.empty((n_hidden, rows))

    def _chunks(self):
        for first in range(0, len(self.y), self.chunk_rows):
            XT = self.XT[:, first : first + self.chunk_rows]
            m = XT.shape[1]
            yield XT, self.y[first : first + m], self.Z[:, :m], self.r[:m], self.dZ[:, :m]

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        if params.activation == "identity" and len(self.y) > self.chunk_rows:
            return self._linear(params)
        W, b, w, b_out = params.W_hidden, params.b_hidden, params.w_out, params.b_out
        activate, derivative = ACTIVATIONS[params.activation]
        scale = 2.0 / len(self.y)
        squares, db_out = 0.0, 0.0
        dW, dw_out, db = np.zeros_like(W), np.zeros_like(w), np.zeros_like(b)
        for XT, y, Z, r, dZ in self._chunks():
            np.matmul(W, XT, out=Z)
            Z += b[:, None]
            N = Z if activate is None else activate(Z)
            np.matmul(w, N, out=r)
            r += b_out
            r -= y  # yhat - y
            squares += float(r @ r)
            r *= scale  # dL/dyhat
            dw_out += N @ r
            db_out += float(r.sum())
            np.multiply(w[:, None], r, out=dZ)  # dL/dN
            if derivative is not None:
                dZ *= derivative(Z, N)  # dL/dz
            dW += dZ @ XT.T
            db += dZ.sum(axis=1)
        return squares / len(self.y), params.gradients(dW, dw_out, db, db_out)

    def _linear(self, params: Parameters) -> tuple[float, Gradients]:
        W, b, w = params.W_hidden, params.b_hidden, params.w_out
        shift = float(w @ b + params.b_out)  # yhat_i = w . (W x_i) + w . b + b_out
        squares, s = 0.0, 0.0
        g = np.zeros(params.n_inputs)
        for XT, y, Z, r, _ in self._chunks():
            np.matmul(W, XT, out=Z)  # the hidden values, less their biases
            np.matmul(w, Z, out=r)
            r += shift
            r -= y  # yhat - y
            squares += float(r @ r)
            g += XT @ r
            s += float(r.sum())
        scale = 2.0 / len(self.y)
        g, s = g * scale, s * scale  # sum_i dL/dyhat_i x_i and sum_i dL/dyhat_i
        return squares / len(self.y), params.gradients(np.outer(w, g), W @ g + b * s, w * s, s)
