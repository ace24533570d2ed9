"""One epoch worked by hand: every value the engine computes, and the equations that show it.

`work_epoch` runs the engine (network.forward, mse_loss, backward, update) and keeps every
intermediate value; the equation builders below write them out in the lecture's notation,
in LaTeX for the markdown document and in plain text for the terminal (report.py). Numbers
are written by `number` alone: 6 significant digits, as a plain decimal or in e-notation
(1.23457e-05), so a reader can copy them and redo the arithmetic by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import TrainingDiverged
from .network import Gradients, Parameters, backward, forward, mse_loss, update
from .training import suggest_lr, train

# A sum over more rows than are shown writes out this many terms, then "...".
SUM_TERMS = 3


@dataclass
class WorkedEpoch:
    """Epoch `epoch` of full-batch gradient descent, with every intermediate value.

    params are the weights at the start of the epoch, new_params those after its update.
    X : shape (n, 3)        the inputs x1, x2, x3 of every row
    y, yhat, error : (n,)   error = y - yhat
    N : shape (n, 2)        N[:, 0] is N1, N[:, 1] is N2
    dL_dyhat : (n,)         dL/dyhat_i = -(2/n) (y_i - yhat_i)
    dL_dN : shape (n, 2)    dL/dN1_i = dL/dyhat_i * w7, dL/dN2_i = dL/dyhat_i * w8
    loss, loss_after        the loss before and after the update
    """

    epoch: int
    lr: float
    X: np.ndarray
    y: np.ndarray
    params: Parameters
    N: np.ndarray
    yhat: np.ndarray
    error: np.ndarray
    dL_dyhat: np.ndarray
    dL_dN: np.ndarray
    loss: float
    gradients: Gradients
    new_params: Parameters
    loss_after: float

    @property
    def n(self) -> int:
        return len(self.y)


def work_epoch(X: np.ndarray, y: np.ndarray, params: Parameters, lr: float, epoch: int = 1) -> WorkedEpoch:
    """Train epochs 1..epoch-1 from `params`, then keep every value of epoch `epoch`.

    X : shape (n, 3), y : shape (n,). The loss, gradients and new weights are the engine's
    own results. The per-row links of the chain (dL/dyhat_i, dL/dN_i) are formed exactly as
    network.backward forms them before it sums over rows, so their sums are its gradients.
    Raises TrainingDiverged when the loss overflows.
    """
    start = train(X, y, params, lr, epoch - 1).final if epoch > 1 else params
    with np.errstate(over="ignore", invalid="ignore"):
        fwd = forward(start, X)
        loss = mse_loss(y, fwd.yhat)
        gradients = backward(start, X, y, fwd)
        new_params = update(start, gradients, lr)
        loss_after = mse_loss(y, forward(new_params, X).yhat)
        dL_dyhat = (fwd.yhat - y) * (2.0 / len(y))
        dL_dN = np.outer(dL_dyhat, start.w_out)
    if not (np.isfinite(loss) and np.isfinite(loss_after) and np.isfinite(new_params.vector).all()):
        raise TrainingDiverged(epoch, loss_after if np.isfinite(loss) else loss, suggest_lr(X, y, params, lr))
    return WorkedEpoch(
        epoch, lr, X, y, start, fwd.N, fwd.yhat, y - fwd.yhat, dL_dyhat, dL_dN, loss, gradients, new_params, loss_after
    )


# --- numbers -----------------------------------------------------------------------------


def number(value: float) -> str:
    """6 significant digits, plain or e-notation (1.23457e-05): never `x 10^k`, always copyable."""
    text = f"{float(value):.6g}"
    return "0" if text == "-0" else text


def factor(value: float) -> str:
    """A number plugged into an expression: in parentheses when negative."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def _power_base(value: float) -> str:
    text = number(value)
    return f"({text})" if text.startswith("-") or "e" in text else text


# --- notation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Notation:
    """How the equations are written: LaTeX (markdown) or plain text (the terminal)."""

    latex: bool

    def sym(self, name: str, i: str | None = None) -> str:
        """A quantity by its plain name (w1, b3, x1, N1, y, yhat), of row i when given."""
        if name == "yhat":
            base, sub = (r"\hat{y}", "") if self.latex else ("yhat", "")
        else:
            base, sub = name[0], name[1:]
        if not self.latex:
            return base + sub + (f"_{i}" if i else "")
        if sub and i:
            return f"{base}_{{{sub},{i}}}"
        return f"{base}_{sub or i}" if (sub or i) else base

    def grad(self, name: str, i: str | None = None) -> str:
        """dL/d(name), of row i when given."""
        if self.latex:
            return rf"\frac{{\partial L}}{{\partial {self.sym(name, i)}}}"
        return f"dL/d{self.sym(name, i)}"

    def d_of(self, top: str, bottom: str, i: str | None = None) -> str:
        """d(top_i)/d(bottom), e.g. dN1_i/dw1."""
        if self.latex:
            return rf"\frac{{\partial {self.sym(top, i)}}}{{\partial {self.sym(bottom)}}}"
        return f"d{self.sym(top, i)}/d{self.sym(bottom)}"

    @property
    def times(self) -> str:
        return r" \cdot " if self.latex else "*"

    def product(self, a: str, b: str) -> str:
        """a times b: side by side in LaTeX (a number after a dot); with `*`, spaced around a derivative, in plain text."""
        if self.latex:
            return rf"{a} \cdot {b}" if b[0] in "0123456789(-." else f"{a} {b}"
        return f"{a} * {b}" if "/" in a + b else f"{a}*{b}"

    @property
    def sum_i(self) -> str:
        return r"\sum_{i=1}^{n} " if self.latex else "sum_i "

    @property
    def dots(self) -> str:
        return r"\cdots" if self.latex else "..."

    @property
    def eta(self) -> str:
        return r"\eta" if self.latex else "eta"

    @property
    def arrow(self) -> str:
        return r"\leftarrow" if self.latex else "<-"

    def frac(self, top: str, bottom: str) -> str:
        return rf"\frac{{{top}}}{{{bottom}}}" if self.latex else f"({top}/{bottom})"

    def square(self, base: str) -> str:
        return f"{base}^2"


LATEX = Notation(latex=True)
PLAIN = Notation(latex=False)

# The lecture's structure: which weights feed which unit, and from where.
HIDDEN_UNITS = (("N1", ("w1", "w2", "w3"), "b1"), ("N2", ("w4", "w5", "w6"), "b2"))
OUTPUT_UNIT = ("yhat", ("w7", "w8"), "b3")
INPUTS = ("x1", "x2", "x3")


def shown_terms(n: int, rows: int) -> int:
    """How many terms of a sum over n rows to write out: all of them if all rows are shown."""
    return n if n <= rows else min(rows, SUM_TERMS)


def _joined(terms: list[str], n: int, nt: Notation) -> str:
    return " + ".join(terms) + ("" if len(terms) == n else f" + {nt.dots}")


# --- the equations -----------------------------------------------------------------------


def forward_equations(worked: WorkedEpoch, row: int, nt: Notation) -> list[str]:
    """N1, N2, yhat and y - yhat of one row (0-based index), numbers plugged in."""
    w = worked.params.as_dict()
    x = dict(zip(INPUTS, worked.X[row]))
    values = {"N1": worked.N[row, 0], "N2": worked.N[row, 1], "yhat": worked.yhat[row]}
    lines = []
    for unit, weights, bias in (*HIDDEN_UNITS, OUTPUT_UNIT):
        sources = INPUTS if unit != "yhat" else ("N1", "N2")
        source_values = x if unit != "yhat" else values
        symbolic = " + ".join(nt.product(nt.sym(wk), nt.sym(s)) for wk, s in zip(weights, sources))
        numeric = " + ".join(f"{factor(w[wk])}{nt.times}{factor(source_values[s])}" for wk, s in zip(weights, sources))
        lines.append(
            f"{nt.sym(unit)} = {symbolic} + {nt.sym(bias)} = {numeric} + {factor(w[bias])} = {number(values[unit])}"
        )
    lines.append(
        f"y - {nt.sym('yhat')} = {number(worked.y[row])} - {factor(worked.yhat[row])} = {number(worked.error[row])}"
    )
    return lines


def loss_equation(worked: WorkedEpoch, rows: int, nt: Notation) -> str:
    """L = (1/n) sum (y_i - yhat_i)^2 = (1/n) (e_1^2 + e_2^2 + ...) = value."""
    n = worked.n
    terms = [nt.square(_power_base(e)) for e in worked.error[: shown_terms(n, rows)]]
    inner = _joined(terms, n, nt)
    bracket = rf" \left( {inner} \right)" if nt.latex else f"*({inner})"
    symbolic = f"L = {nt.frac('1', 'n')} {nt.sum_i}(y_i - {nt.sym('yhat', 'i')})^2"
    return f"{symbolic} = {nt.frac('1', str(n))}{bracket} = {number(worked.loss)}"


def output_gradient_equations(worked: WorkedEpoch, rows: int, nt: Notation) -> list[tuple[str, str]]:
    """(name, equation) for w7, w8, b3: the sums over rows of dL/dyhat_i times what yhat_i is linear in."""
    count = shown_terms(worked.n, rows)
    g = worked.gradients.as_dict()
    d = worked.dL_dyhat[:count]
    residual = f"-2 (y_i - {nt.sym('yhat', 'i')})"
    equations = []
    for name, source, values in (("w7", "N1", worked.N[:, 0]), ("w8", "N2", worked.N[:, 1]), ("b3", None, None)):
        if source is None:
            symbolic = f"{nt.frac('1', 'n')} {nt.sum_i}{residual} = {nt.sum_i}{nt.grad('yhat', 'i')}"
            terms = [factor(a) for a in d]
        else:
            symbolic = (
                f"{nt.frac('1', 'n')} {nt.sum_i}{nt.product(residual, nt.sym(source, 'i'))}"
                f" = {nt.sum_i}{nt.product(nt.grad('yhat', 'i'), nt.sym(source, 'i'))}"
            )
            terms = [f"{factor(a)}{nt.times}{factor(b)}" for a, b in zip(d, values[:count])]
        equations.append((name, f"{nt.grad(name)} = {symbolic} = {_joined(terms, worked.n, nt)} = {number(g[name])}"))
    return equations


def chain_equations(worked: WorkedEpoch, nt: Notation) -> list[str]:
    """dL/dN1_i = dL/dyhat_i * w7 and dL/dN2_i = dL/dyhat_i * w8, with w7 and w8 plugged in."""
    w = worked.params.as_dict()
    return [
        f"{nt.grad(unit, 'i')} = {nt.product(nt.grad('yhat', 'i'), nt.sym(weight))}"
        f" = {nt.product(nt.grad('yhat', 'i'), factor(w[weight]))}"
        for unit, weight in (("N1", "w7"), ("N2", "w8"))
    ]


def hidden_gradient_equations(worked: WorkedEpoch, rows: int, nt: Notation) -> list[tuple[str, str]]:
    """(name, equation) for w1..w6, b1, b2: sum_i dL/dN_i * dN_i/d(name), the chain rule."""
    count = shown_terms(worked.n, rows)
    g = worked.gradients.as_dict()
    equations = []
    for h, (unit, weights, bias) in enumerate(HIDDEN_UNITS):
        dN = worked.dL_dN[:count, h]
        for name, source, j in (*zip(weights, INPUTS, range(3)), (bias, None, None)):
            chain = f"{nt.sum_i}{nt.product(nt.grad(unit, 'i'), nt.d_of(unit, name, 'i'))}"
            if source is None:
                rule = f"{nt.sum_i}{nt.product(nt.grad(unit, 'i'), '1')} = {nt.sum_i}{nt.grad(unit, 'i')}"
                terms = [factor(a) for a in dN]
            else:
                rule = f"{nt.sum_i}{nt.product(nt.grad(unit, 'i'), nt.sym(source, 'i'))}"
                terms = [f"{factor(a)}{nt.times}{factor(b)}" for a, b in zip(dN, worked.X[:count, j])]
            equations.append(
                (name, f"{nt.grad(name)} = {chain} = {rule} = {_joined(terms, worked.n, nt)} = {number(g[name])}")
            )
    return sorted(equations, key=lambda pair: worked.params.names.index(pair[0]))


def update_equations(worked: WorkedEpoch, nt: Notation) -> list[tuple[str, str, str, str]]:
    """(name, rule, arithmetic, new value): w <- w - eta * dL/dw = old - eta * grad = new, all 11."""
    rows = []
    for name, old, grad, new in zip(
        worked.params.names, worked.params.vector, worked.gradients.vector, worked.new_params.vector
    ):
        rule = f"{nt.sym(name)} {nt.arrow} {nt.sym(name)} - {nt.product(nt.eta, nt.grad(name))}"
        arithmetic = f"{number(old)} - {number(worked.lr)}{nt.times}{factor(grad)}"
        rows.append((name, rule, arithmetic, number(new)))
    return rows


# --- the documents -----------------------------------------------------------------------


def explain_document(worked: WorkedEpoch, features, target: str = "y") -> dict:
    """Every value of the worked epoch as JSON-ready data, floats at full precision.

    "rows" holds every row (not only those a table shows): x1..x3 are the lecture's names
    for the columns in "features".
    """
    keys = ("row", *INPUTS, "y", "N1", "N2", "yhat", "error", "dL_dyhat", "dL_dN1", "dL_dN2")
    columns = np.column_stack(
        [np.arange(1, worked.n + 1), worked.X, worked.y, worked.N, worked.yhat, worked.error, worked.dL_dyhat, worked.dL_dN]
    )
    rows = [dict(zip(keys, values)) for values in columns.tolist()]
    for row in rows:
        row["row"] = int(row["row"])
    return {
        "epoch": worked.epoch,
        "lr": worked.lr,
        "n": worked.n,
        "features": list(features),
        "target": target,
        "weights": worked.params.as_dict(),
        "rows": rows,
        "loss": worked.loss,
        "gradients": worked.gradients.as_dict(),
        "weights_after": worked.new_params.as_dict(),
        "loss_after": worked.loss_after,
    }


def _row_range(shown: int, n: int) -> str:
    if shown == n:
        return "the one row" if n == 1 else f"all {n} rows"
    return f"row 1 of {n}" if shown == 1 else f"rows 1 to {shown} of {n}"


def _m(text: str) -> str:
    """Inline math."""
    return f"${text}$"


def _display(text: str) -> str:
    """Display math, on one line so that every renderer reads it."""
    return f"$${text}$$"


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return lines


def explain_markdown(
    worked: WorkedEpoch, features, rows: int, target: str = "y", source: str | None = None, start: str | None = None
) -> str:
    """The worked epoch as a markdown document with LaTeX equations: lecture notes with the user's numbers.

    `rows` rows are shown in the forward pass; every sum runs over all rows. `source` (the
    data's name) and `start` (where the weights came from) go into the opening line.
    """
    nt = LATEX
    n = worked.n
    shown = min(rows, n)
    count = shown_terms(n, rows)
    w = worked.params.as_dict()

    data = f"$n = {n}$ row{'s' if n != 1 else ''}"
    data = f"`{source}` ({data})" if source else data
    start_note = f", initial weights {start}" if start else ""
    before = "" if worked.epoch == 1 else f" (after {worked.epoch - 1} epoch{'s' if worked.epoch > 2 else ''} of training)"
    out = [f"# Epoch {worked.epoch} of forward and backward propagation, worked by hand", ""]
    out += [f"The lecture's 3-2-1 network on {data}, learning rate $\\eta = {number(worked.lr)}${start_note}.", ""]
    if tuple(features) != INPUTS or target != "y":
        mapping = ", ".join(f"{_m(nt.sym(lecture))} is column `{column}`" for lecture, column in zip(INPUTS, features))
        out += [f"{mapping}; $y$ is column `{target}`.", ""]
    out += [
        _display(r"N_1 = w_1 x_1 + w_2 x_2 + w_3 x_3 + b_1, \quad N_2 = w_4 x_1 + w_5 x_2 + w_6 x_3 + b_2, \quad \hat{y} = w_7 N_1 + w_8 N_2 + b_3"),
        "",
        f"## The weights at the start of epoch {worked.epoch}{before}",
        "",
    ]
    body = [
        [_m(nt.sym(unit)), *(_m(f"{nt.sym(k)} = {number(w[k])}") for k in weights), *([""] if unit == "yhat" else []), _m(f"{nt.sym(bias)} = {number(w[bias])}")]
        for unit, weights, bias in (*HIDDEN_UNITS, OUTPUT_UNIT)
    ]
    out += _md_table(["unit", "weight", "weight", "weight", "bias"], body)

    out += ["", "## 1. Forward pass", ""]
    note = "" if shown == n else f" (the loss and the gradients below use all {n})"
    out += [f"Shown for {_row_range(shown, n)}{note}.", ""]
    for row in range(shown):
        inputs = ", ".join(_m(f"{nt.sym(s)} = {number(v)}") for s, v in zip(INPUTS, worked.X[row]))
        out += [f"**Row {row + 1}:** {inputs}, {_m(f'y = {number(worked.y[row])}')}", ""]
        for equation in forward_equations(worked, row, nt):
            out += [_display(equation), ""]
    header = ["row", *(_m(nt.sym(s)) for s in INPUTS), "$y$", "$N_1$", "$N_2$", _m(nt.sym("yhat")), _m(r"y - \hat{y}")]
    body = [
        [str(row + 1), *(number(v) for v in worked.X[row]), number(worked.y[row]), number(worked.N[row, 0]),
         number(worked.N[row, 1]), number(worked.yhat[row]), number(worked.error[row])]
        for row in range(shown)
    ]
    out += ["All shown rows at a glance:", ""]
    out += _md_table(header, body)

    out += ["", "## 2. Loss", ""]
    if count < n:
        out += [f"This sum and those below run over all $n = {n}$ rows; the first {count} terms are written out.", ""]
    out += [_display(loss_equation(worked, rows, nt)), ""]

    out += ["## 3. Backward pass: the output layer", ""]
    out += [_display(rf"{nt.grad('yhat', 'i')} = -\frac{{2}}{{n}} (y_i - \hat{{y}}_i) = -\frac{{2}}{{{n}}} (y_i - \hat{{y}}_i)"), ""]
    body = [[str(row + 1), number(worked.error[row]), number(worked.dL_dyhat[row])] for row in range(shown)]
    out += _md_table(["row", _m(r"y_i - \hat{y}_i"), _m(nt.grad("yhat", "i"))], body)
    out += [""]
    for _, equation in output_gradient_equations(worked, rows, nt):
        out += [_display(equation), ""]

    out += ["## 4. Backward pass: the hidden layer, by the chain rule", ""]
    for equation in chain_equations(worked, nt):
        out += [_display(equation), ""]
    body = [
        [str(row + 1), number(worked.dL_dyhat[row]), number(worked.dL_dN[row, 0]), number(worked.dL_dN[row, 1])]
        for row in range(shown)
    ]
    out += _md_table(["row", _m(nt.grad("yhat", "i")), _m(nt.grad("N1", "i")), _m(nt.grad("N2", "i"))], body)
    out += [""]
    for _, equation in hidden_gradient_equations(worked, rows, nt):
        out += [_display(equation), ""]

    out += ["## 5. Update: one gradient-descent step for all 11 parameters", ""]
    for _, rule, arithmetic, new in update_equations(worked, nt):
        out += [_display(f"{rule} = {arithmetic} = {new}"), ""]

    out += ["## 6. The loss after the update", ""]
    change = worked.loss_after - worked.loss
    out += [
        _display(
            rf"L_{{\text{{before}}}} = {number(worked.loss)}, \quad L_{{\text{{after}}}} = {number(worked.loss_after)},"
            rf" \quad L_{{\text{{after}}}} - L_{{\text{{before}}}} = {number(change)}"
        ),
        "",
    ]
    verdict = "went down" if change < 0 else "did not go down: try a smaller learning rate" if change > 0 else "did not change"
    out += [f"The loss {verdict}.", ""]
    return "\n".join(out)
