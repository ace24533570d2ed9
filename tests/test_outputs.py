"""The one writer: every output in place together, or none of them; never over an input. In
process, and through the command line (outputs that are inputs, where outputs land, failures
that keep the existing model)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import stat
import threading

import numpy as np
import pytest

from hostile import (  # noqa: F401 (assets, ws, invoke, big_csv: fixtures)
    TIMEOUT,
    assert_unchanged,
    assets,
    clone_device,
    csv_bytes,
    fingerprint,
    invoke,
    linear,
    no_temporaries,
    refused,
    saved_model,
    shell,
    succeeded,
    unix_socket,
    ws,
)
from fwdback import outputs
from fwdback.errors import ForeignFile, OutputConflict, OutputError
from fwdback.outputs import Outputs, Stdout


def listing(directory) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.fixture
def old(tmp_path):
    """model.json already on disk, mode 0640."""
    path = tmp_path / "model.json"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    return path


def test_commit_puts_every_output_in_place_with_the_old_mode(tmp_path, old):
    with Outputs({}) as out:
        model = out.file(str(old), "--model")
        history = out.file(str(tmp_path / "history.csv"), "--history")
        out.open(model).write("new\n")
        out.open(history).write("epoch,loss\n")
        assert old.read_text() == "old\n", "nothing changes before commit"
        out.commit()
    assert old.read_text() == "new\n" and (tmp_path / "history.csv").read_text() == "epoch,loss\n"
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o640
    assert listing(tmp_path) == ["history.csv", "model.json"]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError, SystemExit])
def test_leaving_without_commit_changes_nothing(tmp_path, old, failure):
    with pytest.raises(failure), Outputs({}) as out:
        out.open(out.file(str(old), "--model")).write("new\n")
        out.open(out.file(str(tmp_path / "history.csv"), "--history")).write("rows\n")
        raise failure
    assert old.read_text() == "old\n"
    assert listing(tmp_path) == ["model.json"], "no temporary file is left"


@pytest.mark.parametrize("call", ["fsync", "replace"])
def test_a_failing_disk_changes_nothing(tmp_path, old, monkeypatch, call):
    def full(*args):
        raise OSError(28, "No space left on device")

    with Outputs({}) as out:
        out.open(out.file(str(old), "--model")).write("new\n")
        monkeypatch.setattr(outputs.os, call, full)
        with pytest.raises(OutputError, match="no space left on device"):
            out.commit()
        monkeypatch.undo()
    assert old.read_text() == "old\n"
    assert listing(tmp_path) == ["model.json"]


def test_append_keeps_what_the_file_has(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n1,2.0\n")
    with Outputs({}) as out:
        out.open(out.file(str(path), "--history", append=True)).write("2,1.0\n")
        out.commit()
    assert path.read_text() == "epoch,loss\n1,2.0\n2,1.0\n"


@pytest.mark.parametrize("link", ["same", "hard link", "symlink", "symlink to a symlink"])
def test_an_input_is_never_an_output(tmp_path, link):
    data = tmp_path / "d.csv"
    data.write_text("x1,y\n1,2\n")
    target = tmp_path / "out.json"
    if link == "same":
        target = data
    elif link == "hard link":
        os.link(data, target)
    else:
        os.symlink(data, target)
        if link == "symlink to a symlink":
            os.symlink(target, tmp_path / "twice.json")
            target = tmp_path / "twice.json"
    with pytest.raises(OutputConflict, match="the data file"), Outputs({"DATA": str(data)}) as out:
        out.file(str(target), "--model")
    assert data.read_text() == "x1,y\n1,2\n"


def test_a_model_may_replace_the_model_it_resumes(tmp_path, old):
    with Outputs({"--resume": str(old)}) as out:
        out.open(out.file(str(old), "--model", replaces=("--resume",))).write("resumed\n")
        out.commit()
    assert old.read_text() == "resumed\n"


def test_two_outputs_may_not_share_a_path(tmp_path):
    with pytest.raises(OutputConflict, match="same file"), Outputs({}) as out:
        out.file(str(tmp_path / "x.json"), "--model")
        out.file(str(tmp_path / "sub" / ".." / "x.json"), "--history")


def test_a_symlink_is_followed_and_stays_a_symlink(tmp_path):
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old\n")
    os.symlink("real.json", link)
    with Outputs({}) as out:
        out.open(out.file(str(link), "--model")).write("new\n")
        out.commit()
    assert os.path.islink(link) and os.readlink(link) == "real.json" and real.read_text() == "new\n"


def test_a_character_device_is_written_directly(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device needs root")
    with Outputs({}) as out:
        out.open(out.file(str(device), "--model")).write("discarded\n")
        out.commit()
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert listing(tmp_path) == ["null"]


def test_a_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo).read()))
    reader.start()
    with Outputs({}) as out:
        out.open(out.file(str(fifo), "--model")).write("through the pipe\n")
        out.commit()
    reader.join(10)
    assert received == ["through the pipe\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_places_that_take_no_file_are_refused_before_any_work(tmp_path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    (tmp_path / "folder").mkdir()
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    cases = {"folder": "is a directory", "sock": "is a socket", "missing/m.json": "does not exist", "loop-a": "loops"}
    for name, fragment in cases.items():
        with pytest.raises(OutputError, match=fragment), Outputs({}) as out:
            out.file(str(tmp_path / name), "--model")
    server.close()
    assert sorted(listing(tmp_path)) == ["folder", "loop-a", "loop-b", "sock"]


def test_stdout_that_is_an_input_is_refused(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x1,y\n1,2\n")
    with open(data, "a") as appended:
        with pytest.raises(OutputConflict, match="stdout is the data file"):
            Outputs({"DATA": str(data)}).check_stdout(appended.fileno())


class Broken:
    """A stream whose writes fail as a given OSError."""

    def __init__(self, error):
        self.error = error

    def write(self, text):
        raise self.error

    flush = write


def test_stdout_whose_reader_has_gone_is_quiet():
    out = Stdout(Broken(BrokenPipeError(32, "Broken pipe")))
    out.write("row\n")
    assert out.gone
    out.write("more\n")  # dropped, no error


def test_stdout_on_a_full_disk_is_an_error():
    out = Stdout(Broken(OSError(28, "No space left on device")))
    with pytest.raises(OutputError, match="could not write to stdout: no space left on device"):
        out.write("row\n")


@pytest.mark.parametrize(
    "error, saving, says, never",
    [
        (OSError(9, "Bad file descriptor"), False, ["it is closed", "with stdout open"], ["space", "saved"]),
        (OSError(9, "Bad file descriptor"), True, ["it is closed", "nothing was saved"], ["space"]),
        (OSError(28, "No space left on device"), False, ["no space left on device", "free some space"], ["saved"]),
        (OSError(28, "No space left on device"), True, ["nothing was saved", "free some space"], []),
        (OSError(5, "Input/output error"), True, ["input/output error", "redirect stdout elsewhere"], ["space"]),
    ],
    ids=["closed", "closed, saving", "full", "full, saving", "i/o error, saving"],
)
def test_a_stdout_failure_is_worded_for_its_situation(error, saving, says, never):
    with pytest.raises(OutputError) as caught:
        Stdout(Broken(error), saving=saving).write("row\n")
    message = str(caught.value)
    assert message.startswith("could not write to stdout: ")
    assert all(fragment in message for fragment in says), message
    assert not any(fragment in message for fragment in never), message


def test_a_file_that_cannot_be_written_suggests_space_only_when_the_disk_is_full(tmp_path, old, monkeypatch):
    def refused(*args):
        raise PermissionError(13, "Permission denied")

    with Outputs({}) as out:
        out.open(out.file(str(old), "--model")).write("new\n")
        monkeypatch.setattr(outputs.os, "replace", refused)
        with pytest.raises(OutputError) as caught:
            out.commit()
    assert "permission denied" in str(caught.value) and "space" not in str(caught.value)
    assert old.read_text() == "old\n"


def test_a_link_to_a_pipe_is_written_to_the_pipe(tmp_path):
    read_end, write_end = os.pipe()
    link = tmp_path / "to-pipe"
    os.symlink(f"/proc/self/fd/{write_end}", link)  # as /dev/stdout or a process substitution's /dev/fd/63 are
    try:
        with Outputs({}) as out:
            output = out.file(str(link), "--model")
            assert output.direct and output.real == str(link)
            out.open(output).write("through the pipe\n")
            out.commit()
        os.close(write_end)
        assert os.read(read_end, 1000) == b"through the pipe\n"
    finally:
        os.close(read_end)
    assert listing(tmp_path) == ["to-pipe"]


def test_writes_to_stdout_knows_the_paths_of_stdout():
    # Under pytest, descriptor 1 is a capture file or a terminal: either way these name it.
    assert outputs.writes_to_stdout("-") and outputs.writes_to_stdout("/dev/stdout")
    assert outputs.writes_to_stdout("/proc/self/fd/1")
    assert not outputs.writes_to_stdout("/dev/null") and not outputs.writes_to_stdout("no-such-file.json")


def test_a_file_stderr_is_written_to_is_never_renamed_over(tmp_path):
    err = tmp_path / "err.txt"
    saved = os.dup(2)
    with open(err, "w") as stream:
        os.dup2(stream.fileno(), 2)
    try:
        with pytest.raises(OutputConflict, match="the file stderr is written to"), Outputs({}) as out:
            out.file(str(err), "save(path)")
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    assert listing(tmp_path) == ["err.txt"]


def test_appending_goes_only_after_the_header_the_output_writes(tmp_path):
    header = "epoch,loss,w1\n"
    cases = {"own.csv": header + "1,0.5,0.1\n", "empty.csv": "", "other.csv": "epoch,loss,w1,w2\n", "notes.txt": "hello\n"}
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
    own = hashlib.sha256(cases["own.csv"].encode()).hexdigest()  # as the run that wrote it recorded it
    for name in ("own.csv", "empty.csv", "new.csv"):
        with Outputs({}) as out:
            outputs.check_appends_to(out.file(str(tmp_path / name), "--history", append=True), header, "a history",
                                     own, "m.json")
    for name in ("other.csv", "notes.txt"):
        with pytest.raises(ForeignFile) as caught, Outputs({}) as out:
            outputs.check_appends_to(out.file(str(tmp_path / name), "--history", append=True), header, "a history",
                                     own, "m.json")
        assert str(caught.value).startswith(f"{tmp_path / name} exists and is neither empty nor a history")
        assert (tmp_path / name).read_text() == cases[name]
    for recorded, words in ((hashlib.sha256(b"another run").hexdigest(), "its sha256 differs"), (None, "saved without")):
        with pytest.raises(ForeignFile, match=words), Outputs({}) as out:
            outputs.check_appends_to(out.file(str(tmp_path / "own.csv"), "--history", append=True), header,
                                     "a history", recorded, "m.json")
    assert listing(tmp_path) == sorted(cases)


def test_a_directory_given_for_an_output_suggests_a_name_of_its_kind(tmp_path):
    (tmp_path / "logs").mkdir()
    with pytest.raises(OutputError, match="e.g. history.csv"), Outputs({}) as out:
        out.file(str(tmp_path / "logs"), "--history", example="history.csv")


# --- Outputs that are inputs: refused before any work, exit 2 (the command line's failure contract: hostile.py)


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


# --- Where outputs land (the command line's failure contract: hostile.py)


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


# --- A failure never replaces the existing model (the command line's failure contract: hostile.py)


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
