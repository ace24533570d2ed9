"""A user's string made safe to show: names from a data file, a model file or the command line.

A name may hold anything: an escape sequence that clears the screen or sets the window's
title, a bell, a NUL, a line break, a lone surrogate (which no UTF-8 stream can write). On a
terminal such characters would act instead of being seen, and in an SVG figure they are not
even allowed. Each is written instead as the backslash escape Python would write for it
(`\\x1b`, `\\x07`, `\\x00`, `\\n`, `\\u202e`, `\\ud800`), so that the reader sees exactly what
the name holds. Printable characters, the backslash among them, are left as they are.
"""

from __future__ import annotations

import re


def terminal_text(text: str) -> str:
    """`text` with every character that is not printable (C0 and C1 controls, DEL, line and
    paragraph separators, format characters such as bidi overrides, surrogates, unassigned
    code points) written as its backslash escape; for a terminal, and for any view that
    quotes names (an SVG figure's labels, before XML escaping)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


# A run of characters that are not printable ASCII, a tab or a line end (\n, or the \r of \r\n).
_SUSPECT = re.compile(r"(?:(?!\r\n)[^\t\n\x20-\x7e])+")


def terminal_lines(text: str) -> str:
    """Text of many lines (a CSV, a drawing, a Markdown page) for a terminal: its line ends
    (\\n, \\r\\n) and tabs kept, every other character that is not printable escaped as
    terminal_text escapes it."""
    return _SUSPECT.sub(lambda run: terminal_text(run.group()), text)
