"""What the command line imports before it does anything: `fwdback --help`, `--version` and every
command's `--help` start as fast as click allows (issue 26: within 1.3x of `import click`) only
while the heavy libraries and fwdback's own slow modules stay out of them. These tests read the
modules a real process imports (`python -X importtime`), through the installed `fwdback` script
and through `python -m fwdback`; how long that takes is benchmarks/startup.py's business."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fwdback.cli import cli

# NumPy, pandas and rich: tens of milliseconds each; importlib.metadata: 20 ms (the version is read
# from the METADATA file itself); the notation: two dozen dataclasses, 12 ms.
HEAVY = ("numpy", "pandas", "rich", "importlib.metadata", "fwdback.notation")
# The declared settings and the registries their choices name: a command's options need them,
# the list of commands and the version do not.
SETTINGS = ("fwdback.settings", "fwdback.losses", "fwdback.activations", "fwdback.optimizers")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "fwdback")


def imported(arguments: list[str], via: str, cwd) -> set[str]:
    """The modules `fwdback ARGUMENTS` imports, started `via` the installed script or `-m`."""
    start = [SCRIPT] if via == "script" else ["-m", "fwdback"]
    if via == "script" and not os.path.exists(SCRIPT):
        pytest.skip("no fwdback script beside this Python")
    result = subprocess.run([sys.executable, "-X", "importtime", *start, *arguments], cwd=cwd,
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(module for module in modules if module.split(".")[0] in names or module in names)


@pytest.mark.parametrize("via", ["script", "module"])
@pytest.mark.parametrize("arguments", [["--help"], ["--version"]])
def test_the_list_of_commands_and_the_version_import_no_setting(arguments, via, tmp_path):
    modules = imported(arguments, via, tmp_path)
    assert "click" in modules  # the import log is read
    assert loaded(modules, HEAVY + SETTINGS) == []


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_a_commands_help_imports_nothing_heavy(command, tmp_path):
    modules = imported([command, "--help"], "script" if os.path.exists(SCRIPT) else "module", tmp_path)
    assert "fwdback.cli" in modules
    assert loaded(modules, HEAVY) == []
