"""Pages: self-contained HTML with MathML, inline CSS and inline JavaScript, nothing fetched.

`sections_html` writes explain's sections (sections.py) as HTML, equations as MathML, which
browsers draw natively; an equation too wide for an 800-pixel column is a table of rows
aligned at their relations (notation.rows). `explanation_page` is that alone, `run_page` a
training run: the network figure with an epoch slider and play control, the chain rule of any
parameter on hover, the loss curve with a marker, the first rows' values and the worked epoch;
for a run on up to playback.LIVE_ROWS rows, every parameter a field a person sets, with the
passes recomputed in the page (network.js) and training on from there.
"""

from __future__ import annotations

from importlib import resources

from ..activations import ACTIVATIONS
from ..notation import DISPLAY_WIDTH, Equation, Expr, count, fits, rows
from ..outputs import json_text
from ..sections import Blank, Block, Code, Equations, Figure, Heading, Mark, Paragraph, Strong, Table, Text
from .safe import html_text
from .svg import figure_svg, palette_css

GENERATOR = "fwdback"
# The run page's scripts, in order: network.js, the arithmetic (a global, fwdbackNetwork), before
# page.js, which draws and plays the run and recomputes a person's weights with it; then the pieces
# that page.js's window.fwdbackPage drives (each adds its own section to a live page).
RUN_PAGE_SCRIPTS = ("network.js", "page.js", "stepper.js", "rowgraph.js", "dataplot.js", "surface.js")


# The characters that could end or change the meaning of a script element's content: "<" opens
# "</script>" and "<!--", which the HTML parser acts on inside a script, and U+2028 and U+2029
# end a line in older JavaScript.
_SCRIPT_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(value) -> str:
    """`value` as JSON for the content of a <script> element: every character that the HTML
    parser or JavaScript could read as anything but the data written as a \\u escape, which
    JSON.parse reads back as that character."""
    return json_text(value, compact=True).translate(_SCRIPT_UNSAFE)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def sections_html(blocks: list[Block], deeper: int = 0) -> str:
    """explain's sections as an HTML fragment, its headings `deeper` levels down."""
    return "\n".join(_block(block, deeper) for block in blocks)


def _block(block: Block, deeper: int = 0) -> str:
    if isinstance(block, Heading):
        level = min(block.level + deeper, 6)
        return f"<h{level}>{html_text(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_inline(block.parts)}</p>"
    if isinstance(block, Equations):
        if block.together:
            return _together(block.lines)
        return "\n".join(_display(line) for line in block.lines)
    if isinstance(block, Figure):
        return f'<figure class="scroll network">{figure_svg(block)}</figure>'
    return _table(block)


def _display(equation: Expr) -> str:
    """One equation in display style: on one line where it fits, else aligned rows."""
    if not isinstance(equation, Equation) or fits(equation):
        return f'<math display="block">{equation.mathml(alone=True)}</math>'
    cells = []
    for row in rows(equation):
        left = "" if row.left is None else row.left.mathml(alone=True)
        relation = '<mspace width="1em"/><mo>+</mo>' if row.relation == "+" else f"<mo>{_symbol(row.relation)}</mo>"
        cells.append(f'<mtr><mtd class="left">{left}</mtd><mtd class="right">{relation}{row.right.mathml(alone=True)}</mtd></mtr>')
    note = "" if equation.note is None else f'<mtr><mtd></mtd><mtd class="right"><mo>(</mo>{equation.note.mathml(alone=True)}<mo>)</mo></mtd></mtr>'
    return f'<math display="block"><mtable class="aligned">{"".join(cells)}{note}</mtable></math>'


def _together(lines: tuple[Expr, ...]) -> str:
    """Equations set together: on one line, separated by commas, where they fit (each separator,
    a comma and a 1.2em space, is about 3 characters wide); else one a row."""
    if sum(len(line.plain(alone=True)) for line in lines) + 3 * (len(lines) - 1) <= 2 * DISPLAY_WIDTH:
        joined = '<mo>,</mo><mspace width="1.2em"/>'.join(line.mathml(alone=True) for line in lines)
        return f'<math display="block"><mrow>{joined}</mrow></math>'
    cells = []
    for line in lines:
        if isinstance(line, Equation):
            right = line.sides[1] if len(line.sides) == 2 else Equation(line.sides[1:], line.relations[1:])
            cells.append(f'<mtr><mtd class="left">{line.sides[0].mathml(alone=True)}</mtd><mtd class="right">'
                         f"<mo>{_symbol(line.relation(0))}</mo>{right.mathml(alone=True)}</mtd></mtr>")
        else:
            cells.append(f'<mtr><mtd></mtd><mtd class="right">{line.mathml(alone=True)}</mtd></mtr>')
    return f'<math display="block"><mtable class="aligned">{"".join(cells)}</mtable></math>'


def _symbol(relation: str) -> str:
    return {"<-": "←", "<=": "≤", ">": "&gt;"}.get(relation, relation)


def _inline(parts: Text) -> str:
    out = []
    for part in parts:
        if isinstance(part, Expr):
            out.append(f"<math>{part.mathml(alone=True)}</math>")
        elif isinstance(part, Code):
            out.append(f"<code>{html_text(part.text)}</code>")
        elif isinstance(part, Strong):
            out.append(f"<strong>{html_text(part.text)}</strong>")
        elif isinstance(part, Mark):
            out.append(f'<span class="{"ok" if part.good else "fail"}">{html_text(part.text)}</span>')
        elif isinstance(part, Blank):
            continue
        else:
            out.append(html_text(part))
    return "".join(out)


def _table(table: Table) -> str:
    """A table; a cell with room for an answer (Blank) is of class "blank", and its table, an
    exercise sheet's questions, of class "answers" (sheet.css gives them their room and rules)."""
    caption = f"<caption>{html_text(table.title)}</caption>" if table.title else ""
    head = ""
    if table.has_header:
        head = "<thead><tr>" + "".join(f'<th class="{align}">{_inline(cell)}</th>' for cell, align in zip(table.header, table.align)) + "</tr></thead>"
    body = "".join(
        "<tr>" + "".join(f'<td class="{_cell_class(cell, align)}">{_inline(cell)}</td>' for cell, align in zip(row, table.align)) + "</tr>"
        for row in table.rows
    )
    note = f'<p class="caption">{html_text(table.caption)}</p>' if table.caption else ""
    answers = ' class="answers"' if any(isinstance(part, Blank) for row in table.rows for cell in row for part in cell) else ""
    return f'<div class="scroll"><table{answers}>{caption}{head}<tbody>{body}</tbody></table></div>{note}'


def _cell_class(cell: Text, align: str) -> str:
    return f"{align} blank" if any(isinstance(part, Blank) for part in cell) else align


def document(title: str, body: str, script: str = "", styles: tuple[str, ...] = ("page.css",)) -> str:
    """A whole page: the styles (these stylesheets of render/, in order) and any script inline,
    so that it works offline, from anywhere."""
    css = "".join(_asset(name) for name in styles)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="{GENERATOR}"><title>{html_text(title)}</title>'
        f"<style>{palette_css(':root')}{css}</style></head>\n<body>\n{body}\n{script}</body></html>\n"
    )


def explanation_page(blocks: list[Block]) -> str:
    """explain's worked epoch as a page of its own."""
    title = next((block.text for block in blocks if isinstance(block, Heading)), "fwdback explain")
    return document(title, f'<main class="worked">{sections_html(blocks)}</main>')


def sheet_page(variants: list[list[Block]]) -> str:
    """Exercise sheets or keys, one variant's blocks each, as one page that prints each variant
    from the top of a new sheet of paper (sheet.css): one file prints a whole class's."""
    titles = [next((block.text for block in blocks if isinstance(block, Heading)), "fwdback exercise") for blocks in variants]
    title = titles[0] if len(titles) == 1 else f"{titles[0]} to {titles[-1]}"
    body = "\n".join(f'<article class="sheet">{_sheet_sections(blocks)}</article>' for blocks in variants)
    return document(title, f"<main>{body}</main>", styles=("page.css", "sheet.css"))


def _sheet_sections(blocks: list[Block]) -> str:
    """A sheet's blocks, each section's heading with the tables under it in a <section>, which
    sheet.css sets side by side where they fit (the data beside the weights)."""
    parts, section = [], []
    for block in [*blocks, None]:
        if section and not isinstance(block, Table):
            parts.append(f"<section>{sections_html(section)}</section>")
            section = []
        if isinstance(block, Heading) and block.level > 1:
            section = [block]
        elif isinstance(block, Table) and section:
            section.append(block)
        elif block is not None:
            parts.append(_block(block))
    return "\n".join(parts)


def run_page(page: dict, network_figure: str, loss_figure: str, worked: list[Block] | None, surface: str | None = None) -> str:
    """A training run's page. `page` is its data (report.run_page_document): the title, the
    summary, the network's names, the kept epochs (a --history row each), the first rows; the
    figures are render.svg's, drawn at the first kept epoch and moved by the page's script; a
    classifier of two inputs's `surface` (render/surface.py's), moved by surface.js."""
    names = page["network"]["names"]
    live = page["rows"] is not None and page["rows"]["live"]
    frozen = set(page["network"]["frozen"])
    parameters = "".join(
        f'<tr data-param="{html_text(name)}" tabindex="0"><td>{html_text(name)}'
        + (' <span class="frozen-mark">(frozen: keeps its value)</span>' if name in frozen else "") + "</td>"
        + (f'<td><span class="shown"></span><input type="number" step="any" data-set="{html_text(name)}" aria-label="{html_text(name)}"></td>'
           if live else "<td></td>")
        + f'<td aria-label="dL/d{html_text(name)}"></td></tr>' for name in names
    )
    last = len(page["epochs"]["epochs"]) - 1
    summary = "".join(f"<dt>{html_text(label)}</dt><dd>{html_text(value)}</dd>" for label, value in page["summary"])
    sampled = "" if page["every_epoch"] else (
        f" The page keeps {count(last + 1)} of the {count(page['epochs_run'])} epochs, evenly spaced, the first and the last among them; "
        "<code>train --history FILE</code> has every one.")
    body = f"""<header><h1>{html_text(page["title"])}</h1><p class="essentials">{html_text(page["essentials"])}</p>
<details><summary>Everything about the run</summary><dl class="summary">{summary}</dl></details></header>
<section id="run"><h2>The network, epoch by epoch</h2>
<div class="controls" role="group" aria-label="Epochs">
<button id="first" type="button" aria-label="First epoch">⇤</button><button id="back" type="button" aria-label="Previous epoch">◀</button>
<button id="play" type="button" aria-pressed="false">▶ Play</button><button id="forward" type="button" aria-label="Next epoch">▶</button>
<button id="last" type="button" aria-label="Last epoch">⇥</button>
<input id="epoch" type="range" min="0" max="{last}" step="1" value="0" aria-label="Epoch">
<output id="epoch-label" for="epoch"></output></div>
{_step_controls(page)}
<p class="legend">Each edge's colour is its weight's sign <span class="keyed">(<span class="swatch" style="background:var(--positive)"></span>positive,</span>
<span class="keyed"><span class="swatch" style="background:var(--negative)"></span>negative),</span> its width the weight's size, its arrow the way of the
forward pass; the dashed line beside it is the gradient dL/dw, coloured by the way the update moves the weight, its width
|dL/dw| on one log scale for the whole run (the key under the figure gives its range), so that small gradients draw thin.{_frozen_note(page)} Arrow keys step, space plays.{sampled}</p>
<div class="columns"><figure class="scroll">{network_figure}</figure><aside id="detail" class="panel detail" aria-live="polite"></aside></div>
{_surface_section(page, surface)}</section>
<section id="curve"><h2>The loss</h2><figure class="scroll">{loss_figure}</figure></section>
<section id="weights"><h2>Every parameter at this epoch</h2>
<p class="loss-line">loss L = <output id="loss" aria-label="loss"></output> <span id="live-status" aria-live="polite"></span></p>
{_live_controls(page) if live else _playback_only(page)}
<div class="scroll"><table id="parameters"><thead><tr><th>name</th>
<th>value</th><th>gradient dL/d(name)</th></tr></thead><tbody>{parameters}</tbody></table></div>
<p class="caption">{html_text(page["units"])}</p></section>
{_rows_section(page)}
{"" if worked is None else '<section id="worked" class="worked">' + sections_html(worked, deeper=1) + "</section>"}
<footer>Made by fwdback from {html_text(page["data"])}. Everything on this page is in this file; it fetches nothing.</footer>"""
    scripts = "".join(f"<script>{_asset(name)}</script>\n" for name in RUN_PAGE_SCRIPTS)
    script = f'<script id="fwdback-data" type="application/json">{script_json(page)}</script>\n{scripts}'
    return document(page["title"], body, script)


def _surface_section(page: dict, surface: str | None) -> str:
    """The decision surface under the network, with what its colours mean."""
    if surface is None:
        return ""
    return (f'<figure class="scroll" id="surface">{surface}</figure><p class="legend">The decision surface at the weights shown: '
            "each cell of the plane of the two inputs takes the colour of its likelier class, the stronger the surer the network "
            "(white or the background at an even split); the points are the rows training saw, in their class's colour. Inside each "
            "hidden unit, its own output N over the same plane: blue positive, orange negative, the stronger the nearer its largest. "
            f"{html_text(page['units'])}</p>")


def _live_controls(page: dict) -> str:
    """What a person does with weights of their own: set any parameter (its field, or the arrow
    keys on its edge in the figure), train on from there, go back to the run, save."""
    return ("""<p class="caption">Set any parameter: type it in its field below, drag its edge in the figure up or down, or
focus the edge (Tab) or the field and press ↑ or ↓ to step it by 0.01 (Page Up, Page Down: by 0.1). The forward pass, the loss,
every gradient and its chain rule are recomputed from the run's rows at once; Play (or space) then trains on from your weights.</p>
<div class="controls" role="group" aria-label="Your weights"><button id="train" type="button" aria-pressed="false">▶ Train from here</button>
<button id="reset" type="button">Back to the run</button><button id="save-weights" type="button">Save these weights</button>
<button id="save-rows" type="button">Save the rows</button></div>
<p class="caption">The weights save as JSON and the rows training saw as CSV. On those two files,
<code id="command-explain"></code> prints the numbers the page shows, and
<code id="command-train"></code> trains as Train from here does.</p>""")


def _playback_only(page: dict) -> str:
    """A run on more rows than the page holds: its epochs play back, nothing is recomputed."""
    if page["rows"] is None:
        reason = "its rows were streamed from the file, not held"
    else:
        reason = f"it trained on {count(page['training_rows'])} rows, more than the {count(page['live_rows'])} a page holds"
    return (f'<p class="caption">This page plays the run back: {html_text(reason)}, so its weights cannot be set here '
            "(train on fewer rows for a page that recomputes).</p>"
            '<div class="controls"><button id="save-weights" type="button">Save these weights</button> <span class="caption">as JSON, for '
            '<code>fwdback train DATA --init <span id="weights-file">weights.json</span></code> to start from</span></div>')


def _step_controls(page: dict) -> str:
    """The second control of a mini-batch run: the updates within the epoch (0: the epoch as a whole)."""
    steps = page["steps"]
    if steps is None:
        return ""
    sampled = "" if steps["every_step"] else " (the page keeps some of the run's updates, evenly spaced)"
    return (f'<div class="controls" role="group" aria-label="Updates within the epoch">'
            f'<button id="step-back" type="button" aria-label="Previous update">◀</button>'
            f'<input id="step" type="range" min="0" max="{steps["per_epoch"]}" step="1" value="0" aria-label="Update within the epoch">'
            f'<button id="step-forward" type="button" aria-label="Next update">▶</button>'
            f'<output id="step-label" for="step"></output></div>'
            f'<p class="legend">Each epoch makes {steps["per_epoch"]} updates, one a mini-batch of {page["plan"]["batch_size"]} rows: '
            f"the second slider walks them{html_text(sampled)}.</p>")


def _frozen_note(page: dict) -> str:
    frozen = page["network"]["frozen"]
    return "" if not frozen else f" Dotted and marked (frozen): {html_text(', '.join(frozen))}, which keep their values."


def _rows_section(page: dict) -> str:
    if page["rows"] is None:
        return ""
    network = page["network"]
    activated = not ACTIVATIONS[network["activation"]].identity
    units = range(1, network["hidden"] + 1)
    outputs = network["outputs"]
    ys = ["y"] if len(outputs) == 1 else [f"y{j}" for j in range(1, len(outputs) + 1)]
    hats = [output.replace("yhat", "ŷ") for output in outputs]
    classes = page["classes"]  # a classifier's: its class label, its targets as the loss reads them, and yhat - y, dL/da times n
    header = ["row", *network["inputs"], *(["class"] if classes else []), *ys,
              *([f"z{h}" for h in units] if activated else []), *(f"N{h}" for h in units), *hats,
              *(f"{hat} − {y}" if classes else f"{y} − {hat}" for y, hat in zip(ys, hats))]
    cells = "".join(f"<th>{html_text(name)}</th>" for name in header)
    return (f'<section><h2>The first rows at this epoch</h2><div class="scroll"><table id="rows"><thead><tr>{cells}</tr></thead>'
            f'<tbody></tbody></table></div><p class="caption">{html_text(page["units"])}</p></section>')
