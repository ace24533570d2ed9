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
