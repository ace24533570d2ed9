"""The README's examples run as written, in order, and no command replaces another's model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
CI = README.parent / ".ci" / "run"


def usage_commands() -> list[str]:
    """The commands of the README's Usage block, one per line, comments dropped."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Usage", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def write(path: Path, header: list[str], rows: np.ndarray) -> None:
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(repr, row)) + "\n" for row in rows.tolist()))


@pytest.mark.slow  # about 30 commands, one process each: 27 s of a loaded 2-core run
def test_the_usage_examples_run_in_order_without_replacing_a_model(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ [2.0, -3.0, 0.5] + 1 + rng.normal(0, 0.1, 300)
    write(tmp_path / "data.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[:200], y[:200]]))
    write(tmp_path / "test.csv", ["x1", "x2", "x3", "y"], np.column_stack([X[200:], y[200:]]))
    write(tmp_path / "new.csv", ["x1", "x2", "x3"], X[250:])
    write(tmp_path / "prices.csv", ["a", "b", "c", "price"], np.column_stack([X[:200], 10 * y[:200]]))
    shim = tmp_path / "bin" / "fwdback"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m fwdback "$@"\n')
    shim.chmod(0o755)
    environment = dict(os.environ, PATH=f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    for command in usage_commands():
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (command, done.stderr)  # with pipefail: every command of a pipe
        assert "Error" not in done.stderr and "it is replaced" not in done.stderr, (command, done.stderr)
        if "jq .final_loss" in command:
            assert float(done.stdout) > 0
    models = {name: json.loads((tmp_path / name).read_text()) for name in ("model.json", "my-model.json", "price.json", "generated.json")}
    assert models["model.json"]["training"]["data"] == "data.csv"
    assert models["price.json"]["target"] == "price" and models["generated.json"]["training"]["data"] == "<stdin>"


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
    for package in packages:
        assert f"`{package}`" in paragraph, package
