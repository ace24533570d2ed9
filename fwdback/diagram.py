"""The network drawn in plain ASCII, as the lecture draws it, with every weight on its edge.

Inputs on the left, each branching to every hidden unit; the edges into a hidden unit meet
on a vertical bus that runs down to the unit; the hidden units feed one bus into yhat:

     x1 --+-- w1=1.083 ---->+
          +-- w4=0.2098 ----|->+
                            |  |
     x2 --+-- w2=-1.423 --->+  |
    ...
                            +--|--> N1 -- w7=1.681 ---+
                               |    b1=0.0328         +--> yhat
                               +--> N2 -- w8=0.8977 --+    b3=0.6416
                                    b2=0.3305

`+` joins lines, `|` crossing a horizontal line passes under it, `>` points into a node.
Only ASCII characters, so the drawing survives copy and paste.
"""

from __future__ import annotations

import numpy as np

from .modelfile import Model
from .linear_map import collapsed_linear_map, linear_map_formulas
from .network import Parameters, output_symbols

NAME_WIDTH = 12  # input names longer than this are shortened in the drawing (listed in full below)


def model_text(model: Model) -> str:
    """The drawing, the equations, every parameter at full precision, and the collapsed linear map."""
    params = model.params
    sections = [_header(model), drawing(params, model.features), _equations(params, model.features)]
    sections.append(_parameter_list(params, model.features))
    sections.append(_linear_map(model))
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def drawing(params: Parameters, features: tuple[str, ...]) -> list[str]:
    """The network as lines of ASCII: inputs left, hidden units in the middle, yhat right."""
    k, h = params.n_inputs, params.n_hidden
    labels = [_short(name) for name in features]
    W, W_names = params.W_hidden, params.W_hidden_names
    edge = [[f"{W_names[u, j]}={_short_number(W[u, j])}" for u in range(h)] for j in range(k)]
    out = [f"{name}={_short_number(value)}" for name, value in zip(params.w_out_names, params.w_out)]
    bias = [f"{name}={_short_number(value)}" for name, value in zip(params.b_hidden_names, params.b_hidden)]
    units = [f"N{u + 1}" for u in range(h)]

    name_width = max(map(len, labels))
    branch = name_width + 4  # column of the + where an input branches
    label_width = max(len(text) for row in edge for text in row)
    bus = [branch + label_width + 8 + 3 * u for u in range(h)]  # the vertical line into N(u+1)
    node = bus[-1] + 5
    unit_width = max(map(len, units))
    out_width = max(map(len, out))
    merge = node + unit_width + out_width + 7  # the vertical line into yhat

    def edge_row(j: int, u: int) -> int:
        return j * (h + 1) + u

    last_edge = edge_row(k - 1, h - 1)
    turn = [last_edge + 2 + 2 * u for u in range(h)]  # where bus u turns right, towards N(u+1)
    middle = (turn[0] + turn[-1]) // 2
    canvas = _Canvas(max(turn[-1], middle) + 2)

    for j in range(k):
        top = edge_row(j, 0)
        canvas.put(top, 1, labels[j].rjust(name_width) + " --")
        for u in range(h):
            row = edge_row(j, u)
            text = f"+-- {edge[j][u]} "
            canvas.put(row, branch, text)
            canvas.hline(row, branch + len(text), bus[u] - 2)
            canvas.put(row, bus[u] - 1, ">+")
    for u in range(h):
        canvas.put(turn[u], bus[u], "+")
        canvas.hline(turn[u], bus[u] + 1, node - 3)
        canvas.put(turn[u], node - 2, "> " + units[u].ljust(unit_width) + " -- " + out[u] + " ")
        canvas.hline(turn[u], node + unit_width + 5 + len(out[u]), merge - 1)
        canvas.put(turn[u], merge, "+")
        canvas.put(turn[u] + 1, node, bias[u])
    canvas.put(middle, merge, "+--> yhat")
    canvas.put(middle + 1, merge + 5, f"b{h + 1}={_short_number(params.b_out)}")
    for u in range(h):
        canvas.vline(bus[u], edge_row(0, u), turn[u])
    canvas.vline(merge, turn[0], turn[-1])
    return canvas.lines()


def _header(model: Model) -> list[str]:
    params = model.params
    shape = f"{params.n_inputs} inputs, {params.n_hidden} hidden unit{'s' if params.n_hidden != 1 else ''}"
    activation = "no activation" if params.activation == "identity" else f"{params.activation} activation"
    lines = [f"The network: {shape}, {activation}; yhat predicts {model.target}."]
    if model.scaling is not None:
        lines.append("Trained on z-scores: each input below is its column's (value - mean) / std; yhat is the target's z-score.")
    return lines


def _equations(params: Parameters, features: tuple[str, ...]) -> list[str]:
    """The network's equations with the inputs by their column names, as the drawing has them,
    and the lecture's names (x1, x2, ...) of the columns named otherwise."""
    h = params.n_hidden
    width = max(len("yhat"), len(f"N{h}"))
    lines = []
    for u, (weights, bias) in enumerate(zip(params.W_hidden_names, params.b_hidden_names)):
        total = _sum([f"{weight}*{x}" for weight, x in zip(weights, features)] + [bias])
        if params.activation != "identity":
            total = f"{params.activation}({total})"
        lines.append(f"{f'N{u + 1}':<{width}} = {total}")
    lines.append(f"{'yhat':<{width}} = " + _sum([f"{w}*N{u + 1}" for u, w in enumerate(params.w_out_names)] + [params.b_out_name]))
    renamed = [f"{name} is x{j + 1}" for j, name in enumerate(features) if name != f"x{j + 1}"]
    if renamed:
        lines += _wrap("in the lecture's names: ", renamed, ", ")
    return lines


def _parameter_list(params: Parameters, features: tuple[str, ...]) -> list[str]:
    """Every parameter at full precision (Python's round-trip repr), with the edge it labels."""
    h = params.n_hidden
    names = params.names
    outputs = output_symbols(params.n_outputs)
    roles = params.flat(
        [[f"{feature} -> N{u + 1}" for feature in features] for u in range(h)],
        [[f"N{u + 1} -> {output}" for u in range(h)] for output in outputs],
        [f"bias of N{u + 1}" for u in range(h)],
        [f"bias of {output}" for output in outputs],
    )
    values = [repr(float(value)) for value in params.vector]
    name_width = max(map(len, names))
    value_width = max(map(len, values))
    lines = ["Parameters (full precision):"]
    for name, value, role in zip(names, values, roles):
        lines.append(f"  {name:<{name_width}} = {value:<{value_width}}   {role}")
    return lines


def _linear_map(model: Model) -> list[str]:
    params, inputs = model.params, model.features
    if params.activation != "identity":
        return [
            f"With the {params.activation} activation yhat is not a linear function of the inputs:",
            "there is no collapsed linear map.",
        ]
    k = params.n_inputs
    coef, intercept = collapsed_linear_map(params)
    terms = [f"c{j + 1}" for j in range(k)] + ["c0"]
    formulas = [_sum(["*".join(product) for product in formula]) for formula in linear_map_formulas(params)]
    values = [repr(float(value)) for value in [*coef, intercept]]
    formula_width = max(map(len, formulas))
    lines = [
        "The collapsed linear map (no activation, so yhat is linear in x):",
        "  yhat = " + _sum([f"c{j + 1}*{inputs[j]}" for j in range(k)] + ["c0"]),
    ]
    for term, formula, value in zip(terms, formulas, values):
        lines.append(f"  {term:<3} = {formula:<{formula_width}} = {value}")
    lines += _wrap("  yhat = ", _equation(coef, intercept, inputs))
    if model.scaling is not None:
        original, original_intercept = model.scaling.original_linear_map(coef, intercept)
        in_units = _equation(original, original_intercept, model.features)
        lines += _wrap(f"In the data's own units: {model.target} = ", in_units)
    return lines


def _equation(coef: np.ndarray, intercept: float, inputs) -> list[str]:
    """The terms of 2*x1 - 3*x2 + 0.5*x3 + 1, to 6 significant digits: ["2*x1", "- 3*x2", ...]."""
    terms = []
    for value, name in [*zip(coef, inputs), (intercept, None)]:
        number = f"{abs(float(value)):.6g}" + ("" if name is None else f"*{name}")
        sign = "-" if value < 0 else "+"
        terms.append((f"-{number}" if sign == "-" else number) if not terms else f"{sign} {number}")
    return terms


def _wrap(prefix: str, terms: list[str], separator: str = " ", width: int = 80) -> list[str]:
    """prefix + the terms, broken into lines of at most `width` where it can be, indented under the first."""
    lines, line = [], prefix + terms[0]
    for term in terms[1:]:
        if len(line) + len(separator) + len(term) > width:
            lines.append(line + separator.rstrip())
            line = " " * len(prefix) + term
        else:
            line += separator + term
    return [*lines, line]


def _sum(terms: list[str], keep: int = 4) -> str:
    """t1 + t2 + ... + tn, with the middle left out when there are many terms."""
    if len(terms) > keep + 2:
        terms = [*terms[: keep - 1], "...", *terms[-2:]]
    return " + ".join(terms)


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 2] + ".."


def _short_number(value) -> str:
    return f"{float(value):.4g}"


class _Canvas:
    """A grid of characters that lines are drawn on."""

    def __init__(self, rows: int):
        self.rows = [[] for _ in range(rows)]

    def put(self, row: int, column: int, text: str) -> None:
        line = self.rows[row]
        if len(line) < column + len(text):
            line.extend(" " * (column + len(text) - len(line)))
        line[column : column + len(text)] = list(text)

    def hline(self, row: int, first: int, last: int) -> None:
        if last >= first:
            self.put(row, first, "-" * (last - first + 1))

    def vline(self, column: int, first: int, last: int) -> None:
        """A vertical line between two rows; it passes under a horizontal line and keeps every + and >."""
        for row in range(first + 1, last):
            line = self.rows[row]
            if column >= len(line) or line[column] in " -":
                self.put(row, column, "|")

    def lines(self) -> list[str]:
        return ["".join(line).rstrip() for line in self.rows]
