"""Figures as SVG: the network with a weight on every edge, and the loss curve.

The network is drawn as the lecture draws it: the inputs on the left, the hidden units N1..NH in
the middle, yhat on the right; every edge is an arrow the way of the forward pass, its colour the
sign (blue for positive, orange for negative: a pair colour-blind readers tell apart, lightened
on a dark background) and its width the magnitude. Every parameter is labelled with its name and
value where no edge or other label crosses it (render/labels.py), or, where a wide layer leaves
no room, listed under the network. With gradients, each edge also shows dL/dw as a dashed line
beside it, coloured by the direction the update moves the weight, its width on one log scale
for the whole run (GradientScale).

Every parameter's group carries `data-param` (its lecture name) and `tabindex`, and every
drawn value a class, so that the page (render/html.py) can move them from epoch to epoch.
The figures are self-contained SVG 1.1 (no script, no external reference), so they go on a
slide as they are.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from ..network import Gradients, Parameters, output_names, output_symbols
from ..notation import number
from ..outputs import terminal_text
from ..sections import Figure
from ..reports.train import loss_scale
from .labels import GAP, Box, Circle, Segment, place

# The colours of the loss figure and of the page (render/html.py) in the light and the dark
# scheme, by role: text at least 4.5:1 against back and panel, the curves' and lines' colours
# (positive, negative, muted) at least 3:1, WCAG 2.1's minimums; tests/test_page_seen.py
# measures them as Chromium draws them.
PALETTE = {
    "light": {"text": "#1d1d1f", "muted": "#5c5c66", "back": "#ffffff", "panel": "#f4f5f7", "line": "#d7d9de",
              "positive": "#2166ac", "negative": "#b35806", "accent": "#5b3fa6", "good": "#1b7f3a", "bad": "#c0262d"},
    "dark": {"text": "#ececef", "muted": "#a5a6ae", "back": "#17181a", "panel": "#222327", "line": "#3a3b40",
             "positive": "#5aa7e0", "negative": "#e08214", "accent": "#b9a6f0", "good": "#4cc776", "bad": "#ff7b72"},
}
# The edges' colours by the sign of their weight, in each scheme.
POSITIVE, NEGATIVE = PALETTE["light"]["positive"], PALETTE["light"]["negative"]
POSITIVE_DARK, NEGATIVE_DARK = PALETTE["dark"]["positive"], PALETTE["dark"]["negative"]
# The widest edge (the largest |weight|); in a network of many units a layer, a tangle of edges,
# WIDEST_MANY_EDGES, so that the edges stay thin.
WIDEST_EDGE, WIDEST_MANY_EDGES = 7.0, 3.0
COLUMN_GAP = 300
# The height of a layer's row: room for labels on edges that cross; a network of many units a
# layer gets shorter rows, its labels being fewer (the rest are listed).
ROW_HEIGHT, MANY_UNITS, MANY_UNITS_ROW_HEIGHT = 170, 5, 70
# Where the inputs and the hidden units are joined by more than MOST_INPUT_EDGES edges (a tangle:
# 5-16-1 has 80), each hidden unit draws the edges of its STRONGEST_INPUTS largest weights only
# (largest |w| over the run); the rest are listed.
MOST_INPUT_EDGES, STRONGEST_INPUTS = 20, 2
NODE_RADIUS = 22
# The arrowhead at the end of every edge, pointing the way of the forward pass.
ARROW_LENGTH, ARROW_HALF_WIDTH = 11.0, 6.0
# The dashed gradient line runs GRADIENT_OFFSET beside its edge, THINNEST_GRADIENT to WIDEST_GRADIENT wide.
GRADIENT_OFFSET, THINNEST_GRADIENT, WIDEST_GRADIENT = 5.0, 1.0, 4.0
# How far an edge's lines reach from its centre line at most: the gradient's line on one side.
EDGE_REACH = GRADIENT_OFFSET + WIDEST_GRADIENT / 2
# Labels: their font size, the height of their box, and the width of a character allowed for,
# ample for the widest sans-serif fonts (DejaVu Sans averages 0.58 em over a label).
LABEL_SIZE, LABEL_HEIGHT, CHARACTER_WIDTH = 11.5, 15.0, 0.62 * 11.5
# Room above the first row and under the last for a unit's activation and labels.
MARGIN = 66
# The least of an edge's line left between its label and a node.
STUB = 8.0
# The height of a key's line under the network (the gradients', the frozen parameters') and of
# a line of the list of labels without room on the figure.
LEGEND_HEIGHT, LIST_LINE = 28, 18
FROZEN_DASH = "1 6"
# The widths in em of DejaVu Sans's w (its widest lower-case letter but m) and of its digits.
SYMBOL_LETTER, SYMBOL_DIGIT = 0.82, 0.64
# A figure of symbols draws every edge alike: SYMBOL_EDGE wide, in the text's colour of each scheme.
SYMBOL_EDGE, SYMBOL_COLOUR, SYMBOL_COLOUR_DARK = 1.5, "#333333", "#dddddd"
STYLE = f"""
  .backdrop {{ fill: {PALETTE["light"]["back"]}; }}
  .node circle {{ fill: #ffffff; stroke: #333333; stroke-width: 1.5; }}
  .node text, .label, .bias text, .unlabelled text, .axis text, .keys text, .title {{ fill: #222222; font-family: system-ui, sans-serif; }}
  .node text {{ font-size: 15px; text-anchor: middle; dominant-baseline: central; }}
  .node text.name {{ font-size: 12px; fill: #555555; }}
  .node text.before {{ text-anchor: end; }}
  .node text.after {{ text-anchor: start; }}
  .label, .bias text {{ font-size: {LABEL_SIZE}px; dominant-baseline: central; }}
  .label {{ text-anchor: middle; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; }}
  .bias text {{ text-anchor: middle; }}
  .unlabelled text {{ font-size: {LABEL_SIZE}px; }}
  .gradient {{ stroke-dasharray: 5 4; }}
  .network .positive {{ stroke: {POSITIVE}; }}
  .network .negative {{ stroke: {NEGATIVE}; }}
  .network .arrow.positive {{ fill: {POSITIVE}; stroke: none; }}
  .network .arrow.negative {{ fill: {NEGATIVE}; stroke: none; }}
  .node text.activation, .frozen-legend text, .gradient-key text, .unlabelled text.heading {{ font-size: 11.5px; fill: #555555; font-family: system-ui, sans-serif; }}
  tspan.frozen {{ font-style: italic; }}
  [data-param]:focus {{ outline: none; }}
  [data-param]:focus .weight, [data-param]:hover .weight {{ filter: drop-shadow(0 0 2px #888888); }}
  @media (prefers-color-scheme: dark) {{
    .backdrop {{ fill: {PALETTE["dark"]["back"]}; }}
    .node circle {{ fill: {PALETTE["dark"]["back"]}; stroke: #dddddd; }}
    .node text, .label, .bias text, .unlabelled text, .axis text, .keys text, .title {{ fill: #eeeeee; }}
    .node text.name, .node text.activation, .frozen-legend text, .gradient-key text, .unlabelled text.heading {{ fill: #bbbbbb; }}
    .label {{ stroke: {PALETTE["dark"]["back"]}; }}
    .network .positive {{ stroke: {POSITIVE_DARK}; }}
    .network .negative {{ stroke: {NEGATIVE_DARK}; }}
    .network .arrow.positive {{ fill: {POSITIVE_DARK}; }}
    .network .arrow.negative {{ fill: {NEGATIVE_DARK}; }}
  }}
"""

# What a figure of symbols (network_svg's `symbols`) adds: its edges and arrowheads in the text's colour.
SYMBOL_STYLE = f"""
  .network .symbol {{ stroke: {SYMBOL_COLOUR}; }}
  .network .arrow.symbol {{ fill: {SYMBOL_COLOUR}; stroke: none; }}
  @media (prefers-color-scheme: dark) {{
    .network .symbol {{ stroke: {SYMBOL_COLOUR_DARK}; }}
    .network .arrow.symbol {{ fill: {SYMBOL_COLOUR_DARK}; }}
  }}
"""

# What a figure with units' fields (network_svg's `inside`) adds: each cell's colour by its sign, and
# the unit's symbol on a halo over it.
FIELD_STYLE = f"""
  .node.fielded > text:not(.name):not(.activation) {{ paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }}
  .unit-field .positive {{ fill: {POSITIVE}; stroke: none; }}
  .unit-field .negative {{ fill: {NEGATIVE}; stroke: none; }}
  @media (prefers-color-scheme: dark) {{
    .node.fielded > text:not(.name):not(.activation) {{ stroke: {PALETTE["dark"]["back"]}; }}
    .unit-field .positive {{ fill: {POSITIVE_DARK}; }}
    .unit-field .negative {{ fill: {NEGATIVE_DARK}; }}
  }}
"""


def _colour(value: float) -> str:
    return POSITIVE if value >= 0 else NEGATIVE


def _sign(value: float) -> str:
    return "positive" if value >= 0 else "negative"


def edge_width(value: float, largest: float, widest: float = WIDEST_EDGE) -> float:
    """1 for a zero weight to `widest` for the largest in magnitude."""
    return 1.0 + (widest - 1.0) * (abs(value) / largest if largest > 0 else 0.0)


@dataclass(frozen=True)
class GradientScale:
    """The widths of the dashed gradient lines, on one scale for a whole run: log10 |dL/dw| from
    `low` (THINNEST_GRADIENT) to `high` (WIDEST_GRADIENT), so that a gradient a million times
    smaller than the run's steepest is drawn thin, but drawn; a gradient of exactly 0, not at all.
    `low` is at most 16 decades under `high`: a float64 gradient smaller than that is rounding."""

    low: float
    high: float

    @classmethod
    def of(cls, params: Parameters, gradients: np.ndarray) -> GradientScale:
        """gradients : shape (kept, p), dL/dw at every kept epoch or update in the order of
        params.names, whose weights' (the edges') are taken."""
        edges = set(params.W_hidden_names.ravel()) | set(params.W_out_names.ravel())
        taken = gradients[:, [i for i, name in enumerate(params.names) if name in edges]]
        sizes = np.abs(taken[np.isfinite(taken) & (taken != 0)])
        if sizes.size == 0:
            return cls(0.0, 0.0)
        high = math.log10(float(sizes.max()))
        return cls(max(math.log10(float(sizes.min())), high - 16), high)

    def width(self, gradient: float) -> float:
        if gradient == 0 or not math.isfinite(gradient):
            return 0.0
        if self.high <= self.low:
            return WIDEST_GRADIENT
        at = (math.log10(abs(gradient)) - self.low) / (self.high - self.low)
        return THINNEST_GRADIENT + (WIDEST_GRADIENT - THINNEST_GRADIENT) * min(max(at, 0.0), 1.0)


@dataclass(frozen=True)
class NetworkLayout:
    """Where everything of the network's figure goes, in SVG pixels (y down), for network_svg and
    render/tikz.py alike: the units' circles, the edges, and each label's box (None: listed
    under the network instead).

    units : (symbol (x1, N1, yhat), centre, column name or None, side of the name, activation or
    None, the activation's box), inputs first; edges : (name, value, start, end, label box), the weights'
    in the order drawn; biases : (name, value, box) of the biases placed on the figure;
    unlabelled : (name, value, where) of the parameters listed under it; crowded : the units
    whose activation is listed ("N3: tanh"); widest : each parameter's widest value's text.
    """

    width: float
    network_height: float
    widest_edge: float
    largest: float
    units: list
    edges: list
    biases: list
    unlabelled: list
    crowded: list
    widest: dict


def network_layout(params: Parameters, features: Sequence[str], target="y", reach: float | None = None,
                   frozen: Collection[str] = (), shown: np.ndarray | None = None, symbols: bool = False) -> NetworkLayout:
    """The figure's layout (network_svg's arguments; `reach`: how far an edge's lines reach from
    its centre, its weight's half width by default). With `symbols` the labels are the
    parameters' names alone (w1, b1), so they keep room for no value."""
    k, h, m = params.n_inputs, params.n_hidden, params.n_outputs
    features = [terminal_text(feature) for feature in features]
    targets = tuple(map(terminal_text, output_names(target, m)))
    rows = max(k, h, m, 1)
    row_height, widest_edge = (ROW_HEIGHT, WIDEST_EDGE) if rows < MANY_UNITS else (MANY_UNITS_ROW_HEIGHT, WIDEST_MANY_EDGES)
    network_height = 2 * MARGIN + (rows - 1) * row_height
    renamed = [f for f, x in zip(features, _inputs(k)) if f != x]
    x_in = 30 + NODE_RADIUS + _text_width(max(renamed, key=len, default=""))
    x_hidden, x_out = x_in + COLUMN_GAP, x_in + 2 * COLUMN_GAP
    y_of = lambda index, count: MARGIN + (rows - count) * row_height / 2 + index * row_height  # noqa: E731
    inputs = [(x_in, y_of(j, k)) for j in range(k)]
    hidden = [(x_hidden, y_of(u, h)) for u in range(h)]
    outputs = [(x_out, y_of(j, m)) for j in range(m)]
    weights = np.concatenate([params.W_hidden.ravel(), params.W_out.ravel()])
    largest = float(np.max(np.abs(weights)))
    into = _strongest_inputs(params, shown, STRONGEST_INPUTS if k * h > MOST_INPUT_EDGES and not symbols else k)
    edges = [(params.W_hidden_names[u, j], float(params.W_hidden[u, j]), inputs[j], hidden[u]) for u in range(h) for j in range(k)
             if into[u, j]]
    undrawn = [(params.W_hidden_names[u, j], float(params.W_hidden[u, j]), f"x{j + 1} → N{u + 1}, not drawn")
               for u in range(h) for j in range(k) if not into[u, j]]
    edges += [(params.W_out_names[j, u], float(params.W_out[j, u]), hidden[u], outputs[j]) for u in range(h) for j in range(m)]
    biases = [] if not params.bias else [
        (name, float(value), position) for name, value, position in
        (*zip(params.b_hidden_names, params.b_hidden, hidden), *zip(params.b_outputs_names, params.b_outputs, outputs))]
    hidden_activation = params.activation if params.activated else None
    output_activation = params.output_activation if params.out_activated else None
    units = [(f"N{u + 1}", position, hidden_activation) for u, position in enumerate(hidden)]
    units += [(symbol.replace("yhat", "ŷ"), position, output_activation) for symbol, position in zip(output_symbols(m), outputs)]
    names_drawn = [_name_box(position, feature, "end") for position, feature, x in zip(inputs, features, _inputs(k)) if feature != x]
    names_drawn += [_name_box(position, name, "start") for position, name, symbol in zip(outputs, targets, output_symbols(m))
                    if name != symbol]
    widest = {name: "" for name in params.names} if symbols else _widest_values(params, shown)
    activation_boxes, bias_boxes, edge_boxes = _place_labels(
        [*inputs, *hidden, *outputs], units, biases, edges, names_drawn, widest_edge / 2 if reach is None else reach,
        widest_edge, widest, frozen)
    at = {position: unit for unit, position in [*zip(_inputs(k), inputs), *((unit, position) for unit, position, _ in units)]}
    unlabelled = [(name, value, f"at {at[position]}") for name, value, position in biases if bias_boxes[name] is None]
    unlabelled += [(name, value, f"{at[start]} → {at[end]}") for i, (name, value, start, end) in enumerate(edges)
                   if edge_boxes[i] is None]
    unlabelled = sorted(unlabelled + undrawn, key=lambda listed: params.names.index(listed[0]))
    crowded = _crowded([(unit, activation) for unit, _, activation in units
                        if unit in activation_boxes and activation_boxes[unit] is None])
    drawn_units = [(x, position, feature, "end", None, None) for x, position, feature in zip(_inputs(k), inputs, features)]
    drawn_units += [(unit, position, None, "start", activation, activation_boxes.get(unit)) for unit, position, activation in units[:h]]
    drawn_units += [(symbol, position, name, "start", activation, activation_boxes.get(unit))
                    for (unit, position, activation), name, symbol in zip(units[h:], targets, output_symbols(m))]
    placed = [box for boxes in (activation_boxes, bias_boxes, edge_boxes) for box in boxes.values() if box is not None]
    width = max([x_out + NODE_RADIUS + 30 + _text_width(max(targets, key=len)), *(box.x + box.half_length + 8 for box in placed)])
    return NetworkLayout(
        width, network_height, widest_edge, largest, drawn_units,
        [(*edge, edge_boxes[i]) for i, edge in enumerate(edges)],
        [(name, value, bias_boxes[name]) for name, value, _ in biases if bias_boxes[name] is not None],
        unlabelled, crowded, widest)


def network_svg(
    params: Parameters, features: Sequence[str], target="y", gradients: Gradients | None = None,
    frozen: Collection[str] = (), gradient_scale: GradientScale | None = None, shown: np.ndarray | None = None,
    inside: Mapping[str, str] | None = None, symbols: bool = False,
) -> str:
    """The network with its weights (and, given, their gradients, drawn on `gradient_scale`) as
    an SVG document; with `symbols`, with the parameters' names alone (w1 on its edge, b1 at its
    unit) and every edge alike, in the text's colour: a figure for a lecture or an exercise sheet,
    its values left to the reader.

    features : the k column names, in the order of x1..xk; target : the column the output
    predicts, or one name a output (network.output_names); frozen : the names of the parameters
    that keep their values, drawn dotted and marked "(frozen)", with a legend; shown : shape
    (kept, parameters), every parameter vector a page will show in the figure, whose widest
    values the labels keep room for (None: params' own). Each label sits where no edge, node
    or other label comes near it (network_layout); one that finds no such place is listed under
    the network. Names are drawn as safe.terminal_text writes them: a control character or a
    lone surrogate, which XML does not allow, as its backslash escape. inside : SVG fragments by
    unit ("N1"), each drawn in the square of 2 * NODE_RADIUS a side over its unit's circle, under
    its symbol (render/surface.unit_fields: the unit's own field), with `defs` beside the arrows'.
    """
    if gradients is not None and gradient_scale is None:
        gradient_scale = GradientScale.of(params, gradients.vector[None, :])
    targets = tuple(map(terminal_text, output_names(target, params.n_outputs)))
    layout = network_layout(params, features, target, None if gradients is None else EDGE_REACH, frozen, shown, symbols)
    drawn = _Drawn(layout.largest, layout.widest_edge, gradients, gradient_scale, frozen, symbols)
    inside = inside or {}
    nodes = [_node(unit.replace("yhat", "ŷ"), position, name, anchor, activation, box, inside.get(unit))
             for unit, position, name, anchor, activation, box in layout.units]
    width, network_height = layout.width, layout.network_height
    listed, list_height = _listed(layout.unlabelled, layout.crowded, layout.widest, network_height, width, frozen, symbols)
    keys = ([] if gradients is None else [_gradient_key(gradient_scale)]) + ([_frozen_key()] if frozen else [])
    legend = "".join(f'<g transform="translate(0 {network_height + list_height + LEGEND_HEIGHT * i:.0f})">{key}</g>'
                     for i, key in enumerate(keys))
    height = network_height + list_height + LEGEND_HEIGHT * len(keys)
    scale = "" if gradients is None else f' data-gradient-low="{gradient_scale.low!r}" data-gradient-high="{gradient_scale.high!r}"'
    drawn_edges = [_edge(name, value, start, end, box, drawn) for name, value, start, end, box in layout.edges]
    drawn_biases = [_bias(name, value, box, name in frozen, symbols) for name, value, box in layout.biases]
    description = escape(_description(params, targets, symbols))
    arrows = _arrows(["symbol"] if symbols else ["positive", "negative"])
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="network" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" style="min-width: {width * 11 / LABEL_SIZE:.0f}px" '
        f'data-widest-edge="{layout.widest_edge:g}"{scale} role="img" '
        f'aria-label="{description}">',
        f"<style>{STYLE}{SYMBOL_STYLE if symbols else ''}{FIELD_STYLE if inside else ''}</style>",
        f"<title>{description}</title>",
        arrows if not inside else arrows.replace("</defs>", _UNIT_CLIP + "</defs>"),
        f'<rect class="backdrop" width="{width:.0f}" height="{height:.0f}"/>',
        *drawn_edges, *nodes, *drawn_biases, listed, legend, "</svg>",
    ])


# A figure on a printed page (LaTeX, Typst) is at most this share of the text's width: its labels
# stay readable, and a short exercise's sheet stays on one page.
PRINTED_WIDTH = 0.7


def figure_svg(figure: Figure) -> str:
    """A document's Figure (an exercise sheet's network) as an SVG document."""
    return network_svg(figure.params, figure.features, figure.target, symbols=figure.symbols)


def _place_labels(centres, units, biases, edges, fixed: list[Box], reach: float, widest_edge: float,
                  widest: dict[str, str], frozen: Collection[str]) -> tuple[dict, dict, dict]:
    """Where each label goes (labels.place), clear of the edges (`reach` wide; their weight's
    line `widest_edge` at most), the units' circles
    (at `centres`), the `fixed` texts and each other: the units' activations first, above their
    units, then the biases, under theirs, then the edges' labels on their edges, the strongest
    weights first. (activation boxes by unit, bias boxes by name, edge boxes by index into
    `edges`), None where a label finds no room."""
    activations = [(unit, position, activation) for unit, position, activation in units if activation is not None]
    strongest = sorted(range(len(edges)), key=lambda i: -abs(edges[i][1]))
    candidates = [_around(position, centres, CHARACTER_WIDTH * len(activation), -90) for _, position, activation in activations]
    candidates += [_around(position, centres, _label_length(name, widest[name], name in frozen)) for name, _, position in biases]
    candidates += [_along(edges[i][2], edges[i][3], _label_length(edges[i][0], widest[edges[i][0]], edges[i][0] in frozen),
                          widest_edge) for i in strongest]
    segments = [_segment(start, end, reach) for _, _, start, end in edges]
    segments += [_arrowhead(start, end) for _, _, start, end in edges]
    circles = [Circle(x, y, NODE_RADIUS) for x, y in centres]
    chosen = iter(place(candidates, [None] * (len(activations) + len(biases)) + strongest, segments, circles, fixed))
    activation_boxes = {unit: next(chosen) for unit, _, _ in activations}
    bias_boxes = {name: next(chosen) for name, _, _ in biases}
    return activation_boxes, bias_boxes, {i: next(chosen) for i in strongest}


# The circle a unit's field (network_svg's `inside`) is clipped to, a little inside the unit's rim.
_UNIT_CLIP = '<clipPath id="unit-clip" clipPathUnits="objectBoundingBox"><circle cx="0.5" cy="0.5" r="0.46"/></clipPath>'
def _arrows(signs: Sequence[str]) -> str:
    """The arrowheads' markers, one per class of edge (`signs`: positive and negative, or symbol),
    coloured by the style in either scheme."""
    return "<defs>" + "".join(
        f'<marker id="arrow-{sign}" viewBox="0 0 {ARROW_LENGTH:g} {2 * ARROW_HALF_WIDTH:g}" refX="0" refY="{ARROW_HALF_WIDTH:g}" '
        f'markerWidth="{ARROW_LENGTH:g}" markerHeight="{2 * ARROW_HALF_WIDTH:g}" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path class="arrow {sign}" d="M0,0 L{ARROW_LENGTH:g},{ARROW_HALF_WIDTH:g} L0,{2 * ARROW_HALF_WIDTH:g} z"/></marker>'
        for sign in signs) + "</defs>"


def _inputs(k: int) -> list[str]:
    return [f"x{j + 1}" for j in range(k)]


def _text_width(text: str) -> float:
    """About how wide `text` is drawn at the names' 12 px."""
    return 7.2 * len(text)


def _strongest_inputs(params: Parameters, shown: np.ndarray | None, count: int) -> np.ndarray:
    """Which edges from the inputs to draw, shape (h, k): each hidden unit's `count` of largest
    |w| over `shown` (shape (kept, p)) or params' own."""
    vectors = params.vector[None, :] if shown is None else shown
    index = {name: i for i, name in enumerate(params.names)}
    columns = [index[name] for name in params.W_hidden_names.ravel()]
    strength = np.abs(vectors[:, columns]).max(axis=0).reshape(params.W_hidden.shape)
    order = np.argsort(-strength, axis=1, kind="stable")
    drawn = np.zeros(strength.shape, dtype=bool)
    np.put_along_axis(drawn, order[:, :count], True, axis=1)
    return drawn


def _widest_values(params: Parameters, shown: np.ndarray | None) -> dict[str, str]:
    """Each parameter's widest value as number() writes it, over `shown` (shape (kept, p)) or its own."""
    vectors = params.vector[None, :] if shown is None else shown
    return {name: max((number(float(v)) for v in vectors[:, i]), key=len) for i, name in enumerate(params.names)}


def _label_length(name: str, value: str, frozen: bool) -> float:
    """The length a label of `name` keeps: its name, " = ", its widest value and any (frozen); a
    name alone (no value: a figure of symbols), its letter as wide as DejaVu Sans's w and each
    digit as its digits (SYMBOL_LETTER, SYMBOL_DIGIT), for CHARACTER_WIDTH's average holds only
    over a label of many characters."""
    frozen_mark = CHARACTER_WIDTH * len(" (frozen)") if frozen else 0.0
    if not value:
        return LABEL_SIZE * (SYMBOL_LETTER + SYMBOL_DIGIT * (len(name) - 1)) + frozen_mark
    return CHARACTER_WIDTH * len(f"{name} = {value}") + frozen_mark


def _segment(start, end, reach: float) -> Segment:
    """The edge between two nodes' circles, as wide as its lines may ever `reach` from its centre."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return Segment(x0 + ux * NODE_RADIUS, y0 + uy * NODE_RADIUS, x1 - ux * NODE_RADIUS, y1 - uy * NODE_RADIUS, reach)


def _arrowhead(start, end) -> Segment:
    """The arrowhead at the end of the edge between two nodes: its last ARROW_LENGTH, as wide as the head."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    tip = length - NODE_RADIUS
    return Segment(x0 + ux * (tip - ARROW_LENGTH), y0 + uy * (tip - ARROW_LENGTH), x0 + ux * tip, y0 + uy * tip, ARROW_HALF_WIDTH)


def _along(start, end, length: float, widest_edge: float) -> list[Box]:
    """The places for an edge's label along it, nearest its source first: on the edge itself,
    whose lines break around it (_edge), then beside it, clear of its weight's line at its
    widest, on either side (its gradient's line goes to the other)."""
    (x0, y0), (x1, y1) = start, end
    span = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / span, (y1 - y0) / span
    first, last = NODE_RADIUS + STUB + GAP, span - NODE_RADIUS - ARROW_LENGTH - STUB - GAP - length
    beside = widest_edge / 2 + GAP + LABEL_HEIGHT / 2
    return [Box(x0 + ux * (along + length / 2) - uy * across, y0 + uy * (along + length / 2) + ux * across, math.atan2(uy, ux),
                length / 2, LABEL_HEIGHT / 2)
            for across in (0.0, -beside, beside) for along in np.arange(first, last + 1e-9, 3.0)]


def _around(position, centres, length: float, first: int = 90) -> list[Box]:
    """The places for a label beside a unit: under it (`first` 90) or above it (-90) first, then
    on the other side, then on the diagonals; only those clearly nearer the unit than any other
    of the units' `centres` (by a third), so that the label is read as its unit's."""
    x, y = position
    boxes = []
    for degrees in (first, -first, 60, 120, -60, -120, 30, 150, -30, -150):
        c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        reach = NODE_RADIUS + GAP + 1 + abs(c) * length / 2 + abs(s) * LABEL_HEIGHT / 2
        box = Box(x + c * reach, y + s * reach, 0.0, length / 2, LABEL_HEIGHT / 2)
        own = math.hypot(box.x - x, box.y - y)
        if all(1.5 * own < math.hypot(box.x - cx, box.y - cy) for cx, cy in centres if (cx, cy) != tuple(position)):
            boxes.append(box)
    return boxes


def _name_box(position, name: str, anchor: str) -> Box:
    """Where a column's name is written beside its unit (_node)."""
    x, y = position
    half = _text_width(name) / 2
    centre = x - NODE_RADIUS - 8 - half if anchor == "end" else x + NODE_RADIUS + 8 + half
    return Box(centre, y, 0.0, half, 9.0)


def _description(params: Parameters, targets: Sequence[str], symbols: bool = False) -> str:
    shape = f"{params.n_inputs}-{params.n_hidden}-{params.n_outputs} network"
    activation = f", {params.activation} hidden units" if params.activated else ""
    output = f", {params.output_activation} output{'s' if params.n_outputs > 1 else ''}" if params.out_activated else ""
    return f"The {shape}{activation}{output} that predicts {', '.join(targets)}, {'its name' if symbols else 'a weight'} on every edge"


@dataclass(frozen=True)
class _Drawn:
    """What every edge is drawn against: the largest |weight| and the width it is drawn at, the gradients
    (None: not drawn) and their scale, the frozen parameters' names, and whether the figure is of
    symbols (every edge alike, SYMBOL_EDGE wide, labelled with its name alone)."""

    largest: float
    widest: float
    gradients: Gradients | None
    gradient_scale: GradientScale | None
    frozen: Collection[str]
    symbols: bool = False


def _edge(name, value, start, end, box: Box | None, drawn: _Drawn) -> str:
    """One parameter's edge: the weight's line (dotted when frozen) ending in an arrowhead, its
    gradient's dashed line beside it, and its label in `box`: on the edge, both lines broken
    around it, or beside it, the gradient's line on the other side (None: no label, its title only)."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    def at(along: float, offset: float = 0.0) -> tuple[str, str]:
        return f"{x0 + ux * along - uy * offset:.1f}", f"{y0 + uy * along + ux * offset:.1f}"

    ends = [NODE_RADIUS, length - NODE_RADIUS - ARROW_LENGTH]
    across = 0.0 if box is None else (box.x - x0) * -uy + (box.y - y0) * ux
    if box is not None and abs(across) < 1:
        middle = (box.x - x0) * ux + (box.y - y0) * uy
        ends[1:1] = [middle - box.half_length - GAP, middle + box.half_length + GAP]
    gradient_offset = -GRADIENT_OFFSET if across > 0 else GRADIENT_OFFSET
    pieces = list(zip(ends[::2], ends[1::2]))
    frozen = name in drawn.frozen
    dotted = f' stroke-dasharray="{FROZEN_DASH}"' if frozen else ""
    sign, colour, stroke = (("symbol", SYMBOL_COLOUR, SYMBOL_EDGE) if drawn.symbols else
                            (_sign(value), _colour(value), edge_width(value, drawn.largest, drawn.widest)))
    parts = []
    for piece, (first, last) in enumerate(pieces):
        (ax, ay), (bx, by) = at(first), at(last)
        arrow = f' marker-end="url(#arrow-{sign})"' if piece == len(pieces) - 1 else ""
        parts.append(f'<line class="weight {sign}" x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="{colour}" '
                     f'stroke-width="{stroke:.2f}"{arrow}{dotted}/>')
    (ax, ay), (bx, by) = at(NODE_RADIUS), at(length - NODE_RADIUS)
    parts.append(f'<line class="hit" x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="transparent" stroke-width="14" '
                 f'pointer-events="stroke"/>')
    if drawn.gradients is not None:
        g = float(drawn.gradients.as_dict()[name])
        for first, last in pieces:
            (ax, ay), (bx, by) = at(first, gradient_offset), at(last, gradient_offset)
            parts.append(f'<line class="gradient {_sign(-g)}" x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="{_colour(-g)}" '
                         f'stroke-width="{drawn.gradient_scale.width(g):.2f}"/>')
    if box is not None:
        parts.append(f'<text class="label" x="{box.x:.1f}" y="{box.y:.1f}" transform="rotate({math.degrees(box.angle):.1f} '
                     f'{box.x:.1f} {box.y:.1f})">{_labelled(name, value, drawn.symbols)}'
                     f'{_FROZEN_MARK if frozen else ""}</text>')
    title = f"<title>{_titled(name, value, drawn.symbols)}{' (frozen)' if frozen else ''}</title>"
    classes, marked = ("edge frozen", ' data-frozen="true"') if frozen else ("edge", "")
    return f'<g class="{classes}" data-param="{name}"{marked} tabindex="0" focusable="true">{title}{"".join(parts)}</g>'


_FROZEN_MARK = '<tspan class="frozen"> (frozen)</tspan>'


def _labelled(name: str, value: float, symbols: bool) -> str:
    """A parameter's label: `w1 = <tspan class="value">0.158</tspan>`, or its name alone in a figure of symbols."""
    return name if symbols else f'{name} = <tspan class="value">{number(value)}</tspan>'


def _titled(name: str, value: float, symbols: bool) -> str:
    return name if symbols else f"{name} = {number(value)}"


def _node(label: str, position, name: str | None = None, anchor: str = "start", activation: str | None = None,
          box: Box | None = None, inside: str | None = None) -> str:
    """A unit's circle and symbol; its column's name beside it (`anchor` end: to the left); its
    activation, if it has one (None: the identity), in `box` (placed beside it; None: listed under
    the network); `inside`, a fragment drawn over the circle and under the symbol."""
    x, y = position
    named = ""
    if name is not None and name != label:
        offset = -NODE_RADIUS - 8 if anchor == "end" else NODE_RADIUS + 8
        side = "before" if anchor == "end" else "after"
        named = f'<text class="name {side}" x="{x + offset:.1f}" y="{y:.1f}">{escape(name)}</text>'
    if activation is not None and box is not None:
        named += f'<text class="activation" x="{box.x:.1f}" y="{box.y:.1f}">{activation}</text>'
    if inside is None:
        return (f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}"/>'
                f'<text x="{x:.1f}" y="{y:.1f}">{escape(label)}</text>{named}</g>')
    return (f'<g class="node fielded"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}"/>'
            f'<g transform="translate({x - NODE_RADIUS:.1f} {y - NODE_RADIUS:.1f})">{inside}</g>'
            f'<text x="{x:.1f}" y="{y:.1f}">{escape(label)}</text>{named}</g>')


def _bias(name: str, value: float, box: Box, frozen: bool = False, symbols: bool = False) -> str:
    classes, marked = ("bias frozen", ' data-frozen="true"') if frozen else ("bias", "")
    return (f'<g class="{classes}" data-param="{name}"{marked} tabindex="0" focusable="true">'
            f'<title>{_titled(name, value, symbols)}{" (frozen)" if frozen else ""}</title>'
            f'<text x="{box.x:.1f}" y="{box.y:.1f}">{_labelled(name, value, symbols)}'
            f'{_FROZEN_MARK if frozen else ""}</text></g>')


def _crowded(units: list[tuple[str, str]]) -> list[str]:
    """The units whose activation found no room, one entry a run of units in a row with one
    activation: "N3: tanh", "N2 to N15: tanh"."""
    runs: list[list] = []
    for unit, activation in units:
        last = runs[-1] if runs else None
        if last and last[2] == activation and _follows(last[1], unit):
            last[1] = unit
        else:
            runs.append([unit, unit, activation])
    return [f"{first}: {activation}" if first == last else f"{first} to {last}: {activation}" for first, last, activation in runs]


def _follows(unit: str, next_unit: str) -> bool:
    """Whether `next_unit` is the unit after `unit` in its layer (N2 after N1, ŷ3 after ŷ2)."""
    stem = unit.rstrip("0123456789")
    return (next_unit.rstrip("0123456789") == stem and unit != stem and next_unit != stem
            and int(next_unit[len(stem):]) == int(unit[len(stem):]) + 1)


def _listed(unlabelled: list[tuple[str, float, str]], crowded: list[str], widest: dict[str, str], top: float, width: float,
            frozen: Collection[str], symbols: bool = False) -> tuple[str, float]:
    """The parameters whose labels found no room on the figure, each with where it is drawn
    ("x2 → N8" for an edge, "at N8" for a bias), and the units whose activation found none
    (`crowded`, "N3: tanh"), in columns under it at `top`; (their SVG, its height). The page
    moves the parameters' values as it moves the labels'."""
    if not unlabelled and not crowded:
        return "", 0.0
    entries = [(f'<g class="listed" data-param="{name}"><title>{_titled(name, value, symbols)}, {where}</title>',
                f'{_labelled(name, value, symbols)}{_FROZEN_MARK if name in frozen else ""}'
                f'<tspan class="where"> ({where})</tspan></text></g>',
                _label_length(name, widest[name], name in frozen) + CHARACTER_WIDTH * (len(where) + 3))
               for name, value, where in unlabelled]
    entries += [("<g>", f"{escape(text)}</text></g>", CHARACTER_WIDTH * len(text)) for text in crowded]
    column = max(length for _, _, length in entries) + 16
    columns = max(1, int((width - 40) // column))
    lines = math.ceil(len(entries) / columns)
    parts = [f'<g class="unlabelled"><text class="heading" x="30" y="{top + 4:.1f}">Not labelled on the figure (no room), '
             f"or not drawn (a unit's weaker inputs):</text>"]
    for i, (opening, text, _) in enumerate(entries):
        x, y = 30 + (i // lines) * column, top + 4 + LIST_LINE * (1 + i % lines)
        parts.append(f'{opening}<text x="{x:.1f}" y="{y:.1f}">{text}')
    return "".join(parts) + "</g>", LIST_LINE * (lines + 1) + 8


def _frozen_key() -> str:
    """The key to the frozen parameters' dotted edges, a line of LEGEND_HEIGHT."""
    y = LEGEND_HEIGHT / 2
    return (f'<g class="frozen-legend"><line x1="30" x2="70" y1="{y:.1f}" y2="{y:.1f}" stroke="#777777" stroke-width="3" '
            f'stroke-linecap="round" stroke-dasharray="{FROZEN_DASH}"/>'
            f'<text x="78" y="{y + 4:.1f}">dotted and marked (frozen): the parameter keeps its value</text></g>')


def _gradient_key(scale: GradientScale) -> str:
    """The key to the dashed gradient lines' widths, a line of LEGEND_HEIGHT: the thinnest line
    beside the smallest |dL/dw| of the run, the widest beside the largest."""
    y = LEGEND_HEIGHT / 2
    smallest = f"|dL/dw| = {number(10.0**scale.low)}"
    largest = f"{number(10.0**scale.high)}, on one log scale for the whole run (no line where dL/dw = 0)"
    second = 30 + 30 + CHARACTER_WIDTH * len(smallest) + 12

    def sample(x: float, width: float, text: str) -> str:
        return (f'<line class="gradient" x1="{x:.0f}" x2="{x + 24:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#777777" '
                f'stroke-width="{width:g}"/><text x="{x + 30:.0f}" y="{y + 4:.1f}">{escape(text)}</text>')

    return f'<g class="gradient-key">{sample(30, THINNEST_GRADIENT, smallest)}{sample(second, WIDEST_GRADIENT, largest)}</g>'


class Axis:
    """A linear or logarithmic map from data values to pixels, with round ticks."""

    def __init__(self, low: float, high: float, start: float, end: float, log: bool):
        if log:
            low, high = math.log10(low), math.log10(high)
        if not high > low:
            low, high = low - 0.5, high + 0.5
        self.low, self.high, self.start, self.end, self.log = low, high, start, end, log

    def at(self, value) -> np.ndarray:
        value = np.log10(value) if self.log else np.asarray(value, dtype=float)
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        """(value, label) of 3 to 8 round values inside the axis: powers of ten on a log axis."""
        if self.log:
            powers = range(math.ceil(self.low), math.floor(self.high) + 1)
            values = [10.0**p for p in powers]
            if len(values) < 3:
                values = sorted({m * 10.0**p for p in range(math.floor(self.low), math.ceil(self.high) + 1)
                                 for m in (1, 2, 5) if self.low <= math.log10(m * 10.0**p) <= self.high})
            return [(v, f"{v:g}") for v in values[:: max(1, len(values) // 8 + 1)]]
        step = _round_step((self.high - self.low) / 5)
        first = math.ceil(self.low / step) * step
        values = [first + i * step for i in range(int((self.high - first) / step + 1e-9) + 1)]
        return [(v, f"{v + 0.0:.6g}") for v in values]


def _round_step(target: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten at least `target`."""
    power = 10.0 ** math.floor(math.log10(target))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= target)


def palette_css(selector: str) -> str:
    """PALETTE as CSS custom properties (--text, --back, ...) of `selector`, the dark scheme's
    under prefers-color-scheme: dark."""
    light, dark = ("; ".join(f"--{role}: {colour}" for role, colour in PALETTE[scheme].items()) for scheme in ("light", "dark"))
    return f"{selector} {{ {light}; }}\n@media (prefers-color-scheme: dark) {{ {selector} {{ {dark}; }} }}\n"


# The loss figure's smallest text; on a page its min-width keeps that at 11 px or more (it
# scrolls sideways on a narrower screen, as the network does).
LOSS_TEXT_SIZE = 12
LOSS_STYLE = palette_css("svg.loss-plot") + """
  svg.loss-plot text { fill: var(--text); font-family: system-ui, sans-serif; font-size: %dpx; }
  svg.loss-plot .back { fill: var(--back); }
  svg.loss-plot .axis line { stroke: var(--muted); }
  svg.loss-plot .axis line.grid { stroke: var(--line); }
  svg.loss-plot .axis .final text { font-weight: 600; }
  svg.loss-plot .curve { fill: none; stroke-width: 2; stroke-linejoin: round; }
  svg.loss-plot .loss { stroke: var(--positive); }
  svg.loss-plot .validation { stroke: var(--negative); stroke-dasharray: 6 4; }
  svg.loss-plot .best { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 3 3; }
  svg.loss-plot circle.final { fill: var(--text); }
  svg.loss-plot .title { font-size: 14px; font-weight: 600; }
""" % LOSS_TEXT_SIZE
# The loss figure's size, and the room its labels take: characters of 12 px system-ui are
# at most about TICK_CHAR wide; no two tick labels on the loss axis closer than TICK_GAP.
LOSS_WIDTH, LOSS_HEIGHT = 540, 320
TICK_CHAR, TICK_GAP = 7.0, 15.0


def loss_svg(
    epochs: np.ndarray,
    losses: np.ndarray,
    val_losses: np.ndarray | None = None,
    best: float | None = None,
    log_epochs: bool = False,
    title: str = "Loss per epoch",
    *,
    final: float,
) -> str:
    """The loss curve with axes and ticks, the validation loss dashed, least squares' best loss
    (`best`) as a dotted line, the final loss (at the final weights) and the highest loss ticked
    on the loss axis, the final one marked at the last epoch. The loss axis takes report.loss_scale of them all (so every
    line lies inside it, clear of its ends, on a log scale when they span decades), the epochs a
    log scale with `log_epochs`. At most 1,200 points a curve. The plot area's scales are in
    data attributes, so that the page can put a marker on any epoch.

    epochs, losses, val_losses : shape (m,)
    """
    curves = [("loss", losses)] + ([] if val_losses is None else [("validation", val_losses)])
    scale = loss_scale(losses, val_losses, final, best if best else None)
    width, height, right, bottom = LOSS_WIDTH, LOSS_HEIGHT, 20, 46
    keys = _keys(curves, best, width - right)
    top = 36 + 17 * len(keys)
    y = Axis(scale.low, scale.high, height - bottom, top, scale.log)
    highest = max((float(np.max(curve, initial=-np.inf, where=np.isfinite(curve))) for _, curve in curves), default=math.nan)
    ticks = _loss_ticks(y, final, highest)
    left = 30 + TICK_CHAR * max(len(label) for _, label, _ in ticks)
    x = Axis(float(epochs[0]), float(epochs[-1]), left, width - right, log_epochs and epochs[-1] > 1)
    picked = _picked(epochs, x)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="loss-plot" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" style="min-width: {width * 11 / LOSS_TEXT_SIZE:.0f}px" role="img" aria-label="{escape(title)}" data-x-low="{x.low!r}" data-x-high="{x.high!r}" '
        f'data-x-log="{int(x.log)}" data-y-low="{y.low!r}" data-y-high="{y.high!r}" data-y-log="{int(y.log)}" '
        f'data-left="{left}" data-right="{width - right}" data-top="{top}" data-bottom="{height - bottom}">',
        f"<style>{LOSS_STYLE}</style>",
        f'<rect class="back" width="{width}" height="{height}"/>',
        f'<text class="title" x="20" y="20">{escape(title)}</text>',
        *_axes(x, y, ticks, width, height, left, right, top, bottom),
    ]
    if best:
        at = float(y.at(best))
        parts.append(f'<line class="best" x1="{left}" x2="{width - right}" y1="{at:.1f}" y2="{at:.1f}">'
                     f"<title>least squares: {number(best)}</title></line>")
    for name, curve in curves:
        keep = picked[np.isfinite(curve[picked])]
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in zip(x.at(epochs[keep]), y.at(curve[keep])))
        parts.append(f'<polyline class="curve {name}" points="{points}"/>')
    if math.isfinite(final):
        parts.append(f'<circle class="final" cx="{float(x.at(epochs[-1])):.1f}" cy="{float(y.at(final)):.1f}" r="3.5">'
                     f"<title>final loss (at the final weights): {number(final)}</title></circle>")
    parts.append(_legend(keys))
    return "".join(parts) + "</svg>"


def _loss_ticks(y: Axis, final: float, highest: float) -> list[tuple[float, str, bool]]:
    """(value, label, is the final loss) of the loss axis: the highest loss shown and the final
    loss as the summary writes them (6 digits), so that both ends of the curve can be read off
    it, and the round ticks that would not crowd their labels (the highest left out where it
    would crowd the final loss's)."""
    values = [(final, number(final), True)] if math.isfinite(final) else []
    if math.isfinite(highest) and all(abs(float(y.at(highest)) - float(y.at(value))) >= TICK_GAP for value, _, _ in values):
        values.append((highest, number(highest), False))
    kept = [(value, label, False) for value, label in y.ticks()
            if all(abs(float(y.at(value)) - float(y.at(shown))) >= TICK_GAP for shown, _, _ in values)]
    return sorted([*kept, *values], key=lambda tick: tick[0])


def _picked(epochs: np.ndarray, x: Axis, most: int = 1200) -> np.ndarray:
    """The indices of at most `most` epochs, evenly spaced along the axis, first and last always."""
    if len(epochs) <= most:
        return np.arange(len(epochs))
    wanted = np.linspace(x.low, x.high, most)
    positions = 10.0**wanted if x.log else wanted
    return np.unique(np.searchsorted(epochs, positions).clip(0, len(epochs) - 1))


def _axes(x: Axis, y: Axis, ticks, width, height, left, right, top, bottom) -> list[str]:
    parts = [f'<g class="axis"><line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"/>'
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}"/>']
    for value, label in x.ticks():
        px = float(x.at(value))
        parts.append(f'<line class="grid" x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{height - bottom}"/>'
                     f'<text x="{px:.1f}" y="{height - bottom + 17}" text-anchor="middle">{label}</text>')
    for value, label, final in ticks:
        py = float(y.at(value))
        if final:
            parts.append(f'<g class="final"><line x1="{left - 5}" x2="{left}" y1="{py:.1f}" y2="{py:.1f}"/>'
                         f'<text x="{left - 7}" y="{py + 4:.1f}" text-anchor="end">{label}</text></g>')
        else:
            parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{py:.1f}" y2="{py:.1f}"/>'
                         f'<text x="{left - 7}" y="{py + 4:.1f}" text-anchor="end">{label}</text>')
    scale = " (log scale)" if x.log else ""
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 8}" text-anchor="middle">epoch{scale}</text>')
    middle = (top + height - bottom) / 2
    parts.append(f'<text x="16" y="{middle:.0f}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {middle:.0f})">loss{" (log scale)" if y.log else ""}</text></g>')
    return parts


def _keys(curves, best: float | None, right: float) -> list[list[tuple[float, str, str | None]]]:
    """The legend's rows of (x, label, class of its mark): each curve, least squares with its
    value (0: not drawn, for it lies below any axis that shows the curve), the final loss's
    mark; a new row where one would pass `right`."""
    entries = [("training loss", "curve loss")] if len(curves) == 1 else [("training", "curve loss"), ("validation", "curve validation")]
    if best is not None:
        entries.append((f"least squares {number(best)}", "best") if best else ("least squares 0, below the axis", None))
    entries.append(("final loss", "final"))
    rows, x = [[]], 20.0
    for label, mark in entries:
        wide = 27 + TICK_CHAR * len(label)
        if x + wide > right and rows[-1]:
            rows.append([])
            x = 20.0
        rows[-1].append((x, label, mark))
        x += wide + 18
    return rows


def _legend(rows) -> str:
    """The key, laid out by _keys."""
    parts = ['<g class="keys">']
    for row, entries in enumerate(rows):
        y = 36 + 17 * row
        for x, label, mark in entries:
            if mark == "final":
                parts.append(f'<circle class="final" cx="{x + 11}" cy="{y - 4}" r="3.5"/>')
            elif mark is not None:
                parts.append(f'<line class="{mark}" x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}"/>')
            parts.append(f'<text x="{x + 27}" y="{y}">{label}</text>')
    return "".join(parts) + "</g>"
