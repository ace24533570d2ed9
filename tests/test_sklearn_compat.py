"""FwdbackRegressor inside scikit-learn: its estimator checks, a Pipeline, cross-validation.

scikit-learn is optional (`pip install '.[sklearn]'`); without it this file is skipped, and
says so in pytest's summary.
"""

import warnings

import pytest

pytest.importorskip("sklearn")

import numpy as np  # noqa: E402
from sklearn.base import clone, is_regressor  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fwdback import FwdbackRegressor  # noqa: E402
from fwdback.synthetic import generate  # noqa: E402

# Every check runs but one: check_array_api_input, since fwdback computes with NumPy alone
# and does not take array-API inputs (CuPy, torch tensors). They run on the defaults: several
# checks fit features around 100 (normal(loc=100)), which the chosen learning rate and the
# standardisation of badly scaled columns handle. The checks warn that FwdbackRegressor does
# not inherit from BaseEstimator; that is by design (see fwdback/estimator.py: importing
# sklearn.base brings pandas and scipy).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Estimator FwdbackRegressor does not inherit from", category=UserWarning)
    _all_checks = parametrize_with_checks([FwdbackRegressor()])
_names, _cases = _all_checks.args
_cases = [case for case in _cases if "check_array_api_input" not in repr(case)]
checks = pytest.mark.parametrize(_names, _cases, **_all_checks.kwargs)


@checks
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_is_a_regressor_that_sklearn_can_clone():
    model = FwdbackRegressor(hidden=3, lr=0.01, random_state=4)
    copy = clone(model)
    assert is_regressor(model)
    assert copy is not model and copy.get_params() == model.get_params()


def test_predict_before_fit_raises_sklearns_not_fitted_error():
    with pytest.raises(NotFittedError):
        FwdbackRegressor().predict(np.zeros((2, 3)))


def test_in_a_pipeline_after_a_standard_scaler():
    X, y = generate(200, seed=1, noise=0.1)
    X = X * np.array([100.0, 1.0, 0.01])  # off-scale columns: the scaler brings them to one scale
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)

    pipeline = make_pipeline(StandardScaler(), FwdbackRegressor(lr=0.1)).fit(X, y)

    np.testing.assert_allclose(pipeline.predict(X), A @ solution, rtol=0, atol=1e-6)
    assert pipeline.score(X, y) > 0.99
    # It stopped once the loss no longer moved by 1e-12 of itself (tol), well before 1000 epochs.
    assert pipeline[-1].stop_ == "converged" and pipeline[-1].n_iter_ == len(pipeline[-1].loss_curve_) < 1000


def test_the_diabetes_data_after_a_standard_scaler_converge_with_the_defaults():
    # X scaled, y not (25 to 346): the chosen step suits y's scale too.
    X, y = load_diabetes(return_X_y=True, scaled=False)
    A = np.column_stack([X, np.ones(len(X))])
    solution, *_ = np.linalg.lstsq(A, y, rcond=None)
    best = np.mean((A @ solution - y) ** 2)
    pipeline = make_pipeline(StandardScaler(), FwdbackRegressor()).fit(X, y)
    assert np.mean((pipeline.predict(X) - y) ** 2) <= 1.01 * best


def test_cross_val_score_and_grid_search():
    X, y = generate(120, seed=3, noise=0.1)
    folds = KFold(5, shuffle=True, random_state=0)

    scores = cross_val_score(FwdbackRegressor(), X, y, cv=folds)
    assert scores.shape == (5,) and scores.min() > 0.99

    search = GridSearchCV(FwdbackRegressor(epochs=5), {"lr": [0.001, 0.1]}, cv=folds).fit(X, y)
    assert search.best_params_ == {"lr": 0.1}  # 5 epochs at eta 0.001 hardly move the weights
