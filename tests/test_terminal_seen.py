"""What a person sees on a terminal: the commands run in a real pseudo-terminal, read back by a
terminal emulator (pyte), and names from someone else's files shown, never obeyed.

The seen tests run each command twice: piped (what a script reads) and in a pseudo-terminal
of 80, 100 or 120 columns (what a person reads). Every word of the piped output, stdout and
stderr, must be on the screen as often, each line's words in their order: a word cut off
at the right edge, or broken across two lines, is not. The words of one line are compared
in the pieces the piped output separates by two spaces or more (a table's cells), since a
terminal may wrap a cell within its column.

The hostile-name tests give fwdback files whose names hold an escape sequence that clears the
screen and sets the window's title, a bell, a NUL, a C1 control, a lone surrogate and rich
markup: the output must hold no control character, each name must appear as its visible
backslash escape (written out by hand below), and the user's files must be unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import termios
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cases import slow_after

pyte = pytest.importorskip("pyte")

REPO = Path(__file__).resolve().parent.parent
MAZUR_WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55,
                 "b1": 0.35, "b2": 0.35, "b3": 0.60, "b4": 0.60}
# The commands of the seen tests, run in a folder holding sample_data/linear.csv, Mazur's example
# (README, "Reproducing a textbook example") and a model trained on the sample data.
COMMANDS = {
    "explain": ["explain", "sample_data/linear.csv", "--rows", "2"],
    "mazur": ["explain", "mazur.csv", "--features", "x1,x2", "--target", "y1,y2", "--activation", "sigmoid",
              "--output-activation", "sigmoid", "--loss", "half-sse", "--lr", "0.5", "--freeze", "b1,b2,b3,b4",
              "--init", "mazur.json"],
    # 20 epochs stop short of least squares: a note on stderr too.
    "train": ["train", "sample_data/linear.csv", "--no-save", "--epochs", "20"],
    # At a converged point every gradient passes by rounding: a long note on stderr.
    "gradcheck": ["gradcheck", "sample_data/linear.csv", "--epochs", "2000"],
    "show": ["show", "model.json"],
    "evaluate": ["evaluate", "sample_data/linear.csv", "--model", "model.json"],
}
# The piped lines that differ from run to run: train's time.
VOLATILE = re.compile(r"^\s*time\s")
BOX_DRAWING = re.compile("[\u2500-\u257f]")
SCREEN_ROWS = 1000  # no line scrolls off the emulated screen


def _environment(columns: int | None = None) -> dict[str, str]:
    """The environment of a run: nothing that tells rich a width or forces colour; a terminal type on a terminal."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    if columns is not None:
        env["TERM"] = "xterm-256color"
    return env


def piped(args, cwd) -> subprocess.CompletedProcess:
    """fwdback run with stdout and stderr pipes, as a script reads it."""
    return subprocess.run([sys.executable, "-m", "fwdback", *args], cwd=cwd, env=_environment(), capture_output=True,
                          stdin=subprocess.DEVNULL)


def in_terminal(args, cwd, columns: int) -> tuple[bytes, int]:
    """fwdback run in a pseudo-terminal `columns` wide (stdin, stdout and stderr all on it):
    (every byte it wrote there, its exit code)."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", SCREEN_ROWS, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "fwdback", *args], cwd=cwd, env=_environment(columns),
                               stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True)
    os.close(terminal)
    written = read_to_end(controller)
    os.close(controller)
    return bytes(written), process.wait()


def screen_of(written: bytes, columns: int) -> list[str]:
    """The lines a terminal `columns` wide shows after receiving `written`."""
    screen = pyte.Screen(columns, SCREEN_ROWS)
    pyte.ByteStream(screen).feed(written)
    return [line.rstrip() for line in screen.display]


def words(text: str) -> list[str]:
    return BOX_DRAWING.sub(" ", text).split()


def assert_seen(piped_text: str, screen: list[str]) -> None:
    """Every word of `piped_text` is on `screen` as often; each line's cells (pieces between runs
    of two spaces or more) have their words in order, from where the line's first word is, and
    lines start in order."""
    seen = words("\n".join(screen))
    missing = Counter(words(piped_text)) - Counter(seen)
    assert not missing, f"not on the screen: {dict(missing)}\n" + "\n".join(screen)
    at = 0
    for line in piped_text.splitlines():
        if not line.strip():
            continue
        first = words(line)[0]
        assert first in seen[at:], f"{line!r} does not start after the line before it"
        start = seen.index(first, at)
        for cell in re.split(r"\s{2,}", line.strip()):
            position = start - 1
            for word in words(cell):
                assert word in seen[position + 1:], f"{cell!r} of {line!r}: {word!r} is not in order on the screen"
                position = seen.index(word, position + 1)
        at = start + 1


@pytest.fixture(scope="module")
def seen_folder(tmp_path_factory) -> Path:
    """A folder with sample_data/linear.csv, Mazur's data and weights, and model.json trained on the sample data."""
    folder = tmp_path_factory.mktemp("seen")
    (folder / "sample_data").mkdir()
    shutil.copy(REPO / "sample_data" / "linear.csv", folder / "sample_data" / "linear.csv")
    (folder / "mazur.csv").write_text("x1,x2,y1,y2\n0.05,0.10,0.01,0.99\n")
    (folder / "mazur.json").write_text(json.dumps(MAZUR_WEIGHTS))
    trained = piped(["train", "sample_data/linear.csv", "-q", "--model", "model.json"], folder)
    assert trained.returncode == 0, trained.stderr
    return folder


@pytest.fixture(scope="module")
def piped_outputs(seen_folder) -> dict[str, subprocess.CompletedProcess]:
    with ThreadPoolExecutor(len(COMMANDS)) as pool:
        runs = dict(zip(COMMANDS, pool.map(lambda args: piped(args, seen_folder), COMMANDS.values())))
    for name, result in runs.items():
        assert result.returncode == 0, (name, result.stderr)
    return runs


def _seen_on_terminals(columns, seen_folder, piped_outputs):
    with ThreadPoolExecutor(len(COMMANDS)) as pool:
        screens = dict(zip(COMMANDS, pool.map(lambda args: in_terminal(args, seen_folder, columns), COMMANDS.values())))
    for name, (written, code) in screens.items():
        assert code == 0, (name, written.decode(errors="replace"))
        screen = screen_of(written, columns)
        assert max(map(len, screen)) <= columns
        assert not ended_in_spaces(written), (name, ended_in_spaces(written))
        reference = piped_outputs[name]
        for stream in (reference.stdout, reference.stderr):
            text = "\n".join(line for line in stream.decode().splitlines() if not VOLATILE.match(line))
            assert_seen(text, screen)



# A colour or style: the only escape sequences the lines of a finished command hold.
STYLE_SEQUENCE = re.compile(r"\x1b\[[0-9;]*m")


def ended_in_spaces(written: bytes) -> list[str]:
    """The lines a program wrote to a terminal that end in a space once their colours are taken
    out (the README promises none); a line that moves the cursor (a progress bar) is not checked."""
    lines = (STYLE_SEQUENCE.sub("", line).rstrip("\r") for line in written.decode().split("\n"))
    return [line for line in lines if "\x1b" not in line and line.endswith(" ")]


def read_until(controller: int, marker: bytes) -> bytearray:
    """What a pseudo-terminal's program wrote, read until `marker` appears in it."""
    written = bytearray()
    while marker not in written:
        chunk = os.read(controller, 65536)
        assert chunk, written.decode(errors="replace")
        written += chunk
    return written


def read_to_end(controller: int) -> bytearray:
    """The rest of what a pseudo-terminal's program writes, until it closes its side."""
    written = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            return written
        if not chunk:
            return written
        written += chunk


def test_every_word_is_seen_on_a_terminal_80_columns_wide(seen_folder, piped_outputs):
    _seen_on_terminals(80, seen_folder, piped_outputs)


@pytest.mark.slow  # about 3 s each
@pytest.mark.parametrize("columns", [100, 120])
def test_every_word_is_seen_on_wider_terminals(columns, seen_folder, piped_outputs):
    _seen_on_terminals(columns, seen_folder, piped_outputs)


def test_the_word_check_fails_on_a_cut_and_on_a_word_broken_across_lines():
    piped_text = "The lecture's network on linear.csv, learning rate eta = 0.093, seed 0\n"
    cut = ["The lecture's network on linear.csv, learning r"]
    broken = ["The lecture's network on linear.csv, learning rate eta = 0.0", "93, seed 0"]
    for screen in (cut, broken):
        with pytest.raises(AssertionError):
            assert_seen(piped_text, screen)
    assert_seen(piped_text, ["The lecture's network on linear.csv, learning", "rate eta = 0.093, seed 0"])


# Names that act on a terminal or in rich, and their visible escapes, written out by hand.
CLEARS_AND_RETITLES = "x1\x1b[2J\x1b]0;PWNED\x07"
CLEARS_AND_RETITLES_SHOWN = r"x1\x1b[2J\x1b]0;PWNED\x07"
C1_CONTROL = "x2\x9b31m"  # CSI as one C1 character: colours text red on many terminals
C1_CONTROL_SHOWN = r"x2\x9b31m"
MARKUP = "[bold red]x3"
CLOSING_TAG = "[/]a"
NUL = "x2\x00"
NUL_SHOWN = r"x2\x00"
SURROGATE = "x1\ud800"
SURROGATE_SHOWN = r"x1\ud800"


def _shown_only(text: str) -> None:
    """No character of `text` acts on a terminal: no control (but the line end), no surrogate, no bidi override."""
    acting = {c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cs", "Cf")}
    assert not acting, acting


def fingerprints(folder: Path) -> dict[str, str]:
    """Every file under `folder`: its sha256."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_terminal_text_writes_each_kind_of_character_as_its_escape():
    from fwdback.outputs import terminal_lines, terminal_text

    assert terminal_text(CLEARS_AND_RETITLES) == CLEARS_AND_RETITLES_SHOWN
    assert terminal_text(NUL) == NUL_SHOWN
    assert terminal_text(C1_CONTROL) == C1_CONTROL_SHOWN
    assert terminal_text(SURROGATE) == SURROGATE_SHOWN
    assert terminal_text("a\u202eb\nc\td\x7f") == r"a\u202eb\nc\td\x7f"
    printable = "prix unitaire é 中文 🙂 [/]a C:\\data"
    assert terminal_text(printable) == printable
    assert terminal_lines("a,b\r\nc\x1b,\td\n\r\x00\n") == "a,b\r\nc\\x1b,\td\n\\r\\x00\n"


def _model_with_names(folder: Path, features, target, name="hostile.json") -> Path:
    """A model file of the lecture's network whose columns are `features` and `target` (JSON escapes them)."""
    document = {"format": "fwdback-model", "version": 2, "features": list(features), "target": target,
                "activation": "identity", "hidden": 2,
                "weights": {"w1": 0.5, "w2": -1.5, "w3": 0.25, "w4": 0.125, "w5": -0.75, "w6": 1.0, "w7": 1.5, "w8": 0.5,
                            "b1": 0.0625, "b2": -0.25, "b3": 0.75}}
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def test_show_writes_names_from_a_model_file_as_their_escapes(run, workdir):
    _model_with_names(workdir, [CLEARS_AND_RETITLES, NUL, MARKUP], CLOSING_TAG)
    _model_with_names(workdir, [C1_CONTROL, "x2", "x3"], "y", "c1.json")
    before = fingerprints(workdir)
    for model, shown in (("hostile.json", [CLEARS_AND_RETITLES_SHOWN, NUL_SHOWN, MARKUP, CLOSING_TAG]),
                         ("c1.json", [C1_CONTROL_SHOWN])):
        result = run(["show", model])
        assert result.exit_code == 0, result.stderr
        _shown_only(result.stdout)
        for name in shown:
            assert name in result.stdout
    assert fingerprints(workdir) == before


def test_a_lone_surrogate_in_a_name_is_shown_in_text_and_in_svg(run, workdir):
    _model_with_names(workdir, [SURROGATE, "x2", "x3"], "y")
    before = fingerprints(workdir)
    text = run(["show", "hostile.json"])
    assert text.exit_code == 0, text.stderr
    assert SURROGATE_SHOWN in text.stdout
    figure = run(["show", "hostile.json", "--format", "svg"])
    assert figure.exit_code == 0, figure.stderr
    labels = [element.text for element in ElementTree.fromstring(figure.stdout).iter("{http://www.w3.org/2000/svg}text")]
    assert SURROGATE_SHOWN in labels
    assert fingerprints(workdir) == before


@pytest.fixture
def hostile_data(workdir, linear_rows, csv_text):
    """`[bold red]d.csv`, whose header names are hostile (the target `[/]a`); the folder `[`, so
    that `[/]a` is a path a model can be saved to."""
    X, y = linear_rows(30, seed=4)
    header = (CLEARS_AND_RETITLES, C1_CONTROL, MARKUP, CLOSING_TAG)
    (workdir / "[bold red]d.csv").write_text(csv_text(X, y, header), encoding="utf-8")
    (workdir / "[").mkdir()
    return ["--features", ",".join(header[:3]), "--target", CLOSING_TAG]


def test_train_evaluate_explain_and_gradcheck_show_hostile_columns_and_paths_as_text(run, workdir, hostile_data):
    before = fingerprints(workdir)
    trained = run(["train", "[bold red]d.csv", *hostile_data, "--model", "[/]a", "--epochs", 20])
    assert trained.exit_code == 0, trained.stderr
    saved = fingerprints(workdir)
    assert {name: digest for name, digest in saved.items() if name != "[/]a"} == before
    evaluated = run(["evaluate", "[bold red]d.csv", "--model", "[/]a"])
    assert evaluated.exit_code == 0, evaluated.stderr  # `[/]a` was read as rich markup: MarkupError
    explained = run(["explain", "[bold red]d.csv", *hostile_data, "--init", "[/]a"])
    checked = run(["gradcheck", "[bold red]d.csv", *hostile_data, "--init", "[/]a"])
    for result in (trained, evaluated, explained, checked):
        _shown_only(result.stdout + result.stderr)
    for result in (explained, checked):
        assert result.exit_code == 0, result.stderr
        assert "[/]a" in result.stdout
    for name in (CLEARS_AND_RETITLES_SHOWN, C1_CONTROL_SHOWN, MARKUP, "[bold red]d.csv"):
        assert name in trained.stdout and name in explained.stdout
    assert "Saved the model to [/]a." in trained.stderr
    assert "[/]a on [bold red]d.csv" in evaluated.stdout
    assert fingerprints(workdir) == saved


def test_messages_on_stderr_write_names_as_their_escapes(run, workdir, linear_rows, csv_text):
    X, y = linear_rows(12)
    path = "\x1b]0;PWNED\x07d.csv"
    (workdir / path).write_text(csv_text(X, y, ("x1 ", "x2", "x3", "y")))
    before = fingerprints(workdir)
    missing = run(["show", "\x1b[2Jgone.json"])
    assert missing.exit_code == 1
    assert missing.stderr.startswith(r"Error: \x1b[2Jgone.json: ")
    noted = run(["train", path, "--no-save", "--epochs", 3])
    assert noted.exit_code == 0, noted.stderr
    assert r"Note: \x1b]0;PWNED\x07d.csv: header names are read without the spaces around them" in noted.stderr
    for result in (missing, noted):
        _shown_only(result.stdout + result.stderr)
    assert fingerprints(workdir) == before


def test_predict_on_a_terminal_shows_a_hostile_header_escaped(run, workdir, hostile_data):
    assert run(["train", "[bold red]d.csv", *hostile_data, "--model", "m.json", "-q", "--epochs", 5]).exit_code == 0
    before = fingerprints(workdir)
    written, code = in_terminal(["predict", "[bold red]d.csv", "--model", "m.json"], workdir, 100)
    assert code == 0, written
    text = written.decode("utf-8")
    _shown_only(text.replace("\r\n", "\n"))
    assert text.startswith(f"{CLEARS_AND_RETITLES_SHOWN},{C1_CONTROL_SHOWN},{MARKUP},{CLOSING_TAG},{CLOSING_TAG}_hat\r\n")
    piped_out = run(["predict", "[bold red]d.csv", "--model", "m.json"])  # piped, the data's lines pass unchanged
    assert piped_out.stdout.startswith(f"{CLEARS_AND_RETITLES},{C1_CONTROL},{MARKUP},{CLOSING_TAG},{CLOSING_TAG}_hat\n")
    assert fingerprints(workdir) == before


@pytest.fixture
def fake_clock(monkeypatch):
    """The progress bar's clock, set by the test (`.now`, in seconds): its times are worked out by
    hand from the clock, never measured."""
    from types import SimpleNamespace

    from fwdback.render import terminal

    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(terminal.time, "perf_counter", lambda: clock.now)
    return clock


def drawn_progress(total: int, epochs, clock, columns: int = 120) -> str:
    """What EpochProgress(total) draws on a terminal `columns` wide for `epochs`, (number, seconds
    on the clock, loss, validation loss) each."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from fwdback.render import terminal

    stream = io.StringIO()
    progress = terminal.EpochProgress(total, Console(file=stream, force_terminal=True, width=columns))
    for number, seconds, loss, val_loss in epochs:
        clock.now = seconds
        progress(SimpleNamespace(number=number, loss=loss, val_loss=val_loss))
    progress.close()
    return stream.getvalue()


def test_the_progress_bar_says_which_epoch_of_how_many_and_labels_its_times(fake_clock):
    # 3 s for 3,390 epochs: the 26,610 left take 3 * 26610 / 3390 = 23.55 s, about 0:00:24.
    epochs = [(number, 3.0 if number == 3390 else number * 0.0008, 0.5, None) for number in range(1, 3391)]
    by_hand = "epoch 3,390 of 30,000  loss 0.5  elapsed 0:00:03, about 0:00:24 left"
    assert by_hand in drawn_progress(30000, epochs, fake_clock)


def test_a_resumed_run_counts_its_epochs_on_from_the_model(fake_clock):
    # The first epoch of 500 after the model's 1,000 takes 1 s on the clock: 499 s are left.
    by_hand = "epoch 1,001 of 1,500  loss 0.25  validation 0.375  elapsed 0:00:01, about 0:08:19 left"
    assert by_hand in drawn_progress(500, [(1001, 1.0, 0.25, 0.375)], fake_clock)


def test_explain_refuses_epochs_that_would_take_days_and_says_what_to_do(run, small_csv):
    result = run(["explain", small_csv, "--epoch", 10**12])
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    # The flags as they are typed (copyable), the counts as a person reads them.
    assert line.startswith("Error: --epoch 1000000000000 first trains the 999,999,999,999 epochs before it, "
                           "which would take about ")
    assert "longer than the 10 minutes explain allows: give --epoch " in line
    assert line.endswith("--init model.json; see 'fwdback explain --help'")
    # The largest epoch it suggests is refused no more: at most 10 minutes at the measured pace.
    most = int(re.search(r"give --epoch (\d+) or less", line).group(1))
    assert 1 < most < 10**12


def test_explain_shows_the_epochs_before_on_a_progress_bar_and_stops_at_ctrl_c(workdir, small_csv):
    import signal

    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    # 199,999 epochs before: explain's pace check (all of them within EXPLAIN_MINUTES) asks for 333
    # epochs a second, which a machine a dozen processes share still trains.
    process = subprocess.Popen([sys.executable, "-m", "fwdback", "explain", small_csv, "--epoch", "200000"], cwd=workdir,
                               env=_environment(100), stdin=terminal, stdout=terminal, stderr=terminal,
                               start_new_session=True)
    os.close(terminal)
    written = read_until(controller, b"of 199,999")  # the progress bar: the epochs before epoch 200,000
    os.killpg(process.pid, signal.SIGINT)
    written += read_to_end(controller)
    os.close(controller)
    assert process.wait() == 130
    assert "Interrupted; no file was written." in "\n".join(screen_of(bytes(written), 100))


def test_a_wide_network_is_reported_a_hidden_unit_a_row(run, workdir):
    import numpy as np

    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, size=(40, 5))
    y = X @ np.arange(1.0, 6.0) + 1
    (workdir / "five.csv").write_text("a,b,c,d,e,y\n" + "".join(",".join(map(repr, [*row, t])) + "\n"
                                                                for row, t in zip(X.tolist(), y.tolist())))
    args = ["train", "five.csv", "--features", "a,b,c,d,e", "--hidden", 16, "--epochs", 5, "--no-save"]
    table = run(args)
    weights = json.loads(run([*args, "--format", "json"]).stdout)["weights"]
    assert table.exit_code == 0, table.stderr
    section = table.stdout.split("Parameters at the end, a row per hidden unit\n")[1].split("\n\n")[0].splitlines()
    assert section[0].split() == ["unit", "from", "a", "from", "b", "from", "c", "from", "d", "from", "e", "bias", "to", "yhat"]
    rows = {line.split()[0]: re.split(r"\s{2,}", line.strip())[1:] for line in section[1:-1]}
    assert list(rows) == [f"N{u}" for u in range(1, 17)] + ["yhat"]
    shown = lambda name: f"{name} = {weights[name]:.6g}"  # noqa: E731
    for u in range(1, 17):  # the lecture's numbering: unit u's weights from the 5 inputs, then the outputs' weights
        assert rows[f"N{u}"] == [*(shown(f"w{5 * (u - 1) + j}") for j in range(1, 6)), shown(f"b{u}"), shown(f"w{80 + u}")]
    assert rows["yhat"] == [shown("b17")]
    assert section[-1] == ("113 parameters, to 6 digits: every one's initial value, final value and final gradient in full: "
                           "--format json")
    assert "final gradient" not in table.stdout.split("Parameters at the end")[0]
    # The lecture's 11 parameters are still listed one a row, with their start and gradient.
    lecture = run(["train", "five.csv", "--features", "a,b,c", "--epochs", 5, "--no-save"]).stdout
    assert " name  " in lecture and "final gradient" in lecture and "a row per hidden unit" not in lecture


def test_ctrl_c_typed_at_the_terminal_leaves_no_progress_bar_behind(workdir, small_csv):
    """Ctrl-C typed on the terminal (its line discipline sends SIGINT and echoes "^C" after the
    bar): once training ends, the bar is gone from the screen and the epoch reached is said."""
    controller, terminal = os.openpty()
    columns = 80
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))

    def own_terminal():  # a session of its own whose controlling terminal is the pty: Ctrl-C reaches it
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([sys.executable, "-m", "fwdback", "train", small_csv, "--epochs", "100000000", "--tol", "0",
                                "--no-save"], cwd=workdir, env=_environment(columns), stdin=terminal, stdout=terminal,
                               stderr=terminal, preexec_fn=own_terminal)
    os.close(terminal)
    written = read_until(controller, b" of 100,000,000")  # the progress bar is up
    os.write(controller, b"\x03")
    written += read_to_end(controller)
    os.close(controller)
    assert process.wait() == 130
    screen = [line for line in screen_of(bytes(written), columns) if line]
    bars = [line for line in screen if line.startswith("epoch ")]  # the bar's "epoch 14,233 of 100,000,000 ..."
    assert screen and screen[-1].startswith("Interrupted at epoch") and not bars, screen


def _open_group(line: str) -> int | None:
    """Where the last parenthesis left open at the end of `line` opens, or None."""
    opened = []
    for index, char in enumerate(line):
        if char == "(":
            opened.append(index)
        elif char == ")" and opened:
            opened.pop()
    return opened[0] if opened else None


@pytest.mark.parametrize("command", slow_after(1, [
    ["explain", "sample_data/linear.csv", "--rows", "2", "--activation", "sigmoid"],
    ["explain", "sample_data/linear.csv", "--rows", "2", "--activation", "tanh"],
    COMMANDS["mazur"],
]), ids=["sigmoid", "tanh", "mazur"])
def test_equations_on_an_80_column_terminal_break_outside_the_parentheses_that_fit(command, seen_folder):
    """explain's equation lines (indented) on the screen of a pseudo-terminal 80 columns wide: a
    line ends inside a parenthesised group only where that group, written whole with the factors
    glued to it, would not fit on a continuation line (80 columns less its 4 columns of indent),
    and then between the group's terms (beside a + or a -), whose every term here fits on a line."""
    written, code = in_terminal(command, seen_folder, 80)
    assert code == 0, written.decode(errors="replace")
    screen = screen_of(written, 80)
    inside = 0
    for number, line in enumerate(screen):
        if not line.startswith("  ") or BOX_DRAWING.search(line):
            continue
        start = _open_group(line)
        if start is None:
            continue
        joined = " ".join([line[start:], *(following.strip() for following in screen[number + 1:number + 6])])
        depth = 0
        for close, char in enumerate(joined):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                break
        group = line[:start].rsplit(" ", 1)[-1] + joined[:close + 1] + joined[close + 1:].split(" ", 1)[0]
        assert len(group) > 80 - 4, f"{line!r} breaks inside {group!r}"
        following = screen[number + 1].strip()
        assert line.endswith((" +", " -")) or following.startswith(("+ ", "- ")), f"{line!r} / {following!r}"
        inside += 1
    assert inside > 0 or command != COMMANDS["mazur"], "Mazur's gradients have a group wider than the line"


@pytest.mark.parametrize(("columns", "val_loss", "bar"), [(80, None, 0), (81, None, 10), (90, 0.375, 0), (100, 0.375, 11)])
def test_the_progress_bar_is_left_out_where_the_words_leave_it_less_than_10_columns(fake_clock, columns, val_loss, bar):
    """The bar's line takes the terminal's columns less 2 (kept for ^C). The words "epoch 3,390 of
    30,000  loss 0.5  elapsed 0:00:03, about 0:00:24 left" take 68 of them, "  validation 0.375" 18
    more; after a space the bar gets the rest, and is left out where that is under 10: at 80 columns
    78 - 68 - 1 = 9 (left out), at 81 10; with validation at 90 1 (left out), at 100 98 - 86 - 1 = 11."""
    epochs = [(number, 3.0 if number == 3390 else number * 0.0008, 0.5, val_loss) for number in range(1, 3391)]
    drawn = drawn_progress(30000, epochs, fake_clock, columns)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn).replace("\r", "\n")
    last = [line for line in shown.splitlines() if line.startswith("epoch")][-1]
    words = "epoch 3,390 of 30,000  loss 0.5" + ("" if val_loss is None else "  validation 0.375") + \
        "  elapsed 0:00:03, about 0:00:24 left"
    assert last.startswith(words)
    assert len("".join(re.findall("[\u2500-\u257f]+", last))) == bar, last


# explain's gradient sums of a network with several outputs: each hidden weight's sum over the rows
# of a parenthesised sum over the outputs times its factors, one term wider than 80 columns.
SEVERAL_OUTPUTS = {
    "classes": ("pets.csv", "x1,x2,animal\n0.13,-0.13,cat\n0.64,0.1,emu\n-0.54,0.36,dog\n1.3,0.95,emu\n",
                ["--target", "animal", "--loss", "cross-entropy"]),
    "targets": ("targets.csv", "x1,x2,y1,y2,y3\n-0.73,0.69,0.53,-0.49,-0.01\n-0.1,0.3,0.58,-0.81,-0.94\n"
                "0.67,-0.13,0.52,-1,-0.11\n0.44,-0.54,0.89,0.8,-0.94\n", ["--target", "y1,y2,y3"]),
}
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


@pytest.mark.parametrize(("outputs", "columns"), [
    ("classes", 80), *(pytest.param(outputs, columns, marks=pytest.mark.slow)  # about 4 s each
                       for outputs in SEVERAL_OUTPUTS for columns in (80, 100, 120) if (outputs, columns) != ("classes", 80))])
def test_explain_of_several_outputs_fits_the_terminal_with_every_number(tmp_path, outputs, columns):
    """Every line explain writes to a pseudo-terminal `columns` wide is at most that wide (the
    terminal never breaks a number), and every number it writes to a pipe is there as often (a
    table too wide is shown in pieces, each repeating the row numbers)."""
    name, text, target = SEVERAL_OUTPUTS[outputs]
    (tmp_path / name).write_text(text)
    command = ["explain", name, "--features", "x1,x2", *target, "--activation", "tanh", "--seed", "2"]
    written, code = in_terminal(command, tmp_path, columns)
    shown = ESCAPE_SEQUENCE.sub("", written.decode()).replace("\r", "")
    assert code == 0, shown
    assert max(map(len, shown.split("\n"))) <= columns, max(shown.split("\n"), key=len)
    assert not ended_in_spaces(written), ended_in_spaces(written)
    reference = piped(command, tmp_path)
    missing = Counter(NUMBER.findall(reference.stdout.decode() + reference.stderr.decode())) - Counter(NUMBER.findall(shown))
    assert not missing, missing
