"""The CLI reference written by the program: an mkdocs hook (mkdocs.yml's `hooks`).

When mkdocs builds the site, the line `<!-- every command's --help -->` of docs/reference/cli.md
becomes, for fwdback and each command under it, a heading with the command's name and its
`--help` as a terminal WIDTH columns wide prints it, examples included. So the reference is the
click declarations of fwdback/cli.py themselves: a command or an option cannot be missing from
it, nor read otherwise than the program prints it (help texts are plain text, written for a
terminal: `w1*x1 + w2*x2` would be emphasis to Markdown, so they go in as text blocks).
tests/test_docs.py checks the reference this writes.
"""

from __future__ import annotations

import click

PAGE = "reference/cli.md"
MARKER = "<!-- every command's --help -->"
WIDTH = 80


def reference(command: click.Command, path: str = "fwdback", parent: click.Context | None = None, level: int = 2) -> list[str]:
    """Markdown lines: a heading `path` over the command's --help in a text block, then the same
    one level down for each command of a group (hidden ones left out)."""
    context = click.Context(command, info_name=path.rsplit(" ", 1)[-1], parent=parent, terminal_width=WIDTH,
                            max_content_width=WIDTH)
    lines = [f"{'#' * level} {path}", "", "```text", command.get_help(context), "```", ""]
    if isinstance(command, click.Group):
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                lines += reference(sub, f"{path} {name}", context, level + 1)
    return lines


def on_page_markdown(markdown: str, page, **_) -> str:
    """The page with its marker replaced by the reference; another page as it is."""
    if page.file.src_uri != PAGE:
        return markdown
    if markdown.count(MARKER) != 1:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"docs/{PAGE} must have one line {MARKER}, where the reference goes")
    from fwdback.cli import cli

    return markdown.replace(MARKER, "\n".join(reference(cli)))
