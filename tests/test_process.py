"""process.py: the signals a run stops on, and what is written after each epoch."""

import io
import os
import signal
import threading
from types import SimpleNamespace

import pytest

from fwdback.process import EpochWriter, stop_on_signals


def test_a_first_signal_asks_the_run_to_stop_a_second_stops_at_once_and_the_old_handlers_come_back():
    stop = threading.Event()
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_on_signals(stop) as received:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set() and received == [signal.SIGTERM]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


class _Stdout(io.StringIO):
    """outputs.Stdout as the writer sees it: text, and whether its reader has gone."""

    gone = False


def test_the_writer_says_the_notes_after_the_first_epoch_and_stops_the_run_when_stdout_s_reader_goes():
    stop, stdout, said = threading.Event(), _Stdout(), []
    writer = EpochWriter(stop, stdout, None, None, False, ["Note: one", "Note: two"], said.append)
    assert said == [] and stdout.getvalue() == "epoch,loss\n"
    writer(SimpleNamespace(number=1, loss=0.25))
    assert said == ["Note: one", "Note: two"] and not stop.is_set()
    stdout.gone = True
    writer(SimpleNamespace(number=2, loss=0.125))
    assert said == ["Note: one", "Note: two"] and stop.is_set()
    assert stdout.getvalue() == "epoch,loss\n1,0.25\n2,0.125\n"
