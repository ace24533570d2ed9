"""Synthetic data from a known linear function, so a learner knows the answer in advance."""

from __future__ import annotations

import numpy as np

DEFAULT_COEF = (2.0, -3.0, 0.5, 1.0)


def generate(rows: int, seed: int = 0, noise: float = 0.1, coef=DEFAULT_COEF) -> tuple[np.ndarray, np.ndarray]:
    """X uniform on [-1, 1], y = coef[:-1] . x + coef[-1] + normal(0, noise) noise.

    Returns X : shape (rows, len(coef) - 1), y : shape (rows,).
    """
    rng = np.random.default_rng(seed)
    coef = np.asarray(coef, dtype=np.float64)
    X = rng.uniform(-1.0, 1.0, size=(rows, coef.size - 1))
    y = X @ coef[:-1] + coef[-1] + rng.normal(0.0, noise, size=rows)
    return X, y
