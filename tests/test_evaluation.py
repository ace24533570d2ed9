"""A classifier's scores (evaluation.evaluate_classifier) against scikit-learn's metrics and its
DummyClassifier(strategy="prior") on random labels and logits, the probabilities computed
apart by scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support

from fwdback.evaluation import evaluate_classifier
from fwdback.losses import LOSSES
from fwdback.network import ForwardPass

EPS = np.finfo(float).eps


def random_pass(n: int, m: int, seed: int, spread: float = 4.0):
    """Random logits A, shape (outputs, n), for m classes, the probabilities of each class from
    scipy, shape (n, m), the network's targets y and the true class indices, shape (n,)."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, m, size=n)
    if m == 2:
        A = rng.normal(0, spread, size=(1, n))
        P, Yhat, y = np.column_stack([expit(-A[0]), expit(A[0])]), expit(A), true.astype(float)
    else:
        A = rng.normal(0, spread, size=(m, n))
        P = softmax(A, axis=0).T
        Yhat, y = P.T, np.eye(m)[true]
    return ForwardPass(np.zeros((1, n)), np.zeros((1, n)), A, Yhat), P, y, true


@pytest.mark.parametrize("n, m, seed", [(200, 2, 0), (7, 2, 1), (300, 3, 2), (6, 5, 3), (50, 4, 4), (1, 3, 5)])
def test_the_scores_are_scikit_learns(n, m, seed):
    fwd, P, y, true = random_pass(n, m, seed)
    evaluation = evaluate_classifier(fwd, y, LOSSES["bce" if m == 2 else "cross-entropy"])
    predicted = P.argmax(axis=1)
    labels = list(range(m))
    scores = evaluation.model
    assert evaluation.rows == n
    assert scores.accuracy == accuracy_score(true, predicted)
    assert scores.confusion_matrix == confusion_matrix(true, predicted, labels=labels).tolist()
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    # Each is one division of two whole numbers, correctly rounded: the same float.
    assert scores.precision == precision.tolist() and scores.recall == recall.tolist() and scores.f1 == f1.tolist()
    assert scores.support == support.tolist()
    # From the logits here, from scipy's probabilities there: each row's term log(sum exp a) - a_y
    # is within a few roundings of its size (at most |a| + log m), and scipy's log p within a few
    # eps of it; the mean keeps that bound. No probability here is near eps, where scikit-learn clips.
    bound = 8 * EPS * (np.abs(fwd.A).max() + np.log(m) + 1)
    assert scores.log_loss == pytest.approx(log_loss(true, P, labels=labels), rel=0, abs=bound)


@pytest.mark.parametrize("n, m, seed", [(200, 2, 6), (9, 3, 7), (40, 4, 8), (2, 2, 9)])
def test_the_majority_baseline_is_the_class_frequencies(n, m, seed):
    fwd, _, y, true = random_pass(n, m, seed)
    evaluation = evaluate_classifier(fwd, y, LOSSES["bce" if m == 2 else "cross-entropy"])
    X = np.zeros((n, 1))
    dummy = DummyClassifier(strategy="prior").fit(X, true)
    predicted = dummy.predict(X)
    assert evaluation.majority_class == predicted[0]
    baseline = evaluation.majority
    assert baseline.accuracy == accuracy_score(true, predicted)
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=list(range(m)), zero_division=0)
    assert (baseline.precision, baseline.recall, baseline.f1) == (precision.tolist(), recall.tolist(), f1.tolist())
    # An entropy of at most log m: each of its m terms within a few roundings.
    expected = log_loss(true, dummy.predict_proba(X), labels=dummy.classes_)
    assert baseline.log_loss == pytest.approx(expected, rel=0, abs=8 * m * EPS * (np.log(m) + 1))


def test_ties_go_to_the_first_class_and_a_sure_wrong_probability_is_not_clipped():
    # yhat = 0.5 exactly (a = 0) is the first class, as MLPClassifier's yhat > 0.5 for the second;
    # a = 800 for a row of class 0: its probability rounds to 0, and the loss is 800, not -log(eps) = 36.
    A = np.array([[0.0, 800.0]])
    fwd = ForwardPass(np.zeros((1, 2)), np.zeros((1, 2)), A, expit(A))
    evaluation = evaluate_classifier(fwd, np.array([1.0, 0.0]), LOSSES["bce"])
    assert evaluation.model.confusion_matrix == [[0, 1], [1, 0]]
    assert evaluation.model.log_loss == pytest.approx((np.log(2) + 800) / 2, rel=2 * EPS)
    assert evaluation.majority_class == 0 and evaluation.majority.log_loss == pytest.approx(np.log(2), rel=2 * EPS)
