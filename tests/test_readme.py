"""The README's and the shell pipelines page's examples run as written, in order, and no command
replaces another's model; CI runs the README's Quick start."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
PIPELINES = README.parent / "docs" / "how-to" / "pipelines.md"
CI = README.parent / ".ci" / "run"


def block_commands(block: str) -> list[str]:
    """A shell block's commands, one per line, comments dropped."""
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def usage_commands() -> list[str]:
    """The commands of the shell pipelines page's Usage block."""
    text = PIPELINES.read_text(encoding="utf-8")
    return block_commands(text.split("## Usage", 1)[1].split("```sh", 1)[1].split("```", 1)[0])


def readme_examples() -> tuple[list[str], list[str]]:
    """The README's shell commands after its Quick start, in order, and its Python blocks; but
    for "Teach with it", whose commands are docs/how-to/teach.md's, run by that page's test."""
    text = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[1]
    before, teach = text.split("\n### Teach with it\n", 1)
    text = before + "\n## " + teach.split("\n## ", 1)[1]
    shell = [command for part in text.split("```sh\n")[1:] for command in block_commands(part.split("```", 1)[0])]
    return shell, [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def write(path: Path, header: list[str], rows: np.ndarray) -> None:
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(repr, row)) + "\n" for row in rows.tolist()))


def fwdback_on_path(directory: Path) -> dict[str, str]:
    """An environment whose `fwdback` is this checkout's, run by this Python."""
    shim = directory / "bin" / "fwdback"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fwdback "$@"\n')
    shim.chmod(0o755)
    return dict(os.environ, PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}")


def run_in_order(commands: list[str], directory: Path, environment: dict[str, str]) -> list[str]:
    """Each command's stdout; every one must succeed (every command of a pipe: pipefail) and
    print no error and replace no model."""
    outputs = []
    for command in commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=directory, env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)
        assert "Error" not in done.stderr and "it is replaced" not in done.stderr, (command, done.stderr)
        outputs.append(done.stdout)
    return outputs


@pytest.mark.slow  # about 30 commands, one process each: 27 s of a loaded 2-core run
def test_the_usage_examples_run_in_order_without_replacing_a_model(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ [2.0, -3.0, 0.5] + 1 + rng.normal(0, 0.1, 300)
    write(tmp_path / "data.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[:200], y[:200]]))
    write(tmp_path / "test.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[200:], y[200:]]))
    write(tmp_path / "new.csv", ["x1", "x2", "x3"], X[250:])
    write(tmp_path / "prices.csv", ["a", "b", "c", "price"], np.column_stack([X[:200], 10 * y[:200]]))
    commands = usage_commands()
    for command, output in zip(commands, run_in_order(commands, tmp_path, fwdback_on_path(tmp_path))):
        if "jq .final_loss" in command:
            assert float(output) > 0
    models = {name: json.loads((tmp_path / name).read_text()) for name in ("model.json", "my-model.json", "price.json", "generated.json")}
    assert models["model.json"]["training"]["data"] == "data.csv"
    assert models["price.json"]["target"] == "price" and models["generated.json"]["training"]["data"] == "<stdin>"


@pytest.mark.slow  # about 15 commands, a Dask cluster among them
def test_the_readme_s_examples_run_in_order(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ [2.0, -3.0, 0.5] + 1 + rng.normal(0, 0.1, 300)
    shutil.copytree(README.parent / "sample_data", tmp_path / "sample_data")
    write(tmp_path / "data.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[:200], y[:200]]))
    write(tmp_path / "test.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[200:], y[200:]]))
    write(tmp_path / "new.csv", ["x1", "x2", "x3"], X[250:])
    (tmp_path / "labels.csv").write_text("x1,x2,x3,y\n" + "".join(
        f"{a!r},{b!r},{c!r},{'up' if a > b else 'down'}\n" for a, b, c in X.tolist()))
    (tmp_path / "big.csv.gz").write_bytes(gzip.compress((tmp_path / "data.csv").read_bytes()))
    (tmp_path / "parts").mkdir()
    write(tmp_path / "parts" / "a.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[:150], y[:150]]))
    write(tmp_path / "parts" / "b.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[150:], y[150:]]))
    shell, python = readme_examples()
    run_in_order(shell, tmp_path, fwdback_on_path(tmp_path))
    assert json.loads((tmp_path / "clf.json").read_text())["classes"] == ["down", "up"]
    assert (tmp_path / "epoch1.pdf").read_bytes().startswith(b"%PDF")
    (block,) = python
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["model"].hidden == 4 and namespace["model"].n_iter_ >= 1


def quick_start() -> tuple[list[str], str]:
    """The Quick start's commands, and the paragraph after them that says what they do."""
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block, after = section.split("```sh", 1)[1].split("```", 1)
    return [line.strip() for line in block.splitlines() if line.strip()], after


def test_ci_runs_the_readme_s_second_quick_start_command_and_the_readme_names_what_else_it_installs():
    commands, paragraph = quick_start()
    lines = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()]
    # CI runs the README's command, exactly, then the slow tests it leaves out, which the README names.
    assert lines[-2:] == [commands[1], "python -m pytest -m slow"]
    assert "`python -m pytest -m slow`" in " ".join(paragraph.split())
    (loop,) = [line for line in lines if line.startswith("for package in ")]
    packages = loop.removeprefix("for package in ").removesuffix("; do").split()
    assert {"chromium", "chromium-driver"} <= set(packages)
    # the site builds strict, its tools installed before the tests that use them
    assert lines.index("python -m pip install '.[docs]' && python -m mkdocs build --strict") < lines.index(commands[1])
    for package in packages:
        assert f"`{package}`" in paragraph, package


def test_the_readme_s_teach_with_it_commands_are_the_walkthrough_s_which_its_test_runs():
    block = README.read_text(encoding="utf-8").split("\n### Teach with it\n", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    walkthrough = [line[2:] for line in (README.parent / "docs" / "how-to" / "teach.md").read_text(encoding="utf-8").splitlines()
                   if line.startswith("$ ")]
    commands = block_commands(block)
    assert len(commands) == 3 and all(command in walkthrough for command in commands)


REGENERATE = README.parent / "docs" / "regenerate.py"


def regenerate_module():
    """docs/regenerate.py, imported from its path (docs/ is no package)."""
    if "regenerate" not in sys.modules:
        spec = importlib.util.spec_from_file_location("regenerate", REGENERATE)
        sys.modules["regenerate"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules["regenerate"])
    return sys.modules["regenerate"]


@pytest.mark.slow  # a fwdback process for each command of every page: 10 s of CPU for the README's
def test_every_example_output_in_the_readme_and_the_docs_pages_is_what_the_program_prints():
    done = subprocess.run([sys.executable, str(REGENERATE), "--check"], capture_output=True, text=True)
    if done.returncode == regenerate_module().NOT_REPRODUCIBLE:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, f"{done.stderr}\n{done.stdout}"


def test_a_transcript_s_commands_go_on_over_open_quotes_and_backslashes():
    lines = ["text", "<!-- transcript -->", "```", "$ echo 'a", "  b' \\", "  c", "old output", "$ true", "```"]
    (transcript,) = regenerate_module().transcripts(lines)
    assert (transcript.start, transcript.end, transcript.selection) == (3, 8, None)
    assert transcript.commands == ["echo 'a\n  b' \\\n  c", "true"]


def test_an_excerpt_marks_what_it_leaves_out_and_names_a_selection_that_finds_nothing():
    regenerate = regenerate_module()
    lines = [f"line {n}" for n in range(1, 11)]
    assert regenerate.selected(lines, "head 2; tail 1", "here") == ["line 1", "line 2", "...", "line 10"]
    assert regenerate.selected(lines, "/line 3/ to /line 4/; /line [56]/", "here") == ["line 3", "line 4", "line 5"]
    assert regenerate.selected(lines, "/line 2$/; /line 9/", "here") == ["line 2", "...", "line 9"]
    with pytest.raises(regenerate.Stale, match="here: /line 99/ matches no line"):
        regenerate.selected(lines, "/line 99/", "here")


def test_a_stale_output_is_rewritten_and_one_that_differs_only_in_its_time_is_kept(tmp_path):
    regenerate = regenerate_module()
    text = "\n".join(["<!-- transcript -->", "```", "$ printf 'a\\n time   0.5 s\\n'", "b", "```",
                      "<!-- transcript -->", "```", "$ printf ' time   0.5 s\\n'", " time   0.007 s", "```", ""])
    written = regenerate.regenerated(text, tmp_path, dict(os.environ))
    assert written.split("\n")[2:5] == ["$ printf 'a\\n time   0.5 s\\n'", "a", " time   0.5 s"]
    assert written.split("\n")[9] == " time   0.007 s"  # the time a summary reports is let differ
    with pytest.raises(regenerate.Stale, match="`exit 3` exited with 3"):
        regenerate.regenerated("<!-- transcript -->\n```\n$ exit 3\n```\n", tmp_path, dict(os.environ))
