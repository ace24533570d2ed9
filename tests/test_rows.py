"""engines/rows.py: the one decision of whether rows train in z-scores, the one summary pass over
rows that come in pieces, and the row sources' shared interface."""

from __future__ import annotations

import numpy as np
import pytest

from fwdback.engines.rows import InMemoryRows, RowSummary, StreamedRows, scaling_chosen
from fwdback.network import init_parameters
from fwdback.plan import TrainingPlan
from fwdback.scaling import Scaling
from fwdback.stepsize import Scales
from fwdback.training import prepare, prepare_streamed

EPS = np.finfo(float).eps
RESUMED = Scaling(np.zeros(3), np.ones(3), 0.0, 1.0)
MOMENTS = Scaling(np.full(3, 2.0), np.full(3, 3.0), 4.0, 5.0)
BAD, GOOD = Scales(1e6, 1.0), Scales(1.0, 1.0)


@pytest.mark.parametrize(
    ("standardize", "lr", "resumed", "scales", "expected", "summarised"),
    [
        # A resumed model's scaling stands, whatever the plan says, and no pass is taken.
        (None, None, RESUMED, BAD, RESUMED, False),
        (False, 0.1, RESUMED, GOOD, RESUMED, False),
        # --standardize: the rows' own z-scores; --no-standardize: raw values, no pass.
        (True, None, None, GOOD, MOMENTS, True),
        (True, 0.1, None, GOOD, MOMENTS, True),
        (False, None, None, BAD, None, False),
        # Left to fwdback: z-scores only where the step is chosen and the columns are badly scaled.
        (None, None, None, BAD, MOMENTS, True),
        (None, None, None, GOOD, None, True),
        (None, 0.1, None, BAD, None, False),
    ],
)
def test_whether_to_standardise_is_decided_by_the_plan_then_the_scales(standardize, lr, resumed, scales, expected, summarised):
    passes = []

    def summary():
        passes.append(1)
        return lambda: MOMENTS, scales

    scaling, taken = scaling_chosen(TrainingPlan(standardize=standardize, lr=lr), resumed, summary)
    assert scaling is expected
    assert len(passes) == int(summarised) and taken is (scales if summarised else None)


def pieces(X, y, sizes):
    starts = np.cumsum([0, *sizes[:-1]])
    return [(X[start : start + size], y[start : start + size]) for start, size in zip(starts, sizes)]


def test_a_summary_of_pieces_added_or_merged_is_the_same_and_that_of_all_the_rows():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 3)) * [1.0, 2.0, 0.5] + [3.0, -1.0, 0.5]
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=120)
    chunks = pieces(X, y, [50, 1, 0, 69])
    added = RowSummary.of_chunks(lambda: iter(chunks))
    merged = RowSummary()
    for chunk in chunks:
        part = RowSummary()
        part.add(*chunk)
        merged.merge(part)
    # The same sums in the same order: a file's chunks and a cluster's partitions agree to the bit.
    (added_scaling, added_scales), (merged_scaling, merged_scales) = added.moments_and_scales(), merged.moments_and_scales()
    added_scaling, merged_scaling = added_scaling(), merged_scaling()
    for name in ("x_mean", "x_std", "y_mean", "y_std"):
        np.testing.assert_array_equal(getattr(added_scaling, name), getattr(merged_scaling, name))
    np.testing.assert_array_equal(added.AtA, merged.AtA)
    assert added_scales == merged_scales and added.rows == merged.rows == 120
    # Against NumPy over all the rows at once: sums of n = 120 terms round by at most n eps of
    # the sum of their sizes, the mean's by n eps of the largest |x|, the variance's (a sum of
    # squared deviations) by n eps relative, so the standard deviation's by half that and more.
    n = len(y)
    np.testing.assert_allclose(added_scaling.x_mean, X.mean(axis=0), rtol=0, atol=n * EPS * np.abs(X).max())
    np.testing.assert_allclose(added_scaling.x_std, X.std(axis=0), rtol=n * EPS)
    assert added_scaling.y_mean == pytest.approx(y.mean(), rel=0, abs=n * EPS * np.abs(y).max())
    assert added_scaling.y_std == pytest.approx(y.std(), rel=n * EPS)
    A = np.column_stack([X, np.ones(n)])
    np.testing.assert_allclose(added.AtA, A.T @ A, rtol=0, atol=n * EPS * (np.abs(A).T @ np.abs(A)).max())
    assert added_scales.target_size == np.abs(y).max()


def test_no_rows_have_no_summary():
    with pytest.raises(ValueError, match="no rows"):
        RowSummary.of_chunks(lambda: iter([])).moments_and_scales()


def sources(X, y, plan):
    """The same rows in memory and streamed in chunks of 40."""
    return [prepare(X, y, plan), prepare_streamed(lambda: iter(pieces(X, y, [40] * (len(y) // 40))), plan)]


@pytest.mark.parametrize("standardize", [True, False])
def test_every_source_tells_its_objective_whether_the_rows_are_z_scores(standardize):
    # A divergence's advice to standardise depends on it: streamed rows once always said "not yet".
    X, y = np.random.default_rng(4).normal(size=(120, 3)), np.random.default_rng(5).normal(size=120)
    plan = TrainingPlan(standardize=standardize, lr=0.1)
    initial = init_parameters(np.random.default_rng(0))
    for rows in sources(X, y, plan):
        assert (rows.scaling is not None) is standardize
        assert rows.objective(initial, plan).standardized is standardize


def test_the_sources_share_their_counts_and_least_squares():
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(120, 3))
    y = X @ [2.0, -3.0, 0.5] + 1.0 + rng.normal(0, 0.1, size=120)
    in_memory, streamed = sources(X, y, TrainingPlan(standardize=False, lr=0.1))
    assert isinstance(in_memory, InMemoryRows) and isinstance(streamed, StreamedRows)
    assert in_memory.count == streamed.count == 120
    assert in_memory.arrays[0] is in_memory.X and streamed.arrays is None and streamed.validation is None
    expected, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(120)]), y, rcond=None)
    # cond([X, 1]) is about 2 here; the normal equations square it: 1e-12 leaves room for both.
    for rows in (in_memory, streamed):
        best = rows.least_squares()
        np.testing.assert_allclose([*best.coef, best.intercept], expected, rtol=1e-12, atol=1e-12)


def test_streamed_rows_choose_no_step_for_mini_batches():
    X, y = np.random.default_rng(7).normal(size=(80, 3)), np.random.default_rng(8).normal(size=80)
    streamed = sources(X, y, TrainingPlan(lr=0.1))[1]
    with pytest.raises(ValueError, match="mini-batches"):
        streamed.choose_lr(init_parameters(np.random.default_rng(0)), 10)


@pytest.mark.parametrize("settings", [dict(lr=0.1, standardize=False), dict(lr=None), dict(lr=0.1, standardize=True)])
@pytest.mark.parametrize("resumed", [False, True])
def test_in_memory_rows_report_the_raw_rows_scales_however_they_train(settings, resumed):
    """Columns around 1,000 and 0.001: badly scaled raw (condition number far above 1e6), evenly in
    z-scores. Whether the scales are taken before training (the step is chosen, or the rows are
    standardised) or when first asked for (the step given), and with a resumed model's z-scores,
    they are the raw rows' badly scaled ones."""
    rng = np.random.default_rng(4)
    X = np.column_stack([1000 + rng.normal(size=200), 0.001 * rng.normal(size=200), rng.normal(size=200)])
    y = X @ np.array([0.001, 1000.0, 1.0]) + rng.normal(size=200)
    scaling = Scaling.fit(X, y) if resumed else None
    rows = prepare(X, y, TrainingPlan(**settings), scaling)
    assert rows.scales.condition > 1e6 and rows.scales.bad
    assert rows.scales.standardized < 10
