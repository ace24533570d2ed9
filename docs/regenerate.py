"""The example outputs of README.md and of every page of docs/, the table of settings and the figures, written by the program itself.

    python docs/regenerate.py                # rewrites every stale transcript, the table of settings, docs/network.svg
    python docs/regenerate.py --check        # changes nothing: exit 1 and a diff where they are stale
    python docs/regenerate.py --screenshots  # and retakes the screenshots too (docs/screenshots.py)

The pages are README.md and docs/**/*.md (pages()). The table of settings is the lines between
`<!-- settings -->` and `<!-- /settings -->` of docs/reference/settings.md (SETTINGS_PAGE, which
must have them; any other page with them gets the table too): one row per setting of
fwdback/settings.py (settings_table), so that it cannot go stale.

A command shown with a prompt (a line `$ ...`) is run: it stands in a transcript, or in a fenced
block right under a line `<!-- not run: REASON -->` that says why it is not (unchecked_commands;
--check fails on one that does neither), so that no example goes stale unseen.

A transcript is a fenced block right under a line `<!-- transcript -->`. Its lines that start
with `$ ` are commands, kept as written (a command goes on over the next lines while it ends
with a backslash or has a quote open); the lines after a command are its output, which this
script writes. `<!-- transcript: SELECTION -->` keeps part of the last command's output: items
separated by `;`, each `head N`, `tail N`, `/REGEX/` (the first line after the item before
that matches) or `/REGEX/ to /REGEX/` (the lines from one match to the next); a line `...`
stands for the lines left out between two items. A selection that matches nothing is an error
that names the transcript, so that an excerpt cannot silently lose its point.

Each page's commands run in the page's order, in a scratch directory of the page's own that
holds a copy of sample_data/, as bash commands (with pipefail; one that fails stops the
script), `fwdback` being this checkout's (`python -m fwdback` of this Python), stdin empty, stdout and stderr as
one stream, as a terminal shows them, but piped: plain text. The outputs are the same on
every run: the data and the weights are seeded, and only the time a summary reports is let
differ (NORMALISED). Floating-point sums are the same on every machine that runs the same
BLAS kernels: the kernel's order of summation decides the last bits of a sum, and with them
the last digits of the float64s some examples print in full (17-digit predictions, a model
file's weights, gradcheck's difference quotients), and so does the number of threads a sum
is split over. So the commands run on one thread with OpenBLAS's Haswell (AVX2) kernels,
which every x86-64 processor since 2013 runs, whatever this one would choose; a machine where numpy's BLAS is not OpenBLAS, or that cannot run them, cannot
reproduce the examples, and the script says so (exit 2).
"""

from __future__ import annotations

import argparse
import difflib
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PAGE = "docs/reference/settings.md"
# Files that are example outputs too: the path, and the commands whose stdout it is.
FIGURES = {"docs/network.svg": "fwdback train sample_data/linear.csv -q --no-chart && fwdback show model.json --format svg"}
MARKER = re.compile(r"^<!-- transcript(?:: (?P<selection>.*?))? -->$")
NOT_RUN = re.compile(r"^<!-- not run: \S.*? -->$")
# What may differ between two runs of the same command: (pattern, what it is shown as when compared).
NORMALISED = [(re.compile(r"^( time +)\d+(\.\d+)? s$", re.M), r"\1(seconds) s")]
BLAS_KERNELS = "Haswell"
NOT_REPRODUCIBLE = 2


SETTINGS_START, SETTINGS_END = "<!-- settings -->", "<!-- /settings -->"


class Stale(Exception):
    """A transcript that cannot be written as asked: its line in the page and why."""


@dataclass
class Transcript:
    """A fenced block of commands and their outputs: the page's lines [start, end) are its body."""

    start: int
    end: int
    selection: str | None
    commands: list[str]


def pages() -> list[str]:
    """Every page whose examples are checked, as a path from the checkout's root: README.md first."""
    return ["README.md", *sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").rglob("*.md"))]


def reproducible_here() -> str | None:
    """Why this machine cannot run the commands with BLAS_KERNELS; None where it can."""
    import numpy

    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    if "openblas" not in blas.lower():
        return f"numpy's BLAS here is {blas}, not OpenBLAS, whose {BLAS_KERNELS} kernels wrote the examples"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"this is a {platform.machine()} processor; the examples come from OpenBLAS's x86-64 {BLAS_KERNELS} kernels"
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "cannot tell from /proc/cpuinfo whether this processor runs AVX2, which the examples' kernels use"
    if not {"avx2", "fma"} <= flags:
        return "this processor lacks AVX2 or FMA, which the examples' kernels use"
    return None


def environment(scratch: Path) -> dict[str, str]:
    """The commands' environment: `fwdback` is this checkout's, the BLAS kernels and threads are
    pinned, and nothing of the caller's terminal (its width, colour settings) reaches them."""
    shim = scratch / ".bin" / "fwdback"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fwdback "$@"\n')
    shim.chmod(0o755)
    dropped = {"COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "OMP_NUM_THREADS"}
    kept = {name: value for name, value in os.environ.items() if name not in dropped}
    return kept | {"PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}", "OPENBLAS_CORETYPE": BLAS_KERNELS,
                   "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}


def transcripts(lines: list[str]) -> list[Transcript]:
    """Every transcript of a Markdown text's lines, in order."""
    found = []
    for index, line in enumerate(lines):
        marker = MARKER.match(line)
        if not marker:
            continue
        if index + 1 >= len(lines) or not lines[index + 1].startswith("```"):
            raise Stale(f"line {index + 1}: a transcript marker must stand right above a fenced block")
        end = next((j for j in range(index + 2, len(lines)) if lines[j] == "```"), None)
        if end is None:
            raise Stale(f"line {index + 2}: the transcript's block is never closed")
        found.append(Transcript(index + 2, end, marker["selection"], _commands(lines[index + 2 : end], index + 3)))
    return found


def unchecked_commands(lines: list[str]) -> list[int]:
    """The numbers (from 1) of the lines that show a command with a prompt, `$ ...`, outside
    every transcript and every block marked `<!-- not run: REASON -->`."""
    covered = {index for transcript in transcripts(lines) for index in range(transcript.start, transcript.end)}
    for index, line in enumerate(lines[:-1]):
        if NOT_RUN.match(line) and lines[index + 1].startswith("```"):
            fence = lines[index + 1][: len(lines[index + 1]) - len(lines[index + 1].lstrip("`"))]
            end = next((j for j in range(index + 2, len(lines)) if lines[j] == fence), len(lines))
            covered.update(range(index + 2, end))
    return [index + 1 for index, line in enumerate(lines) if line.lstrip().startswith("$ ") and index not in covered]


def _commands(body: list[str], first_line: int) -> list[str]:
    """The commands of a transcript's body, each with its continuation lines."""
    commands: list[str] = []
    continuing = False
    for number, line in enumerate(body, first_line):
        if continuing:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        elif not commands:
            raise Stale(f"line {number}: a transcript starts with a command, `$ ...`")
        else:
            continue
        continuing = not _complete(commands[-1])
    return commands


def _complete(command: str) -> bool:
    """Whether a command's text ends where it stands: no trailing backslash, no quote left open."""
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


def run(command: str, scratch: Path, env: dict[str, str]) -> list[str]:
    """The lines a command prints, stdout and stderr as one stream."""
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise Stale(f"`{command}` exited with {done.returncode}:\n{done.stdout}")
    return done.stdout.rstrip("\n").split("\n") if done.stdout.strip() else []


def selected(lines: list[str], selection: str | None, where: str) -> list[str]:
    """The lines a transcript's SELECTION keeps, with `...` where lines between two items are left out."""
    if not selection:
        return lines
    chosen: list[int] = []
    for item in (part.strip() for part in selection.split(";")):
        after = chosen[-1] + 1 if chosen else 0
        if counted := re.fullmatch(r"(head|tail) (\d+)", item):
            n = min(int(counted[2]), len(lines))
            chosen += range(n) if counted[1] == "head" else range(len(lines) - n, len(lines))
        elif span := re.fullmatch(r"/(.+)/ to /(.+)/", item):
            first = _matching(lines, span[1], after, where)
            chosen += range(first, _matching(lines, span[2], first + 1, where) + 1)
        elif pattern := re.fullmatch(r"/(.+)/", item):
            chosen.append(_matching(lines, pattern[1], after, where))
        else:
            raise Stale(f"{where}: {item!r} is not `head N`, `tail N`, `/REGEX/` or `/REGEX/ to /REGEX/`")
    kept = []
    for previous, index in zip([None, *chosen], chosen):
        if previous is not None and index != previous + 1:
            kept.append("...")
        kept.append(lines[index])
    return kept


def _matching(lines: list[str], pattern: str, start: int, where: str) -> int:
    found = next((index for index in range(start, len(lines)) if re.search(pattern, lines[index])), None)
    if found is None:
        raise Stale(f"{where}: /{pattern}/ matches no line of the output after line {start} (the output is below)\n"
                    + "\n".join(lines))
    return found


def normalised(text: str) -> str:
    for pattern, shown in NORMALISED:
        text = pattern.sub(shown, text)
    return text


def regenerated(text: str, scratch: Path, env: dict[str, str]) -> str:
    """The Markdown text with every transcript's outputs as the commands print them now; a block
    that differs only in what NORMALISED lets differ is kept as it was."""
    lines = text.split("\n")
    bodies = []
    for transcript in transcripts(lines):
        where = f"the transcript at line {transcript.start}"
        body = []
        for index, command in enumerate(transcript.commands):
            output = run(command, scratch, env)
            last = index == len(transcript.commands) - 1
            body += ["$ " + command, *(selected(output, transcript.selection, where) if last else output)]
        bodies.append((transcript, "\n".join(body).split("\n")))
    for transcript, body in reversed(bodies):  # from the end, so that the earlier blocks' line numbers hold
        old = lines[transcript.start : transcript.end]
        if normalised("\n".join(old)) != normalised("\n".join(body)):
            lines[transcript.start : transcript.end] = body
    return "\n".join(lines)


def settings_table() -> list[str]:
    """The table of settings, made from their declaration (fwdback.settings.SETTINGS)."""
    sys.path.insert(0, str(ROOT))
    from fwdback.settings import SETTINGS, Flag

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("*", "\\*")

    rows = ["| option | Python parameter | default | values | commands | meaning |", "|---|---|---|---|---|---|"]
    for setting in SETTINGS:
        option = "" if not setting.commands else f"`{setting.flag}` / `--no-{setting.flag[2:]}`" \
            if isinstance(setting.constraint, Flag) else f"`{setting.flag}`"
        default = setting.none_means if setting.default is None else f"`{setting.default!r}`" if setting.default != () else "none"
        rule = setting.used_with
        used = "" if rule is None else f" Used only where `{rule.on}` is " + (
            "given." if rule.values is None else f"{' or '.join(map(repr, rule.values))}.")
        rows.append(f"| {option} | `{setting.estimator_name}` | {cell(default)} | {cell(setting.need())} | {', '.join(setting.commands)} | "
                    f"{cell(setting.help)}{used} |")
    return rows


def with_settings_table(text: str, page: str) -> str:
    """The Markdown text with its table of settings as settings_table makes it; SETTINGS_PAGE
    must have one, another page may."""
    lines = text.split("\n")
    if page != SETTINGS_PAGE and SETTINGS_START not in lines and SETTINGS_END not in lines:
        return text
    if lines.count(SETTINGS_START) != 1 or lines.count(SETTINGS_END) != 1:
        raise Stale(f"{page} must have one line {SETTINGS_START} and one line {SETTINGS_END} around the table of settings")
    start, end = lines.index(SETTINGS_START) + 1, lines.index(SETTINGS_END)
    return "\n".join(lines[:start] + settings_table() + lines[end:])


def figure(command: str, scratch: Path, env: dict[str, str]) -> str:
    """A figure's text: the stdout of its commands, run in a scratch directory of their own."""
    own = scratch / ".figure"
    shutil.copytree(ROOT / "sample_data", own / "sample_data")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=own, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise Stale(f"`{command}` exited with {done.returncode}:\n{done.stderr}")
    shutil.rmtree(own)
    return done.stdout


def written_page(page: str) -> str:
    """A page as the program writes it: its transcripts run in a scratch directory of its own."""
    text = (ROOT / page).read_text(encoding="utf-8")
    unchecked = unchecked_commands(text.split("\n"))
    if unchecked:
        raise Stale(f"line {unchecked[0]} shows a command that is not run: put it in a transcript, or its block "
                    "under a line `<!-- not run: REASON -->`")
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        shutil.copytree(ROOT / "sample_data", scratch / "sample_data")
        return with_settings_table(regenerated(text, scratch, environment(scratch)), page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 with a diff where an example is stale")
    parser.add_argument("--screenshots", action="store_true",
                        help="retake the screenshots too (docs/screenshots.py: Playwright and Chromium)")
    arguments = parser.parse_args()
    check = arguments.check
    reason = reproducible_here()
    if reason:
        print(f"regenerate.py: cannot reproduce the examples here: {reason}", file=sys.stderr)
        return NOT_REPRODUCIBLE
    stale = []
    written = {}
    for page in pages():
        try:
            written[page] = written_page(page)
        except Stale as problem:
            print(f"regenerate.py: {page}: {problem}", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        try:
            written |= {path: figure(command, scratch, environment(scratch)) for path, command in FIGURES.items()}
        except Stale as problem:
            print(f"regenerate.py: {problem}", file=sys.stderr)
            return 1
    for path, text in written.items():
        old = (ROOT / path).read_text(encoding="utf-8")
        if old == text:
            continue
        stale.append(path)
        if check:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), path, f"{path} as the program writes it"))
        else:
            (ROOT / path).write_text(text, encoding="utf-8")
    if stale:
        print(f"regenerate.py: {'stale' if check else 'rewrote'}: {', '.join(stale)}"
              + ("; run python docs/regenerate.py" if check else ""), file=sys.stderr)
    if arguments.screenshots and not check:
        import screenshots  # docs/ is this script's directory, so on sys.path

        screenshots.main()
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
