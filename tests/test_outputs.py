"""The one writer: every output in place together, or none of them; never over an input."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from fwdback import outputs
from fwdback.errors import OutputConflict, OutputError
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
