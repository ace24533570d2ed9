"""The lecture's epoch over every row, fast: its forward and backward passes, row block by row block.

The same equations as network.forward, mse_loss and backward, written feature-major: the
data are read as X^T, shape (k, n), so that every product is a BLAS call along long contiguous
rows with an inner dimension of k or H. The rows are taken in blocks of `chunk_rows`, small
enough that a block's hidden values, residuals and per-row terms stay in the processor's
cache, in work arrays allocated once; the blocks' sums of the chain rule's terms add up to the
full-batch gradients. Every row goes forward and backward, whatever the activation and however
many rows; the results are network.py's up to the order of summation (about 1e-15 relative),
as tests/test_engines.py checks.
"""

from __future__ import annotations

import numpy as np

from ..network import ACTIVATIONS, Gradients, Parameters, loss_divisor


class LiteralEngine:
    """Loss and gradients at any weights, by a forward and a backward pass over every row."""

    CHUNK_ROWS = 65536
    # The two (H, rows) work arrays stay within this; a wide network takes fewer rows a block.
    WORK_BYTES = 64 << 20

    def __init__(self, X: np.ndarray, y: np.ndarray, n_hidden: int, convention: str = "mse"):
        """X : shape (n, k), y : shape (n,), for the lecture's kind of network (one output, no
        output activation, biases) and a loss convention (network.LOSSES). X.T is copied once
        if it is not contiguous."""
        self.XT = np.ascontiguousarray(X.T)
        self.y = y
        self.divisor = loss_divisor(convention, len(y))
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
        """The loss and every gradient at `params`, feature-major: z^T = W x^T + b, ..."""
        W, W_out, b, b_out = params.layers
        w, b_out = W_out[0], b_out[0]
        activate, derivative = ACTIVATIONS[params.activation]
        scale = 2.0 / self.divisor
        squares, db_out = 0.0, 0.0
        gradients = Gradients.of(np.zeros(params.vector.size), params.architecture)
        dW, dW_out, db, _ = gradients.layers
        dw_out = dW_out[0]
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
        gradients.vector[-1] = db_out
        return squares / self.divisor, gradients
