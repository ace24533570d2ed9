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

import dataclasses
import textwrap

import numpy as np

from .modelfile import Model
from .network import Parameters, output_names, output_symbols
from .outputs import terminal_text

NAME_WIDTH = 12  # input names longer than this are shortened in the drawing (listed in full below)


def model_text(model: Model, width: int = 80) -> str:
    """The drawing, the equations, every parameter at full precision, and the collapsed linear map,
    the prose broken between words into lines of at most `width` (the terminal's); the model's
    column names as they are safe to show on a terminal (outputs.terminal_text)."""
    target = terminal_text(model.target) if isinstance(model.target, str) else tuple(map(terminal_text, model.target))
    model = dataclasses.replace(model, features=tuple(map(terminal_text, model.features)), target=target)
    params = model.params
    sections = [_header(model, width), drawing(params, model.features), _equations(params, model.features, width)]
    sections.append(_parameter_list(params, model.features))
    sections.append(_linear_map(model, width))
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def drawing(params: Parameters, features: tuple[str, ...]) -> list[str]:
    """The network as lines of ASCII: inputs left, hidden units in the middle, yhat right; with
    several outputs, the hidden units' fan into the outputs drawn below, as the inputs' is."""
    k, h, m = params.n_inputs, params.n_hidden, params.n_outputs
    W, W_names = params.W_hidden, params.W_hidden_names
    edge = [[f"{W_names[u, j]}={_short_number(W[u, j])}" for u in range(h)] for j in range(k)]
    units = [f"N{u + 1}" for u in range(h)]
    bias = _bias_texts(params.b_hidden_names, params.b_hidden)
    canvas, node, turn = _fan_in([_short(name) for name in features], edge, units, bias)
    if m > 1:
        W_out, names = params.W_out, params.W_out_names
        out_edge = [[f"{names[j, u]}={_short_number(W_out[j, u])}" for j in range(m)] for u in range(h)]
        outputs = list(output_symbols(m))
        second, _, _ = _fan_in(units, out_edge, outputs, _bias_texts(params.b_outputs_names, params.b_outputs))
        return [*canvas.lines(), "", *second.lines()]
    out = [f"{name}={_short_number(value)}" for name, value in zip(params.W_out_names[0], params.W_out[0])]
    unit_width = max(map(len, units))
    merge = node + unit_width + max(map(len, out)) + 7  # the vertical line into yhat
    middle = (turn[0] + turn[-1]) // 2
    for u in range(h):
        canvas.put(turn[u], node + unit_width, f" -- {out[u]} ")
        canvas.hline(turn[u], node + unit_width + 5 + len(out[u]), merge - 1)
        canvas.put(turn[u], merge, "+")
    canvas.put(middle, merge, "+--> yhat")
    (output_bias,) = _bias_texts(params.b_outputs_names, params.b_outputs)
    if output_bias:
        canvas.put(middle + 1, merge + 5, output_bias)
    canvas.vline(merge, turn[0], turn[-1])
    return canvas.lines()


def _bias_texts(names, values) -> list[str]:
    """`b1=0.02447` for each unit; "" for a network without biases."""
    return [f"{name}={_short_number(value)}" if name else "" for name, value in zip(names, values)]


def _fan_in(labels: list[str], edge: list[list[str]], units: list[str], bias: list[str]):
    """Each of `labels` branching to every one of `units`, the edges into a unit meeting on a
    vertical bus that runs down to it: edge[j][u] labels the edge from labels[j] to units[u],
    bias[u] is written under unit u. (the canvas, the column of the units, the row of each unit)."""
    k, h = len(labels), len(units)
    name_width = max(map(len, labels))
    branch = name_width + 4  # column of the + where an input branches
    label_width = max(len(text) for row in edge for text in row)
    bus = [branch + label_width + 8 + 3 * u for u in range(h)]  # the vertical line into unit u
    node = bus[-1] + 5
    turn = [(k - 1) * (h + 1) + h + 1 + 2 * u for u in range(h)]  # where bus u turns right, towards unit u
    canvas = _Canvas(turn[-1] + 2)
    for j in range(k):
        canvas.put(j * (h + 1), 1, labels[j].rjust(name_width) + " --")
        for u in range(h):
            row = j * (h + 1) + u
            text = f"+-- {edge[j][u]} "
            canvas.put(row, branch, text)
            canvas.hline(row, branch + len(text), bus[u] - 2)
            canvas.put(row, bus[u] - 1, ">+")
    for u in range(h):
        canvas.put(turn[u], bus[u], "+")
        canvas.hline(turn[u], bus[u] + 1, node - 3)
        canvas.put(turn[u], node - 2, "> " + units[u])
        if bias[u]:
            canvas.put(turn[u] + 1, node, bias[u])
        canvas.vline(bus[u], u, turn[u])
    return canvas, node, turn


def _header(model: Model, width: int) -> list[str]:
    """What the network is and what each output predicts (a classifier's: each class's
    probability, yhat1 = P(animal = cat), ...), in lines of at most `width`."""
    params = model.params
    targets = output_names(model.target, params.n_outputs)
    shape = f"{params.n_inputs} inputs, {params.n_hidden} hidden unit{'s' if params.n_hidden != 1 else ''}"
    activation = f"{params.activation} activation" if params.activated else "no activation"
    outputs = ", ".join(output_symbols(params.n_outputs))
    through = f" through the {params.output_activation} output activation" if params.out_activated else ""
    predict = "predicts" if params.n_outputs == 1 else "predict"
    no_bias = "" if params.bias else "; no biases"
    named = "" if targets == output_symbols(params.n_outputs) else f" {predict} {', '.join(targets)}"
    if model.classes is not None:
        outputs, named = ", ".join(f"{symbol} = {terminal_text(name)}"
                                   for symbol, name in zip(output_symbols(params.n_outputs), model.predicted)), ""
    prose = [f"The network: {shape}, {activation}{no_bias}; {outputs}{named}{through}."]
    if model.scaling is not None:
        prose.append("Trained on z-scores: each input below is its column's (value - mean) / std; yhat is the target's z-score.")
    return _prose(prose, width)


def _prose(paragraphs: list[str], width: int) -> list[str]:
    """Each paragraph broken between words into lines of at most `width` (a word longer stays whole)."""
    return [line for paragraph in paragraphs for line in textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)]


def _equations(params: Parameters, features: tuple[str, ...], width: int) -> list[str]:
    """The network's equations with the inputs by their column names, as the drawing has them,
    and the lecture's names (x1, x2, ...) of the columns named otherwise (in lines of at most `width`)."""
    h = params.n_hidden
    outputs = output_symbols(params.n_outputs)
    symbol_width = max(len(outputs[-1]), len(f"N{h}"))
    lines = []
    for u, (weights, bias) in enumerate(zip(params.W_hidden_names, params.b_hidden_names)):
        total = _sum([f"{weight}*{x}" for weight, x in zip(weights, features)] + ([bias] if bias else []))
        if params.activated:
            total = f"{params.activation}({total})"
        lines.append(f"{f'N{u + 1}':<{symbol_width}} = {total}")
    for output, weights, bias in zip(outputs, params.W_out_names, params.b_outputs_names):
        total = _sum([f"{w}*N{u + 1}" for u, w in enumerate(weights)] + ([bias] if bias else []))
        if params.out_activated:
            total = f"{params.output_activation}({total})"
        lines.append(f"{output:<{symbol_width}} = {total}")
    renamed = [f"{name} is x{j + 1}" for j, name in enumerate(features) if name != f"x{j + 1}"]
    if renamed:
        lines += _wrap("in the lecture's names: ", renamed, width, ", ")
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


def _linear_map(model: Model, width: int) -> list[str]:
    params, inputs, m = model.params, model.features, model.params.n_outputs
    if not params.architecture.linear:
        which = params.activation if params.activated else f"{params.output_activation} output"
        subject = "yhat is not a linear function" if m == 1 else "the outputs are not linear functions"
        return _prose([f"With the {which} activation {subject} of the inputs:", "there is no collapsed linear map."], width)
    k = params.n_inputs
    if m > 1:
        lines = _prose(["The collapsed linear map (no activation, so each output is linear in x):"], width)
        for output, symbol in enumerate(output_symbols(m)):
            coef, intercept, formulas = _collapsed(params, output)
            parts = [f"({formula})*{x}" for formula, x in zip(formulas, inputs)] + [f"({formula})" for formula in formulas[k:]]
            prefix = f"  {symbol} = "
            lines += _wrap(prefix, [f"{part} +" for part in parts[:-1]] + parts[-1:], width=width)
            lines += _wrap(" " * (len(prefix) - 2) + "= ", _equation(coef, intercept if params.bias else None, inputs), width=width)
        return lines
    coef, intercept, formulas = _collapsed(params, 0)
    terms = [f"c{j + 1}" for j in range(k)] + (["c0"] if params.bias else [])
    values = [repr(float(value)) for value in [*coef, intercept]]
    formula_width = max(map(len, formulas))
    lines = [
        *_prose(["The collapsed linear map (no activation, so yhat is linear in x):"], width),
        "  yhat = " + _sum([f"c{j + 1}*{inputs[j]}" for j in range(k)] + terms[k:]),
    ]
    for term, formula, value in zip(terms, formulas, values):
        lines.append(f"  {term:<3} = {formula:<{formula_width}} = {value}")
    lines += _wrap("  yhat = ", _equation(coef, intercept if params.bias else None, inputs), width=width)
    if model.scaling is not None:
        original, original_intercept = model.scaling.original_linear_map(coef, intercept)
        in_units = _equation(original, original_intercept, model.features)
        lines += _wrap(f"In the data's own units: {model.target} = ", in_units, width=width)
    return lines


def _collapsed(params: Parameters, output: int) -> tuple[np.ndarray, float, list[str]]:
    """Output `output`'s collapsed linear map: its coefficients, shape (k,) (for x1 of the
    lecture's network w7*w1 + w8*w4), its intercept (w7*b1 + w8*b2 + b3; 0 without biases), and
    how each is made of the weights, as text (the intercept's only with biases)."""
    W, W_out, b = params.W_hidden, params.W_out[output], params.b_hidden
    names, out, b_names = params.W_hidden_names, params.W_out_names[output], params.b_hidden_names
    formulas = [_sum([f"{out[h]}*{names[h, j]}" for h in range(params.n_hidden)]) for j in range(params.n_inputs)]
    if params.bias:
        formulas.append(_sum([f"{out[h]}*{b_names[h]}" for h in range(params.n_hidden)] + [params.b_outputs_names[output]]))
    return W_out @ W, float(W_out @ b + params.b_outputs[output]), formulas


def _equation(coef: np.ndarray, intercept: float | None, inputs) -> list[str]:
    """The terms of 2*x1 - 3*x2 + 0.5*x3 + 1, to 6 significant digits: ["2*x1", "- 3*x2", ...];
    no constant term for an intercept None."""
    terms = []
    for value, name in [*zip(coef, inputs), *([] if intercept is None else [(intercept, None)])]:
        number = f"{abs(float(value)):.6g}" + ("" if name is None else f"*{name}")
        sign = "-" if value < 0 else "+"
        terms.append((f"-{number}" if sign == "-" else number) if not terms else f"{sign} {number}")
    return terms


def _wrap(prefix: str, terms: list[str], width: int, separator: str = " ") -> list[str]:
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
        """The drawing's lines, without trailing spaces or empty lines at the end."""
        lines = ["".join(line).rstrip() for line in self.rows]
        while lines and not lines[-1]:
            lines.pop()
        return lines
