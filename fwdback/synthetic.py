"""Synthetic data from a known linear function, so a learner knows the answer in advance."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

DEFAULT_COEF = (2.0, -3.0, 0.5, 1.0)
BLOCK_ROWS = 100_000
# No normal draw lands this many standard deviations from its mean (the chance is about e^-2048).
NOISE_REACH = 64


def y_bound(coef, noise: float) -> float:
    """A bound on |y| for x in [-1, 1]: |c1| + ... + |ck| + |c0| + NOISE_REACH * noise (inf where
    that overflows float64), so that a caller can refuse settings whose y would not be finite."""
    return sum(abs(float(c)) for c in coef) + NOISE_REACH * abs(noise)


def generate(rows: int, seed: int = 0, noise: float = 0.1, coef=DEFAULT_COEF) -> tuple[np.ndarray, np.ndarray]:
    """X uniform on [-1, 1], y = coef[:-1] . x + coef[-1] + normal(0, noise) noise.

    Returns X : shape (rows, len(coef) - 1), y : shape (rows,).
    """
    rng = np.random.default_rng(seed)
    coef = np.asarray(coef, dtype=np.float64)
    X = rng.uniform(-1.0, 1.0, size=(rows, coef.size - 1))
    y = X @ coef[:-1] + coef[-1] + rng.normal(0.0, noise, size=rows)
    return X, y


def generate_blocks(
    rows: int, seed: int = 0, noise: float = 0.1, coef=DEFAULT_COEF, block_rows: int = BLOCK_ROWS
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`generate`'s rows, the same numbers, in blocks of `block_rows`: memory does not grow with `rows`.

    `generate` draws every x, then every noise term, from one PCG64 stream. Here one stream
    draws the x in order, and a second copy of it, advanced past the rows * k uniform draws
    (each takes one 64-bit output), draws the noise: the same numbers in the same places.
    """
    coef = np.asarray(coef, dtype=np.float64)
    k = coef.size - 1
    noise = abs(noise)  # -0.0, which NumPy's normal refuses as a negative scale
    inputs = np.random.Generator(np.random.PCG64(seed))
    noise_stream = np.random.PCG64(seed)
    noise_stream.advance(rows * k)
    noises = np.random.Generator(noise_stream)
    for first in range(0, rows, block_rows):
        m = min(block_rows, rows - first)
        X = inputs.uniform(-1.0, 1.0, size=(m, k))
        yield X, X @ coef[:-1] + coef[-1] + noises.normal(0.0, noise, size=m)
