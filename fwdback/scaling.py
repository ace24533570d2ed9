"""Standardisation (z-scores) of the features and the target, fitted on the training rows.

Gradient descent on badly scaled columns crawls along the flat directions; z-scores make
every column mean 0 and standard deviation 1, so one learning rate suits them all.
A constant column keeps the scale 1 (its z-score is 0 either way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Scaling:
    """x_scaled = (x - x_mean) / x_std, y_scaled = (y - y_mean) / y_std.

    x_mean, x_std : shape (k,)
    y_mean, y_std : numbers for one target, shape (m,) for several
    """

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float | np.ndarray
    y_std: float | np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, classifies: bool = False) -> Scaling:
        """The means and population standard deviations of the training rows.  X : shape (n, k),
        y : shape (n,), or (n, m) for several targets. A classifier's targets (`classifies`: 0/1
        or one-hot) are probabilities, never scaled: their mean 0 and standard deviation 1.

        Deviations are divided by their largest before they are squared, so that values whose
        squares overflow float64 (1e200, say) still have a finite standard deviation.
        """
        x, target = RunningMoments(), RunningMoments()
        x.add(X)
        target.add(y[:, None] if y.ndim == 1 else y)
        return cls.of_moments(x, target, several=y.ndim == 2 and not classifies, classifies=classifies)

    @classmethod
    def of_moments(cls, x: RunningMoments, y: RunningMoments, several: bool = False, classifies: bool = False) -> Scaling:
        """The scaling of rows whose moments were taken a chunk at a time (`several` targets; a
        classifier's, `classifies`, left as they are)."""
        if classifies:
            return cls(x.mean, np.where(x.std > 0, x.std, 1.0), 0.0, 1.0)
        y_std = np.where(y.std > 0, y.std, 1.0)
        if several:
            return cls(x.mean, np.where(x.std > 0, x.std, 1.0), y.mean, y_std)
        return cls(x.mean, np.where(x.std > 0, x.std, 1.0), float(y.mean[0]), float(y_std[0]))

    def features(self, X: np.ndarray) -> np.ndarray:
        return (X - self.x_mean) / self.x_std

    def target(self, y: np.ndarray) -> np.ndarray:
        return (y - self.y_mean) / self.y_std

    def original_target(self, y_scaled: np.ndarray) -> np.ndarray:
        return y_scaled * self.y_std + self.y_mean

    def original_linear_map(self, coef: np.ndarray, intercept: float) -> tuple[np.ndarray, float]:
        """A linear map fitted in z-scores, rewritten for the original units.

        y = y_mean + y_std * (c . (x - x_mean) / x_std + c0), so the original coefficients are
        c * y_std / x_std and the intercept is y_mean + y_std * (c0 - c . x_mean / x_std).
        """
        original = coef * self.y_std / self.x_std
        return original, float(self.y_mean + self.y_std * (intercept - coef @ (self.x_mean / self.x_std)))

    def as_dict(self, features: tuple[str, ...], target: str | tuple[str, ...]) -> dict:
        targets = (target,) if isinstance(target, str) else target
        return {
            "mean": dict(zip(features, self.x_mean.tolist())) | dict(zip(targets, np.ravel(self.y_mean).tolist())),
            "std": dict(zip(features, self.x_std.tolist())) | dict(zip(targets, np.ravel(self.y_std).tolist())),
        }

    @classmethod
    def from_dict(cls, values: dict, features: tuple[str, ...], target: str | tuple[str, ...]) -> Scaling:
        """The inverse of as_dict; the caller has checked the names and numbers."""
        mean, std = values["mean"], values["std"]
        x_mean = np.array([mean[name] for name in features], dtype=np.float64)
        x_std = np.array([std[name] for name in features], dtype=np.float64)
        if isinstance(target, str):
            return cls(x_mean, x_std, float(mean[target]), float(std[target]))
        return cls(x_mean, x_std, np.array([mean[name] for name in target]), np.array([std[name] for name in target]))


class RunningMoments:
    """Each column's mean and population standard deviation over rows that come a chunk at a
    time (rows streamed from a file), equal to _mean_and_std of all the rows up to rounding.

    Chunks are merged pairwise (Chan, Golub and LeVeque's update): the merged variance is the
    rows' weighted variances plus the spread of the two means, all taken in units of the
    largest of the standard deviations and that spread, so that no square overflows float64.
    """

    def __init__(self):
        self.count, self.mean, self.std = 0, None, None

    def add(self, A: np.ndarray) -> None:
        """A : shape (m, k), a chunk's rows."""
        if len(A):
            self.merge(len(A), *_mean_and_std(A))

    def merge(self, m: int, mean: np.ndarray, std: np.ndarray) -> None:
        """Add the moments of m more rows: their mean and std, shape (k,) each (another
        RunningMoments' count, mean and std: rows summarised elsewhere, on a Dask worker, say)."""
        if m == 0:
            return
        if self.count == 0:
            self.count, self.mean, self.std = m, mean, std
            return
        n = self.count + m
        spread = mean - self.mean
        unit = np.maximum(np.maximum(self.std, std), np.abs(spread))
        unit = np.where(unit > 0, unit, 1.0)
        variance = (self.count * (self.std / unit) ** 2 + m * (std / unit) ** 2) / n + (spread / unit) ** 2 * (self.count / n) * (m / n)
        self.mean = self.mean + spread * (m / n)
        self.std = unit * np.sqrt(variance)
        self.count = n


def _mean_and_std(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and population standard deviation, shape (k,) each.  A : shape (n, k)."""
    mean = A.mean(axis=0) if np.isfinite(A.mean(axis=0)).all() else (A / A.shape[0]).sum(axis=0)
    deviation = A - mean
    largest = np.abs(deviation).max(axis=0)
    scale = np.where(largest > 0, largest, 1.0)
    return mean, scale * np.sqrt(((deviation / scale) ** 2).mean(axis=0))
