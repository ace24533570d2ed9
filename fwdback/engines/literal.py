"""The lecture's epoch over every row, fast: its forward and backward passes, row block by row block.

The same equations as network.forward, mse_loss and backward, written feature-major: the
data are read as X^T, shape (k, n), so that every product is a BLAS call along long contiguous
rows with an inner dimension of k or H. The rows are taken in blocks small enough that a
block's hidden values, residuals and per-row terms stay in the processor's cache (L2), in
work arrays allocated once (a new (H, rows) array per block could be a fresh mmap of memory
each time: glibc serves allocations above its threshold that way), and every step writes into
them (`out=`). The activations' kernels make a few temporaries (relu's row of zeros and byte
mask, the sigmoid's 1 - N), which glibc serves from the memory the block before freed once its
threshold has risen past them: measured no slower than a work array. The blocks' sums of the chain rule's terms add
up to the full-batch gradients. BLAS runs on one thread (threads.one_blas_thread): these
products are too small to share.

Every row goes forward and backward, whatever the activation (the identity's N = z too) and
however many rows; the results are network.py's up to the order of summation and, for the
sigmoid, the form of its function (the definition 1 / (1 + exp(-z)) here, 0.5 (1 + tanh(z / 2))
in network.py): about 1e-15 relative, as tests/test_engines.py checks. The loss is the plan's convention
(losses.LOSSES): the sums of squares and of the chain rule's terms are divided by its d(n).
The engine serves the lecture's kind of network (one output, biases); engines.WholeRows runs
network.py itself for the others.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ..activations import ACTIVATIONS
from ..network import Gradients, Parameters, backward, forward, loss, loss_divisor
from .cache import l2_bytes
from .threads import one_blas_thread


class _KeptWork(threading.local):
    """The work arrays (LiteralEngine._arrays) of this thread's latest engine, with their shape.

    Each fit makes an engine, and the next of the same shape takes them again rather than fresh
    memory, whose first touch costs page faults (0.7 ms a fit on 10,000 rows, H = 16: more than
    an epoch). A thread runs one pass at a time, so no two of its engines use them at once;
    `rows_of` is the engine whose rows [X^T; 1] holds where one block holds every row (a weak
    reference: the arrays do not keep an engine's rows alive).
    """

    shape: tuple | None = None
    arrays: tuple = ()
    rows_of = None


_KEPT = _KeptWork()


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

    def chunk_rows(self) -> int:
        """Rows a block: a block keeps its rows of y, r, [X^T; 1] twice and [N; 1] (H + 1, rows),
        whose N turns into z, act(z) and dN/dz in place."""
        per_row = 8 * (3 * (self.XT.shape[0] + 1) + 2 + self.n_hidden)
        by_cache = max(self.MIN_CHUNK_ROWS, self.CACHE_L2S * l2_bytes() // per_row)
        return max(1, min(self.CHUNK_ROWS, by_cache, self.WORK_BYTES // (32 * self.n_hidden), len(self.y)))

    def _arrays(self):
        """The work arrays: r (rows,), [N; 1] (H + 1, rows), the block's [X^T; 1] (k + 1, rows) and
        the same scaled by the residuals (k + 1, rows), this thread's kept ones where their shape
        is this engine's (_KeptWork). Where one block holds every row, [X^T; 1] is filled with
        this engine's rows once, not at every epoch."""
        rows, h, k = self.chunk_rows(), self.n_hidden, self.XT.shape[0]
        if _KEPT.shape != (rows, h, k):
            N1 = np.empty((h + 1, rows))
            N1[h] = 1.0  # [N; 1]: the output bias's row of ones, never written again
            XT1 = np.empty((k + 1, rows))
            XT1[k] = 1.0  # [X^T; 1]: the hidden biases' row of ones; the block's rows go above
            _KEPT.shape, _KEPT.arrays, _KEPT.rows_of = (rows, h, k), (np.empty(rows), N1, XT1, np.empty((k + 1, rows))), None
        if rows == len(self.y) and (_KEPT.rows_of is None or _KEPT.rows_of() is not self):
            _KEPT.arrays[2][:k] = self.XT
            _KEPT.rows_of = weakref.ref(self)
        return rows, _KEPT.arrays

    def _blocks(self, rows: int):
        """(first row, rows) of each block: as few blocks of at most `rows` rows as cover the data,
        of equal size (the last may be a few rows short), so that no block leaves the cache
        half used (10,000 rows in blocks of at most 8,738: two of 5,000, not 8,738 and 1,262)."""
        n = len(self.y)
        size = -(-n // -(-n // rows))
        for first in range(0, n, size):
            yield first, min(size, n - first)

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
        (copied in from memory every epoch, or once where one block holds every row) and under N,
        so z = [W, b] [x; 1], yhat = [w_out, b_out] [N; 1], [dL/dw_out, dL/db_out] = [N; 1] dL/dyhat
        and [dL/dW, dL/db] = dL/dZ [X, 1]. z is written where N goes, and the activation's kernels
        (activations.py) turn it into N and, once the sums of N are made, into dN/dz, in place:
        passes over one array, not two, so that a block keeps a single (H, rows) array in cache
        (where the kernel takes -z, the sigmoid's exp(-z), the weights are negated instead:
        exactly). dL/dZ = outer(w_out, dL/dyhat) * dN/dz is not formed: w_out[h] multiplies unit
        h's sum at the end, and the per-row factor dL/dyhat goes on whichever side of the last
        product is smaller, dN/dz (H rows) or [X^T; 1] (k + 1). dL/dyhat itself is yhat - y until
        the sums are made, then the sums are multiplied by 2/d(n) (2/n): the same terms in
        another order.
        """
        W, W_out, b, b_outputs = params.layers
        w = W_out[0]
        act = ACTIVATIONS[params.activation]
        k, h = params.n_inputs, params.n_hidden
        Wb = np.empty((h, k + 1))  # [W, b], or -[W, b]
        Wb[:, :k], Wb[:, k] = W, b
        if act.of_negated:
            np.negative(Wb, out=Wb)
        wb = np.empty(h + 1)  # [w_out, b_out]
        wb[:h], wb[h] = w, b_outputs[0]
        dWb = np.zeros((h, k + 1))  # per unit, the sum over rows of dN/dz [x; 1] (yhat - y)
        dwb = np.zeros(h + 1)  # the sum over rows of [N; 1] (yhat - y)
        squares = 0.0
        rows, (r0, N0, XT0, Xr0) = self._arrays()
        scale_rows = h < k + 1  # the residual goes on dN/dz, else on [x; 1]
        one_block = rows == len(self.y)
        for first, m in self._blocks(rows):
            XT, y = XT0[:, :m], self.y[first : first + m]
            if not one_block:
                XT[:k] = self.XT[:, first : first + m]  # [x; 1]: read from memory once, then from cache
            N1, r = N0[:, :m], r0[:m]
            N = N1[:h]
            np.matmul(Wb, XT, out=N)  # z = W x + b (or -z)
            if act.of_negated:
                act.of_negated(N)  # N = act(z) from -z
            elif not act.identity:  # the identity's N is z itself
                act.into(N, N)  # N = act(z)
            np.matmul(wb, N1, out=r)  # yhat = w_out . N + b_out
            r -= y  # yhat - y
            squares += float(np.dot(r, r))
            dwb += np.matmul(N1, r)
            if act.identity:  # dN/dz = 1 for every unit: each unit's sum is [X^T; 1] (yhat - y)
                dWb += np.matmul(XT, r)
                continue
            act.slope_into(N, N)  # dN/dz, in N's place (N is no longer needed)
            if scale_rows:
                N *= r
                dWb += np.matmul(N, XT.T)
            else:
                Xr = Xr0[:, :m]
                np.multiply(XT, r, out=Xr)
                dWb += np.matmul(N, Xr.T)
        scale = 2.0 / self.divisor  # dL/dyhat = (2/d(n)) (yhat - y): 2/n for the MSE
        grads = Gradients.of(np.empty(params.vector.size), params.architecture)
        dW, dW_out, db, db_outputs = grads.layers
        w_scale = scale * w  # dL/dz = w_out dL/dyhat dN/dz: [dL/dW, dL/db]
        np.multiply(dWb[:, :k], w_scale[:, None], out=dW)
        np.multiply(dWb[:, k], w_scale, out=db)
        np.multiply(dwb[:h], scale, out=dW_out[0])
        np.multiply(dwb[h:], scale, out=db_outputs)
        return squares / self.divisor, grads
