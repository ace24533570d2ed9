"""The views of one document: the terminal text and the Markdown say the same things."""

import io
import re

import numpy as np
import pytest
from conftest import flat

from fwdback.explain import work_epoch
from fwdback.reports.explain import explanation
from fwdback.network import init_parameters
from fwdback.notation import Expr
from fwdback.plan import TrainingPlan
from fwdback.render.markdown import markdown
from fwdback.render.terminal import console_for, print_sections, print_table
from fwdback.sections import Equations, Heading, Paragraph, Table
from fwdback.synthetic import generate
from fwdback.training import prepare


def document(activation: str, **settings):
    X, y = generate(12, seed=2)
    params = init_parameters(np.random.default_rng(3), 3, 2, activation)
    plan = TrainingPlan(lr=0.05, standardize=False, **settings)
    worked = work_epoch(prepare(X, y, plan), params, plan, epoch=2)
    return explanation(worked, ("x1", "x2", "x3"), rows=2, source="d.csv", start=("random, seed 3",))


def terminal_text(blocks) -> str:
    stream = io.StringIO()
    print_sections(console_for(stream), blocks)
    return stream.getvalue()


@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "sigmoid"])
def test_both_views_hold_every_heading_equation_and_number(activation):
    blocks = document(activation, batch_size=5)
    md, text = flat(markdown(blocks)), terminal_text(blocks)
    lines = [line.strip() for line in text.splitlines()]
    for block in blocks:
        if isinstance(block, Heading):
            assert "#" * block.level + " " + block.text in md.splitlines()
            assert block.text in lines
        elif isinstance(block, Equations):
            for equation in block.lines:
                assert equation.latex(alone=True) in md
                if not block.aligned:
                    assert equation.plain(alone=True) in text
                else:  # aligned in columns: its sides in order on one line
                    row = next(line for line in lines if line.startswith(equation.sides[0].plain(alone=True) + " "))
                    assert re.split(r"\s{2,}", row) == [
                        equation.sides[0].plain(alone=True),
                        *(f"{equation.relation(i)} {side.plain(alone=True)}" for i, side in enumerate(equation.sides[1:]))]
        elif isinstance(block, Paragraph):
            words = [part for part in block.parts if isinstance(part, str) and len(part) > 3]
            for part in words:
                assert part in md and part in text
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in row:
                    for part in cell:
                        shown = part.plain(alone=True) if isinstance(part, Expr) else part
                        assert shown in text


def test_markdown_keeps_math_balanced_and_plain_text_has_none():
    blocks = document("tanh")
    md, text = markdown(blocks), terminal_text(blocks)
    assert all(line.count("$") % 2 == 0 for line in md.splitlines())
    assert "$" not in text and "\\frac" not in text and "\x1b" not in text


@pytest.mark.parametrize("width", [80, 100, 120])
def test_a_terminal_breaks_lines_between_words_never_inside_a_number(width):
    from rich.console import Console

    blocks = document("tanh", batch_size=5)
    stream = io.StringIO()
    print_sections(Console(file=stream, force_terminal=True, width=width, color_system=None), blocks)
    wrapped = stream.getvalue()
    assert max(len(line) for line in wrapped.splitlines()) <= width
    number = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?")
    whole = set(number.findall(terminal_text(blocks)))  # piped: every line unbroken
    assert whole and all(token in whole for token in number.findall(wrapped))


def test_plain_tables_have_no_trailing_spaces(run, small_csv):
    for args in (["train", small_csv, "--no-save"], ["explain", small_csv], ["gradcheck", small_csv]):
        result = run(args)
        assert result.exit_code == 0, result.stderr
        assert not [line for line in result.stdout.splitlines() if line != line.rstrip()], args


def test_a_table_in_column_groups_keeps_its_title_and_caption_whole_at_the_terminal_width():
    from rich.console import Console

    title = "a title longer than any one group of the table's columns"
    caption = "a caption longer than any one group of the table's columns, seventy-seven chars"
    header = (("name",), *((f"column {k}",) for k in range(8)))
    rows = ((("row",), *((f"{k * 1111111.1:.1f}",) for k in range(8))),)
    table = Table(header, rows, ("left",) + ("right",) * 8, title, caption)
    stream = io.StringIO()
    print_table(Console(file=stream, force_terminal=True, width=80, color_system=None), table)
    lines = [line.rstrip() for line in stream.getvalue().splitlines()]
    assert sum("column 0" in line for line in lines) == 1 and sum("column 7" in line for line in lines) == 1
    assert lines.count(title) == 1 and lines.count(caption) == 1
    assert lines[-1] == caption and max(len(line) for line in stream.getvalue().splitlines()) <= 80
