"""Figures as SVG: the network with a weight on every edge, and the loss curve.

The network is drawn as the lecture draws it: the inputs on the left, the hidden units N1..NH in
the middle, yhat on the right; every edge carries its parameter's name and value, its colour is
the sign (blue for positive, orange for negative: a pair colour-blind readers tell apart) and its
width the magnitude; each unit's bias is written under it. With gradients, each edge also shows
dL/dw as a dashed line beside it, coloured by the direction the update moves the weight.

Every parameter's group carries `data-param` (its lecture name) and `tabindex`, and every
drawn value a class, so that the page (render/html.py) can move them from epoch to epoch.
The figures are self-contained SVG 1.1 (no script, no external reference), so they go on a
slide as they are.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from ..network import Gradients, Parameters, output_names, output_symbols
from ..notation import number
from ..report import loss_scale
from .safe import terminal_text

POSITIVE, NEGATIVE = "#2166ac", "#b35806"
WIDEST_EDGE = 7.0
ROW_HEIGHT, COLUMN_GAP = 92, 300
NODE_RADIUS = 22
# Beyond this many input-to-hidden edges their labels would cover each other: those edges keep
# their title (shown on hover) only.
MOST_LABELLED_EDGES = 12
# Room under the network for the legend of the frozen parameters' style.
LEGEND_HEIGHT = 28
FROZEN_DASH = "1 6"
STYLE = """
  .node circle { fill: #ffffff; stroke: #333333; stroke-width: 1.5; }
  .node text, .label, .bias text, .axis text, .keys text, .title { fill: #222222; font-family: system-ui, sans-serif; }
  .node text { font-size: 15px; text-anchor: middle; dominant-baseline: central; }
  .node text.name { font-size: 12px; fill: #555555; }
  .node text.before { text-anchor: end; }
  .node text.after { text-anchor: start; }
  .label { font-size: 11.5px; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; stroke-linejoin: round; }
  .bias text { font-size: 11.5px; text-anchor: middle; }
  .gradient { stroke-dasharray: 5 4; opacity: 0.75; }
  .node text.activation, .frozen-legend text { font-size: 11.5px; fill: #555555; font-family: system-ui, sans-serif; }
  tspan.frozen { font-style: italic; }
  [data-param]:focus { outline: none; }
  [data-param]:focus .weight, [data-param]:hover .weight { filter: drop-shadow(0 0 2px #888888); }
  @media (prefers-color-scheme: dark) {
    .node circle { fill: #1e1e1e; stroke: #dddddd; }
    .node text, .label, .bias text, .axis text, .keys text, .title { fill: #eeeeee; }
    .node text.name, .node text.activation, .frozen-legend text { fill: #bbbbbb; }
    .label { stroke: #1e1e1e; }
  }
"""


def _colour(value: float) -> str:
    return POSITIVE if value >= 0 else NEGATIVE


def edge_width(value: float, largest: float) -> float:
    """1 for a zero weight to WIDEST_EDGE for the largest in magnitude."""
    return 1.0 + (WIDEST_EDGE - 1.0) * (abs(value) / largest if largest > 0 else 0.0)


def network_svg(
    params: Parameters, features: Sequence[str], target="y", gradients: Gradients | None = None,
    frozen: Collection[str] = (),
) -> str:
    """The network with its weights (and, given, their gradients) as an SVG document.

    features : the k column names, in the order of x1..xk; target : the column the output
    predicts, or one name a output (network.output_names); frozen : the names of the parameters
    that keep their values, drawn dotted and marked "(frozen)", with a legend. Names are drawn as
    safe.terminal_text writes them: a control character or a lone surrogate, which XML does not
    allow, as its backslash escape.
    """
    k, h, m = params.n_inputs, params.n_hidden, params.n_outputs
    features = [terminal_text(feature) for feature in features]
    targets = tuple(map(terminal_text, output_names(target, m)))
    rows = max(k, h, m, 1)
    height = rows * ROW_HEIGHT + 90 + (LEGEND_HEIGHT if frozen else 0)
    x_in = 30 + NODE_RADIUS + _text_width(max((f for f, x in zip(features, _inputs(k)) if f != x), key=len, default=""))
    x_hidden, x_out = x_in + COLUMN_GAP, x_in + 2 * COLUMN_GAP
    output_biases = [f"{name} = {number(float(value))} (frozen)" for name, value in zip(params.b_outputs_names, params.b_outputs)
                     if params.bias and name in frozen]
    width = x_out + max([NODE_RADIUS + 30 + _text_width(max(targets, key=len)), *(_text_width(b) / 2 + 10 for b in output_biases)])
    y_of = lambda index, count: 40 + (rows - count) * ROW_HEIGHT / 2 + index * ROW_HEIGHT + ROW_HEIGHT / 2  # noqa: E731
    inputs = [(x_in, y_of(j, k)) for j in range(k)]
    hidden = [(x_hidden, y_of(u, h)) for u in range(h)]
    outputs = [(x_out, y_of(j, m)) for j in range(m)]
    weights = np.concatenate([params.W_hidden.ravel(), params.W_out.ravel()])
    largest = float(np.max(np.abs(weights)))
    steepest = 0.0 if gradients is None else float(np.max(np.abs(np.concatenate([gradients.W_hidden.ravel(), gradients.W_out.ravel()]))))
    drawn = _Drawn(largest, gradients, steepest, frozen)
    at_hidden = 0.3 if k * h <= MOST_LABELLED_EDGES else None
    at_out = 0.45 if m == 1 else 0.3 if m * h <= MOST_LABELLED_EDGES else None
    edges = []
    for u in range(h):
        for j in range(k):
            edges.append(_edge(params.W_hidden_names[u, j], params.W_hidden[u, j], inputs[j], hidden[u], at_hidden, drawn))
        for j in range(m):
            edges.append(_edge(params.W_out_names[j, u], params.W_out[j, u], hidden[u], outputs[j], at_out, drawn))
    nodes = [_node(x, position, feature, "end") for x, position, feature in zip(_inputs(k), inputs, features)]
    nodes += [_node(f"N{u + 1}", position, activation=params.activation) for u, position in enumerate(hidden)]
    nodes += [_node(symbol.replace("yhat", "ŷ"), position, name, "start", params.output_activation)
              for symbol, position, name in zip(output_symbols(m), outputs, targets)]
    biases = [] if not params.bias else [
        _bias(name, value, position, name in frozen) for name, value, position in
        (*zip(params.b_hidden_names, params.b_hidden, hidden), *zip(params.b_outputs_names, params.b_outputs, outputs))]
    legend = _frozen_legend(height - LEGEND_HEIGHT) if frozen else ""
    description = escape(_description(params, targets))
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="network" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{description}">',
        f"<style>{STYLE}</style>",
        f"<title>{description}</title>",
        *edges, *nodes, *biases, legend, "</svg>",
    ])


def _inputs(k: int) -> list[str]:
    return [f"x{j + 1}" for j in range(k)]


def _text_width(text: str) -> float:
    """About how wide `text` is drawn at the names' 12 px."""
    return 7.2 * len(text)


def _description(params: Parameters, targets: Sequence[str]) -> str:
    shape = f"{params.n_inputs}-{params.n_hidden}-{params.n_outputs} network"
    activation = "" if params.activation == "identity" else f", {params.activation} hidden units"
    output = "" if params.output_activation == "identity" else f", {params.output_activation} output{'s' if params.n_outputs > 1 else ''}"
    return f"The {shape}{activation}{output} that predicts {', '.join(targets)}, a weight on every edge"


@dataclass(frozen=True)
class _Drawn:
    """What every edge is drawn against: the largest |weight| and |gradient| (the widest edges),
    the gradients (None: not drawn) and the frozen parameters' names."""

    largest: float
    gradients: Gradients | None
    steepest: float
    frozen: Collection[str]


def _edge(name, value, start, end, at, drawn: _Drawn) -> str:
    """One parameter's edge: the weight's line (dotted when frozen), its gradient's dashed line,
    and its label along the line at `at` of the way (where edges fanning out of one unit are
    apart; None: no label, its title only)."""
    value = float(value)
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    x0, y0, x1, y1 = x0 + ux * NODE_RADIUS, y0 + uy * NODE_RADIUS, x1 - ux * NODE_RADIUS, y1 - uy * NODE_RADIUS
    frozen = name in drawn.frozen
    dotted = f' stroke-dasharray="{FROZEN_DASH}"' if frozen else ""
    line = (f'<line class="weight" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
            f'stroke="{_colour(value)}" stroke-width="{edge_width(value, drawn.largest):.2f}" stroke-linecap="round"{dotted}/>'
            f'<line class="hit" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="transparent" '
            f'stroke-width="14" pointer-events="stroke"/>')
    gradient = ""
    if drawn.gradients is not None:
        g, steepest = float(drawn.gradients.as_dict()[name]), drawn.steepest
        dx, dy = -uy * 5, ux * 5  # beside the weight's line
        gradient = (f'<line class="gradient" x1="{x0 + dx:.1f}" y1="{y0 + dy:.1f}" x2="{x1 + dx:.1f}" y2="{y1 + dy:.1f}" '
                    f'stroke="{_colour(-g)}" stroke-width="{0.5 + 3.5 * (abs(g) / steepest if steepest > 0 else 0):.2f}"/>')
    label = ""
    if at is not None:
        lx, ly = x0 + (x1 - x0) * at, y0 + (y1 - y0) * at
        angle = math.degrees(math.atan2(uy, ux))
        label = (f'<text class="label" x="{lx:.1f}" y="{ly:.1f}" dy="-6" text-anchor="middle" '
                 f'transform="rotate({angle:.1f} {lx:.1f} {ly:.1f})">{name} = <tspan class="value">{number(value)}</tspan>'
                 f'{_FROZEN_MARK if frozen else ""}</text>')
    title = f"<title>{name} = {number(value)}{' (frozen)' if frozen else ''}</title>"
    classes, marked = ("edge frozen", ' data-frozen="true"') if frozen else ("edge", "")
    return f'<g class="{classes}" data-param="{name}"{marked} tabindex="0" focusable="true">{title}{line}{gradient}{label}</g>'


_FROZEN_MARK = '<tspan class="frozen"> (frozen)</tspan>'


def _node(label: str, position, name: str | None = None, anchor: str = "start", activation: str = "identity") -> str:
    """A unit's circle and symbol; its column's name beside it (`anchor` end: to the left); its
    activation, unless the identity, above it."""
    x, y = position
    named = ""
    if name is not None and name != label:
        offset = -NODE_RADIUS - 8 if anchor == "end" else NODE_RADIUS + 8
        side = "before" if anchor == "end" else "after"
        named = f'<text class="name {side}" x="{x + offset:.1f}" y="{y:.1f}">{escape(name)}</text>'
    if activation != "identity":
        named += f'<text class="activation" x="{x:.1f}" y="{y - NODE_RADIUS - 9:.1f}">{activation}</text>'
    return (f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}"/>'
            f'<text x="{x:.1f}" y="{y:.1f}">{escape(label)}</text>{named}</g>')


def _bias(name: str, value: float, position, frozen: bool = False) -> str:
    x, y = position
    classes, marked = ("bias frozen", ' data-frozen="true"') if frozen else ("bias", "")
    return (f'<g class="{classes}" data-param="{name}"{marked} tabindex="0" focusable="true">'
            f'<title>{name} = {number(value)}{" (frozen)" if frozen else ""}</title>'
            f'<text x="{x:.1f}" y="{y + NODE_RADIUS + 16:.1f}">{name} = <tspan class="value">{number(float(value))}</tspan>'
            f'{_FROZEN_MARK if frozen else ""}</text></g>')


def _frozen_legend(top: float) -> str:
    """The key to the frozen parameters' dotted edges, at `top` under the network."""
    y = top + LEGEND_HEIGHT / 2
    return (f'<g class="frozen-legend"><line x1="30" x2="70" y1="{y:.1f}" y2="{y:.1f}" stroke="#777777" stroke-width="3" '
            f'stroke-linecap="round" stroke-dasharray="{FROZEN_DASH}"/>'
            f'<text x="78" y="{y + 4:.1f}">dotted, (frozen): the parameter is frozen and keeps its value</text></g>')


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


def palette_css(selector: str) -> str:
    """PALETTE as CSS custom properties (--text, --back, ...) of `selector`, the dark scheme's
    under prefers-color-scheme: dark."""
    light, dark = ("; ".join(f"--{role}: {colour}" for role, colour in PALETTE[scheme].items()) for scheme in ("light", "dark"))
    return f"{selector} {{ {light}; }}\n@media (prefers-color-scheme: dark) {{ {selector} {{ {dark}; }} }}\n"


LOSS_STYLE = palette_css("svg.loss-plot") + """
  svg.loss-plot text { fill: var(--text); font-family: system-ui, sans-serif; font-size: 12px; }
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
"""
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
    (`best`) as a dotted line, the final loss (at the final weights) ticked on the loss axis and
    marked at the last epoch. The loss axis takes report.loss_scale of them all (so every
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
    ticks = _loss_ticks(y, final)
    left = 30 + TICK_CHAR * max(len(label) for _, label, _ in ticks)
    x = Axis(float(epochs[0]), float(epochs[-1]), left, width - right, log_epochs and epochs[-1] > 1)
    picked = _picked(epochs, x)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="loss-plot" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" data-x-low="{x.low!r}" data-x-high="{x.high!r}" '
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


def _loss_ticks(y: Axis, final: float) -> list[tuple[float, str, bool]]:
    """(value, label, is the final loss) of the loss axis: its round ticks, and the final loss as
    the summary writes it (6 digits), the round ticks that would crowd its label left out."""
    if not math.isfinite(final):
        return [(value, label, False) for value, label in y.ticks()]
    at = float(y.at(final))
    kept = [(value, label, False) for value, label in y.ticks() if abs(float(y.at(value)) - at) >= TICK_GAP]
    return sorted([*kept, (final, number(final), True)], key=lambda tick: tick[0])


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
