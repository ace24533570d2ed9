"""The rows a run trains on: three sources behind one interface (TrainingRows).

    InMemoryRows              rows held in memory (a CSV read whole, the estimator's arrays)
    StreamedRows              rows read from a file in chunks, never held: their Gram statistics
    engines.dask.PartitionedRows   rows held by the workers of a Dask cluster: their Gram
                              statistics on the client, the partitions for the epochs

Whether the rows train in z-scores is decided once, by `scaling_chosen`, for every source; the
pass that summarises raw rows coming in pieces (a file's chunks, a cluster's partitions) is
RowSummary, for both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from functools import cached_property

import numpy as np

from ..linear_map import LeastSquares
from ..network import Parameters
from ..rounding import LossRounding, QuadraticRounding
from ..scaling import RunningMoments, Scaling
from ..stepsize import RowStatistics, Scales, choose_lr, gram_root, scales_of, scales_of_rows
from . import GRAM_MIN_ROWS, ChunkedRows, FullBatch, MiniBatches, full_batch_engine, gram_applies, gram_engine, step_scale, \
    validation_loss
from .gram import GramEngine
from .literal import LiteralEngine


def scaling_chosen(
    plan, resumed: Scaling | None, summary: Callable[[], tuple[Callable[[], Scaling], Scales]]
) -> tuple[Scaling | None, Scales | None]:
    """The z-scores the rows train in (None: their raw values), and the raw columns' Scales where
    the decision took them.

    A resumed model's scaling (`resumed`) is kept as it is; otherwise plan.standardize (a
    TrainingPlan's) decides, and where it is None the rows are standardised when the step is
    chosen (plan.lr None) and their columns are badly scaled (Scales.bad). `summary()` is a pass
    over the raw rows, taken only where the decision needs it, giving their Scales and a function
    making their z-score scaling, called only where z-scores are chosen (rows in memory take one
    more pass for it).
    """
    if resumed is not None:
        return resumed, None
    if not (plan.standardize or (plan.standardize is None and plan.lr is None)):
        return None, None
    moments, scales = summary()
    return (moments() if plan.standardize or scales.bad else None), scales


class RowSummary:
    """One pass over raw rows that come in pieces: the columns' and the target's moments, A^T A
    (A = [X, 1]), shape (k + 1, k + 1), the rows and the largest |y|. Pieces are added in order
    (add), or summarised apart and merged in order (merge: a cluster's partitions)."""

    def __init__(self):
        self.x, self.y, self.AtA, self.rows, self.target_size = RunningMoments(), RunningMoments(), 0.0, 0, 0.0

    @classmethod
    def of_chunks(cls, make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]) -> RowSummary:
        """The summary of make_chunks()'s (X, y), X : shape (m, k), y : shape (m,)."""
        summary = cls()
        for X, y in make_chunks():
            summary.add(X, y)
        return summary

    def add(self, X: np.ndarray, y: np.ndarray) -> None:
        """X : shape (m, k), y : shape (m,) (or a classifier's (m, c)): the next piece's rows."""
        with np.errstate(all="ignore"):
            self.x.add(X)
            self.y.add(y[:, None] if y.ndim == 1 else y)
            A = np.column_stack([X, np.ones(len(X))])
            self.AtA = self.AtA + A.T @ A
            self.rows += len(X)
            self.target_size = max(self.target_size, float(np.max(np.abs(y), initial=0.0)))

    def merge(self, other: RowSummary) -> None:
        """Add the next piece's summary, taken elsewhere (on a Dask worker, say)."""
        with np.errstate(all="ignore"):
            self.x.merge(other.x.count, other.x.mean, other.x.std)
            self.y.merge(other.y.count, other.y.mean, other.y.std)
            self.AtA = self.AtA + other.AtA
            self.rows += other.rows
            self.target_size = max(self.target_size, other.target_size)

    def moments_and_scales(self) -> tuple[Callable[[], Scaling], Scales]:
        """What scaling_chosen asks of a summary: a function making the rows' z-score scaling, and
        how evenly their raw columns are scaled."""
        if self.rows == 0:
            raise ValueError("no rows to summarise")
        with np.errstate(all="ignore"):
            return self.scaling, scales_of(self.AtA / self.rows, self.rows, self.target_size)

    def classifier_moments_and_scales(self) -> tuple[Callable[[], Scaling], Scales]:
        """moments_and_scales for a classifier's rows, whose scaling leaves the targets as they are."""
        scaling, scales = self.moments_and_scales()
        return (lambda: scaling(classifies=True)), scales

    def scaling(self, classifies: bool = False) -> Scaling:
        """The rows' z-score scaling (of the features alone for a classifier's, `classifies`)."""
        return Scaling.of_moments(self.x, self.y, classifies=classifies)

    @property
    def factor(self) -> np.ndarray:
        """G^(1/2), G = A^T A / n: what stepsize.choose_lr needs of rows not in memory."""
        return gram_root(self.AtA / self.rows)

    def loss_rounding(self, convention: str) -> LossRounding:
        """The rounding bounds of a loss of these rows (rounding.LossRounding), each column's root
        mean square from its moments."""
        x_rms, y_rms = (np.sqrt(moments.mean**2 + moments.std**2) for moments in (self.x, self.y))
        return LossRounding(x_rms, y_rms, self.rows, convention)


class TrainingRows(ABC):
    """The rows training sees, validation rows held out, all in z-scores where `scaling` is given.

    scaling       the z-scores they are in (None: the raw values)
    scales        how evenly the raw columns are scaled (stepsize.Scales)
    validation    (X_val : shape (v, k), y_val : shape (v,) or (v, m)) held out, or None
    """

    validation: tuple[np.ndarray, np.ndarray] | None = None

    def __init__(self, scaling: Scaling | None, scales: Scales):
        self.scaling, self.scales = scaling, scales

    @property
    @abstractmethod
    def count(self) -> int:
        """The training rows, n."""

    @property
    @abstractmethod
    def arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(X : shape (n, k), y : shape (n,) or (n, m)) where the rows are in memory, else None."""

    @property
    @abstractmethod
    def statistics(self) -> RowStatistics | GramEngine:
        """What the step size depends on (stepsize.choose_lr): a factor of G and the least-squares fit."""

    @abstractmethod
    def choose_lr(self, initial: Parameters, batch_size: int | None) -> float:
        """stepsize.choose_lr for these rows, on full batches or batches of `batch_size` rows."""

    @abstractmethod
    def loss_rounding(self, convention: str) -> LossRounding:
        """The rounding bounds of a loss computed from these rows' residuals (rounding.LossRounding)."""

    @abstractmethod
    def objective(self, initial: Parameters, plan, on_step=None):
        """What computes an epoch on these rows (engines/) for `plan`, a resolved TrainingPlan;
        `on_step` is MiniBatches'."""

    def least_squares(self) -> LeastSquares:
        """The best fit any linear map (so any weights of the linear network) makes of these rows."""
        return self.statistics.least_squares()

    def validation_loss(self, initial: Parameters, plan) -> Callable[[Parameters], float] | None:
        """The loss on the validation rows as a function of the weights (engines.validation_loss), or None."""
        return None if self.validation is None else validation_loss(*self.validation, initial, plan)


class InMemoryRows(TrainingRows):
    """Rows held in memory: X : shape (n, k), y : shape (n,) or (n, m), and `validation`.
    `scales` None (the rows are raw: no `scaling`): taken from the rows when first asked for."""

    def __init__(self, X: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None,
                 scaling: Scaling | None, scales: Scales | None):
        super().__init__(scaling, scales)
        self.X, self.y, self.validation = X, y, validation

    @property
    def scales(self) -> Scales:
        if self._scales is None:
            self._scales = scales_of_rows(self.X, self.y)
        return self._scales

    @scales.setter
    def scales(self, scales: Scales | None) -> None:
        self._scales = scales

    @property
    def count(self) -> int:
        return len(self.y)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.X, self.y

    @cached_property
    def statistics(self) -> RowStatistics:
        return RowStatistics(self.X, self.y)

    def choose_lr(self, initial: Parameters, batch_size: int | None) -> float:
        return choose_lr(self.statistics, initial, None if batch_size is None else (self.X, batch_size))

    def loss_rounding(self, convention: str) -> LossRounding:
        return LossRounding.of_rows(self.X, self.y, convention)

    def objective(self, initial: Parameters, plan, on_step=None):
        """Mini-batches with a batch size, else a full batch by the Gram engine where it applies,
        is exact and saves time (GRAM_MIN_ROWS rows or more), by the literal engine elsewhere, so
        lecture-sized data runs the lecture's computation."""
        X, y, convention = self.X, self.y, plan.loss
        standardized, scale = self.scaling is not None, step_scale(plan, self.count)
        if plan.batch_size is not None:
            return MiniBatches(X, y, plan.batch_size, plan.seed, plan.shuffle, convention, on_step,
                               standardized=standardized, step_scale=scale)
        literal = full_batch_engine(X, y, initial, convention)
        gram = gram_engine(X, y) if gram_applies(initial) and len(y) >= GRAM_MIN_ROWS else None
        if gram is not None:
            return FullBatch(gram.with_loss(convention), literal, "gram", QuadraticRounding(gram, convention),
                             self.statistics, standardized, scale)
        name = "literal" if isinstance(literal, LiteralEngine) else "network"
        return FullBatch(literal, literal, name, self.loss_rounding(convention), self.statistics, standardized, scale)


class StreamedRows(TrainingRows):
    """Rows read from a file in chunks and never held: their GramEngine's statistics (G, shape
    (k + 1, k + 1), A^T y, y.y, ... of n rows), in z-scores where `scaling` is given. No
    validation rows. They train the linear network with one output, on full batches. `scales`
    None: those of the statistics, the target's size their root mean square."""

    def __init__(self, gram: GramEngine, scaling: Scaling | None, scales: Scales | None):
        super().__init__(scaling, scales or scales_of(gram.G, gram.rows, float(np.sqrt(gram.zero_loss))))
        self.gram = gram

    @property
    def count(self) -> int:
        return self.gram.rows

    @property
    def arrays(self) -> None:
        return None

    @property
    def statistics(self) -> GramEngine:
        return self.gram

    def choose_lr(self, initial: Parameters, batch_size: int | None) -> float:
        if batch_size is not None:
            raise ValueError("the step for mini-batches is chosen from rows in memory: give a learning rate")
        return choose_lr(self.gram, initial)

    def loss_rounding(self, convention: str) -> LossRounding:
        return LossRounding.of_gram(self.gram, convention)

    def objective(self, initial: Parameters, plan, on_step=None):
        if plan.batch_size is not None or not gram_applies(initial):
            raise ValueError("streamed rows train the linear network with one output on full batches only")
        gram = self.gram.with_loss(plan.loss)
        return FullBatch(gram, gram, "gram", QuadraticRounding(self.gram, plan.loss), self.gram,
                         self.scaling is not None, step_scale(plan, self.count))


class ClassifierRows(TrainingRows):
    """A classifier's rows not held in memory (read from a file in chunks, or held by a cluster's
    workers): the RowSummary of their features and targets as they train (z-scores of the
    features where `scaling` is given), and what computes an epoch on them: `epochs(initial,
    plan)`, a full-batch engine (engines.ChunkedRows, engines.dask.DataParallel) or, for a
    cluster, mini-batches. No validation rows."""

    def __init__(self, summary: RowSummary, scaling: Scaling | None, scales: Scales, epochs: Callable):
        super().__init__(scaling, scales)
        self.summary, self.epochs = summary, epochs

    @property
    def count(self) -> int:
        return self.summary.rows

    @property
    def arrays(self) -> None:
        return None

    @property
    def statistics(self) -> RowSummary:
        return self.summary

    def choose_lr(self, initial: Parameters, batch_size: int | None) -> float:
        if batch_size is not None:
            raise ValueError("the step for mini-batches is chosen from rows in memory: give a learning rate")
        return choose_lr(self.summary, initial)

    def loss_rounding(self, convention: str) -> LossRounding:
        return self.summary.loss_rounding(convention)

    def objective(self, initial: Parameters, plan, on_step=None):
        return self.epochs(initial, plan)


def streamed_classifier(make_chunks: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]], plan,
                        scaling: Scaling | None = None) -> ClassifierRows:
    """A classifier's rows read in chunks (make_chunks() a fresh iterable of (X, y), X : shape
    (m, k), y : its targets, shape (m,) or (m, c)): z-scores of the features where scaling_chosen
    says so (`scaling`: a resumed model's), summarised in one more pass, then one pass an epoch
    (engines.ChunkedRows)."""
    scaling, scales = scaling_chosen(plan, scaling, lambda: RowSummary.of_chunks(make_chunks).classifier_moments_and_scales())
    if scaling is not None:
        raw, make_chunks = make_chunks, lambda: ((scaling.features(X), y) for X, y in raw())
    summary = RowSummary.of_chunks(make_chunks)
    if scales is None:
        scales = scales_of(summary.AtA / summary.rows, summary.rows, summary.target_size)

    def epochs(initial: Parameters, plan):
        if plan.batch_size is not None:
            raise ValueError("streamed rows train on full batches only")
        engine = ChunkedRows(make_chunks, plan.loss)
        return FullBatch(engine, engine, "streamed", summary.loss_rounding(plan.loss), summary, scaling is not None,
                         step_scale(plan, summary.rows))

    return ClassifierRows(summary, scaling, scales, epochs)
