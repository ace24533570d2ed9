"""The command line's failure contract, and the harness that checks it with hostile paths,
streams, files and numbers. The tests themselves sit beside the module they test
(test_outputs, test_data, test_pipeline, test_modelfile, test_training, test_cli,
test_hostile_files) and import these helpers and fixtures (`assets`, `ws`, `invoke`, `big_csv`).

The failure contract, for every refused case:

- the documented exit code: 1 bad input (data, model/init file, an unusable output path, an
  OS error on any path or stream), 2 usage error (bad option values, options that contradict
  each other, an output path that is an input), 3 training diverged;
- stderr has exactly one non-empty line, `Error: ...`, at most 400 characters, naming the file
  (and the row/column where relevant). For exit 2, click's own "Usage:"/"Try ..." lines may
  come before it;
- no "Traceback" and no "Warning" (RuntimeWarning, DtypeWarning, ...) on stdout or stderr,
  and, in-process, no Python warning that would have been shown;
- for train, stdout is empty;
- every entry of the working directory is unchanged: type, bytes, symlink target, inode and
  mode (`fingerprint`), which also proves that no hidden temporary file was left behind.

Exit code 0 also covers a reader of stdout that closes the pipe early.

In-process tests use the CliRunner fixtures of conftest.py (`run`, `workdir`). Cases that need
real file descriptors (closed or full streams, pipes, FIFOs, terminals, process substitution)
run `python -m fwdback` in bash, with a timeout that only detects hangs and an address-space
limit so that a runaway allocation fails instead of exhausting the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from fwdback.cli import cli

TIMEOUT = 60  # seconds; a hang detector, never a speed requirement
MEMORY_LIMIT_KIB = 8 * 2**20  # ulimit -v for every fwdback subprocess: 8 GiB of address space
# For cases whose honest answer needs next to no memory: python, numpy and pandas fit in half of
# it, a network of 1500 hidden units trains in it, and a dense P x P matrix for P = 7501 does not.
SMALL_MEMORY_KIB = 2**20  # 1 GiB
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ERROR_LINE_MAX = 400
_CLEAN_ENV = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "NO_COLOR": None, "COLUMNS": "100"}
# The warnings Python hides by default outside __main__; any other one would reach stderr.
_HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)




@dataclass
class Outcome:
    """One fwdback run, in-process or in a subprocess."""

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    trace: str = ""


def short(text: str, limit: int = 600) -> str:
    """`text` cut for an assertion message (some cases put 50 MB on a stream)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def row(n: int) -> re.Pattern:
    """'row n' as a whole word: 'row 1' must not match 'row 10'."""
    return re.compile(rf"\brow {n}\b")


def linear(n: int, seed: int = 7, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """X : shape (n, 3) uniform on [-scale, scale], y : shape (n,) = 2 x1 - 3 x2 + 0.5 x3 + scale."""
    X = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 3)) * scale
    return X, X @ np.array([2.0, -3.0, 0.5]) + scale


def csv_lines(X: np.ndarray, y: np.ndarray, header=("x1", "x2", "x3", "y"), sep: str = ",") -> list[str]:
    """The header and one line per row, floats written with repr so they read back exactly."""
    return [sep.join(header)] + [sep.join(repr(v) for v in (*r, t)) for r, t in zip(X.tolist(), y.tolist())]


def csv_bytes(X, y, header=("x1", "x2", "x3", "y"), sep: str = ",") -> bytes:
    return ("\n".join(csv_lines(X, y, header, sep)) + "\n").encode()


def lines_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def fingerprint(root) -> dict:
    """Every entry under root: type, mode, inode, and its bytes (hashed), link target or device."""
    root = os.fspath(root)
    entries = {}

    def walk(directory):
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            info = os.lstat(entry.path)
            item = [stat.S_IFMT(info.st_mode), info.st_mode, info.st_ino]
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256()
                with open(entry.path, "rb") as stream:
                    for block in iter(lambda: stream.read(1 << 22), b""):
                        digest.update(block)
                item += [info.st_size, digest.hexdigest()]
            elif stat.S_ISLNK(info.st_mode):
                item.append(os.readlink(entry.path))
            elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                item.append(info.st_rdev)
            entries[os.path.relpath(entry.path, root)] = tuple(item)
            if stat.S_ISDIR(info.st_mode):
                walk(entry.path)

    walk(root)
    return entries


def assert_unchanged(root, before: dict, ignore=()) -> None:
    after = fingerprint(root)
    after = {k: v for k, v in after.items() if k not in ignore}
    before = {k: v for k, v in before.items() if k not in ignore}
    if after != before:
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in before if k in after and before[k] != after[k])
        pytest.fail(f"the directory changed: added {added}, removed {removed}, changed {changed}")


def check_clean(o: Outcome, refused: bool) -> None:
    """No crash, no traceback, no MemoryError, no warning text (any "Warning" at all when refused)."""
    if o.exception is not None and not isinstance(o.exception, SystemExit):
        pytest.fail(f"the command crashed (exit {o.code}):\n{o.trace[-4000:]}")
    for name, text in (("stdout", o.stdout), ("stderr", o.stderr)):
        assert "Traceback" not in text, f"a traceback on {name}, ending: {text[-1500:]}"
        assert "MemoryError" not in text, f"MemoryError on {name}: {short(text)}"
        if refused:
            assert "Warning" not in text, f"warning text on {name}: {short(text)}"
        else:
            assert not re.search(r"\w+Warning\b", text), f"a Python warning on {name}: {short(text)}"
    assert not o.warnings, f"Python warnings were issued: {o.warnings[:5]}"


def error_line(o: Outcome, usage: bool = False) -> str:
    """The one `Error: ...` line on stderr (after click's Usage/Try lines when `usage`)."""
    lines = [line for line in o.stderr.splitlines() if line.strip()]
    if usage:
        while lines and (lines[0].startswith("Usage:") or lines[0].startswith("Try '")):
            lines.pop(0)
    assert len(lines) == 1, f"want exactly one non-empty line on stderr, got {len(lines)}: {short(o.stderr)}"
    line = lines[0]
    assert line.startswith("Error: "), short(line)
    assert len(line) <= ERROR_LINE_MAX, f"the error line has {len(line)} characters: {short(line)}"
    return line


def refused(o: Outcome, code: int, fragments=(), absent=(), *, root=None, before=None, train=False) -> str:
    """Assert the failure contract; return the error line."""
    check_clean(o, refused=True)
    assert o.code == code, f"exit code {o.code}, want {code}; stderr: {short(o.stderr)}"
    line = error_line(o, usage=code == 2)
    for fragment in fragments:
        if isinstance(fragment, re.Pattern):
            assert fragment.search(line), f"{fragment.pattern!r} not in {short(line)}"
        else:
            assert fragment in line, f"{fragment!r} not in {short(line)}"
    for fragment in absent:
        if isinstance(fragment, re.Pattern):
            assert not fragment.search(line), f"{fragment.pattern!r} should not be in {short(line)}"
        else:
            assert fragment not in line, f"{fragment!r} should not be in {short(line)}"
    if train:
        assert o.stdout == "", f"train wrote to stdout: {short(o.stdout)}"
    if before is not None:
        assert_unchanged(root, before)
    return line


def succeeded(o: Outcome) -> None:
    check_clean(o, refused=False)
    assert o.code == 0, f"exit code {o.code}; stderr: {short(o.stderr)}"


def no_temporaries(root) -> None:
    hidden = [name for name in os.listdir(root) if name.startswith(".") or name.endswith(".tmp")]
    assert not hidden, f"temporary files left behind: {hidden}"


def saved_model(path) -> dict:
    document = json.loads(Path(path).read_text())
    assert document["format"] == "fwdback-model"
    return document


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "PYTHONWARNINGS", "CLICOLOR_FORCE")}
    env["COLUMNS"] = "100"
    env["FWDBACK_PYTHON"] = sys.executable
    return env


_PRELUDE = 'ulimit -v {kib}; fwdback() {{ "$FWDBACK_PYTHON" -m fwdback "$@"; }}; '


def shell(script: str, cwd, *, timeout: float = TIMEOUT, memory_kib: int = MEMORY_LIMIT_KIB, env=None) -> Outcome:
    """Run a bash script in which `fwdback` is `python -m fwdback`; its exit code, stdout and stderr.

    Everything in it runs with at most `memory_kib` KiB of address space.
    """
    process = subprocess.Popen(
        ["bash", "-c", _PRELUDE.format(kib=memory_kib) + script],
        cwd=cwd,
        env=_env() | (env or {}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"`{script}` had not ended after {timeout} s: it hangs")
    return Outcome(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def command_line(args) -> str:
    return "fwdback " + " ".join(shlex.quote(str(a)) for a in args)


def clone_device(path, major: int, minor: int) -> None:
    """A character device node like /dev/null (1, 3) or /dev/full (1, 7), in the test's directory."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("mknod is not permitted here")


def unix_socket(name: str) -> socket.socket:
    """A Unix socket bound to `name` in the working directory (relative: socket paths are short)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    return server


class FifoWriter(threading.Thread):
    """Writes `data` into a FIFO once a reader opens it, then closes it."""

    def __init__(self, path, data: bytes):
        super().__init__(daemon=True)
        self.path, self.data, self.error = path, data, None

    def run(self):
        try:
            with open(self.path, "wb") as stream:
                stream.write(self.data)
        except OSError as error:
            self.error = error

    def finish(self):
        """Let a writer that no reader took finish (drain the FIFO ourselves), then join it."""
        self.join(0.5)
        if self.is_alive():
            try:
                descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                descriptor = None
            while descriptor is not None and self.is_alive():
                try:
                    os.read(descriptor, 1 << 16)
                except BlockingIOError:
                    self.join(0.01)
            if descriptor is not None:
                os.close(descriptor)
        self.join(10)




@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """12 rows of x1,x2,x3,y and a model trained on them by a successful `train`."""
    root = tmp_path_factory.mktemp("robustness-assets")
    data = csv_bytes(*linear(12))
    (root / "d.csv").write_bytes(data)
    result = _runner().invoke(
        cli, ["train", str(root / "d.csv"), "--model", str(root / "m.json"), "--epochs", "200", "-q"], env=_CLEAN_ENV
    )
    assert result.exit_code == 0, result.stderr
    return SimpleNamespace(root=root, data=data, model=(root / "m.json").read_bytes())


@pytest.fixture(scope="module")
def big_csv(assets):
    """Over 2 MiB of CSV from `fwdback generate --rows 40000`."""
    path = assets.root / "big.csv"
    with open(path, "wb") as stream:
        subprocess.run([sys.executable, "-m", "fwdback", "generate", "--rows", "40000"], stdout=stream, check=True, timeout=TIMEOUT, env=_env())
    assert path.stat().st_size > 2 * 2**20
    return path


@pytest.fixture
def ws(workdir, assets):
    """The working directory with d.csv (12 rows) and model.json (trained on them)."""
    (workdir / "d.csv").write_bytes(assets.data)
    (workdir / "model.json").write_bytes(assets.model)
    return workdir


@pytest.fixture
def invoke(run):
    """invoke(*args, input=None) -> Outcome, in-process, with the warnings Python would have shown."""

    def call(*args, input=None):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run(list(args), input=input)
        shown = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, _HIDDEN_WARNINGS)]
        trace = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trace = "".join(traceback.format_exception(*result.exc_info))
        return Outcome(result.exit_code, result.stdout, result.stderr, result.exception, shown, trace)

    return call


