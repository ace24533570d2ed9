"""Start-up: `fwdback --help`, `--version` and a command's `--help` against `python -c "import click"`,
as whole processes (issue 26: within 1.3x).

    python benchmarks/startup.py              # 30 rounds, about a minute
    python benchmarks/startup.py --runs 10

Each round runs every command once, the order rotating from round to round, so that a busy machine
slows them alike; a ratio is the median over the rounds of the two times measured in the same round.
Wall time and the child's CPU time (user + system, getrusage) are both given: other processes on
the machine disturb the second less.

The commands run in an empty directory, so that `python -m fwdback` imports the installed package
and not a checkout that happens to be the current directory, and with their bytecode cached, as
an installed package has it: PYTHONDONTWRITEBYTECODE is dropped and PYTHONPYCACHEPREFIX names a
temporary directory, which a first run of every command fills (with bytecode written nowhere, as
some machines set, every start compiles fwdback's and click's sources: a cost of the setting, not
of the program). `python -X importtime -m fwdback --help` shows what a start imports.

Markdown goes to stdout.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from machine import machine_line

TARGET = 1.3
IMPORT_CLICK = 'python -c "import click"'
IMPORT_ALL = 'python -c "import click, numpy, pandas, rich"'
# The commands held to TARGET; the others are there to be compared with.
HELD = ("fwdback --help", "python -m fwdback --help", "fwdback --version", "fwdback train --help")


def fwdback_command() -> list[str]:
    """The installed `fwdback` script beside this Python (else on the PATH), else `python -m fwdback`."""
    script = os.path.join(os.path.dirname(sys.executable), "fwdback")
    found = script if os.path.exists(script) else shutil.which("fwdback")
    return [found] if found else [sys.executable, "-m", "fwdback"]


def commands() -> dict[str, list[str]]:
    fwdback, python = fwdback_command(), sys.executable
    return {
        "python -c pass": [python, "-c", "pass"],
        IMPORT_CLICK: [python, "-c", "import click"],
        "fwdback --help": [*fwdback, "--help"],
        "python -m fwdback --help": [python, "-m", "fwdback", "--help"],
        "fwdback --version": [*fwdback, "--version"],
        "fwdback train --help": [*fwdback, "train", "--help"],
        IMPORT_ALL: [python, "-c", "import click, numpy, pandas, rich"],
    }


def timed(command: list[str], directory: str, environment: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=directory, env=environment, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Every command's wall and CPU times, one of each a round: {label: {"wall": [...], "cpu": [...]}}."""
    listed = commands()
    times = {label: {"wall": [], "cpu": []} for label in listed}
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryDirectory() as bytecode:
        environment["PYTHONPYCACHEPREFIX"] = bytecode
        for command in listed.values():
            timed(command, directory, environment)  # writes the bytecode, warms the file cache
        labels = list(listed)
        for round_ in range(rounds):
            shift = round_ % len(labels)
            for label in labels[shift:] + labels[:shift]:
                wall, cpu = timed(listed[label], directory, environment)
                times[label]["wall"].append(wall)
                times[label]["cpu"].append(cpu)
    return times


def median(times: dict, label: str, kind: str = "wall") -> float:
    return statistics.median(times[label][kind])


def ratio(times: dict, label: str, kind: str = "wall") -> float:
    """The median over rounds of label's time / `import click`'s, both of the same round."""
    return statistics.median(a / b for a, b in zip(times[label][kind], times[IMPORT_CLICK][kind]))


def report(times: dict, load_before: float) -> list[str]:
    """The section: a table of every command, and the lines that say what was measured (with the
    1-minute load average before the rounds; the machine line gives it after them)."""
    rounds = len(times[IMPORT_CLICK]["wall"])
    lines = [f"### Start-up: whole processes against `{IMPORT_CLICK}` (target ≤ {TARGET:g})", "",
             "| command | wall | / import click | CPU | / import click |", "|---|---:|---:|---:|---:|"]
    for label in times:
        cells = []
        for kind in ("wall", "cpu"):
            against_click = ratio(times, label, kind)
            missed = " ✗" if label in HELD and against_click > TARGET else ""
            cells += [f"{median(times, label, kind) * 1e3:.1f} ms", f"{against_click:.2f}{missed}"]
        lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    lines += ["", f"Medians of {rounds} rounds, the commands taking turns; each ratio is the median of the rounds' "
              "ratios. Run in an empty directory with bytecode cached (PYTHONPYCACHEPREFIX), as an installed "
              f"package starts; fwdback as `{' '.join(fwdback_command())}`. ✗: a command held to the target misses it. "
              f"1-minute load average {load_before:.2f} before the rounds.",
              machine_line()]
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="rounds of every command (default 30)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    print("\n".join(report(measure(args.runs), load_before)))


if __name__ == "__main__":
    main()
