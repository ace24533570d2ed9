"""`fwdback.fit(X, y, **settings)`: training in one call, for a notebook."""

from __future__ import annotations

from .estimator import FwdbackClassifier, FwdbackRegressor
from .losses import LOSSES


def fit(X, y, **settings) -> FwdbackRegressor | FwdbackClassifier:
    """Train the lecture's network on X, shape (n, k), and y, shape (n,) (or (n, m)), and return
    the fitted FwdbackRegressor: `fwdback.fit(X, y, epochs=500, random_state=3)` is
    `FwdbackRegressor(epochs=500, random_state=3).fit(X, y)`, and `fwdback train --epochs 500
    --seed 3` on the same rows. With a classifier's loss (`loss="bce"` or `"cross-entropy"`), y
    is a label per row and the result is the fitted FwdbackClassifier: `fwdback.fit(X, y,
    loss="bce")` is `FwdbackClassifier(loss="bce").fit(X, y)`, and `fwdback train --loss bce`.

    `settings` are the estimator's parameters, by their names and with their defaults
    (random_state is the seed). The result holds the run as fitted attributes: `network_` (a
    Network of the final weights), `loss_curve_`, `stop_`, `lr_`, `scaling_`, ...; it predicts,
    scores, and saves a model file the command line reads. A name that is not a parameter is a
    TypeError.
    """
    loss = settings.get("loss")
    classifies = isinstance(loss, str) and loss in LOSSES and LOSSES[loss].classifies
    return (FwdbackClassifier if classifies else FwdbackRegressor)(**settings).fit(X, y)
