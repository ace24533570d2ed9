"""The decision surface as SVG: the TensorFlow Playground's picture for the user's data.

A field of square cells over the plane of the two inputs, each cell painted in the colour of
its likelier class (the first class orange, the second blue, as the network figure's signs;
more classes, one hue each) at an opacity that is the class's lead over an even split,

    strength = (P(likeliest class) - 1/q) / (1 - 1/q)      (|2p - 1| for two classes)

so that a probability of 0.5 is the plain background (white, or dark in the dark scheme); the
whole field is lightened (FIELD_OPACITY), so that a sure cell is a tint of its colour, as the
Playground's field. The rows are drawn over it as points in their class's full colour, each
ringed in white or near-black, whichever stands out more from that colour: a point stands out
(WCAG's 3:1) from the field under it whatever its class and the field's, in both schemes. Each hidden unit's
own output N over the same plane fills its node in the network figure (unit_fields): blue where
N is positive, orange where negative, its opacity |N| over the unit's largest |N| on the plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from ..outputs import terminal_text
from ..network import Parameters
from ..scaling import Scaling
from ..surface import FIELD_CELLS, UNIT_CELLS, Field, Plane, field
from .svg import NODE_RADIUS, PALETTE, palette_css

# The classes' colours: the first two the network figure's orange and blue, then the palette's
# others, each scheme's (a class's cells, points and key carry class "k0", "k1", ...); beyond
# them, hues evenly round the colour wheel, each at the relative luminance HUE_LUMINANCE[scheme]
# (dark in the light scheme, light in the dark one, as the palette's roles).
CLASS_ROLES = ("negative", "positive", "good", "accent", "bad")
HUE_LUMINANCE = {"light": 0.12, "dark": 0.4}
# The opacity of a sure cell (the field's group): the largest leaving every point 3:1 or more
# from the field under it, whatever the two classes, in both schemes (test_surface checks it).
FIELD_OPACITY = 0.25
# The two rings a point may take: the one that contrasts more with its fill is drawn.
RINGS = ("#ffffff", "#1d1d1f")
# The field's side in pixels, the room for the axes' ticks and names, and a point's radius.
FIELD_SIZE, LEFT, BOTTOM, TOP, RIGHT, POINT_RADIUS = 320, 84, 44, 34, 16, 4.0
# The most rows drawn as points (evenly spaced among them, the first always).
MOST_POINTS = 2000


def class_colours(q: int, scheme: str = "light") -> list[str]:
    """The colours of q classes in `scheme` ("light" or "dark"), in the classes' order."""
    beyond = q - len(CLASS_ROLES)
    extra = [_hue(360.0 * i / beyond + 200.0, HUE_LUMINANCE[scheme]) for i in range(max(0, beyond))]
    return [PALETTE[scheme][role] for role in CLASS_ROLES[:q]] + extra


def _hue(degrees: float, luminance: float) -> str:
    """A colour of hue `degrees` at the palette's saturation (HSL 65%) and the HSL lightness that
    gives it relative `luminance` (bisected: luminance grows with lightness)."""
    import colorsys

    def colour(lightness: float) -> str:
        r, g, b = colorsys.hls_to_rgb((degrees % 360) / 360, lightness, 0.65)
        return "#" + "".join(f"{round(255 * v):02x}" for v in (r, g, b))

    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (middle, high) if relative_luminance(colour(middle)) < luminance else (low, middle)
    return colour((low + high) / 2)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of "#rrggbb"."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ring(colour: str) -> str:
    """The ring of a point of `colour`: whichever of RINGS contrasts more with it."""
    return max(RINGS, key=lambda candidate: contrast(candidate, colour))


SURFACE_STYLE = palette_css("svg.surface") + """
  svg.surface text { fill: var(--text); font-family: system-ui, sans-serif; font-size: 12px; }
  svg.surface .back { fill: var(--back); }
  svg.surface .frame { fill: none; stroke: var(--muted); }
  svg.surface .title { font-size: 14px; font-weight: 600; }
  svg.surface .point { stroke-width: 1.5; }
""" + "".join(f"  svg.surface .k{j} {{ fill: var(--{role}); }}\n  svg.surface .point.k{j} {{ stroke: {ring(PALETTE['light'][role])}; }}\n"
              for j, role in enumerate(CLASS_ROLES)) + "  @media (prefers-color-scheme: dark) {\n" + "".join(
    f"    svg.surface .point.k{j} {{ stroke: {ring(PALETTE['dark'][role])}; }}\n" for j, role in enumerate(CLASS_ROLES)) + "  }\n"


def _hues_style(q: int) -> str:
    """The style of the classes beyond CLASS_ROLES' (hues, not the palette's roles) in each scheme."""
    light, dark = (class_colours(q, scheme)[len(CLASS_ROLES):] for scheme in ("light", "dark"))
    first = len(CLASS_ROLES)
    return "".join(f"  svg.surface .k{first + i} {{ fill: {colour}; }}\n  svg.surface .point.k{first + i} {{ stroke: {ring(colour)}; }}\n"
                   for i, colour in enumerate(light)) + ("  @media (prefers-color-scheme: dark) {\n" + "".join(
        f"    svg.surface .k{first + i} {{ fill: {colour}; }}\n    svg.surface .point.k{first + i} {{ stroke: {ring(colour)}; }}\n"
        for i, colour in enumerate(dark)) + "  }\n" if dark else "")


def paint(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's likeliest class and its strength (the module's docstring).  probabilities :
    shape (q, c, c); returns shape (c, c) ints and shape (c, c) floats in [0, 1]."""
    q = len(probabilities)
    likeliest = probabilities.argmax(axis=0)
    strength = (probabilities.max(axis=0) - 1.0 / q) / (1.0 - 1.0 / q)
    return likeliest, np.clip(strength, 0.0, 1.0)


def unit_strength(N: np.ndarray) -> np.ndarray:
    """N over its largest |N| on the plane, in [-1, 1] (0 everywhere for a unit that is 0 everywhere).  N : shape (c, c)."""
    largest = float(np.max(np.abs(N)))
    return N / largest if largest > 0 else np.zeros_like(N)


def _cells(likeliest: np.ndarray, strength: np.ndarray, colours: Sequence[str], kinds: Sequence[str], size: float) -> str:
    """The cells of a field, row r of the grid (x2's r-th centre) drawn from the bottom up, each
    `size` / c square, a cell of kind j in colours[j] and class kinds[j]; its data-cell is "r,s"."""
    c = len(strength)
    side = size / c
    return "".join(
        f'<rect x="{s * side:.2f}" y="{(c - 1 - r) * side:.2f}" width="{side:.2f}" height="{side:.2f}" '
        f'class="{kinds[likeliest[r, s]]}" fill="{colours[likeliest[r, s]]}" fill-opacity="{strength[r, s]:.4f}" data-cell="{r},{s}"/>'
        for r in range(c) for s in range(c))


def unit_fields(computed: Field) -> dict[str, str]:
    """Each hidden unit's field as a fragment for its node (svg.network_svg's `inside`), by its
    symbol ("N1"): a square of 2 * NODE_RADIUS a side at the origin, clipped to the node's circle."""
    negative, positive = PALETTE["light"]["negative"], PALETTE["light"]["positive"]
    fragments = {}
    for h, N in enumerate(computed.N):
        signed = unit_strength(N)
        cells = _cells((signed >= 0).astype(int), np.abs(signed), (negative, positive), ("negative", "positive"), 2 * NODE_RADIUS)
        fragments[f"N{h + 1}"] = (f'<g class="unit-field" data-unit="N{h + 1}" clip-path="url(#unit-clip)" '
                                  f'shape-rendering="crispEdges">{cells}</g>')
    return fragments


def classifier_figures(params: Parameters, features: Sequence[str], labels: Sequence | None, plane: Plane,
                       X: np.ndarray | None = None, classes: np.ndarray | None = None,
                       scaling: Scaling | None = None) -> tuple[dict[str, str], str]:
    """(each hidden unit's field, for network_svg's `inside`; the surface's figure, surface_svg)
    of a classifier of two inputs over `plane`, read through `scaling` (surface.field); `labels`,
    the classes' (None: their indices 0, 1, ...)."""
    whole = field(params, plane, FIELD_CELLS, scaling)
    labels = range(len(whole.probabilities)) if labels is None else labels
    return unit_fields(field(params, plane, UNIT_CELLS, scaling)), surface_svg(whole, features, labels, X, classes)


def surface_svg(field: Field, features: Sequence[str], labels: Sequence, X: np.ndarray | None = None,
                classes: np.ndarray | None = None) -> str:
    """The decision surface as an SVG document: the field, the rows X (shape (n, 2)) as points
    coloured by their class index `classes` (shape (n,)), a key of the classes' `labels`, the
    inputs' names (`features`) on the axes. The plane's corners and the colours ride on the <svg>
    (data-low, data-high, data-colours; data-positive, data-negative: the units' fields') for the
    page's script (render/surface.js) to recompute the field at each epoch."""
    q = len(field.probabilities)
    colours = class_colours(q)
    likeliest, strength = paint(field.probabilities)
    low, high = field.plane.low, field.plane.high
    x_name, y_name = (escape(terminal_text(name)) for name in features)
    width = LEFT + FIELD_SIZE + RIGHT
    key_rows = -(-q // 3)
    height = TOP + FIELD_SIZE + BOTTOM + 20 * key_rows + 8

    def at(x1, x2):
        return LEFT + (x1 - low[0]) / (high[0] - low[0]) * FIELD_SIZE, TOP + (high[1] - x2) / (high[1] - low[1]) * FIELD_SIZE

    ticks = []
    for i, value in enumerate(np.linspace(low[0], high[0], 3)):
        x, _ = at(value, low[1])
        anchor = ("start", "middle", "end")[i]
        ticks.append(f'<text x="{x:.1f}" y="{TOP + FIELD_SIZE + 16}" text-anchor="{anchor}">{_tick(value)}</text>')
    for i, value in enumerate(np.linspace(low[1], high[1], 3)):
        _, y = at(low[0], value)
        baseline = ("auto", "central", "hanging")[i]
        ticks.append(f'<text x="{LEFT - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="{baseline}">{_tick(value)}</text>')
    names = (f'<text x="{LEFT + FIELD_SIZE / 2:.0f}" y="{TOP + FIELD_SIZE + 34}" text-anchor="middle">{x_name}</text>'
             f'<text transform="translate(14 {TOP + FIELD_SIZE / 2:.0f}) rotate(-90)" text-anchor="middle">{y_name}</text>')
    points = ""
    if X is not None and len(X):
        chosen = np.unique(np.linspace(0, len(X) - 1, min(len(X), MOST_POINTS)).round().astype(int))
        points = "".join(
            f'<circle class="point k{classes[i]}" cx="{cx:.2f}" cy="{cy:.2f}" r="{POINT_RADIUS:g}" fill="{colours[classes[i]]}" '
            f'stroke="{ring(colours[classes[i]])}" data-class="{classes[i]}"/>'
            for i in chosen for cx, cy in [at(*X[i])])
    key = "".join(
        f'<g transform="translate({LEFT + (j % 3) * FIELD_SIZE / 3:.0f} {TOP + FIELD_SIZE + BOTTOM + 20 * (j // 3) + 6})">'
        f'<rect class="point k{j}" width="12" height="12" y="-6" fill="{colour}" stroke="{ring(colour)}"/>'
        f'<text x="18" dominant-baseline="central">{escape(terminal_text(str(label)))}</text></g>'
        for j, (label, colour) in enumerate(zip(labels, colours)))
    title = f"The classes' probabilities over ({x_name}, {y_name}), the rows over them"
    corners = (f'data-low="{float(low[0])!r} {float(low[1])!r}" data-high="{float(high[0])!r} {float(high[1])!r}" '
               f'data-colours="{" ".join(colours)}" data-positive="{PALETTE["light"]["positive"]}" '
               f'data-negative="{PALETTE["light"]["negative"]}"')
    drawn_cells = _cells(likeliest, strength, colours, [f"k{j}" for j in range(q)], FIELD_SIZE)
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="surface" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {corners} role="img" aria-label="{title}">',
        f"<style>{SURFACE_STYLE}{_hues_style(q)}</style><title>{title}</title>",
        f'<rect class="back" width="{width}" height="{height}"/>',
        f'<text class="title" x="{LEFT}" y="20">P(class) over ({x_name}, {y_name})</text>',
        f'<g class="field" transform="translate({LEFT} {TOP})" opacity="{FIELD_OPACITY}" shape-rendering="crispEdges">{drawn_cells}</g>',
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{FIELD_SIZE}" height="{FIELD_SIZE}"/>',
        f'<g class="points">{points}</g>', *ticks, names, f'<g class="key">{key}</g>', "</svg>",
    ])


def _tick(value: float) -> str:
    """An axis's end or middle, to 3 significant digits: the axes place the field, the cells carry the numbers."""
    return f"{float(value):.3g}".replace("-", "−")


BESIDE_STYLE = palette_css("svg.beside") + "svg.beside > .back { fill: var(--back); }"


def beside(*figures: str) -> str:
    """SVG documents side by side in one, top-aligned, on one backdrop: the network and its surface for a slide."""
    sizes = [(float(_attribute(figure, "width")), float(_attribute(figure, "height"))) for figure in figures]
    width, height = sum(w for w, _ in sizes), max(h for _, h in sizes)
    placed, x = [], 0.0
    for figure, (w, _) in zip(figures, sizes):
        placed.append(figure.replace("<svg ", f'<svg x="{x:.0f}" y="0" ', 1))
        x += w
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" class="beside"><style>{BESIDE_STYLE}</style><rect class="back" width="{width:.0f}" '
            f'height="{height:.0f}"/>{"".join(placed)}</svg>')


def _attribute(figure: str, name: str) -> str:
    head = figure[: figure.index(">")]
    return head.split(f' {name}="', 1)[1].split('"', 1)[0]
