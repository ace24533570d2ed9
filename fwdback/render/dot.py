"""The network as Graphviz source (DOT), for `dot -Tsvg` and anything else that reads DOT.

Drawn as the lecture draws it, left to right: the inputs x1..xk (with their columns' names),
the hidden units N1..NH, then yhat, or yhat1..yhatm (with the targets' names). Every edge
carries its parameter's name and value, `w1 = 0.15815`; its colour is the sign (blue for positive,
orange for negative: a pair colour-blind readers tell apart) and its width the magnitude,
from 1 for a zero weight to 6 for the largest. The biases are written on their units, an
activation at its units; frozen parameters are dashed and marked "(frozen)".

Node ids are fixed (x1, N1, yhat); the user's column names appear only inside quoted
labels, escaped (`quoted`), so that no name can end a string early, start a Graphviz escape or
entity, or hold a character no label can show.
"""

from __future__ import annotations

from collections.abc import Collection

from ..network import Parameters, output_names, output_symbols
from ..outputs import terminal_text
from ..scaling import Scaling
from .svg import NEGATIVE, POSITIVE

THINNEST, THICKEST = 1.0, 6.0


def network_dot(params: Parameters, features, target, scaling: Scaling | None = None, frozen: Collection[str] = ()) -> str:
    """The DOT source of a digraph: inputs -> hidden units -> outputs, every weight on its edge.

    features : the k column names, in the order of x1..xk;  target : the column yhat predicts,
    or one name a output (network.output_names);  scaling : the model's z-scores, which the
    title then mentions (the weights are in z-score units);  frozen : the names of the
    parameters that keep their values, drawn dashed and marked "(frozen)".
    """
    largest = max(abs(float(value)) for value in [*params.W_hidden.ravel(), *params.W_out.ravel()])
    inputs = [f"x{j + 1}" for j in range(params.n_inputs)]
    units = [f"N{u + 1}" for u in range(params.n_hidden)]
    outputs = output_symbols(params.n_outputs)
    features = [terminal_text(name) for name in features]  # a name's line break shown as \n, as elsewhere
    targets = [terminal_text(name) for name in output_names(target, params.n_outputs)]
    biases = params.bias
    one = len(outputs) == 1
    lines = [
        "digraph network {",
        f"  graph [rankdir=LR, ranksep=1.6, nodesep=0.5, fontname=\"Helvetica\", labelloc=t, label={quoted(_title(params, targets, scaling, frozen))}];",
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.7];',
        "",
        "  // the inputs x1..xk and the columns they are",
        *_rank(inputs, [f"{x} [shape=box, label={quoted(_input_label(x, name))}];" for x, name in zip(inputs, features)]),
        "  // the hidden units" + (", each with its bias" if biases else ""),
        *_rank(units, [f"{unit} [shape=ellipse, label={quoted(_unit_label(params, u, name, value, frozen))}];"
                       for u, (unit, name, value) in enumerate(zip(units, params.b_hidden_names, params.b_hidden))]),
        ("  // the output" if one else "  // the outputs") + ((" and its bias" if one else ", each with its bias") if biases else ""),
        *_rank(list(outputs), [f"{symbol} [shape=ellipse, label={quoted(_output_label(params, j, name, frozen))}];"
                               for j, (symbol, name) in enumerate(zip(outputs, targets))]),
        "",
        "  // input -> hidden unit: w1..w(kH), unit 1's weights first",
    ]
    for unit, names, values in zip(units, params.W_hidden_names, params.W_hidden):
        lines += [_edge(x, unit, name, value, largest, name in frozen) for x, name, value in zip(inputs, names, values)]
    lines.append("  // hidden unit -> yhat" if one else "  // hidden unit -> output: output 1's weights first")
    for output, names, values in zip(outputs, params.W_out_names, params.W_out):
        lines += [_edge(unit, output, name, value, largest, name in frozen) for unit, name, value in zip(units, names, values)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def quoted(text: str) -> str:
    """A DOT double-quoted string that Graphviz draws as `text`, each of its lines a line of the label.

    Every character no label can show (a control character, a bidi override, a lone
    surrogate; a line break within a line, \\r) is written as its backslash escape, as on a
    terminal (safe.terminal_text); a backslash is doubled (else `\\N` or `\\G` would be
    replaced by Graphviz, and one at the end would escape the closing quote), a double quote
    is escaped, `&` is written `&amp;` (Graphviz reads `&lt;` or `&#945;` in any label as the
    character), and the lines are joined by Graphviz's `\\n`.
    """
    lines = [terminal_text(line).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") for line in text.split("\n")]
    return '"' + "\\n".join(lines) + '"'


def colour(value: float) -> str:
    """The sign of a weight as a colour: blue for positive (zero too), orange for negative."""
    return NEGATIVE if value < 0 else POSITIVE


def penwidth(value: float, largest: float) -> float:
    """THINNEST for a zero weight up to THICKEST for the largest |weight| of the network."""
    return THINNEST + (THICKEST - THINNEST) * (abs(value) / largest if largest > 0 else 0.0)


def _edge(tail: str, head: str, name: str, value: float, largest: float, frozen: bool) -> str:
    value = float(value)
    label, style = (f"{name} = {value:.6g} (frozen)", ", style=dashed") if frozen else (f"{name} = {value:.6g}", "")
    return (
        f"  {tail} -> {head} [label={quoted(label)}, color=\"{colour(value)}\", "
        f"fontcolor=\"{colour(value)}\", penwidth={penwidth(value, largest):.3f}{style}];"
    )


def _bias(name: str, value: float, frozen: Collection[str]) -> str:
    return f"\n{name} = {float(value):.6g}" + (" (frozen)" if name in frozen else "") if name else ""


def _unit_label(params: Parameters, u: int, bias_name: str, bias: float, frozen: Collection[str]) -> str:
    """`N1` and its bias; with an activation `N1 = tanh(z1)`, z1 being what the edges sum to."""
    unit = f"N{u + 1} = {params.activation}(z{u + 1})" if params.activated else f"N{u + 1}"
    return unit + _bias(bias_name, bias, frozen)


def _output_label(params: Parameters, j: int, target: str, frozen: Collection[str]) -> str:
    """`yhat (y)` and its bias; with an output activation `yhat1 = sigmoid(a1)`, a1 what the edges sum to."""
    symbol = output_symbols(params.n_outputs)[j]
    unit = f"{symbol} = {params.output_activation}(a{j + 1})\n({target})" if params.out_activated else f"{symbol} ({target})"
    return unit + _bias(params.b_outputs_names[j], params.b_outputs[j], frozen)


def _input_label(lecture_name: str, column: str) -> str:
    return lecture_name if column == lecture_name else f"{lecture_name} ({column})"


def _rank(nodes: list[str], statements: list[str]) -> list[str]:
    """One column of the drawing: its nodes share a rank, and an invisible edge from each to the
    next keeps them in order, x1 above x2 (Graphviz would otherwise reorder them to cross fewer edges)."""
    order = [f"    {' -> '.join(nodes)} [style=invis];"] if len(nodes) > 1 else []
    return ["  { rank=same;", *[f"    {statement}" for statement in statements], *order, "  }"]


def _title(params: Parameters, targets, scaling: Scaling | None, frozen: Collection[str]) -> str:
    k, h = params.n_inputs, params.n_hidden
    activation = f"{params.activation} activation" if params.activated else "no activation"
    outputs = ", ".join(output_symbols(params.n_outputs))
    if params.out_activated:
        outputs += f" ({params.output_activation} output{'s' if params.n_outputs > 1 else ''})"
    predict = "predicts" if params.n_outputs == 1 else "predict"
    title = f"{k} input{'s' if k != 1 else ''}, {h} hidden unit{'s' if h != 1 else ''}, {activation}; {outputs} {predict} {', '.join(targets)}"
    if not params.bias:
        title += "; no biases"
    if scaling is not None:
        title += "\ntrained on z-scores: x = (column - mean) / std, yhat is the target's z-score"
    if frozen:
        title += "\ndashed edges and (frozen) biases are frozen: they keep their values"
    return title
