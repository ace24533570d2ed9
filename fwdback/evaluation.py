"""A model scored on data it may not have seen: its errors beside baselines on the same rows.

The baselines say what the numbers mean: least squares fitted to these very rows is the best
any linear map could do on them (a floor for the linear network, not a rival trained fairly),
and predicting the mean of y is what a model that learned nothing scores (R^2 = 0). A
classifier's baseline is the class frequencies of these rows: the majority class for every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import probabilities, share_entropy
from .linear_map import least_squares
from .losses import Loss
from .network import ForwardPass, loss


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


@dataclass
class ClassScores:
    """How a classifier's predicted classes and probabilities meet the rows' classes, by
    scikit-learn's definitions (sklearn.metrics, of the same names), for m classes in sorted order:

    accuracy          the share of rows whose predicted class is their own
    log_loss          the mean cross-entropy, -(1/n) sum_i log P(row i's class)
    confusion_matrix  shape (m, m) counts: row i the rows of class i, column j those predicted as j
    precision         shape (m,): tp / (tp + fp), of the rows predicted as class j the share that are j
    recall            shape (m,): tp / (tp + fn), of the rows of class j the share predicted as j
    f1                shape (m,): 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall
    support           shape (m,): the rows of each class

    A score whose denominator is 0 (a class never predicted, or absent from the rows) is 0:
    scikit-learn's zero_division default, "warn", gives 0 (and a warning, which this leaves out).
    """

    accuracy: float
    log_loss: float
    confusion_matrix: list[list[int]]
    precision: list[float]
    recall: list[float]
    f1: list[float]
    support: list[int]

    @classmethod
    def of(cls, true: np.ndarray, predicted: np.ndarray, log_loss: float, m: int) -> ClassScores:
        """true, predicted : shape (n,), class indices 0..m-1; `log_loss` computed where the
        probabilities are (evaluate_classifier)."""
        confusion = np.bincount(true * m + predicted, minlength=m * m).reshape(m, m)
        hits, support, chosen = np.diag(confusion), confusion.sum(axis=1), confusion.sum(axis=0)
        return cls(
            accuracy=float(hits.sum() / len(true)),
            log_loss=log_loss,
            confusion_matrix=confusion.tolist(),
            precision=_shares(hits, chosen),
            recall=_shares(hits, support),
            f1=_shares(2 * hits, support + chosen),
            support=support.tolist(),
        )


def _shares(part: np.ndarray, whole: np.ndarray) -> list[float]:
    """part / whole elementwise, 0 where whole is 0 (ClassScores' zero division)."""
    return [float(p / w) if w else 0.0 for p, w in zip(part.tolist(), whole.tolist())]


@dataclass
class ClassEvaluation:
    """A classifier's scores on `rows` rows, and the majority baseline's on the same rows.

    The baseline is the class frequencies of these rows, scikit-learn's
    DummyClassifier(strategy="prior"): every row is predicted as the most frequent class
    (`majority`, the index of the first of those tied), with the frequencies as its
    probabilities, so its accuracy is that class's share and its log loss the frequencies'
    entropy: what a model that learned only how common each class is scores.
    """

    rows: int
    model: ClassScores
    majority_class: int
    majority: ClassScores


def evaluate_classifier(fwd: ForwardPass, y: np.ndarray, spec: Loss) -> ClassEvaluation:
    """Score the forward pass `fwd` of n rows against their targets y as the network takes them
    (classes.Classes.targets: shape (n,) of 0/1 for bce, (n, m) one-hot for cross-entropy).

    The log loss is the network's loss of the logits (network.loss), exact where a probability
    rounds to 0 or 1; scikit-learn's log_loss, from the probabilities, clips them to
    [eps, 1 - eps] (eps = 2.2e-16) and so differs only where a row's own class has a probability
    under eps. The probabilities are classes.probabilities' ([1 - yhat, yhat] for bce), and the
    predicted class the most probable, the first of those tied, as predict's (a sigmoid's
    yhat = 0.5 is the first class, as MLPClassifier's yhat > 0.5 for the second).
    """
    P = probabilities(fwd.yhat)
    n, m = P.shape
    true = y.astype(np.intp) if spec.binary else y.argmax(axis=1)
    counts = np.bincount(true, minlength=m)
    majority = int(counts.argmax())
    return ClassEvaluation(
        rows=n,
        model=ClassScores.of(true, P.argmax(axis=1), loss(y, fwd, spec.name), m),
        majority_class=majority,
        majority=ClassScores.of(true, np.full(n, majority), share_entropy(counts / n), m),
    )
