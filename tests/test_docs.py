"""The documentation site keeps up with the program: every command and option is in the CLI
reference, every command a page shows with a prompt is run, and the site builds strict.

The CLI reference (docs/reference/cli.md) is a marker that the build replaces with every
command's --help (docs/cli_reference.py, an mkdocs hook); the test calls the hook on the page
as mkdocs does and looks for each command's heading and each of its options in that command's
section. The settings' table is checked by tests/test_settings.py, the
transcripts' outputs by tests/test_readme.py's regenerate --check.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from test_readme import regenerate_module

from fwdback.cli import cli

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r"^#+ (?P<path>.+)$", re.M)


def commands(command: click.Command, path: str = "fwdback") -> dict[str, click.Command]:
    """The command and, for a group, every command under it a user can call, by its full path
    (`fwdback`, `fwdback train`), hidden ones left out."""
    found = {path: command}
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            found |= commands(sub, f"{path} {name}")
    return found


def reference_markdown() -> str:
    """docs/reference/cli.md as mkdocs builds it: the hook of docs/cli_reference.py called on it."""
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "cli_reference.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = SimpleNamespace(file=SimpleNamespace(src_uri=hook.PAGE))
    return hook.on_page_markdown((ROOT / "docs" / hook.PAGE).read_text(encoding="utf-8"), page)


def missing_from_reference(group: click.Group, markdown: str) -> list[str]:
    """The commands without a heading of their own in the reference, and the options (each name
    of each, `--standardize` and `--no-standardize`) not in their command's section."""
    headings = list(HEADING.finditer(markdown))
    sections = {match["path"]: markdown[match.end() : following.start() if following else len(markdown)]
                for match, following in zip(headings, [*headings[1:], None])}
    missing = []
    for path, command in commands(group).items():
        section = sections.get(path)
        if section is None:
            missing.append(path)
            continue
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                missing += [f"{path} {name}" for name in [*param.opts, *param.secondary_opts]
                            if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", section)]
    return missing


def test_every_command_and_option_is_in_the_cli_reference():
    assert missing_from_reference(cli, reference_markdown()) == []
    assert {"fwdback", "fwdback train", "fwdback predict", "fwdback explain"} <= set(commands(cli))


def test_the_reference_check_finds_a_command_or_an_option_the_reference_lacks(monkeypatch):
    markdown = reference_markdown()
    without_every = re.sub(r"(?<![\w-])--every(?![\w-])", "", markdown)
    assert missing_from_reference(cli, without_every) == ["fwdback train --every"]
    monkeypatch.setitem(cli.commands, "fake", click.Command("fake", params=[click.Option(["--fake-option"])]))
    assert missing_from_reference(cli, markdown) == ["fwdback fake"]
    assert missing_from_reference(cli, reference_markdown()) == []  # generated from the group: the new command is in at once


def test_every_command_a_page_shows_with_a_prompt_is_run_or_says_why_not():
    regenerate = regenerate_module()
    pages = regenerate.pages()
    assert "README.md" in pages and "docs/reference/cli.md" in pages and "docs/index.md" in pages
    unchecked = {page: regenerate.unchecked_commands((ROOT / page).read_text(encoding="utf-8").split("\n")) for page in pages}
    assert {page: lines for page, lines in unchecked.items() if lines} == {}


def test_a_prompt_outside_a_transcript_is_unchecked_unless_its_block_says_why_it_is_not_run():
    unchecked = regenerate_module().unchecked_commands
    shown = ["```", "$ fwdback train data.csv", "```"]
    assert unchecked(["text", *shown]) == [3]
    assert unchecked(["<!-- transcript -->", *shown]) == []
    assert unchecked(["<!-- not run: it takes an hour -->", *shown, "", "  $ fwdback predict"]) == [6]
    assert unchecked(["<!-- not run:  -->", *shown]) == [3]  # a reason must be given
    assert unchecked(["<!-- not run: a pipe of two blocks -->", "````", "```", "$ fwdback show", "```", "````"]) == []


@pytest.mark.slow  # a whole site: every page, the CLI and the API rendered (3 s with one-line pages, more with the real ones)
def test_the_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the site's tools are the docs extra: pip install '.[docs]'")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env=os.environ | {"NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "reference" / "cli.html").is_file()
    assert not (tmp_path / "site" / "regenerate.py").exists() and not (tmp_path / "site" / "screenshots.py").exists()



def test_the_settings_table_goes_on_the_settings_page_which_must_have_its_place():
    regenerate = regenerate_module()
    page = ["# Settings", "", regenerate.SETTINGS_START, "| stale |", regenerate.SETTINGS_END, "prose"]
    written = regenerate.with_settings_table("\n".join(page), regenerate.SETTINGS_PAGE).split("\n")
    assert written[:3] == page[:3] and written[-2:] == page[-2:]
    assert written[3:-2] == regenerate.settings_table() and "| stale |" not in written
    assert regenerate.with_settings_table("# Tutorial\nno table here", "docs/tutorial.md") == "# Tutorial\nno table here"
    with pytest.raises(regenerate.Stale, match=f"{regenerate.SETTINGS_PAGE} must have one line"):
        regenerate.with_settings_table("# Settings\nthe table went missing", regenerate.SETTINGS_PAGE)
