"""What `fwdback evaluate` reports: the model's scores beside the baselines', as a table, CSV and JSON."""

from __future__ import annotations

from dataclasses import asdict

from ..outputs import csv_line
from ..sections import Table, cells

_PREDICTORS = ("model", "least_squares", "mean")


def evaluation_table(evaluation, model: str, source: str, target: str | None = None) -> Table:
    """evaluation.Evaluation as a table: the model's scores, then the baselines'; `target`
    names the output scored where the model has several."""
    n = evaluation.rows
    names = {"model": model, "least_squares": f"least squares fitted to {source}",
             "mean": "the mean of y" if target is None else f"the mean of {target}"}
    body = []
    for key in _PREDICTORS:
        scores = getattr(evaluation, key)
        r2 = "undefined" if scores.r2 is None else f"{scores.r2:.6f}"
        body.append(cells(names[key], f"{scores.mse:.6g}", f"{scores.rmse:.6g}", f"{scores.mae:.6g}", r2))
    caption = "least squares: fitted to these rows, the best a linear map can do"
    if evaluation.model.r2 is None:
        caption += "\nR^2 undefined: y is constant here, with no variance to explain"
    return Table(
        cells("predictor", "MSE", "RMSE", "MAE", "R^2"), tuple(body), ("left", "right", "right", "right", "right"),
        f"{model} on {source} ({n} row{'s' if n != 1 else ''})" + ("" if target is None else f": {target}"), caption,
    )


def write_evaluation_csv(stream, evaluations: dict) -> None:
    """predictor,mse,rmse,mae,r2: one row each for the model and the two baselines, full precision;
    r2 is empty where it is undefined (a constant y). `evaluations`: target name -> evaluation;
    with several targets each row starts with its target's name."""
    several = len(evaluations) > 1
    stream.write(csv_line(["target"] * several + ["predictor", "mse", "rmse", "mae", "r2"]))
    for target, evaluation in evaluations.items():
        for key in _PREDICTORS:
            scores = getattr(evaluation, key)
            r2 = "" if scores.r2 is None else repr(scores.r2)
            stream.write(csv_line([target] * several + [key, repr(scores.mse), repr(scores.rmse), repr(scores.mae), r2]))


def evaluation_document(evaluations: dict, model: str, dataset) -> dict:
    """Everything of an evaluation as JSON-ready data; with several targets, "scores" by target."""
    scores = {target: {key: asdict(getattr(evaluation, key)) for key in _PREDICTORS} for target, evaluation in evaluations.items()}
    evaluation = next(iter(evaluations.values()))
    return {
        "data": dataset.source,
        "model": model,
        "features": list(dataset.features),
        "target": dataset.target if isinstance(dataset.target, str) else list(dataset.target),
        "rows": evaluation.rows,
        "scores": scores[dataset.target] if isinstance(dataset.target, str) else scores,
    }


def classification_tables(evaluation, labels: tuple, model: str, source: str) -> tuple[Table, Table]:
    """evaluation.ClassEvaluation of classes `labels` (sorted) as two tables: accuracy and log loss
    beside the majority baseline's; by true class, precision, recall, F1, support and the
    confusion matrix's row (the counts predicted as each class)."""
    n, names, scores = evaluation.rows, [str(label) for label in labels], evaluation.model
    baseline = f"the majority class ({names[evaluation.majority_class]}) for every row"
    summary = Table(
        cells("predictor", "accuracy", "log loss"),
        tuple(cells(name, f"{each.accuracy:.6f}", f"{each.log_loss:.6g}")
              for name, each in ((model, scores), (baseline, evaluation.majority))),
        ("left", "right", "right"),
        f"{model} on {source} ({n} row{'s' if n != 1 else ''})",
    )
    by_class = Table(
        cells("class", "precision", "recall", "F1", "support", *(f"predicted {name}" for name in names)),
        tuple(cells(name, f"{p:.6f}", f"{r:.6f}", f"{f:.6f}", str(s), *map(str, counts)) for name, p, r, f, s, counts in
              zip(names, scores.precision, scores.recall, scores.f1, scores.support, scores.confusion_matrix)),
        ("left", *["right"] * (4 + len(names))),
        f"{model} on {source}, by true class",
        "predicted j: the confusion matrix's counts; a share of no rows is 0",
    )
    return summary, by_class


_CLASS_PREDICTORS = ("model", "majority")


def write_classification_csv(stream, evaluation, labels: tuple) -> None:
    """predictor,score,class,predicted,value: one row per score, full precision: accuracy and
    log_loss (no class), precision, recall, f1 and support (by class), confusion_matrix (rows of `class`
    predicted as `predicted`), for the model and the majority baseline."""
    stream.write(csv_line(["predictor", "score", "class", "predicted", "value"]))
    for key in _CLASS_PREDICTORS:
        scores = getattr(evaluation, key)
        for name in ("accuracy", "log_loss"):
            stream.write(csv_line([key, name, "", "", repr(getattr(scores, name))]))
        for name in ("precision", "recall", "f1", "support"):
            for label, value in zip(labels, getattr(scores, name)):
                stream.write(csv_line([key, name, label, "", repr(value)]))
        for label, counts in zip(labels, scores.confusion_matrix):
            for predicted, count in zip(labels, counts):
                stream.write(csv_line([key, "confusion_matrix", label, predicted, repr(count)]))


def classification_document(evaluation, labels: tuple, model: str, dataset) -> dict:
    """Everything of a classifier's evaluation as JSON-ready data: each score by class in the
    order of "classes"; "confusion_matrix" by true class, then predicted class."""
    return {
        "data": dataset.source,
        "model": model,
        "features": list(dataset.features),
        "target": dataset.target,
        "rows": evaluation.rows,
        "classes": list(labels),
        "majority_class": labels[evaluation.majority_class],
        "scores": {key: asdict(getattr(evaluation, key)) for key in _CLASS_PREDICTORS},
    }
