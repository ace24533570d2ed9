"""The TensorFlow Playground's four two-input classification sets (its src/dataset.ts), seeded.

Each row is a point (x1, x2) and its class y: 1 for the Playground's positive points (its label
+1), 0 for its negative ones (-1). 0/1 are bce's targets as they stand, and two sorted classes
for cross-entropy, with class 1 the second: yhat = P(y = 1). `noise` is the Playground's (its
slider's percent / 100, 0 to 0.5 there); what it does differs by shape, as the Playground's:

    circle  half the points at radius U(0, 2.5), half at U(3.5, 5), at an angle U(0, 2 pi); the
            label is 1 inside radius 2.5 of the point moved by U(-5, 5) * noise in each
            coordinate, which is not written: the noise flips labels, not points
    xor     x1, x2 each U(-5, 5) moved 0.3 away from 0; the label is 1 where the point moved
            by U(-5, 5) * noise has x1 x2 >= 0 (the first and third quadrants)
    gauss   half the points normal about (2, 2) (label 1), half about (-2, -2) (label 0), each
            coordinate of variance 0.5 + 7 noise (the Playground's scale from noise 0 to 0.5
            onto variance 0.5 to 4, extended beyond)
    spiral  two arms of m points each, point i at radius r = 5 i / m and angle
            t = 1.75 * 2 pi i / m (+ pi for the second arm, label 0): (r sin t, r cos t), each
            coordinate moved by U(-1, 1) * noise

The first class's half is rows // 2, label 1's the rest (the Playground draws numSamples / 2 of
each). The rows are shuffled, as the Playground shuffles its points. Every draw comes from one
numpy.random.default_rng(seed) in the order the Playground makes them, point by point.
numpy is imported inside the functions, so that the command line lists the shapes without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

# No normal draw lands this many standard deviations from its mean (the chance is about e^-2048).
NORMAL_REACH = 64


@dataclass(frozen=True)
class Shape:
    """One data set: `draw(rng, rows, noise)` -> (X shape (rows, 2), y shape (rows,) of 0/1) before
    the shuffle; `reach(noise)` bounds every |x1|, |x2| it can draw, so that a caller can refuse a
    noise whose points would not be finite."""

    name: str
    draw: Callable
    reach: Callable[[float], float]


def _uniform(u, low, high):
    return u * (high - low) + low


def _halves(rows: int) -> tuple[int, int]:
    """The points of label 1 and of label 0: rows - rows // 2 and rows // 2."""
    return rows - rows // 2, rows // 2


def _circle(rng, rows, noise):
    import numpy as np

    radius = 5.0
    parts = []
    for (low, high), m in zip(((0.0, radius * 0.5), (radius * 0.7, radius)), _halves(rows)):
        u = rng.random((m, 4))  # r, angle, the x1 and x2 noise, point by point
        r, angle = _uniform(u[:, 0], low, high), _uniform(u[:, 1], 0.0, 2 * math.pi)
        x1, x2 = r * np.sin(angle), r * np.cos(angle)
        moved = np.hypot(x1 + _uniform(u[:, 2], -radius, radius) * noise, x2 + _uniform(u[:, 3], -radius, radius) * noise)
        parts.append((np.column_stack([x1, x2]), np.where(moved < radius * 0.5, 1.0, 0.0)))
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


def _xor(rng, rows, noise):
    import numpy as np

    padding = 0.3
    u = rng.random((rows, 4))  # x1, x2, the x1 and x2 noise, point by point
    X = _uniform(u[:, :2], -5.0, 5.0)
    X += np.where(X > 0, padding, -padding)
    moved = X + _uniform(u[:, 2:], -5.0, 5.0) * noise
    return X, np.where(np.sign(moved[:, 0]) * np.sign(moved[:, 1]) >= 0, 1.0, 0.0)


def _gauss_variance(noise: float) -> float:
    return 0.5 + noise * (4.0 - 0.5) / 0.5


def _gauss(rng, rows, noise):
    import numpy as np

    scale = math.sqrt(_gauss_variance(noise))
    Xs, ys = [], []
    for label, centre, m in zip((1.0, 0.0), (2.0, -2.0), _halves(rows)):
        Xs.append(centre + scale * rng.standard_normal((m, 2)))
        ys.append(np.full(m, label))
    return np.concatenate(Xs), np.concatenate(ys)


def _spiral(rng, rows, noise):
    import numpy as np

    Xs, ys = [], []
    for label, turn, m in zip((1.0, 0.0), (0.0, math.pi), _halves(rows)):
        along = np.arange(m) / m
        r, t = along * 5.0, 1.75 * along * 2 * math.pi + turn
        moved = _uniform(rng.random((m, 2)), -1.0, 1.0) * noise  # the x1 and x2 noise, point by point
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]) + moved)
        ys.append(np.full(m, label))
    return np.concatenate(Xs), np.concatenate(ys)


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("circle", _circle, lambda noise: 5.0),
        Shape("xor", _xor, lambda noise: 5.3),
        Shape("gauss", _gauss, lambda noise: 2.0 + NORMAL_REACH * math.sqrt(_gauss_variance(noise))),
        Shape("spiral", _spiral, lambda noise: 5.0 + noise),
    )
}
SHAPE_NAMES = tuple(SHAPES)


def reach(name: str, noise: float) -> float:
    """A bound on |x1|, |x2| of shape `name`'s points at `noise` (inf where that overflows float64)."""
    return SHAPES[name].reach(abs(noise))


def generate_shape(name: str, rows: int, seed: int = 0, noise: float = 0.1):
    """The Playground's data set `name` (SHAPES), `rows` points, shuffled.

    Returns X : shape (rows, 2), the points (x1, x2), and y : shape (rows,), their classes 0.0/1.0.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    X, y = SHAPES[name].draw(rng, rows, abs(noise))
    order = rng.permutation(rows)
    return X[order], y[order]
