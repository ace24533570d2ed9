"""A user's string made safe to show: names from a data file, a model file or the command line.

A name may hold anything: an escape sequence that clears the screen or sets the window's
title, a bell, a NUL, a line break, a lone surrogate (which no UTF-8 stream can write). On a
terminal such characters would act instead of being seen, and in an SVG figure they are not
even allowed. Each is written instead as the backslash escape Python would write for it
(`\\x1b`, `\\x07`, `\\x00`, `\\n`, `\\u202e`, `\\ud800`), so that the reader sees exactly what
the name holds. Printable characters, the backslash among them, are left as they are.

Each medium then has its one function, built on that escape: outputs.terminal_text and
outputs.terminal_lines for a terminal (the escape itself; outputs.Stdout applies it, and
render/terminal.py hands rich the result as text, never as markup), markdown_code for a name in Markdown and markdown_text for its other words,
html_text for HTML. DOT quotes its labels in render/dot.py (`quoted`); JSON writes every
string with json's own escapes.
"""

from __future__ import annotations

import re
from html import escape

from ..outputs import terminal_text


def markdown_code(name: str) -> str:
    """A name as a Markdown code span that reads back as terminal_text(name), whatever it holds:
    fenced by one backtick more than its longest run of backticks, and padded with a space
    where it starts or ends with a backtick or a space (a renderer strips one space from each
    side). Inside a code span nothing is markup: `*`, `_`, `[x](...)`, `<script>`, `$` and `&`
    are shown as they are. In a table cell its `|` must be escaped too (markdown._cell does it).
    """
    text = terminal_text(name)
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    padded = text.strip(" ") and (text[0] in "` " or text[-1] in "` ")
    return fence + (f" {text} " if padded else text) + fence


# Characters Markdown may read as markup in running text, backslash-escaped (CommonMark lets any
# ASCII punctuation be), and where GitHub's Markdown links a bare address (http://..., www....).
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]#~$]")
_AUTOLINK = re.compile(r"(?<=[A-Za-z0-9])(?=://)|(?i:(?<=\bwww)(?=\.))")


def markdown_text(text: str) -> str:
    """Words for Markdown's running text (a paragraph, a heading, a table's title) that render
    as they are written: unprintable characters escaped as terminal_text does, the characters
    of emphasis, code, links, images, headings, strike-through and math backslash-escaped,
    <, > and & written as entities (no HTML can start), and bare web addresses broken by a
    backslash (GitHub would link them; it still links an e-mail address, which is one reason
    a user's name is always a code span)."""
    text = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(), terminal_text(text))
    return escape(_AUTOLINK.sub("\\\\", text), quote=False)


def html_text(text: str) -> str:
    """Text for HTML (an element's content or a quoted attribute's value) that shows as it is
    written: unprintable characters as terminal_text escapes them (a lone surrogate, which no
    UTF-8 page can hold, among them), then & < > " ' as character references."""
    return escape(terminal_text(text))
