"""The independent network every test compares fwdback with: the lecture's equations written out
one named weight, one hidden unit and one output at a time, in NumPy, importing nothing of fwdback.

    z_h = sum_j w((h-1)k + j) x_j + b_h,        N_h = act(z_h)                 (h = 1..H)
    a_o = sum_h w(kH + (o-1)H + h) N_h + b(H+o),  yhat_o = out(a_o)            (o = 1..m)
    L = (1/d(n)) sum_i sum_o (y_io - yhat_io)^2   d(n) = n (mse), 2n (half-mse), 1 (sse), 2 (half-sse)

For the lecture (k=3, H=2, m=1, identity, biases) that is N1 = w1 x1 + w2 x2 + w3 x3 + b1,
N2 = w4 x1 + w5 x2 + w6 x3 + b2, yhat = w7 N1 + w8 N2 + b3 and the MSE. `gradients` applies the
chain rule by hand, `central_differences` differentiates the loss numerically with a step and
an error bound derived below, and `Update` writes the update rules as their papers do.
Weights travel as {name: value} in the naming order above (w..., then b...).

The classifier's losses (LOG_LOSSES) take the logits a_o and are written from their definitions
row by row in plain Python floats (math.exp, math.log1p), not as fwdback computes them:

    bce            yhat = sigmoid(a)                      (one output; y in {0, 1})
                   L = (1/n) sum_i -(y log yhat + (1 - y) log(1 - yhat))
                     = (1/n) sum_i y softplus(-a) + (1 - y) softplus(a)   (log sigmoid(a) = -softplus(-a))
    cross-entropy  yhat_o = exp(a_o) / sum_l exp(a_l)     (one output per class; y one-hot)
                   L = (1/n) sum_i -sum_o y_o log yhat_o,  -log yhat_o = log sum_l exp(a_l - a_o) (minus_log_softmax)

and their backward pass is the chain rule WITHOUT the cancellation: dL/dyhat times the link's
derivative (sigmoid'(a) = yhat (1 - yhat); the softmax's Jacobian yhat_o (delta_ol - yhat_l) as a
double loop), which equals (1/n) (yhat - y) only by algebra (class_logit_gradients).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace

import numpy as np

U = 2.0**-53  # float64's unit roundoff

# Each activation and its derivative, from their definitions: (act(z), dact/dz).
ACTIVATIONS = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.where(z > 0, z, 0.0), lambda z: np.where(z > 0, 1.0, 0.0)),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
}
# d(n) of each loss convention: L = (sum of squared errors) / d(n).
DIVISORS = {"mse": lambda n: n, "half-mse": lambda n: 2 * n, "sse": lambda n: 1, "half-sse": lambda n: 2,
            "bce": lambda n: n, "cross-entropy": lambda n: n}
# The classifier's losses and the output each comes with: L = (1/n) sum of the rows' log losses.
LOG_LOSSES = {"bce": "sigmoid", "cross-entropy": "softmax"}


@dataclass(frozen=True)
class Shape:
    """A k-H-m network: k inputs, H hidden units of `hidden`, m outputs of `out`, biases or none.
    The default is the lecture's 3-2-1 linear network."""

    k: int = 3
    H: int = 2
    m: int = 1
    hidden: str = "identity"
    out: str = "identity"
    bias: bool = True

    @property
    def names(self) -> list[str]:
        weights = [f"w{i}" for i in range(1, self.k * self.H + self.H * self.m + 1)]
        return weights + ([f"b{i}" for i in range(1, self.H + self.m + 1)] if self.bias else [])

    def hidden_weight(self, h: int, j: int) -> str:
        """Unit h's weight on input j (both from 0)."""
        return f"w{h * self.k + j + 1}"

    def output_weight(self, o: int, h: int) -> str:
        """Output o's weight on unit h (both from 0)."""
        return f"w{self.k * self.H + o * self.H + h + 1}"


@dataclass
class Pass:
    """A forward pass over n rows: Z, N : shape (n, H); A, yhat : shape (n, m)."""

    Z: np.ndarray
    N: np.ndarray
    A: np.ndarray
    yhat: np.ndarray


def _targets(Y, m: int) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    return Y.reshape(len(Y), m)


def forward(p: dict, X, shape: Shape = Shape()) -> Pass:
    """X : shape (n, k). One unit and one output at a time, each a named sum."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    Z, A = np.empty((n, shape.H)), np.empty((n, shape.m))
    for h in range(shape.H):
        Z[:, h] = sum(p[shape.hidden_weight(h, j)] * X[:, j] for j in range(shape.k)) + (p[f"b{h + 1}"] if shape.bias else 0.0)
    N = ACTIVATIONS[shape.hidden][0](Z)
    for o in range(shape.m):
        A[:, o] = sum(p[shape.output_weight(o, h)] * N[:, h] for h in range(shape.H)) + (
            p[f"b{shape.H + o + 1}"] if shape.bias else 0.0)
    return Pass(Z, N, A, np.array([softmax(row) for row in A.tolist()]) if shape.out == "softmax" else ACTIVATIONS[shape.out][0](A))


def logits(p: dict, X, shape: Shape) -> list[list[float]]:
    """a_io of every row i and output o, as plain floats: the forward pass up to the output's link."""
    return forward(p, X, replace(shape, out="identity")).A.tolist()


def softplus(t: float) -> float:
    """log(1 + exp(t)) = max(t, 0) + log(1 + exp(-|t|)): exp never overflows."""
    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))


def sigmoid(a: float) -> float:
    """1 / (1 + exp(-a)), with exp of a non-positive number only."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def softmax(row: list[float]) -> list[float]:
    """exp(a_o) / sum_l exp(a_l) of one row's logits, shifted by their largest (each exp <= 1)."""
    top = max(row)
    exps = [math.exp(a - top) for a in row]
    total = math.fsum(exps)
    return [e / total for e in exps]


def log_loss_term(row: list[float], y: list[float], loss_name: str) -> float:
    """One row's -sum_o y_o log yhat_o (bce: -(y log yhat + (1 - y) log(1 - yhat))) from its logits."""
    if loss_name == "bce":
        (a,), (t,) = row, y
        return t * softplus(-a) + (1.0 - t) * softplus(a)
    return math.fsum(t * minus_log_softmax(row, o) for o, t in enumerate(y) if t != 0.0)


def minus_log_softmax(row: list[float], o: int) -> float:
    """-log yhat_o = log sum_l exp(a_l - a_o): log1p of the others' exp(a_l - a_o) where a_o is the
    largest (so that a loss near 0 keeps its digits), else (max a - a_o) + log sum_l exp(a_l - max a)."""
    top = max(row)
    if row[o] == top:
        return math.log1p(math.fsum(math.exp(a - top) for l, a in enumerate(row) if l != o))
    return (top - row[o]) + math.log(math.fsum(math.exp(a - top) for a in row))


def probabilities(p: dict, X, shape: Shape, loss_name: str) -> list[list[float]]:
    """yhat_io: the link (LOG_LOSSES) of each row's logits, as plain floats."""
    if loss_name == "bce":
        return [[sigmoid(a) for a in row] for row in logits(p, X, shape)]
    return [softmax(row) for row in logits(p, X, shape)]


def class_logit_gradients(A: list[list[float]], Y, loss_name: str, n: int) -> list[list[float]]:
    """dL/da_io by the chain rule through yhat, without the cancellation:

        bce            dL/dyhat = (1/n) (-y / yhat + (1 - y) / (1 - yhat)),  dyhat/da = yhat (1 - yhat)
        cross-entropy  dL/dyhat_o = -(1/n) y_o / yhat_o,  dL/da_l = sum_o dL/dyhat_o yhat_o (delta_ol - yhat_l)

    with 1 - sigmoid(a) taken as sigmoid(-a) (no cancellation in 1 - yhat) and a term of y_o = 0
    contributing 0. Where a probability the chain divides by underflows (|a| beyond about 700, or
    a class's probability below the smallest normal float), the chain's factors are 0 times inf
    and only the limit remains: there it takes (1/n) (yhat - y), the value the algebra gives."""
    grads = []
    for row, y in zip(A, Y):
        if loss_name == "bce":
            (a,), (t,) = row, y
            yhat, one_minus = sigmoid(a), sigmoid(-a)
            if min(yhat, one_minus) < sys.float_info.min:
                grads.append([(yhat - t) / n])
                continue
            dL_dyhat = (-t / yhat + (1.0 - t) / one_minus) / n
            grads.append([dL_dyhat * (yhat * one_minus)])
            continue
        yhat = softmax(row)
        if any(t != 0.0 and q < sys.float_info.min for q, t in zip(yhat, y)):
            grads.append([(q - t) / n for q, t in zip(yhat, y)])
            continue
        dL_dyhat = [-t / q / n if t != 0.0 else 0.0 for q, t in zip(yhat, y)]
        grads.append([math.fsum(dL_dyhat[o] * yhat[o] * ((1.0 if o == l else 0.0) - yhat[l]) for o in range(len(row)))
                      for l in range(len(row))])
    return grads


def loss(p: dict, X, Y, shape: Shape = Shape(), convention: str = "mse") -> float:
    """L = (1/d(n)) sum of squared errors; for a classifier's loss (LOG_LOSSES), the mean of the
    rows' log losses (log_loss_term).  Y : shape (n,) or (n, m)."""
    if convention in LOG_LOSSES:
        Y = _targets(Y, shape.m).tolist()
        return math.fsum(log_loss_term(row, y, convention) for row, y in zip(logits(p, X, shape), Y)) / len(Y)
    error = _targets(Y, shape.m) - forward(p, X, shape).yhat
    return float(np.sum(error**2)) / DIVISORS[convention](len(error))


def gradients(p: dict, X, Y, shape: Shape = Shape(), convention: str = "mse", absolute: bool = False) -> dict:
    """dL/d(name) for every name, by the chain rule, back from the loss:
    dL/dyhat = -(2/d(n)) (y - yhat), dL/da = dL/dyhat out'(a), dL/dN_h = sum_o dL/da_o w(o, h),
    dL/dz_h = dL/dN_h act'(z_h); each weight's gradient is its layer's dL/d(.) times its input,
    summed over the rows.

    A classifier's loss (LOG_LOSSES) takes dL/da from class_logit_gradients, its own chain
    through yhat (shape.out is then the loss's link).

    With `absolute`, every factor is taken by its absolute value: the sums of the terms'
    magnitudes, which bound how far rounding can move a computed gradient (about (n + 10) U
    times them, for any order of summation; for a classifier's loss |dL/da| + (sizes of a) / n,
    since dL/da = (yhat - y) / n moves with a's rounding, at most (k + H + 10) U of a's sizes,
    by at most the link's largest slope, 1/2, times that over n)."""
    size = np.abs if absolute else (lambda v: v)
    X = np.asarray(X, dtype=float)
    q = {name: size(value) for name, value in p.items()}
    if convention in LOG_LOSSES:
        fwd = forward(p, X, replace(shape, out="identity"))
        dL_dA = size(np.array(class_logit_gradients(fwd.A.tolist(), _targets(Y, shape.m).tolist(), convention, len(X))))
        if absolute:  # a's own rounding, up to (k + H + 10) U its sizes, moves dL/da by at most 1/2 of it, over n
            dL_dA = dL_dA + _output_sizes(p, X, shape, fwd) / len(X)
    else:
        fwd = forward(p, X, shape)
        dL_dyhat = size(-(2.0 / DIVISORS[convention](len(X))) * (_targets(Y, shape.m) - fwd.yhat))
        dL_dA = dL_dyhat * size(ACTIVATIONS[shape.out][1](fwd.A))
    dL_dN = np.column_stack([sum(dL_dA[:, o] * q[shape.output_weight(o, h)] for o in range(shape.m)) for h in range(shape.H)])
    dL_dZ = dL_dN * size(ACTIVATIONS[shape.hidden][1](fwd.Z))
    X, N = size(X), size(fwd.N)
    g = {}
    for h in range(shape.H):
        for j in range(shape.k):
            g[shape.hidden_weight(h, j)] = float(dL_dZ[:, h] @ X[:, j])
    for o in range(shape.m):
        for h in range(shape.H):
            g[shape.output_weight(o, h)] = float(dL_dA[:, o] @ N[:, h])
    if shape.bias:
        g.update({f"b{h + 1}": float(dL_dZ[:, h].sum()) for h in range(shape.H)})
        g.update({f"b{shape.H + o + 1}": float(dL_dA[:, o].sum()) for o in range(shape.m)})
    return {name: g[name] for name in shape.names}


def loss_rounding(p: dict, X, Y, shape: Shape = Shape(), convention: str = "mse") -> float:
    """A bound on how far float64 rounding moves the computed loss at p.

    Each residual r = y - out(a) is a few sums of products: its rounding is at most
    e = (k + H + 10) U s, s = |y| + |a| + sum_h |w_oh| (|N_h| + sum_j |w_hj x_j| + |b_h|) + |b_o|,
    the sizes of the values it is made of (every activation's slope is at most 1). A squared
    residual then moves by at most 2 |r| e + e^2, and adding n m of them adds n m U of the sum.

    A classifier's loss: its logit a_o is off by at most e (s without |y|), which moves a row's
    log loss by at most sum_o |yhat_o - y_o| e_o <= 2 max e; the term's own evaluation (exp,
    log1p, the shift, y (lse - a), each a few roundings of numbers no larger than |a| + term + 1)
    by at most 16 U (term + 2 sum_o |a_o| + 1); the exact sum (fsum) and the division by n by U L.
    """
    X = np.asarray(X, dtype=float)
    fwd = forward(p, X, replace(shape, out="identity") if convention in LOG_LOSSES else shape)
    targets = _targets(Y, shape.m)
    T = np.zeros_like(targets) if convention in LOG_LOSSES else targets  # no y in a logit's sizes
    e = (shape.k + shape.H + 10) * U * (np.abs(T) + _output_sizes(p, X, shape, fwd))
    if convention in LOG_LOSSES:
        terms = [log_loss_term(row, y, convention) for row, y in zip(fwd.A.tolist(), targets.tolist())]
        evaluation = 16 * U * (np.array(terms) + 2 * np.abs(fwd.A).sum(axis=1) + 1)
        return float(np.sum(2 * e.max(axis=1) + evaluation)) / len(X) + U * loss(p, X, Y, shape, convention)
    squares = float(np.sum(2 * np.abs(T - fwd.yhat) * e + e * e)) / DIVISORS[convention](len(X))
    return squares + T.size * U * loss(p, X, Y, shape, convention)


def _output_sizes(p: dict, X: np.ndarray, shape: Shape, fwd: Pass) -> np.ndarray:
    """|a| + sum_h |w_oh| (|N_h| + sum_j |w_hj x_j| + |b_h|) + |b_o| of each row and output, shape
    (n, m): the sizes of the values an output's logit a is made of (loss_rounding)."""
    hidden = np.column_stack([
        np.abs(fwd.N[:, h]) + sum(abs(p[shape.hidden_weight(h, j)]) * np.abs(X[:, j]) for j in range(shape.k))
        + (abs(p[f"b{h + 1}"]) if shape.bias else 0.0) for h in range(shape.H)])
    return np.column_stack([
        np.abs(fwd.A[:, o]) + sum(abs(p[shape.output_weight(o, h)]) * hidden[:, h] for h in range(shape.H))
        + (abs(p[f"b{shape.H + o + 1}"]) if shape.bias else 0.0) for o in range(shape.m)])


def central_differences(p: dict, X, Y, shape: Shape = Shape(), convention: str = "mse") -> tuple[dict, dict]:
    """(dL/d(name), a bound on its error) for every name of p, by (L(w + h) - L(w - h)) / 2h.

    The error is truncation plus rounding. Truncation is h^2 L'''/6 + O(h^4); the quotient with
    step 2h has four times it, so |D(2h) - D(h)| is three times D(h)'s, give or take the two
    quotients' rounding. Rounding: each computed loss is within loss_rounding of the exact one,
    so D(h) is off by at most the larger of the two over h. The bound adds |D(2h) - D(h)| and
    twice that rounding, which covers both. h = U^(1/3) max(1, |w|) balances the two errors.
    """
    numeric, bound = {}, {}
    for name, value in p.items():
        h = U ** (1 / 3) * max(1.0, abs(value))

        def quotient(step):
            up, down = dict(p, **{name: value + step}), dict(p, **{name: value - step})
            rounding = max(loss_rounding(up, X, Y, shape, convention), loss_rounding(down, X, Y, shape, convention))
            difference = loss(up, X, Y, shape, convention) - loss(down, X, Y, shape, convention)
            return difference / ((value + step) - (value - step)), rounding

        (d1, rounding1), (d2, rounding2) = quotient(h), quotient(2 * h)
        numeric[name] = d1
        bound[name] = abs(d2 - d1) + 2 * max(rounding1, rounding2) / h
    return numeric, bound


@dataclass
class Update:
    """One update rule as its paper writes it, over {name: value}: `step(w, g)` returns the new w.

    gd        w <- w - eta g                                          (the lecture)
    momentum  v <- mu v - eta g;  w <- w + v                           (Polyak's heavy ball)
    nesterov  v <- mu v - eta g(w + mu v);  w <- w + v, written at the look-ahead point
              theta = w + mu v (Sutskever et al. 2013): theta <- theta + mu v_new - eta g(theta)
    adam      m <- b1 m + (1-b1) g;  s <- b2 s + (1-b2) g^2;  w <- w - eta mhat / (sqrt(shat) + eps),
              mhat = m / (1 - b1^t), shat = s / (1 - b2^t)            (Kingma and Ba 2015)
    `frozen` names keep their values (and their state stays zero).
    """

    rule: str
    eta: float
    mu: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    frozen: frozenset = frozenset()
    v: dict = field(default_factory=dict)
    m: dict = field(default_factory=dict)
    s: dict = field(default_factory=dict)
    t: int = 0

    def step(self, w: dict, g: dict) -> dict:
        self.t += 1
        new = {}
        for name, value in w.items():
            if name in self.frozen:
                new[name] = value
                continue
            grad = g[name]
            if self.rule == "gd":
                new[name] = value - self.eta * grad
            elif self.rule == "momentum":
                self.v[name] = self.mu * self.v.get(name, 0.0) - self.eta * grad
                new[name] = value + self.v[name]
            elif self.rule == "nesterov":
                v = self.mu * self.v.get(name, 0.0) - self.eta * grad
                self.v[name] = v
                new[name] = value + self.mu * v - self.eta * grad
            elif self.rule == "adam":
                self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * grad
                self.s[name] = self.beta2 * self.s.get(name, 0.0) + (1 - self.beta2) * grad * grad
                m_hat = self.m[name] / (1 - self.beta1**self.t)
                s_hat = self.s[name] / (1 - self.beta2**self.t)
                new[name] = value - self.eta * m_hat / (np.sqrt(s_hat) + self.eps)
            else:
                raise ValueError(self.rule)
        return new


def minibatch_epoch(p: dict, X, Y, batches, rule: Update, shape: Shape = Shape(), convention: str = "mse"):
    """One epoch of updates, one a batch (`batches`: row indices, in the order visited):
    (weights after it, its loss, its gradients), the loss and gradients of each batch taken
    at its own weights and added up as d(batch)/d(n) times each (for the MSE: the size-weighted mean)."""
    X, Y = np.asarray(X, dtype=float), _targets(Y, shape.m)
    n, total, summed = len(X), 0.0, dict.fromkeys(shape.names, 0.0)
    for rows in batches:
        weight = DIVISORS[convention](len(rows)) / DIVISORS[convention](n)
        total += weight * loss(p, X[rows], Y[rows], shape, convention)
        g = gradients(p, X[rows], Y[rows], shape, convention)
        summed = {name: summed[name] + weight * g[name] for name in shape.names}
        p = rule.step(p, g)
    return p, total, summed
