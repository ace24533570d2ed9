"""The network's figure as a LaTeX document of one TikZ picture, for lecture notes and exercise sheets.

The picture is the SVG figure's (svg.network_layout: the same places for the units, edges and
labels, in its pixels, a pixel 0.75 pt as CSS has it), its labels in math mode ($w_1 = 0.158$,
$\\hat{y}$) at \\footnotesize, about the SVG's 11.5 px. Every edge is an arrow the way of the
forward pass, coloured by its weight's sign and as wide as its magnitude, or, with `symbols`,
black and thin, labelled with its name alone.

The document is a whole one that pdflatex compiles as it is: the article class on a page of the
picture's size (geometry), so that it needs only LaTeX's base, TikZ and geometry (Debian's
texlive-latex-base and texlive-pictures), not the standalone class of the much larger
texlive-latex-extra. Its PDF goes in a sheet or a slide with \\includegraphics; the picture
itself, between the lines `\\begin{tikzpicture}` and `\\end{tikzpicture}`, pastes into a
document that loads TikZ with its arrows.meta library (network_picture writes it alone).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence

from ..network import Parameters
from ..notation import Sym, number
from .svg import ARROW_HALF_WIDTH, ARROW_LENGTH, FROZEN_DASH, LIST_LINE, NEGATIVE, NODE_RADIUS, POSITIVE, edge_width, network_layout

# The SVG's pixel in points (CSS: 96 px to the inch of 72 pt).
PIXEL = 0.75
# The edges of a figure of symbols, in pixels, as the SVG's.
SYMBOL_EDGE = 1.5
# LaTeX's special characters in a column's name, as text that prints them; and those the default
# (OT1) roman fonts set as other glyphs (< as an inverted !), from the typewriter font by their code.
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "^": r"\^{}",
            "_": r"\_", "%": r"\%", "~": r"\~{}", **{char: rf"\texttt{{\char{ord(char)}}}" for char in '<>|"'}}


def network_tikz(params: Parameters, features: Sequence[str], target="y", frozen: Collection[str] = (),
                 symbols: bool = False) -> str:
    """The LaTeX document of the network's picture (network_picture), on a page of its size."""
    picture, width, height = network_picture(params, features, target, frozen, symbols)
    return "\n".join([
        f"% The {params.n_inputs}-{params.n_hidden}-{params.n_outputs} network, drawn by fwdback show --format tikz.",
        "% pdflatex (or latexmk -pdf) compiles this file as it is: a page the size of the picture.",
        r"\documentclass{article}",
        rf"\usepackage[paperwidth={width:.1f}pt, paperheight={height:.1f}pt, margin=0pt]{{geometry}}",
        r"\usepackage{tikz}",
        r"\usetikzlibrary{arrows.meta}",
        r"\pagestyle{empty}",
        r"\begin{document}",
        r"\noindent",
        picture,
        r"\end{document}",
        "",
    ])


def network_picture(params: Parameters, features: Sequence[str], target="y", frozen: Collection[str] = (),
                    symbols: bool = False) -> tuple[str, float, float]:
    """The network's tikzpicture (svg.network_svg's arguments: features, the k column names in
    the order of x1..xk; target, the output's column or one name an output; frozen, the
    parameters drawn dotted and marked (frozen)); with `symbols`, the parameters' names alone.
    The labels that find no room on the figure are listed under it, as the SVG's. (The picture,
    for any document that loads TikZ and its arrows.meta library; its width and height in pt.)"""
    layout = network_layout(params, features, target, frozen=frozen, symbols=symbols)
    listed = [_listed(name, value, where, symbols, name in frozen) for name, value, where in layout.unlabelled]
    listed += [_text(text) for text in layout.crowded]
    height = layout.network_height + (LIST_LINE * (len(listed) + 1) + 8 if listed else 0)
    lines = [
        rf"\begin{{tikzpicture}}[x={PIXEL}pt, y=-{PIXEL}pt, font=\footnotesize,",
        rf"    unit/.style={{circle, draw, thick, minimum size={2 * NODE_RADIUS * PIXEL:g}pt, inner sep=0pt, font=\normalsize}},",
        rf"    edge/.style={{-{{Stealth[length={ARROW_LENGTH * PIXEL:g}pt, width={2 * ARROW_HALF_WIDTH * PIXEL:g}pt]}}}},",
        r"    label/.style={fill=white, inner sep=1pt}]",
        rf"\definecolor{{positive}}{{HTML}}{{{POSITIVE[1:].upper()}}}",
        rf"\definecolor{{negative}}{{HTML}}{{{NEGATIVE[1:].upper()}}}",
        rf"\useasboundingbox (0, 0) rectangle ({layout.width:.1f}, {height:.1f});",
    ]
    for symbol, (x, y), name, anchor, activation, box in layout.units:
        lines.append(rf"\node[unit] ({symbol}) at ({x:.1f}, {y:.1f}) {{${Sym(symbol).latex()}$}};")
        if name is not None and name != symbol:
            offset, side = (-NODE_RADIUS - 8, "east") if anchor == "end" else (NODE_RADIUS + 8, "west")
            lines.append(rf"\node[anchor={side}, inner sep=0pt] at ({x + offset:.1f}, {y:.1f}) {{{_text(name)}}};")
        if activation is not None and box is not None:
            lines.append(rf"\node at ({box.x:.1f}, {box.y:.1f}) {{{activation}}};")
    for name, value, start, end, _ in layout.edges:
        width = SYMBOL_EDGE if symbols else edge_width(value, layout.largest, layout.widest_edge)
        colour = "black" if symbols else ("positive" if value >= 0 else "negative")
        dotted = ", dash pattern=" + " ".join(f"{'on' if i % 2 == 0 else 'off'} {float(d) * PIXEL:g}pt"
                                              for i, d in enumerate(FROZEN_DASH.split())) if name in frozen else ""
        lines.append(rf"\draw[edge, {colour}, line width={width * PIXEL:.2f}pt{dotted}] ({_unit_at(layout, start)}) -- "
                     rf"({_unit_at(layout, end)});")
    for name, value, _, _, box in layout.edges:
        if box is not None:
            lines.append(rf"\node[label, rotate={-math.degrees(box.angle):.1f}] at ({box.x:.1f}, {box.y:.1f}) "
                         rf"{{{_label(name, value, symbols, name in frozen)}}};")
    for name, value, box in layout.biases:
        lines.append(rf"\node at ({box.x:.1f}, {box.y:.1f}) {{{_label(name, value, symbols, name in frozen)}}};")
    if listed:
        heading = "Not labelled on the figure (no room), or not drawn (a unit's weaker inputs):"
        rows = r" \\ ".join([heading, *listed])
        lines.append(rf"\node[anchor=north west, align=left, inner sep=0pt] at (30, {layout.network_height - 6:.1f}) {{{rows}}};")
    return "\n".join([*lines, r"\end{tikzpicture}"]), layout.width * PIXEL, height * PIXEL


def _unit_at(layout, position) -> str:
    """The TikZ name of the unit at `position`: the edge runs from border to border."""
    return next(symbol for symbol, centre, *_ in layout.units if centre == position)


def _label(name: str, value: float, symbols: bool, frozen: bool) -> str:
    """`$w_1 = 0.158$`, or `$w_1$` in a figure of symbols, and (frozen) for a frozen parameter."""
    text = Sym(name).latex() if symbols else f"{Sym(name).latex()} = {number(value)}"
    return f"${text}$" + (r" \textit{(frozen)}" if frozen else "")


def _listed(name: str, value: float, where: str, symbols: bool, frozen: bool) -> str:
    """A line of the list under the figure: `$w_9 = 0.1$ ($x_2 \\to N_8$, not drawn)`, the units in math mode."""
    pieces = re.split(r"(x\d+|N\d+|ŷ\d*|→)", where)
    math_mode = {"→": r"$\to$"}
    text = "".join(math_mode.get(piece) or (f"${Sym(piece.replace('ŷ', 'yhat')).latex()}$" if i % 2 else _text(piece))
                   for i, piece in enumerate(pieces))
    return f"{_label(name, value, symbols, frozen)} ({text})"


def _text(text: str) -> str:
    """`text` as LaTeX text that prints it: LaTeX's special characters escaped, a character
    outside Latin-1 (which pdflatex's default fonts lack) as its code point, U+4E2D."""
    return "".join(_SPECIAL.get(c, c) if ord(c) < 256 and c.isprintable() else f"U+{ord(c):04X}" for c in text)
