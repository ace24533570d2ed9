"""`fwdback.fit(X, y, **settings)`: training in one call, for a notebook."""

from __future__ import annotations

from .estimator import FwdbackRegressor


def fit(X, y, **settings) -> FwdbackRegressor:
    """Train the lecture's network on X, shape (n, k), and y, shape (n,) (or (n, m)), and return
    the fitted FwdbackRegressor: `fwdback.fit(X, y, epochs=500, random_state=3)` is
    `FwdbackRegressor(epochs=500, random_state=3).fit(X, y)`, and `fwdback train --epochs 500
    --seed 3` on the same rows.

    `settings` are FwdbackRegressor's parameters, by their names and with their defaults
    (random_state is the seed). The result holds the run as fitted attributes: `network_` (a
    Network of the final weights), `loss_curve_`, `stop_`, `lr_`, `scaling_`, ...; it predicts,
    scores, and saves a model file the command line reads. A name that is not a parameter is a
    TypeError.
    """
    return FwdbackRegressor(**settings).fit(X, y)
