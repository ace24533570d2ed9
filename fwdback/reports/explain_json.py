"""`fwdback explain --format json`: every value of a worked epoch (explain.WorkedEpoch) as JSON-ready data."""

from __future__ import annotations

import numpy as np

from ..explain import WorkedEpoch


def explain_document(worked: WorkedEpoch, features, target="y", classes: tuple | None = None) -> dict:
    """Every value of the worked step as JSON-ready data, floats at full precision.

    "rows" holds every row of the step (not only those a table shows): x1..xk are the
    lecture's names for the columns in "features", y (y1..ym) for those in `target` (a name or
    a list of names); "row" is the row's number in the data file. z1..zH, dN1_dz1.. and
    dL_dz1.. are there when the hidden layer has an activation, a, dyhat_da and dL_da (a1, ...
    for several outputs) when the outputs have one; dyhat_dN1.. (dyhat1_dN1, ...) is the chain's
    middle factor, the output's slope times the unit's output weight.

    A classifier's rows have its loss's term ("loss_term", from the logits), the factors the
    cancellation multiplies taken apart: "dL_dyhat" (dL_dyhat1, ...) and the link's slope,
    "dyhat_da" for the sigmoid or the softmax's Jacobian "dyhat{j}_da{l}" for every j and l, then
    their product "dL_da" (dL_da1, ...) = (yhat - y)/n. Where a probability they divide by rounds
    to 0 or 1, "factors_finite" is false and dL_dyhat is null: only the product is a number.
    A classifier's document has its "classes", the labels in its outputs' order (where given).
    """
    rows = _document_rows(worked)
    batch = None
    if worked.batch_size is not None:
        batch = {"size": worked.batch_size, "rows": worked.row_numbers.tolist(),
                 "first_of_epoch": worked.epoch if worked.step == 1 else None,
                 "step": worked.step, "steps": worked.steps, "shuffled": worked.shuffle}
    document = {
        "epoch": worked.epoch,
        "step": worked.step,
        "steps": worked.steps,
        "lr": worked.lr,
        "n": worked.n,
        "features": list(features),
        "target": target if isinstance(target, str) else list(target),
        "activation": worked.activation,
        "hidden": worked.hidden,
        "outputs": worked.m,
        "output_activation": worked.output_activation,
        "bias": worked.params.bias,
        "loss_convention": worked.convention,
        "derivative_factor": worked.factor,
        "standardized": worked.scaling is not None,
        "scaling": None if worked.scaling is None else worked.scaling.as_dict(tuple(features), target),
        "training_rows": worked.n_train,
        "validation_rows": worked.validation_rows,
        "batch": batch,
        "weights": worked.params.as_dict(),
        "rows": rows,
        "loss": worked.loss,
        "gradients": worked.gradients.as_dict(),
        "frozen": list(worked.frozen),
        "optimizer": _optimizer_document(worked),
        "weights_after": worked.new_params.as_dict(),
        "loss_after": worked.loss_after,
    }
    return document if classes is None else document | {"classes": list(classes)}


def _document_rows(worked: WorkedEpoch) -> list[dict]:
    """explain_document's "rows": every per-row value of the step, by name."""
    fwd, back = worked.forward, worked.backward
    units = range(1, worked.hidden + 1)
    several = worked.m > 1
    keys = ["row", *worked.inputs, *worked.targets]
    blocks = [worked.row_numbers, worked.X, worked.Y.T]
    if worked.activated:
        keys += [f"z{u}" for u in units]
        blocks.append(fwd.Z.T)
    errors = [f"error{j}" for j in range(1, worked.m + 1)] if several else ["error"]
    dL_dYhat = back.dL_dYhat
    if worked.classifies:
        keys.append("loss_term")
        blocks.append(worked.loss_terms)
        dL_dYhat = np.where(worked.separable, worked.dL_dYhat_apart, np.nan)
    keys += [*(f"N{u}" for u in units), *worked.outputs, *errors, *(f"dL_d{out}" for out in worked.outputs),
             *(f"dL_dN{u}" for u in units)]
    blocks += [fwd.N.T, fwd.Yhat.T, worked.E.T, dL_dYhat.T, back.dL_dN.T]
    if worked.activated:
        keys += [*(f"dN{u}_dz{u}" for u in units), *(f"dL_dz{u}" for u in units)]
        blocks += [back.dN_dZ.T, back.dL_dZ.T]
    if worked.out_activated:
        pairs = list(zip(worked.outputs, worked.into_outputs))
        slopes = [f"d{out}_d{a}" for out, a in pairs]
        if worked.classifies:  # the link's Jacobian, every output by every logit
            slopes = [f"d{out}_d{a}" for out in worked.outputs for a in worked.into_outputs]
        keys += [*worked.into_outputs, *slopes, *(f"dL_d{a}" for _, a in pairs)]
        blocks += [fwd.A.T, _link_slopes(worked).reshape(-1, worked.n).T, back.dL_dA.T]
    keys += [f"d{out}_dN{u}" for out in worked.outputs for u in units]
    blocks.append(_output_slopes(worked).reshape(-1, worked.n).T)
    rows = [dict(zip(keys, values)) for values in np.column_stack(blocks).tolist()]
    for row, finite in zip(rows, worked.separable if worked.classifies else []):
        row["factors_finite"] = bool(finite)
        if not finite:
            row.update({f"dL_d{out}": None for out in worked.outputs})
    for row in rows:
        row["row"] = int(row["row"])
    return rows


def _link_slopes(worked: WorkedEpoch) -> np.ndarray:
    """shape (m, n), or (m, m, n) for a classifier: dyhat_j/da_j of every row, or the link's whole
    Jacobian dyhat_j/da_l (for the sigmoid, its one slope)."""
    if worked.classifies:
        return worked.jacobian.transpose(1, 2, 0)
    return worked.backward.dYhat_dA


def _output_slopes(worked: WorkedEpoch) -> np.ndarray:
    """shape (m, H, n): dyhat_j/dN_h of every row, the chain's middle factor: output j's slope
    dyhat_j/da_j (1 without an output activation) times its weight from unit h; a classifier's
    through the link's Jacobian, every output's logit."""
    if worked.classifies:  # through the link's Jacobian: sum_l dyhat_j/da_l * W_out[l, h]
        return np.einsum("ijl,lh->jhi", worked.jacobian, worked.params.W_out)
    slope = np.ones_like(worked.forward.A) if worked.backward.dYhat_dA is None else worked.backward.dYhat_dA
    return slope[:, None, :] * worked.params.W_out[:, :, None]


def _optimizer_document(worked: WorkedEpoch) -> dict:
    """The update rule, its hyper-parameters, the update's number t, and its state before and
    after the step (and Adam's bias-corrected moments), by parameter name."""
    settings, update = worked.optimizer, worked.update
    names = worked.params.names
    by_name = lambda values: dict(zip(names, np.asarray(values).tolist()))  # noqa: E731
    document = {"name": settings.name, "t": update.t}
    document |= {name: getattr(settings, name) for name in settings.rule.settings_used}
    if settings.state_names:
        document["before"] = {state: by_name(worked.state_before[state]) for state in settings.state_names}
        document["after"] = {state: by_name(update.state[state]) for state in settings.state_names}
    if update.corrected is not None:
        document["corrected"] = {f"{state}hat": by_name(values) for state, values in update.corrected.items()}
    return document
