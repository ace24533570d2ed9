"""What a command owes the process it runs in, beside its arguments: signals, the standard
streams, and what a long run writes after each epoch.

SIGINT and SIGTERM while training set a stop event, so that the epoch loop ends cleanly after
its epoch (stop_on_signals); elsewhere SIGTERM unwinds as Ctrl-C does (Terminated), so that
temporary files are removed; once the command has ended, either exits at once
(exit_at_once_on_signals), and as Python shuts down, both are ignored (ignore_signals). A standard stream that was closed when the process started
(`<&-`, `>&-`, `2>&-`) is held on /dev/null (hold_closed_streams), so that no file opened
later takes its descriptor: reading a closed stdin and writing a closed stdout are then errors
that say so, and a closed stderr silences the messages. After each epoch, EpochWriter draws
the progress bar (progress_bar, on a terminal only) and writes the CSV rows as they come.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event):
    """While training, SIGINT and SIGTERM set `stop`, so the epoch loop ends cleanly.

    Yields a list that receives the signal's number. A second signal stops at once.
    """
    received = []

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        received.append(signum)
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class Terminated(BaseException):
    """SIGTERM outside training: unwinds like Ctrl-C, so that temporary files are removed."""


def unwind_on_sigterm() -> None:
    """From now on SIGTERM raises Terminated wherever the process is."""
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame):
    raise Terminated


def exit_at_once_on_signals() -> None:
    """From now on SIGINT and SIGTERM end the process at once, with 130 and 143: for when the
    command has ended and only the flush of stdout is left (which a reader that does not read
    can hold up). An exception raised then would escape every handler, and Python would print
    its traceback and kill itself with the signal."""
    for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        signal.signal(signum, lambda signum, frame, code=code: os._exit(code))


def ignore_signals() -> None:
    """SIGINT and SIGTERM ignored, for Python's shutdown after the exit code is decided: Python
    gives the signals whose handlers it installed their default action back as it shuts down,
    so that a Ctrl-C then (one typed as a usage error is printed, say) would kill the process
    with the signal (exit status -2) instead of letting it exit with its code."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


class EpochWriter:
    """What train does after every epoch: the progress bar, a --history row, a --format csv row,
    the page's sample (--report, playback.EpochSamples).

    CSV rows go to stdout as the epochs are computed, flushed at least every FLUSH_SECONDS, so
    that `| head` sees them at once; when stdout's reader has gone, training is stopped as
    Ctrl-C would stop it. `notes` are handed to `say` (one at a time) once the first epoch
    has run, so that a failure before then is one line.
    stop        the run's threading.Event, set to end training after its epoch
    stdout      outputs.Stdout for --format csv, or None;  history: the open --history file, or None
    progress    progress_bar's bar, or None;  validation: whether rows carry val_loss
    """

    FLUSH_SECONDS = 0.1

    def __init__(self, stop, stdout, history, progress, validation: bool, notes: list[str], say, samples=None):
        from .reports.train import loss_csv_header

        self.stop, self.stdout, self.history, self.progress = stop, stdout, history, progress
        self.validation, self.notes, self.say = validation, notes, say
        self.samples = samples
        self.flushed = 0.0
        if stdout is not None:
            stdout.write(loss_csv_header(validation))

    def __call__(self, record) -> None:
        import time

        from .reports.train import history_header, history_row, loss_csv_row

        for note in self.notes:
            self.say(note)
        self.notes = []
        if self.progress is not None:
            self.progress(record)
        if self.samples is not None:
            self.samples(record)
        if self.history is not None:
            if self.history.empty:
                self.history.write(history_header(record.params.names, tuple(record.optimizer_state)))
            self.history.write(history_row(record))
        if self.stdout is not None:
            self.stdout.write(loss_csv_row(record, self.validation))
            now = time.monotonic()
            if now - self.flushed > self.FLUSH_SECONDS:
                self.stdout.flush()
                self.flushed = now
            if self.stdout.gone:
                self.stop.set()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()


def progress_bar(epochs):
    """A progress bar on stderr where stderr is a terminal; elsewhere nothing (and no rich import)."""
    if not sys.stderr.isatty():
        return None
    from .render.terminal import EpochProgress, console_for

    return EpochProgress(epochs, console_for(sys.stderr))


def silence_stdout() -> None:
    """Point descriptor 1 at /dev/null, so that what is left in stdout's buffer is discarded."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    try:
        sys.stdout.flush()
    except OSError:
        pass


class _ClosedStream:
    """stdout when its descriptor was closed: every write fails as writing to a closed descriptor does."""

    encoding = "utf-8"

    def write(self, text):
        import errno

        raise OSError(errno.EBADF, "Bad file descriptor")

    def flush(self):
        pass

    def isatty(self):
        return False

    buffer = property(lambda self: self)


def hold_closed_streams() -> None:
    """Hold a standard stream that was closed when the process started on /dev/null (see the module's docstring)."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            if getattr(sys, name) is not None:
                continue
        except OSError:
            pass
        held = os.open(os.devnull, os.O_RDWR)
        if held != fd:
            os.dup2(held, fd)
            os.close(held)
        if name == "stdin":
            sys.stdin = None
        elif name == "stdout":
            sys.stdout = _ClosedStream()
        else:
            sys.stderr = open(os.devnull, "w", encoding="utf-8")
