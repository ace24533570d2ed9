"""Adversarial robustness: what fwdback does with hostile paths, streams, files and numbers.

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
import math
import os
import pty
import re
import shlex
import shutil
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# A. Outputs that are inputs: refused before any work, exit 2
# ---------------------------------------------------------------------------------------------


def _copy_model(ws):
    shutil.copy(ws / "model.json", ws / "m.json")


def _hard_link(ws):
    os.link(ws / "d.csv", ws / "hard.json")


def _soft_link(ws):
    os.symlink("d.csv", ws / "soft.json")


OUTPUT_IS_INPUT = [
    pytest.param(None, ["--model", "d.csv"], ["--model", "d.csv"], id="--model is DATA"),
    pytest.param(None, ["--history", "d.csv"], ["--history", "d.csv"], id="--history is DATA"),
    pytest.param(_copy_model, ["--resume", "m.json", "--history", "d.csv"], ["--history", "d.csv"], id="--history is DATA, with --resume"),
    pytest.param(None, ["--model", "x.json", "--history", "x.json"], ["x.json", re.compile("--model|--history")], id="--model is --history"),
    pytest.param(_hard_link, ["--model", "hard.json"], ["--model", "hard.json"], id="--model is a hard link to DATA"),
    pytest.param(_soft_link, ["--model", "soft.json"], ["--model", "soft.json"], id="--model is a symlink to DATA"),
]


@pytest.mark.parametrize("setup, options, fragments", OUTPUT_IS_INPUT)
def test_an_output_that_is_an_input_is_refused_before_any_work(invoke, ws, setup, options, fragments):
    if setup:
        setup(ws)
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--epochs", "5", *options)
    refused(o, 2, fragments, root=ws, before=before, train=True)


def test_stdout_appended_to_the_data_is_refused(ws):
    before = fingerprint(ws)
    o = shell("fwdback train d.csv --epochs 5 >> d.csv", ws)
    refused(o, 2, ["d.csv", re.compile("stdout|standard output")], root=ws, before=before)


@pytest.mark.parametrize(
    "options, target",
    [
        (["--resume", "m.json", "--model", "m.json"], "m.json"),
        (["--init", "m.json", "--model", "m.json"], "m.json"),
        (["--init", "model.json"], "model.json"),
    ],
    ids=["--resume M --model M", "--init M --model M", "--init model.json, the default --model"],
)
def test_a_model_may_be_replaced_by_its_own_continuation(invoke, ws, options, target):
    _copy_model(ws)
    old = (ws / target).read_bytes()
    o = invoke("train", "d.csv", "--epochs", "20", "-q", *options)
    succeeded(o)
    assert (ws / target).read_bytes() != old
    saved_model(ws / target)
    no_temporaries(ws)


# ---------------------------------------------------------------------------------------------
# B. Where outputs land
# ---------------------------------------------------------------------------------------------


def test_a_model_path_that_is_a_symlink_is_written_through(invoke, ws):
    (ws / "real.json").write_text('{"format": "fwdback-model", "version": 1}\n')  # an old model, to be replaced
    os.symlink("real.json", ws / "link.json")
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--epochs", "20", "-q", "--model", "link.json")
    succeeded(o)
    assert os.path.islink(ws / "link.json") and os.readlink(ws / "link.json") == "real.json"
    saved_model(ws / "real.json")
    assert sorted(os.listdir(ws)) == sorted(before)
    assert_unchanged(ws, before, ignore=("real.json",))


def test_a_model_path_on_a_character_device_is_written_in_place(invoke, ws):
    clone_device(ws / "null.json", 1, 3)  # a /dev/null of our own: the real one is never an output
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--epochs", "20", "-q", "--model", "null.json")
    succeeded(o)
    assert stat.S_ISCHR(os.lstat(ws / "null.json").st_mode)
    assert_unchanged(ws, before)


def test_a_model_path_on_a_fifo_is_written_to_its_reader(ws):
    fifo = ws / "pipe.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    keeper = os.open(fifo, os.O_WRONLY)  # the reader sees no end of file before the command has ended
    os.set_blocking(reader, True)
    received = bytearray()

    def read_all():
        while chunk := os.read(reader, 1 << 16):
            received.extend(chunk)

    thread = threading.Thread(target=read_all, daemon=True)
    thread.start()
    before = fingerprint(ws)
    try:
        o = shell("fwdback train d.csv --epochs 20 -q --model pipe.json", ws)
    finally:
        os.close(keeper)
        thread.join(TIMEOUT)
    os.close(reader)
    succeeded(o)
    assert json.loads(bytes(received))["format"] == "fwdback-model"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert_unchanged(ws, before)


def _mkdir(name):
    def make(ws):
        (ws / name).mkdir()

    return make


def _socket(name):
    def make(ws):
        return unix_socket(name)

    return make


@pytest.mark.parametrize(
    "option, setup, path",
    [
        pytest.param("--model", _mkdir("outdir"), "outdir", id="--model a directory"),
        pytest.param("--model", _socket("sock.json"), "sock.json", id="--model a unix socket"),
        pytest.param("--model", None, "nodir/m.json", id="--model in a missing directory"),
        pytest.param("--history", _mkdir("histdir"), "histdir", id="--history a directory"),
    ],
)
def test_an_unusable_output_path_fails_before_training(invoke, ws, option, setup, path):
    keep = setup(ws) if setup else None
    try:
        before = fingerprint(ws)
        o = invoke("train", "d.csv", "--epochs", "5", option, path)
    finally:
        if keep is not None:
            keep.close()
    refused(o, 1, [path.split("/")[0]], root=ws, before=before, train=True)


# ---------------------------------------------------------------------------------------------
# C. A failure never replaces the existing model
# ---------------------------------------------------------------------------------------------


def test_a_full_stdout_leaves_the_model_alone(ws):
    before = fingerprint(ws)
    o = shell("fwdback train d.csv --epochs 20 > /dev/full", ws)
    refused(o, 1, ["stdout"], root=ws, before=before)


def test_a_full_history_device_leaves_the_model_alone(invoke, ws):
    # A /dev/full of our own: a writer that renamed a temporary file over the path would
    # otherwise replace the system's /dev/full.
    clone_device(ws / "full.csv", 1, 7)
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--epochs", "20", "--history", "full.csv")
    refused(o, 1, ["full.csv"], root=ws, before=before, train=True)


def test_a_target_of_zeros_gives_a_json_report(invoke, ws):
    X, _ = linear(12)
    (ws / "y0.csv").write_bytes(csv_bytes(X, np.zeros(12)))
    o = invoke("train", "y0.csv", "--format", "json", "--epochs", "50")
    succeeded(o)
    assert json.loads(o.stdout)["rows"] == 12


# ---------------------------------------------------------------------------------------------
# D. Strict reading
# ---------------------------------------------------------------------------------------------

MALFORMED = [
    pytest.param(
        "extra.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4,5", "2,3,4,5,6", "3,4,5,6,7"),
        [row(1), re.compile(r"\b5\b"), re.compile(r"\b4\b")], [], id="every row has one field more than the header",
    ),
    pytest.param(
        "trailing.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4,", "2,3,4,5,", "3,4,5,6,"),
        [row(1), re.compile(r"\b5\b"), "field"], ["fewer"], id="rows end with a separator",
    ),
    pytest.param(
        "short.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4", "5,6,7", "8,9,10,11"),
        [row(2)], [], id="a row with fewer fields",
    ),
    pytest.param(
        "blank.csv", lambda: lines_bytes("x1,x2,x3,y", "1,2,3,4", "", "", "5,6,7,8", "1,abc,3,4"),
        [row(3), re.compile(r"\bline 6\b"), "x2"], [], id="blank lines before a bad cell",
    ),
    pytest.param(
        "quoted.csv", lambda: lines_bytes("x1,x2,x3,y,note", '1,2,3,4,"a', "b", 'c"', "5,6,7,8,ok", "1,abc,3,4,z"),
        [row(3), "x2"], [row(5)], id="a quoted field spans lines",
    ),
    pytest.param(
        "nul.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n2,3,4,5\n" + b"\0" * (10 * 2**20),
        [re.compile(r"\brow \d+\b")], [], id="10 MB of NUL bytes at the end",
    ),
    pytest.param(
        "cell.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n1," + b"1" * 50_000_000 + b",3,4\n",
        [row(2)], [], id="a 50 MB cell of digits", marks=pytest.mark.slow,  # 50 MB read twice: about 1 s each
    ),
    pytest.param(
        "cell.csv", lambda: b"x1,x2,x3,y\n1,2,3,4\n1," + b"a" * 50_000_000 + b",3,4\n",
        [row(2)], [], id="a 50 MB cell of letters", marks=pytest.mark.slow,  # 50 MB read twice: about 1 s each
    ),
]


@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("name, content, fragments, absent", MALFORMED)
def test_a_malformed_row_is_refused_by_its_number(invoke, ws, command, name, content, fragments, absent):
    (ws / name).write_bytes(content())
    before = fingerprint(ws)
    o = invoke(command, name, *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, [name, *fragments], absent, root=ws, before=before, train=command == "train")


LONG_LINE = 100 * 2**20 + 1


@pytest.mark.slow  # 100 MB written and read four times: about 4 s
@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("head", [b"x1,x2,x3,y,", b"x1,x2,x3,y\n1,2,3,"], ids=["the only line", "a data row"])
def test_a_line_over_100_mb_without_a_newline_is_refused(ws, command, head):
    path = ws / "long.csv"
    with open(path, "wb") as stream:
        stream.write(head)
        block = b"9" * 2**20
        for _ in range(LONG_LINE // len(block)):
            stream.write(block)
        stream.write(b"9" * (LONG_LINE % len(block)))
    try:
        before = fingerprint(ws)
        o = shell(f"fwdback {command} long.csv" + (" --epochs 5" if command == "train" else ""), ws)
        refused(o, 1, ["long.csv"], root=ws, before=before, train=command == "train")
    finally:
        path.unlink()


def test_streamed_training_names_a_ragged_row_deep_in_the_file(invoke, ws):
    lines = csv_lines(*linear(5000, seed=3))
    lines[4001] += ",9"  # lines[0] is the header
    (ws / "ragged.csv").write_text("\n".join(lines) + "\n")
    before = fingerprint(ws)
    o = invoke("train", "ragged.csv", "--chunksize", "1000", "--epochs", "5")
    refused(o, 1, ["ragged.csv", row(4001)], root=ws, before=before, train=True)


@pytest.mark.parametrize("header", ["x1 ,x2\t,x3,y", '"x1\n",x2,x3,y'], ids=["trailing space and tab", "a quoted newline"])
def test_header_names_are_compared_after_trimming(invoke, ws, header):
    body = csv_bytes(*linear(12)).split(b"\n", 1)[1]
    (ws / "h.csv").write_bytes(header.encode() + b"\n" + body)
    o = invoke("train", "h.csv", "--epochs", "20", "-q", "--model", "h.json")
    succeeded(o)
    saved_model(ws / "h.json")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_column_in_the_wrong_case_is_suggested(invoke, ws, command):
    (ws / "case.csv").write_bytes(csv_bytes(*linear(12), header=("X1", "x2", "x3", "y")))
    before = fingerprint(ws)
    o = invoke(command, "case.csv", *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, ["case.csv", "did you mean 'X1'"], root=ws, before=before, train=command == "train")


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_literal_backslash_t_separator_is_a_tab(invoke, ws, command):
    (ws / "t.tsv").write_bytes(csv_bytes(*linear(12), sep="\t"))
    o = invoke(command, "t.tsv", "--sep", "\\t", *(["--epochs", "20", "-q"] if command == "train" else []))
    succeeded(o)
    if command == "predict":
        lines = o.stdout.splitlines()
        assert lines[0] == "x1\tx2\tx3\ty\ty_hat" and len(lines) == 13


@pytest.mark.parametrize("command", ["train", "predict"])
@pytest.mark.parametrize("sep", ["", ",,"], ids=["empty", "two characters"])
def test_an_impossible_separator_is_a_usage_error(invoke, ws, command, sep):
    before = fingerprint(ws)
    o = invoke(command, "d.csv", "--sep", sep, *(["--epochs", "5"] if command == "train" else []))
    refused(o, 2, ["--sep"], root=ws, before=before)
    assert o.stdout == ""


SEEDED = {
    "train": ["train", "d.csv", "--epochs", "5", "-q"],
    "explain": ["explain", "d.csv"],
    "gradcheck": ["gradcheck", "d.csv"],
    "generate": ["generate", "--rows", "5"],
}


@pytest.mark.parametrize("command", list(SEEDED))
def test_a_negative_seed_is_a_usage_error(invoke, ws, command):
    before = fingerprint(ws)
    o = invoke(*SEEDED[command], "--seed", "-1")
    refused(o, 2, ["--seed"], root=ws, before=before)
    assert o.stdout == ""


@pytest.mark.parametrize("command", ["train", "generate"])
def test_a_huge_seed_is_a_seed(invoke, ws, command):
    succeeded(invoke(*SEEDED[command], "--seed", "1" + "0" * 30))


# ---------------------------------------------------------------------------------------------
# E. Standard streams, pipes and FIFOs (subprocesses)
#    `train d.csv <&-`, `train d.csv >&-` and `train d.csv -q >&-` are in section I.
# ---------------------------------------------------------------------------------------------


def test_data_from_a_closed_stdin_is_an_error(ws):
    before = fingerprint(ws)
    o = shell("fwdback train - --epochs 5 <&-", ws)
    refused(o, 1, ["stdin"], root=ws, before=before, train=True)


def test_train_with_stderr_closed_saves_the_model(ws, assets):
    o = shell("fwdback train d.csv --epochs 20 2>&-", ws)
    succeeded(o)
    assert o.stdout.strip()
    assert (ws / "model.json").read_bytes() != assets.model
    saved_model(ws / "model.json")
    no_temporaries(ws)


def test_predict_with_stderr_closed_predicts(ws):
    o = shell("fwdback predict d.csv 2>&-", ws)
    succeeded(o)
    lines = o.stdout.splitlines()
    assert lines[0] == "x1,x2,x3,y,y_hat" and len(lines) == 13


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["train", "--help"]], ids=" ".join)
def test_version_and_help_on_a_full_stdout(ws, args):
    before = fingerprint(ws)
    o = shell(command_line(args) + " > /dev/full", ws)
    refused(o, 1, ["stdout"], root=ws, before=before)


def test_a_big_csv_piped_to_dev_stdin(ws, big_csv):
    o = shell(f"cat {shlex.quote(str(big_csv))} | fwdback train /dev/stdin --epochs 20 -q; exit \"${{PIPESTATUS[1]}}\"", ws)
    succeeded(o)
    assert saved_model(ws / "model.json")["training"]["rows"] == 40000


@pytest.mark.parametrize("size", ["12 rows", "over 2 MiB"])
def test_a_fifo_whose_writer_closes_is_read_to_the_end(ws, assets, big_csv, size):
    data, rows = (assets.data, 12) if size == "12 rows" else (big_csv.read_bytes(), 40000)
    fifo = ws / "in.csv"
    os.mkfifo(fifo)
    writer = FifoWriter(fifo, data)
    writer.start()
    try:
        o = shell("fwdback train in.csv --epochs 20 -q", ws)
    finally:
        writer.finish()
    succeeded(o)
    assert writer.error is None, writer.error
    assert saved_model(ws / "model.json")["training"]["rows"] == rows
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_process_substitution(ws, assets):
    o = shell("fwdback train <(cat d.csv) --epochs 20 -q", ws)
    succeeded(o)
    assert (ws / "model.json").read_bytes() != assets.model
    saved_model(ws / "model.json")


@pytest.mark.parametrize(
    "args",
    [["train", "d.csv", "--epochs", "3000", "--every", "1"], ["explain", "d.csv", "--hidden", "30", "--rows", "12"]],
    ids=["train", "explain"],
)
def test_a_reader_that_takes_one_byte_ends_fwdback_quietly(ws, args):
    # Both outputs are over 64 KiB, more than a pipe holds: fwdback meets the closed pipe.
    o = shell(command_line(args) + ' | head -c 1; exit "${PIPESTATUS[0]}"', ws)
    check_clean(o, refused=False)
    assert o.code == 0, f"exit code {o.code}; stderr: {short(o.stderr)}"
    assert o.stderr == ""
    assert len(o.stdout) == 1


@pytest.mark.parametrize("save", [False, True], ids=["default", "--save-on-interrupt"])
def test_a_reader_that_stops_during_training_stops_training(ws, save):
    before = fingerprint(ws)
    extra = " --save-on-interrupt" if save else ""
    o = shell(f'fwdback train d.csv --epochs 100000000 --format csv{extra} | head -n 2; exit "${{PIPESTATUS[0]}}"', ws)
    check_clean(o, refused=False)
    assert o.code == 0, f"exit code {o.code}; stderr: {short(o.stderr)}"
    lines = o.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch,loss") and lines[1].startswith("1,"), short(o.stdout)
    if save:
        assert saved_model(ws / "model.json")["training"]["interrupted"] is True
        no_temporaries(ws)
    else:
        assert_unchanged(ws, before)


def test_generate_of_a_trillion_rows_streams_into_a_pipe(ws):
    o = shell('fwdback generate --rows 1000000000000 | head -n 3; exit "${PIPESTATUS[0]}"', ws)
    check_clean(o, refused=False)
    assert o.code == 0, f"exit code {o.code}; stderr: {short(o.stderr)}"
    lines = o.stdout.splitlines()
    assert len(lines) == 3 and lines[0] == "x1,x2,x3,y", short(o.stdout)


def test_a_trillion_epochs_are_not_allocated_up_front(ws):
    before = fingerprint(ws)
    o = shell('fwdback train d.csv --epochs 1000000000000 --format csv | head -n 3; exit "${PIPESTATUS[0]}"', ws)
    check_clean(o, refused=False)
    assert o.code == 0, f"exit code {o.code}; stderr: {short(o.stderr)}"
    lines = o.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch,loss"), short(o.stdout)
    assert_unchanged(ws, before)


def test_train_without_data_does_not_wait_for_a_terminal(ws):
    before = fingerprint(ws)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "fwdback", "train"], cwd=ws, env=_env(),
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail("train waited for data typed at the terminal")
    finally:
        os.close(controller)
        os.close(terminal)
    o = Outcome(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    refused(o, 2, [re.compile("stdin|DATA")], root=ws, before=before, train=True)


@pytest.mark.parametrize("command", ["train d.csv --init - --epochs 5", "show -", "predict d.csv --model -", "explain d.csv --init -"])
def test_a_model_or_init_from_a_closed_stdin_is_an_error_that_says_so(ws, command):
    before = fingerprint(ws)
    o = shell(f"fwdback {command} <&-", ws)
    refused(o, 1, ["<stdin>: is closed"], ["NUL"], root=ws, before=before)


def test_a_model_written_to_dev_stdout_in_a_pipe_is_the_model_on_stdout(ws):
    before = fingerprint(ws)
    o = shell('fwdback train d.csv --epochs 20 --model /dev/stdout | cat; exit "${PIPESTATUS[0]}"', ws)
    succeeded(o)
    piped = shell('fwdback train d.csv --epochs 20 --model - | cat; exit "${PIPESTATUS[0]}"', ws)
    assert json.loads(o.stdout)["weights"] == json.loads(piped.stdout)["weights"]
    assert o.stderr == piped.stderr and "Saved" not in o.stderr
    assert_unchanged(ws, before)


def test_a_model_written_to_the_file_stdout_goes_to_is_the_model_on_stdout(ws):
    o = shell("fwdback train d.csv --epochs 20 --model /dev/stdout > out.txt", ws)
    succeeded(o)
    written = (ws / "out.txt").read_text()
    assert saved_model(ws / "out.txt") and written.startswith("{") and written.count('"format"') == 1
    # A report format would share stdout with the model: the usage error of --model -.
    (ws / "out.txt").write_text("kept\n")
    before = fingerprint(ws)
    for model in ("out.txt", "/dev/stdout"):
        refused(shell(f"fwdback train d.csv --epochs 20 --model {model} --format json >> out.txt", ws), 2,
                [f"--model {model}", "stdout", "--format"], root=ws, before=before)


def test_a_model_written_to_the_file_stderr_goes_to_is_refused(ws):
    (ws / "err.txt").write_text("")
    o = shell("fwdback train d.csv --epochs 20 --model /dev/stderr 2>> err.txt", ws)
    assert o.code == 2
    assert (ws / "err.txt").read_text().startswith("Error: --model /dev/stderr is the file stderr is written to")
    no_temporaries(ws)


def test_a_model_written_into_a_process_substitution(ws):
    o = shell("fwdback train d.csv --epochs 20 -q --model >(cat > piped.json); sleep 0.2", ws)
    succeeded(o)
    assert saved_model(ws / "piped.json")["training"]["epochs"] == 20


@pytest.mark.parametrize(
    "command, saves",
    [("train d.csv --epochs 20", True), ("train d.csv --epochs 20 --no-save", False), ("predict d.csv", False),
     ("evaluate d.csv", False), ("explain d.csv", False)],
)
def test_a_closed_stdout_is_called_closed_and_nothing_else(ws, command, saves):
    o = shell(f"fwdback {command} >&-", ws)
    line = refused(o, 1, ["could not write to stdout: it is closed"], ["space"])
    assert ("nothing was saved" in line) == saves


# ---------------------------------------------------------------------------------------------
# F. Model and init files
# ---------------------------------------------------------------------------------------------


def _edited_model(assets, **changes) -> bytes:
    document = json.loads(assets.model)
    document.update(changes)
    return json.dumps(document, indent=2).encode()


def _huge_weight(assets) -> bytes:
    document = json.loads(assets.model)
    document["weights"]["w1"] = "@HUGE@"
    return json.dumps(document, indent=2).replace('"@HUGE@"', "1" + "0" * 400).encode()


BAD_MODELS = {
    "nested 100,000 deep": lambda assets: b"[" * 100_000 + b"]" * 100_000,
    "a weight of 10**400": _huge_weight,
    "activation is a list": lambda assets: _edited_model(assets, activation=["relu"]),
    "version 99": lambda assets: _edited_model(assets, version=99),
}

MODEL_USES = {
    "--init": lambda path: ["train", "d.csv", "--init", path, "--epochs", "5"],
    "--resume": lambda path: ["train", "d.csv", "--resume", path, "--epochs", "5"],
    "predict --model": lambda path: ["predict", "d.csv", "--model", path],
    "show": lambda path: ["show", path],
}


@pytest.mark.parametrize("use", list(MODEL_USES))
@pytest.mark.parametrize("kind", list(BAD_MODELS))
def test_a_bad_model_file_is_refused(invoke, ws, assets, use, kind):
    (ws / "bad.json").write_bytes(BAD_MODELS[kind](assets))
    before = fingerprint(ws)
    o = invoke(*MODEL_USES[use]("bad.json"))
    refused(o, 1, ["bad.json"], root=ws, before=before, train=use in ("--init", "--resume"))


def test_resume_refuses_an_epoch_count_that_is_not_a_number(invoke, ws, assets):
    document = json.loads(assets.model)
    document["training"]["epochs"] = "abc"
    (ws / "bad.json").write_text(json.dumps(document))
    before = fingerprint(ws)
    o = invoke(*MODEL_USES["--resume"]("bad.json"))
    refused(o, 1, ["bad.json"], root=ws, before=before, train=True)


@pytest.mark.parametrize("use", ["--resume", "predict --model", "show"])
def test_a_small_model_claiming_a_billion_hidden_units_is_refused_promptly(ws, assets, use):
    weights = json.loads(assets.model)["weights"]
    document = {"format": "fwdback-model", "version": 1, "features": ["x1", "x2", "x3"], "target": "y",
                "activation": "identity", "hidden": 1_000_000_000, "weights": weights}
    text = json.dumps(document)
    assert len(text) < 1024
    (ws / "wide.json").write_text(text)
    before = fingerprint(ws)
    o = shell(command_line(MODEL_USES[use]("wide.json")), ws, memory_kib=SMALL_MEMORY_KIB, env=SINGLE_THREADED)
    refused(o, 1, ["wide.json"], root=ws, before=before, train=use == "--resume")


def _symlink_loop(ws):
    os.symlink("loop_b", ws / "loop_a")
    os.symlink("loop_a", ws / "loop_b")
    return "loop_a", None


def _long_name(ws):
    return "n" * 5000 + ".csv", None


def _bound_socket(ws):
    return "s.sock", unix_socket("s.sock")


ODD_PATHS = {"a symlink loop": _symlink_loop, "a 5000-character name": _long_name, "a unix socket": _bound_socket}
PATH_USES = {
    "train DATA": lambda path: ["train", path, "--epochs", "5"],
    "predict DATA": lambda path: ["predict", path],
    **MODEL_USES,
}


@pytest.mark.parametrize("use", list(PATH_USES))
@pytest.mark.parametrize("kind", list(ODD_PATHS))
def test_a_path_that_cannot_be_read_is_refused(invoke, ws, use, kind):
    path, keep = ODD_PATHS[kind](ws)
    try:
        before = fingerprint(ws)
        o = invoke(*PATH_USES[use](path))
    finally:
        if keep is not None:
            keep.close()
    refused(o, 1, [path[:20]], root=ws, before=before, train=use.startswith("train") or use in ("--init", "--resume"))


# ---------------------------------------------------------------------------------------------
# G. Numbers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "explain"])
def test_data_whose_loss_overflows_asks_for_standardize(invoke, ws, command):
    # Given --lr, fwdback trains on the raw values, as the lecture does (without it, it would
    # standardise such badly scaled columns itself).
    (ws / "huge.csv").write_bytes(csv_bytes(*linear(12, scale=1e200)))
    before = fingerprint(ws)
    o = invoke(command, "huge.csv", "--lr", "0.05", *(["--epochs", "5"] if command == "train" else []))
    refused(o, 1, ["huge.csv", "--standardize"], ["--lr"], root=ws, before=before, train=command == "train")


def test_a_huge_learning_rate_diverges_without_warnings(invoke, ws):
    before = fingerprint(ws)
    o = invoke("train", "d.csv", "--lr", "1e10")
    refused(o, 3, ["--lr"], root=ws, before=before, train=True)


def _yhat(weights, x) -> float:
    """The 3-2-1 linear network by hand, in Python floats (inf and nan as they fall)."""
    w = weights
    n1 = w["w1"] * x[0] + w["w2"] * x[1] + w["w3"] * x[2] + w["b1"]
    n2 = w["w4"] * x[0] + w["w5"] * x[1] + w["w6"] * x[2] + w["b2"]
    return w["w7"] * n1 + w["w8"] * n2 + w["b3"]


def test_predictions_that_overflow_are_refused_by_row(invoke, ws, assets):
    # One input of 1.7e308 and the others 0: the product with a hidden weight above 1.06 in size
    # overflows by itself, whatever order a BLAS kernel sums the terms in.
    weights = json.loads(assets.model)["weights"]
    candidates = (tuple(1.7e308 if j == k else 0.0 for j in range(3)) for k in range(3))
    x = next((c for c in candidates if not math.isfinite(_yhat(weights, c))), None)
    assert x is not None, "no single input of 1.7e308 overflows this model"
    (ws / "over.csv").write_text("x1,x2,x3,y\n0.5,0.25,-0.5,1\n" + ",".join(repr(v) for v in x) + ",0\n")
    before = fingerprint(ws)
    o = invoke("predict", "over.csv")
    refused(o, 1, ["over.csv", row(2)], root=ws, before=before)


NOT_A_NUMBER = [
    (["train", "d.csv", "--min-delta", "nan"], "--min-delta"),
    (["generate", "--noise", "nan"], "--noise"),
    (["train", "d.csv", "--lr", "inf"], "--lr"),
    (["gradcheck", "d.csv", "--max-error", "nan"], "--max-error"),
    (["train", "d.csv", "--val-split", "nan"], "--val-split"),
    (["generate", "--coef", "1,2,3,nan"], "--coef"),
]


@pytest.mark.parametrize("args, option", NOT_A_NUMBER, ids=[" ".join(a[0:1] + a[-2:]) for a, _ in NOT_A_NUMBER])
def test_nan_and_inf_options_are_usage_errors(invoke, ws, args, option):
    before = fingerprint(ws)
    o = invoke(*args)
    refused(o, 2, [option], root=ws, before=before)
    assert o.stdout == ""


def test_a_column_that_turns_to_text_late_gives_no_dtype_warning(invoke, ws):
    X, y = linear(1000, seed=5)
    block = csv_lines(X, y, header=("x1", "x2", "x3", "y"))[1:]
    with open(ws / "late.csv", "w") as stream:
        stream.write("x1,x2,x3,y,note\n")
        for repeat in range(300):
            note = ",7\n" if repeat < 200 else ",abc\n"
            stream.write(note.join(block) + note)
    o = invoke("train", "late.csv", "--epochs", "10", "-q")
    succeeded(o)
    assert saved_model(ws / "model.json")["training"]["rows"] == 300_000


def test_a_wide_network_with_a_huge_learning_rate_diverges_promptly(ws):
    (ws / "w200.csv").write_bytes(csv_bytes(*linear(200, seed=11)))
    before = fingerprint(ws)
    # The learning-rate hint must not build a dense P x P matrix (P = 7501): in 1 GiB it cannot.
    o = shell("fwdback train w200.csv --hidden 1500 --lr 1e6", ws, memory_kib=SMALL_MEMORY_KIB, env=SINGLE_THREADED)
    refused(o, 3, ["--lr"], root=ws, before=before, train=True)


# ---------------------------------------------------------------------------------------------
# H. Random option values, in-process
# ---------------------------------------------------------------------------------------------

FLAG = object()
JUNK = st.text(max_size=10)
ODD_NUMBERS = st.sampled_from(["nan", "-nan", "NaN", "inf", "-inf", "1e308", "1e400", "-0.0", "0", "-1", "5e-324", "1_000", "0x10", " 3", "3 ", "1" + "0" * 40])


def _ints(low, high):
    return st.one_of(st.integers(low, high).map(str), ODD_NUMBERS, JUNK)


def _epochs(low, high):
    """Like _ints, but never a count of epochs or rows that would honestly run for ever (10**40)."""
    return st.one_of(st.integers(low, high).map(str), ODD_NUMBERS.filter(lambda text: len(text) < 30), JUNK)


SEEDS = st.one_of(st.integers().map(str), st.sampled_from([str(-(2**63)), str(2**64), "1" + "0" * 30]), ODD_NUMBERS, JUNK)
FLOATS = st.one_of(st.floats().map(repr), st.sampled_from(["1e308", "-0.0", "5e-324", "-1e308"]), ODD_NUMBERS, JUNK)
READ_PATHS = st.one_of(st.sampled_from(["m.json", "model.json", "d.csv", "missing.json", "dir", "", "-"]), JUNK)
WRITE_PATHS = st.sampled_from(["out.json", "model.json", "m.json", "d.csv", "dir", "nodir/x.json", "", "h.csv"])


def _choice(*names):
    return st.one_of(st.sampled_from(names), JUNK)


TRAINING_OPTIONS = {
    "--lr": FLOATS,
    "--seed": SEEDS,
    "--init": READ_PATHS,
    "--features": _choice("x1,x2,x3", "x3,x1", "x1", "a,b", "", ",", "x1,x1", "y", "x1, x2 ,x3"),
    "--target": _choice("y", "x1", "", "z"),
    "--sep": _choice(",", ";", "\t", "\\t", "", ",,", "|", " ", "."),
    "--activation": _choice("identity", "tanh", "relu", "sigmoid"),
    "--hidden": _ints(-2, 6),
    "--standardize": FLAG,
    "--batch-size": _ints(-3, 10**6),
    "--val-split": FLOATS,
    "--patience": _ints(-3, 10**6),
    "--min-delta": FLOATS,
}

RANDOM_OPTIONS = {
    "train": {
        **TRAINING_OPTIONS,
        "--resume": READ_PATHS,
        "--model": WRITE_PATHS,
        "--history": WRITE_PATHS,
        "--format": _choice("table", "csv", "json"),
        "--every": _ints(-3, 10**6),
        "--no-chart": FLAG,
        "--quiet": FLAG,
        "--save-on-interrupt": FLAG,
        "--chunksize": _ints(-10, 5000),
    },
    "explain": {**TRAINING_OPTIONS, "--epoch": _epochs(-2, 25), "--rows": _ints(-2, 50), "--format": _choice("table", "markdown", "json")},
    "gradcheck": {**TRAINING_OPTIONS, "--epochs": _epochs(-2, 25), "--max-error": FLOATS, "--format": _choice("table", "json")},
    "generate": {
        "--rows": _epochs(-2, 50),
        "--seed": SEEDS,
        "--noise": FLOATS,
        "--coef": st.one_of(st.lists(st.floats().map(repr), max_size=5).map(",".join), JUNK),
    },
    "show": {},
    "predict": {"--model": READ_PATHS, "--sep": _choice(",", ";", "\t", "\\t", "", ",,", "|", " ", ".")},
}
POSITIONAL = {
    "train": "d.csv",
    "explain": "d.csv",
    "gradcheck": "d.csv",
    "generate": None,
    "show": READ_PATHS,
    "predict": st.one_of(st.sampled_from(["d.csv", "m.json", "missing.csv", "dir", "-"]), JUNK),
}


def _reset(root, assets):
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    (root / "d.csv").write_bytes(assets.data)
    (root / "m.json").write_bytes(assets.model)
    (root / "model.json").write_bytes(assets.model)
    (root / "dir").mkdir()


@pytest.mark.parametrize("command", list(RANDOM_OPTIONS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_option_values_end_in_a_documented_way(invoke, workdir, assets, command, data):
    _reset(workdir, assets)
    args = [command]
    if command in ("show", "predict"):  # their DATA/MODEL may be left out
        positional = data.draw(st.one_of(st.none(), POSITIONAL[command]), label="positional")
    else:
        positional = POSITIONAL[command]
    if positional is not None:
        args.append(positional)
    if command == "train":  # always bounded: a few epochs, or a value that is no number
        args += ["--epochs", data.draw(_epochs(-2, 25), label="--epochs")]
    options = RANDOM_OPTIONS[command]
    for name in data.draw(st.lists(st.sampled_from(sorted(options)), unique=True, max_size=6) if options else st.just([]), label="options"):
        if options[name] is FLAG:
            args.append(name)
        else:
            args += [name, data.draw(options[name], label=name)]
    o = invoke(*args)
    if o.exception is not None and not isinstance(o.exception, SystemExit):
        pytest.fail(f"{args!r} crashed:\n{o.trace[-4000:]}")
    assert o.code in (0, 1, 2, 3), f"{args!r}: exit code {o.code}; stderr: {short(o.stderr)}"
    assert "Traceback" not in o.stdout and "Traceback" not in o.stderr
    if o.code != 0:
        lines = [line for line in o.stderr.splitlines() if line.strip()]
        assert lines, f"{args!r}: exit code {o.code} with nothing on stderr"
        gradient_failed = command == "gradcheck" and o.code == 1 and lines[-1].startswith("gradcheck:")
        assert lines[-1].startswith("Error:") or gradient_failed, f"{args!r}: {short(o.stderr)}"


# ---------------------------------------------------------------------------------------------
# I. Every command with a broken standard stream (subprocesses)
# ---------------------------------------------------------------------------------------------

STREAM_COMMANDS = {
    "train": "train d.csv --epochs 20",
    "train -q": "train d.csv --epochs 20 -q",
    "predict": "predict d.csv",
    "explain": "explain d.csv",
    "gradcheck": "gradcheck d.csv",
    "show": "show",
    "generate": "generate --rows 5",
}
BROKEN_STREAMS = {"stdin closed": "<&-", "stdout closed": ">&-", "stdout on /dev/full": "> /dev/full"}


@pytest.mark.parametrize("stream", list(BROKEN_STREAMS))
@pytest.mark.parametrize("command", list(STREAM_COMMANDS))
def test_every_command_with_a_broken_standard_stream(ws, assets, command, stream):
    before = fingerprint(ws)
    o = shell(f"fwdback {STREAM_COMMANDS[command]} {BROKEN_STREAMS[stream]}", ws)
    trains = command.startswith("train")
    prints = command != "train -q"
    if stream == "stdin closed" or not prints:
        succeeded(o)
        if stream == "stdin closed" and prints:
            assert o.stdout.strip()
        if trains:
            assert (ws / "model.json").read_bytes() != assets.model
            saved_model(ws / "model.json")
            no_temporaries(ws)
        else:
            assert_unchanged(ws, before)
    else:
        refused(o, 1, ["stdout"], root=ws, before=before)
