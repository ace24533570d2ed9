"""A model scored on data it may not have seen: its errors beside two baselines on the same rows.

The baselines say what the numbers mean: least squares fitted to these very rows is the best
any linear map could do on them (a floor for the linear network, not a rival trained fairly),
and predicting the mean of y is what a model that learned nothing scores (R^2 = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .linear_map import least_squares


@dataclass
class Scores:
    """How far predictions are from y: mean squared error, its root, mean absolute error, R^2.

    r2 is None where y is constant: SS_tot = 0, and R^2 = 1 - SS_res / SS_tot is undefined (no
    predictor explains any variance of y, for there is none).
    """

    mse: float
    rmse: float
    mae: float
    r2: float | None

    @classmethod
    def of(cls, y: np.ndarray, predictions: np.ndarray) -> Scores:
        """y, predictions : shape (n,). R^2 = 1 - SS_res / SS_tot, None for a constant y (SS_tot = 0)."""
        residual, centred = y - predictions, y - y.mean()
        ss_res, ss_tot = float(residual @ residual), float(centred @ centred)
        mse = ss_res / len(y)
        r2 = None if ss_tot == 0 else 1.0 - ss_res / ss_tot
        return cls(mse, float(np.sqrt(mse)), float(np.mean(np.abs(residual))), r2)


@dataclass
class FitQuality:
    """How closely a trained model fits its rows in the data's own units, whatever units it
    trained in: the root mean squared error (y's units) and R^2 (None for a constant y)."""

    rmse: float
    r2: float | None

    @classmethod
    def of_errors(cls, mse: float, variance: float, y_std: float = 1.0) -> FitQuality:
        """From the mean squared error of the predictions and the variance of y (ddof 0), both in
        the units the model trained in: z-scores of y when `y_std` is y's standard deviation,
        which scales every error alike, so R^2 = 1 - mse / variance holds in either units."""
        return cls(float(np.sqrt(mse) * y_std), None if variance == 0 else 1.0 - mse / variance)


@dataclass
class Evaluation:
    """The model's scores on `rows` rows, and the baselines' on the same rows."""

    rows: int
    model: Scores
    least_squares: Scores
    mean: Scores


def evaluate(predictions: np.ndarray, X: np.ndarray, y: np.ndarray) -> Evaluation:
    """Score `predictions` of y, shape (n,), against the baselines on X, shape (n, k), and y."""
    best = least_squares(X, y)
    return Evaluation(
        rows=len(y),
        model=Scores.of(y, predictions),
        least_squares=Scores.of(y, X @ best.coef + best.intercept),
        mean=Scores.of(y, np.full(len(y), y.mean())),
    )
