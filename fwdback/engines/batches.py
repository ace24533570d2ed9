"""Mini-batch descent, fast: network.py's forward, backward and update for one batch after another.

What MiniBatches.epoch computes with network.forward, backward and update per batch, without
their per-call costs, which dominate when a batch is a few rows: the parameters live in one
working vector laid out for the products, u = [[W, b] row by row, w_out, b_out], updated in
place (an update is elementwise, so its layout is free; the lecture's order comes back at the
end of the epoch), the biases ride in the products on rows of ones (under X^T and under N, as
in literal.py), the activations are their registry's kernels (activations.py), every intermediate is written into work arrays allocated once, and the rows
are gathered in the epoch's order a span of batches at a time instead of batch by batch. Each
batch's loss, gradients and step are network.py's up to the order of summation, as
tests/test_engines.py checks; BLAS runs on one thread (threads.py).
"""

from __future__ import annotations

import numpy as np

from ..activations import ACTIVATIONS
from ..network import Gradients, Parameters
from .threads import one_blas_thread

# Rows gathered in the epoch's order at a time (a whole number of batches, at least one).
SPAN_ROWS = 65536


class BatchSteps:
    """The steps of mini-batch epochs over X : shape (n, k), y : shape (n,), for a network of
    `n_hidden` units and a batch size."""

    def __init__(self, X: np.ndarray, y: np.ndarray, n_hidden: int, batch_size: int):
        n, k = X.shape
        self.k, self.h, self.n, self.batch_size = k, n_hidden, n, batch_size
        self.XT1 = np.empty((k + 1, n))  # [X^T; 1]
        self.XT1[:k], self.XT1[k] = X.T, 1.0
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        m = min(batch_size, n)
        self.span = min(n, max(m, SPAN_ROWS // m * m))
        self.XT_span = np.empty((k + 1, self.span))
        self.y_span = np.empty(self.span)
        self.Z = np.empty((n_hidden, m))
        self.N1 = np.empty((n_hidden + 1, m))
        self.N1[n_hidden] = 1.0  # [N; 1]: the output bias's row, never written again
        self.r = np.empty(m)
        self.P = n_hidden * (k + 1) + n_hidden + 1

    def to_work(self, params: Parameters) -> np.ndarray:
        """The lecture's vector (w1.., b1..) as the working vector [[W, b] by rows, w_out, b_out]."""
        W, w, b, b_out = params.W_hidden, params.w_out, params.b_hidden, params.b_out
        return np.concatenate([np.column_stack([W, b]).ravel(), w, [b_out]])

    def from_work(self, u: np.ndarray, like: Parameters) -> np.ndarray:
        """The inverse of to_work, as a vector in the lecture's order."""
        k, h = self.k, self.h
        Wb = u[: h * (k + 1)].reshape(h, k + 1)
        return like.flat(Wb[:, :k], u[h * (k + 1) : h * (k + 1) + h], Wb[:, k], u[-1])

    def epoch(self, params: Parameters, lr: float, order: np.ndarray):
        """One epoch of steps in `order`: (params after it, mean batch loss, mean batch gradients),
        the means weighted by batch size, as MiniBatches.epoch defines them."""
        with one_blas_thread():
            return self._epoch(params, lr, order)

    def _epoch(self, params: Parameters, lr: float, order: np.ndarray):
        k, h, n, bs = self.k, self.h, self.n, self.batch_size
        act = ACTIVATIONS[params.activation]
        u = self.to_work(params)
        g = np.empty(self.P)  # one batch's gradients, laid out as u
        step = np.empty(self.P)
        g_sum = np.zeros(self.P)
        Wb, wb = u[: h * (k + 1)].reshape(h, k + 1), u[h * (k + 1) :]
        w_column = u[h * (k + 1) : h * (k + 1) + h, None]
        gWb, gwb = g[: h * (k + 1)].reshape(h, k + 1), g[h * (k + 1) :]
        loss_sum = 0.0
        full = self.Z, self.N1, self.N1[:h], self.r
        for start in range(0, n, self.span):
            rows = order[start : start + self.span]
            span = len(rows)
            XT_span, y_span = self.XT_span[:, :span], self.y_span[:span]
            np.take(self.XT1, rows, axis=1, out=XT_span)
            np.take(self.y, rows, out=y_span)
            for first in range(0, span, bs):
                m = min(bs, span - first)
                XT, y = XT_span[:, first : first + m], y_span[first : first + m]
                if m == bs:
                    Z, N1, N, r = full
                else:
                    Z, N1, r = self.Z[:, :m], self.N1[:, :m], self.r[:m]
                    N = N1[:h]
                np.matmul(Wb, XT, out=N if act.identity else Z)  # z = W x + b
                if not act.identity:
                    act.into(Z, N)  # N = act(z)
                np.matmul(wb, N1, out=r)  # yhat = w_out . N + b_out
                r -= y  # yhat - y
                squares = float(np.dot(r, r))
                loss_sum += squares
                r *= 2.0 / m  # dL/dyhat
                np.matmul(N1, r, out=gwb)  # [dL/dw_out, dL/db_out]
                if act.identity:
                    np.multiply(w_column, r, out=Z)  # dL/dz = dL/dN
                else:
                    act.slope_into(N, Z)  # dN/dz
                    Z *= w_column
                    Z *= r  # dL/dz = w_out dL/dyhat dN/dz
                np.matmul(Z, XT.T, out=gWb)  # [dL/dW, dL/db]
                np.multiply(g, m, out=step)
                g_sum += step
                np.multiply(g, lr, out=step)
                u -= step  # w(t+1) = w(t) - eta dL/dw(t)
        mean = g_sum / n
        return (
            params.like(self.from_work(u, params)),
            loss_sum / n,
            Gradients(self.from_work(mean, params), params.n_inputs, params.n_hidden, params.activation),
        )
