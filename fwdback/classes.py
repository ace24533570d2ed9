"""The classes of a classifier's target column, and how its labels become the network's targets.

A classifier reads one target column of class labels, numbers or strings. Its classes are the
distinct labels in sorted order, as scikit-learn's `classes_`: numbers by value when every label
is a number, else every label as text, by code point. The network's targets follow the loss
(losses.Loss.link):

    bce            one output, yhat = P(the second class): y = 1 for the second class, 0 for the first
    cross-entropy  one output per class, yhat_j = P(class j): y_j = 1 for the row's class, 0 for the others

No NumPy at import, so that the command line can show its options without it.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from .errors import ClassCount, UnknownClass
from .losses import Loss


@dataclass(frozen=True)
class Classes:
    """The sorted class labels of a classifier: `labels`, numbers or strings."""

    labels: tuple

    @classmethod
    def of(cls, values) -> Classes:
        """The classes among `values` (an iterable of labels, one per row)."""
        distinct = set(values)
        numbers = all(_is_number(value) for value in distinct)
        return cls(tuple(sorted(distinct) if numbers else sorted(distinct, key=str)))

    def check(self, loss: Loss) -> Classes:
        """Itself, where a classifier of `loss` (losses.LOSSES's) can learn it (ClassCount where not)."""
        if len(self.labels) < 2 or (loss.binary and len(self.labels) != 2):
            raise ClassCount(loss.name, self.labels, loss.binary)
        return self

    def outputs(self, loss: Loss) -> int:
        """The network's outputs for these classes: 1 for bce's sigmoid, one per class for a softmax."""
        return 1 if loss.binary else len(self.labels)

    def indices(self, values, rows_before: int = 0):
        """Each row's class index, shape (n,) ints; UnknownClass names the first row whose label is
        none of them (the rows counted from rows_before + 1)."""
        import numpy as np

        position = {label: j for j, label in enumerate(self.labels)}
        found = []
        for row, value in enumerate(values, start=rows_before + 1):
            index = position.get(value)
            if index is None:
                raise UnknownClass(value, row, self.labels)
            found.append(index)
        return np.asarray(found, dtype=np.intp)

    def targets(self, values, loss: Loss, rows_before: int = 0):
        """The network's targets for labels `values`: shape (n,) of 0/1 for bce, (n, m) one-hot for cross-entropy."""
        import numpy as np

        index = self.indices(values, rows_before)
        if loss.binary:
            return index.astype(np.float64)
        return np.eye(len(self.labels))[index]

    def predicted(self, probabilities):
        """The most probable class of each row, shape (n,) of labels, of `probabilities`, shape
        (n, c): a tie goes to the first class, as numpy's argmax."""
        import numpy as np

        return np.asarray(self.labels, dtype=object)[np.argmax(probabilities, axis=1)]

    @property
    def listed(self) -> list:
        """The labels as JSON holds them: a NumPy scalar (an estimator's label) as Python's."""
        return [label.item() if hasattr(label, "item") else label for label in self.labels]

    def probability_names(self, target: str, n_outputs: int) -> tuple[str, ...]:
        """What each of a classifier's n_outputs outputs is, by its class: "P(animal = cat)", ...
        (a bce network's one output is the second class's probability)."""
        return tuple(f"P({target} = {label})" for label in self.labels[len(self.labels) - n_outputs:])

    def __len__(self) -> int:
        return len(self.labels)


def probabilities(yhat):
    """Each class's probability, shape (n, c), of a classifier's outputs `yhat`: shape (n, c), a
    softmax's, as they are; shape (n,), bce's sigmoid (the second class's), [1 - yhat, yhat], as
    scikit-learn's predict_proba."""
    import numpy as np

    return np.column_stack([1.0 - yhat, yhat]) if yhat.ndim == 1 else yhat


def share_entropy(shares) -> float:
    """The log loss of predicting every row's class by the classes' `shares` of the rows (shape
    (c,), summing to 1): their entropy, sum_j p_j log(1/p_j) over the classes present, written as
    0 - sum_j p_j log p_j, since the negation of one class's 1 * log 1 would give -0."""
    import numpy as np

    present = shares[shares > 0]
    return float(0.0 - (present * np.log(present)).sum())


def class_targets(labels, loss: Loss, classes: Classes | None = None, source: str | None = None,
                  column: str | None = None, rows_before: int = 0):
    """(y, classes): the network's targets for a classifier's `labels` (one per row; Classes.targets'
    shapes) and their classes: those of the labels, checked for `loss` (ClassCount), or the given
    `classes` (a model's: UnknownClass for a label not among them). `source` and `column` name the
    labels' data and column in those errors, whose rows are counted from rows_before + 1."""
    try:
        classes = Classes.of(labels).check(loss) if classes is None else classes
        return classes.targets(labels, loss, rows_before), classes
    except (ClassCount, UnknownClass) as error:
        error.source, error.column = source, column
        raise


def label_problem(label) -> str | None:
    """Why a class label (a cell of a label column as read: a float, or its text trimmed; None
    for a missing cell; or a label given in Python) is none, as an error message's tail; None
    where it is one. A missing value (an empty cell, None, NaN, pandas' NA, "nan" in any case)
    is no class, and neither is a number that is not finite (inf, 1e400): a label is a finite
    number or text."""
    pandas = sys.modules.get("pandas")  # pandas' NA is a label only where pandas is loaded
    if label is None or pandas is not None and label is pandas.NA or label == "" \
            or isinstance(label, float) and math.isnan(label):
        return "the class label is empty; give the row's class or delete the row"
    if isinstance(label, str) and label.lower().lstrip("+-") == "nan":
        return f"the class label {label!r} is a missing value; give the row's class or delete the row"
    if math.isinf(label if isinstance(label, float) else _text_number(label)):
        shown = f" {label!r}" if isinstance(label, str) and len(label) <= 40 else ""
        return (f"the class label{shown} is infinite or beyond the float64 range (1.8e308); a class label is a finite "
                "number or text: give the row's class or delete the row")
    return None


def _text_number(label) -> float:
    """A text label's number where Python reads it as one (inf, 1e400), else 0."""
    try:
        return float(label) if isinstance(label, str) else 0.0
    except ValueError:
        return 0.0


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) or type(value).__name__.startswith(("int", "uint", "float"))) \
        and not isinstance(value, bool)
