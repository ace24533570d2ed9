"""The lecture's epoch over every row, fast: its forward and backward passes, row block by row block.

The same equations as network.forward, mse_loss and backward, written feature-major: the
data are read as X^T, shape (k, n), so that every product is a BLAS call along long contiguous
rows with an inner dimension of k or H. The rows are taken in blocks small enough that a
block's hidden values, residuals and per-row terms stay in the processor's cache (L2), in
work arrays allocated once (a new (H, rows) array per block would be a fresh mmap of memory
each time: glibc serves allocations above its threshold that way), and every step writes into
them (`out=`): no temporary is made per block. The blocks' sums of the chain rule's terms add
up to the full-batch gradients. BLAS runs on one thread (threads.one_blas_thread): these
products are too small to share.

Every row goes forward and backward, whatever the activation (the identity's N = z too) and
however many rows; the results are network.py's up to the order of summation (about 1e-15
relative), as tests/test_engines.py checks. The loss is the plan's convention
(losses.LOSSES): the sums of squares and of the chain rule's terms are divided by its d(n).
The engine serves the lecture's kind of network (one output, biases); engines.WholeRows runs
network.py itself for the others.
"""

from __future__ import annotations

import threading

import numpy as np

from ..activations import ACTIVATIONS, TANH
from ..network import Gradients, Parameters, backward, forward, loss, loss_divisor
from .cache import l2_bytes
from .threads import one_blas_thread


# The work arrays (LiteralEngine._arrays) of each thread's latest engine, by their shape: each fit
# makes an engine, and the next of the same shape takes them again rather than fresh memory, whose
# first touch costs page faults (0.7 ms a fit on 10,000 rows, H = 16: more than an epoch). A thread
# runs one pass at a time, so no two of its engines use them at once.
_KEPT = threading.local()


def _kept_work(shape: tuple) -> dict:
    """The work arrays of this thread's latest engine of `shape`, or a new (empty) set, kept from now on."""
    if getattr(_KEPT, "shape", None) != shape:
        _KEPT.shape, _KEPT.work = shape, {}
    return _KEPT.work


class LiteralEngine:
    """Loss and gradients at any weights, by a forward and a backward pass over every row."""

    CHUNK_ROWS = 65536
    # A block's working set (its rows of X^T and y, and the (H, rows) work arrays) within this
    # many of the core's L2 caches (cache.l2_bytes, as the operating system reports it), so that
    # the block's passes after the first read it from cache (measured best between 1.5 and 3
    # L2s on a processor of 1 MiB L2 a core, 32 MiB L3, from H = 2 to 64).
    CACHE_L2S = 2
    # Fewer rows a block than this make the per-block calls cost more than the cache saves.
    MIN_CHUNK_ROWS = 2048
    # The work arrays stay within this; a wide network takes fewer rows a block.
    WORK_BYTES = 64 << 20
    # Fewer rows than this run network.py's own forward and backward: lecture-sized data gets
    # the lecture's computation, bit for bit (what `fwdback explain --epoch K` shows of training).
    LECTURE_ROWS = 2048

    def __init__(self, X: np.ndarray, y: np.ndarray, n_hidden: int, convention: str = "mse"):
        """X : shape (n, k), y : shape (n,). X.T is copied once if it is not contiguous (the
        rows load_dataset reads are held feature-major already: no copy)."""
        self.XT = np.ascontiguousarray(X.T)
        self.y = np.ascontiguousarray(y, dtype=np.float64)
        self.n_hidden, self.convention = n_hidden, convention
        self.divisor = loss_divisor(convention, len(y))
        self._work = _kept_work((n_hidden, self.XT.shape[0], self.chunk_rows(2), self.chunk_rows(0)))

    def chunk_rows(self, hidden_arrays: int) -> int:
        """Rows a block, for a block that keeps `hidden_arrays` (H, rows) arrays besides its rows
        of X^T and y, [X^T; 1] twice and r."""
        per_row = 8 * (3 * (self.XT.shape[0] + 1) + 2 + hidden_arrays * self.n_hidden)
        by_cache = max(self.MIN_CHUNK_ROWS, self.CACHE_L2S * l2_bytes() // per_row)
        return max(1, min(self.CHUNK_ROWS, by_cache, self.WORK_BYTES // (32 * self.n_hidden), len(self.y)))

    def _arrays(self, hidden: bool):
        """The work arrays, made once: r (rows,), and with `hidden` Z (H, rows), [N; 1] (H + 1, rows),
        the block's [X^T; 1] (k + 1, rows) and the same scaled by the residuals (k + 1, rows)."""
        if hidden not in self._work:
            rows = self.chunk_rows(2 if hidden else 0)
            arrays = [np.empty(rows)]
            if hidden:
                h, k = self.n_hidden, self.XT.shape[0]
                N1 = np.empty((h + 1, rows))
                N1[h] = 1.0  # [N; 1]: the output bias's row of ones, never written again
                XT1 = np.empty((k + 1, rows))
                XT1[k] = 1.0  # [X^T; 1]: the hidden biases' row of ones; the block's rows go above
                arrays += [np.empty((h, rows)), N1, XT1, np.empty((k + 1, rows))]
            self._work[hidden] = rows, arrays
        return self._work[hidden]

    def _blocks(self, rows: int):
        """(first row, rows) of each block of `rows` rows (the last may be short)."""
        n = len(self.y)
        for first in range(0, n, rows):
            yield first, min(rows, n - first)

    def loss_and_gradients(self, params: Parameters) -> tuple[float, Gradients]:
        """The loss and every gradient at `params`, feature-major: z^T = W x^T + b, ..."""
        if len(self.y) < self.LECTURE_ROWS:
            return self._lecture(params)
        with one_blas_thread():
            return self._blocked(params)

    def _lecture(self, params: Parameters) -> tuple[float, Gradients]:
        """network.forward, loss and backward themselves."""
        X = self.XT.T
        fwd = forward(params, X)
        return loss(self.y, fwd, self.convention), backward(params, X, self.y, fwd, self.convention).gradients

    def _blocked(self, params: Parameters) -> tuple[float, Gradients]:
        """z = [W, b] [x; 1], N = act(z), yhat = [w_out, b_out] [N; 1], then back.

        The biases ride in the products as rows of ones, in work arrays: under the block's X^T
        (copied in, from memory once) and under N, so z = [W, b] [x; 1], yhat = [w_out, b_out] [N; 1],
        [dL/dw_out, dL/db_out] = [N; 1] dL/dyhat and [dL/dW, dL/db] = dL/dZ [X, 1]. dL/dZ =
        outer(w_out, dL/dyhat) * dN/dz is not formed: w_out[h] multiplies unit h's sum at the
        end, and the per-row factor dL/dyhat goes on whichever side of the last product is
        smaller, dN/dz (H rows) or [X^T; 1] (k + 1). dL/dyhat itself is yhat - y until the
        sums are made, then the sums are multiplied by 2/d(n) (2/n): the same terms in another order.

        The activation is its registry's kernel (activations.py); the sigmoid (half_tanh) is
        its tanh with its constants moved onto the weights:
        N = (1 + T) / 2 with T = tanh(z / 2), so yhat = (w_out / 2) . T + (sum(w_out) / 2 + b_out),
        dL/dw_out = (T dL/dyhat + sum dL/dyhat) / 2 and dN/dz = N (1 - N) = (1 - T*T) / 4: the
        same values (halving is exact) without the two passes that make N from T.
        """
        W, w, b, b_out = params.W_hidden, params.w_out, params.b_hidden, params.b_out
        act = ACTIVATIONS[params.activation]
        kernel = TANH if act.half_tanh else act
        k, h = params.n_inputs, params.n_hidden
        Wb = np.empty((h, k + 1))  # [W, b]
        Wb[:, :k], Wb[:, k] = W, b
        wb = np.append(w, b_out)  # [w_out, b_out]
        if act.half_tanh:
            Wb *= 0.5  # z / 2, exactly (a power of two)
            wb[:h], wb[h] = 0.5 * w, 0.5 * float(w.sum()) + float(b_out)
        dWb = np.zeros((h, k + 1))  # per unit, the sum over rows of dN/dz [x; 1] (yhat - y)
        dwb = np.zeros(h + 1)  # the sum over rows of [N; 1] (yhat - y) (of [T; 1] for the sigmoid)
        squares = 0.0
        rows, (r0, Z0, N0, XT0, Xr0) = self._arrays(hidden=True)
        scale_rows = h < k + 1  # the residual goes on dN/dz, else on [x; 1]
        for first, m in self._blocks(rows):
            XT, y = XT0[:, :m], self.y[first : first + m]
            XT[:k] = self.XT[:, first : first + m]  # [x; 1]: read from memory once, then from cache
            Z, N1, r = Z0[:, :m], N0[:, :m], r0[:m]
            N = N1[:h]
            np.matmul(Wb, XT, out=N if act.identity else Z)  # z = W x + b (z / 2 for the sigmoid)
            if not act.identity:  # the identity's N is z itself
                kernel.into(Z, N)  # N = act(z), or T = tanh(z / 2) for the sigmoid
            np.matmul(wb, N1, out=r)  # yhat = w_out . N + b_out
            r -= y  # yhat - y
            squares += float(np.dot(r, r))
            dwb += np.matmul(N1, r)
            if act.identity:  # dN/dz = 1 for every unit: each unit's sum is [X^T; 1] (yhat - y)
                dWb += np.matmul(XT, r)
                continue
            kernel.slope_into(N, Z)  # dN/dz (1 - T*T, 4 times the sigmoid's), in Z (no longer needed)
            if scale_rows:
                Z *= r
                dWb += np.matmul(Z, XT.T)
            else:
                Xr = Xr0[:, :m]
                np.multiply(XT, r, out=Xr)
                dWb += np.matmul(Z, Xr.T)
        scale = 2.0 / self.divisor  # dL/dyhat = (2/d(n)) (yhat - y): 2/n for the MSE
        if act.half_tanh:
            dwb[:h] = 0.5 * (dwb[:h] + dwb[h])
            scale *= 0.25
        dWb *= scale * w[:, None]  # dL/dz = w_out dL/dyhat dN/dz: [dL/dW, dL/db]
        dwb *= 2.0 / self.divisor
        return squares / self.divisor, Gradients.of_layers(dWb[:, :k], dwb[:h], dWb[:, k], dwb[h], params.activation)
