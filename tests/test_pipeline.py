"""The installed `fwdback` command in real processes: shell pipelines, where the reader may
leave early; closed, full and redirected standard streams, FIFOs and process substitution."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import shutil
import stat
import subprocess
import sys

import pytest

from cases import slow_after

from hostile import (  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
    FifoWriter,
    Outcome,
    TIMEOUT,
    _env,
    assert_unchanged,
    assets,
    big_csv,
    check_clean,
    command_line,
    fingerprint,
    no_temporaries,
    refused,
    saved_model,
    shell,
    short,
    succeeded,
    ws,
)

FWDBACK = shutil.which("fwdback")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def command() -> str:
    """The console script if it is installed, else the module."""
    return FWDBACK if FWDBACK else f"{sys.executable} -m fwdback"


def sh(script: str, cwd, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a bash script with $FWDBACK set; PIPESTATUS of the last pipeline is printed by the script itself if needed."""
    env = {"PATH": "/usr/bin:/bin", "FWDBACK": command(), "LC_ALL": "C.UTF-8", "HOME": str(cwd)}
    return subprocess.run(
        [BASH, "-c", script], cwd=cwd, env=env, input=stdin, capture_output=True, timeout=60, check=False
    )


def assert_quiet_stderr(result):
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err
    assert "BrokenPipe" not in err, err
    return err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """small.csv (200 rows), big.csv (200,000 rows) and model.json trained on small.csv."""
    root = tmp_path_factory.mktemp("pipeline")
    made = sh(
        '$FWDBACK generate --rows 200 --seed 1 > small.csv'
        ' && $FWDBACK generate --rows 200000 --seed 2 > big.csv'
        ' && $FWDBACK train small.csv --epochs 300 --quiet',
        root,
    )
    assert made.returncode == 0, made.stderr.decode()
    return root


def test_generate_wrote_the_files(files):
    with open(files / "big.csv") as stream:
        assert stream.readline() == "x1,x2,x3,y\n"
        assert sum(1 for _ in stream) == 200_000
    assert json.loads((files / "model.json").read_text())["format"] == "fwdback-model"


def test_predict_into_head_stops_quietly(files):
    result = sh('$FWDBACK predict big.csv | head -1; echo "status ${PIPESTATUS[0]}" >&2', files)
    err = assert_quiet_stderr(result)
    assert result.stdout.decode() == "x1,x2,x3,y,y_hat\n"
    assert err.strip() in {"status 0", "status 141"}, err


def test_predict_from_stdin_into_head(files):
    result = sh("cat big.csv | $FWDBACK predict | head -3", files)
    assert_quiet_stderr(result)
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "x1,x2,x3,y,y_hat" and len(lines) == 3


def test_train_csv_into_head_stops_quietly(files):
    result = sh("$FWDBACK train small.csv --format csv --epochs 5000 --model m.json | head -1", files)
    assert_quiet_stderr(result)
    assert result.stdout.decode() == "epoch,loss\n"


def test_train_table_into_head(files):
    result = sh("$FWDBACK train small.csv --epochs 50 --model m.json | head -2", files)
    assert_quiet_stderr(result)
    out = result.stdout.decode()
    assert len(out.splitlines()) == 2
    assert "\x1b" not in out and not set("─│╭╮╰╯") & set(out)


def test_generate_train_predict_pipeline(files):
    script = (
        "$FWDBACK generate --rows 500 --seed 5 --noise 0 --coef 1,2,3,4"
        " | $FWDBACK train - --epochs 200 --tol 0 --lr 0.1 --format csv --model piped.json | tail -1"
    )
    result = sh(script, files)
    assert result.returncode == 0
    assert_quiet_stderr(result)
    epoch, loss = result.stdout.decode().strip().split(",")
    assert epoch == "200" and float(loss) >= 0

    predicted = sh("$FWDBACK generate --rows 10 --seed 6 | $FWDBACK predict --model piped.json | wc -l", files)
    assert predicted.returncode == 0 and predicted.stdout.decode().strip() == "11"


def test_generate_into_head_stops_quietly(files):
    result = sh("$FWDBACK generate --rows 300000 | head -2", files)
    assert_quiet_stderr(result)
    assert len(result.stdout.decode().splitlines()) == 2


def test_error_in_a_pipeline_is_one_line(files):
    result = sh("printf 'x1,x2,x3,y\\n1,abc,3,4\\n' | $FWDBACK train - --model never.json", files)
    err = assert_quiet_stderr(result)
    assert result.returncode == 1
    assert err == "Error: <stdin>, row 1, column x2: " + err.split("column x2: ", 1)[1]
    assert err.count("\n") == 1
    assert not (files / "never.json").exists()


def test_module_entry_point_and_version(files):
    result = sh(f"{sys.executable} -m fwdback --version", files)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("fwdback ")


def test_help_does_not_import_numpy(files):
    """`fwdback --help` stays instant: numpy, pandas and rich are imported inside commands."""
    code = (
        "import sys; from fwdback.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='fwdback')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]"


# --- Standard streams, pipes and FIFOs (subprocesses) (the command line's failure contract: hostile.py)


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


# --- Every command with a broken standard stream (subprocesses) (the command line's failure contract: hostile.py)


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


@pytest.mark.parametrize("stream", slow_after(2, list(BROKEN_STREAMS)))
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
