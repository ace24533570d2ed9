"""The printed layout of an exercise sheet, shared by the LaTeX and Typst views: a document holding a
table of answers (sections.Table.answers) is set on as few pages as it can, its figure beside the
tables that follow it (the data, the starting weights) and its questions in columns."""

from __future__ import annotations

from ..sections import Block, Figure, Heading, Table

# The questions of a sheet are set in this many tables side by side.
ANSWER_COLUMNS = 3


def is_sheet(blocks: list[Block]) -> bool:
    return any(isinstance(block, Table) and block.answers for block in blocks)


def beside_figure(blocks: list[Block]) -> list[Block | tuple[Figure, list[Block]]]:
    """The blocks, each Figure with the tables after it (and their headings) taken as one
    (figure, those blocks) to set side by side; an answers table is never taken."""
    out: list = []
    position = 0
    while position < len(blocks):
        block, end = blocks[position], position + 1
        while end < len(blocks) and _beside(blocks[end:end + 2]):
            end += 1
        if isinstance(block, Figure) and end > position + 1:
            out.append((block, blocks[position + 1:end]))
            position = end
        else:
            out.append(block)
            position += 1
    return out


def _beside(blocks: list[Block]) -> bool:
    """Whether the first block goes beside a figure: a table not of answers, or a section's heading over one."""
    first = blocks[0]
    if isinstance(first, Heading) and first.level > 1:
        return len(blocks) > 1 and _beside(blocks[1:])
    return isinstance(first, Table) and not first.answers


def split(rows: tuple, parts: int) -> list[tuple]:
    """The rows in at most `parts` runs in order, each as long as the first but the last."""
    size = -(-len(rows) // parts)
    return [rows[start:start + size] for start in range(0, len(rows), size)]
