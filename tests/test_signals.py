"""Ctrl-C and SIGTERM during training, in a real process whose stderr is a terminal (a pty)."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from fwdback.modelfile import load_model
from cases import slow_after

LONG = ["--epochs", "100000000", "--tol", "0"]  # every epoch: runs until the signal


def start_training(tmp_path, *options):
    """Start `fwdback train` with stderr on a pty; return once its progress bar is drawn."""
    data = tmp_path / "data.csv"
    data.write_text(subprocess.run([sys.executable, "-m", "fwdback", "generate", "--rows", "2000"], capture_output=True, text=True, check=True).stdout)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "fwdback", "train", str(data), *LONG, *options],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
    )
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 60
    while b"epoch" not in screen:
        assert time.monotonic() < deadline, f"no progress bar appeared: {screen!r}"
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            screen += os.read(controller, 65536)
    return process, controller


def finish(process, controller):
    """Wait for the process; return its exit code, stdout and everything it wrote to the terminal, its
    whitespace runs one space (a message is broken between words to the terminal's width)."""
    stdout, _ = process.communicate(timeout=60)
    screen = b""
    while True:
        try:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                break
            chunk = os.read(controller, 65536)
        except OSError:  # the pty closes with the process
            break
        if not chunk:
            break
        screen += chunk
    os.close(controller)
    return process.returncode, stdout.decode(), " ".join(screen.decode(errors="replace").split())


@pytest.mark.parametrize("signum, code", slow_after(1, [(signal.SIGINT, 130), (signal.SIGTERM, 143)], unpack=True))
def test_a_signal_stops_training_and_leaves_the_model_untouched(tmp_path, signum, code):
    model = tmp_path / "model.json"
    model.write_text('{"format": "fwdback-model", "version": 1, "old": "model"}\n')
    before = model.read_bytes()
    process, controller = start_training(tmp_path)
    process.send_signal(signum)
    exit_code, stdout, screen = finish(process, controller)
    assert exit_code == code
    assert stdout == ""
    assert "Traceback" not in screen
    assert "Interrupted at epoch" in screen and "of 100,000,000" in screen and "loss" in screen
    assert "model.json was not written" in screen
    assert model.read_bytes() == before
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_save_on_interrupt_saves_the_weights_so_far(tmp_path):
    model = tmp_path / "model.json"
    model.write_text('{"format": "fwdback-model", "version": 1, "old": "model"}\n')
    process, controller = start_training(tmp_path, "--save-on-interrupt")
    process.send_signal(signal.SIGINT)
    exit_code, _, screen = finish(process, controller)
    assert exit_code == 130
    assert "saved the weights so far to model.json" in screen
    document = json.loads(model.read_text())
    epochs = document["training"]["epochs"]
    assert document["training"]["interrupted"] is True
    assert 1 <= epochs < 100000000
    assert f"Interrupted at epoch {epochs:,} of 100,000,000 (loss" in screen
    # The weights are those of exactly that many epochs: an uninterrupted run of them ends there.
    subprocess.run([sys.executable, "-m", "fwdback", "train", "data.csv", "--epochs", str(epochs), "--tol", "0",
                    "--model", "whole.json", "--quiet"], cwd=tmp_path, check=True)
    assert load_model(str(model)).params.as_dict() == load_model(str(tmp_path / "whole.json")).params.as_dict()


def test_an_interrupted_run_that_saves_nothing_speaks_of_no_model_file(tmp_path):
    process, controller = start_training(tmp_path, "--no-save")
    process.send_signal(signal.SIGINT)
    exit_code, _, screen = finish(process, controller)
    assert exit_code == 130
    assert "Interrupted at epoch" in screen
    assert "model.json" not in screen and "--save-on-interrupt" not in screen
    assert not (tmp_path / "model.json").exists()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_as_a_command_ends_leaves_an_exit_code_not_a_death_by_the_signal(tmp_path, signum, code):
    """A signal sent as fwdback prints its error and exits (explain refuses --epoch 2,000,000,000:
    no machine trains 3.3 million epochs a second): the exit code is the command's (2) or the
    signal's, not a process killed by the signal (Python gives the handlers it installed their
    default action back as it shuts down) and no traceback."""
    (tmp_path / "data.csv").write_text("x1,x2,x3,y\n1,2,3,4\n2,1,0,1\n0.5,0.25,3,2\n1,1,1,1\n")
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "fwdback", "explain", "data.csv", "--epoch", "2000000000"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    screen = b""
    while b"Error:" not in screen:
        screen += os.read(controller, 65536)
    process.send_signal(signum)
    returncode, _, said = finish(process, controller)
    assert returncode in (2, code), said
    assert "Traceback" not in said
