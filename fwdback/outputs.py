"""The one writer every output goes through: all or nothing, never over an input.

A command names its inputs, then its output files, before any work (`Outputs.file`). Each
output path is checked at once: not an input of the command (the same device and inode,
through any link), not another output, not a directory, socket or block device, in a
directory that takes files. Its content goes to a temporary file beside the target while the
command runs. `commit()`, called once the command has succeeded and stdout is written and
flushed, renames every temporary file into place; a symlink is followed and its target
replaced. A character device or a FIFO is written to directly (`--model /dev/null` discards).
When the command fails, is interrupted or exits early without committing, the temporary files
are removed: every file is as it was.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from typing import TextIO

from .errors import ForeignFile, OutputConflict, OutputError, StdinTwice, describe, display_name

_TEMPORARY_PREFIX = ".fwdback-"


@dataclass
class Output:
    """One output file: where the user asked for it, where it lands, and its temporary stand-in.

    path : as given;  real : the path written (symlinks followed);  option : "--model", ...
    direct : a character device or FIFO, written as the command runs rather than renamed into place
    """

    path: str
    real: str
    option: str
    direct: bool
    append: bool
    temporary: str | None = None
    stream: OutputStream | None = field(default=None, repr=False)


class Outputs:
    """The files one command writes, committed together or not at all.

        with Outputs({"DATA": "d.csv", "--init": None}) as outputs:
            model = outputs.file("model.json", "--model", replaces=("--init",))
            ... outputs.open(model).write(text) ...
            outputs.commit()

    `inputs` maps each input's option to its path ("-" is stdin; None is left out). Leaving the
    block without commit() removes every temporary file.
    """

    def __init__(self, inputs: dict[str, str | None]):
        """errors.StdinTwice where two inputs would both read stdin ("-", or /dev/stdin on a pipe)."""
        self._inputs = {option: path for option, path in inputs.items() if path is not None}
        from_stdin = [option for option, path in self._inputs.items() if reads_stdin(path)]
        if len(from_stdin) > 1:
            raise StdinTwice(*from_stdin[:2])
        self._identities = {option: _identity(path) for option, path in self._inputs.items()}
        self._outputs: list[Output] = []
        self._committed = False

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc) -> None:
        if not self._committed:
            self.abort()

    def file(self, path: str, option: str, *, replaces: tuple[str, ...] = (), append: bool = False,
             example: str | None = None) -> Output:
        """Declare an output file; an OutputConflict or OutputError at once if it cannot be one.

        `replaces`: inputs this output may be (a model file updated in place by --resume or
        --init). `append`: the new content goes after the file's present content. `example`: a
        file name of the output's kind to suggest (run.html for a page), where the path is stdout
        or a directory.
        """
        check_not_stdout(path, option, example)
        real = _resolve(path, option)
        identity = _identity(real)
        _check_not_a_standard_stream(identity, option, path)
        for other, known in self._identities.items():
            if other not in replaces and known is not None and known == identity:
                raise OutputConflict(
                    f"{option} {display_name(path)} is {_the_input(other, self._inputs[other])}; writing it would "
                    f"destroy that input: give {option} another path"
                )
        for output in self._outputs:
            if (identity is not None and identity == _identity(output.real)) or os.path.realpath(real) == os.path.realpath(output.real):
                raise OutputConflict(
                    f"{option} {display_name(path)} and {output.option} {display_name(output.path)} are the same file; "
                    "give them different paths"
                )
        kind = _kind(real, option, path, example)
        output = Output(path, real, option, direct=kind in ("device", "fifo"), append=append)
        if not output.direct:
            output.temporary = _temporary_beside(real, option, path)
        self._outputs.append(output)
        return output

    def open(self, output: Output) -> OutputStream:
        """The stream the output's content is written to (its temporary file, or the device itself)."""
        if output.stream is None:
            try:
                if output.direct:
                    stream = open(output.real, "a" if output.append else "w", encoding="utf-8", newline="\n")
                else:
                    stream = open(output.temporary, "w", encoding="utf-8", newline="\n")
                    if output.append and os.path.isfile(output.real):
                        with open(output.real, encoding="utf-8", newline="") as present:
                            shutil.copyfileobj(present, stream)
            except OSError as error:
                raise _unwritten(output, error) from None
            output.stream = OutputStream(stream, output)
        return output.stream

    def sha256(self, output: Output) -> str | None:
        """The sha256 of what the output holds so far (an appended file's present content
        first), as its file will hold it once committed; None for a device or a FIFO."""
        if output.direct:
            return None
        stream = self.open(output)
        try:
            stream.stream.flush()
        except OSError as error:
            raise _unwritten(output, error) from None
        return _sha256_of(output.temporary)

    def check_stdout(self, fd: int = 1) -> None:
        """Refuse a stdout that is an input file (`fwdback train d.csv >> d.csv`)."""
        try:
            status = os.fstat(fd)
        except OSError:
            return
        if not stat.S_ISREG(status.st_mode):
            return
        for option, known in self._identities.items():
            if known == (status.st_dev, status.st_ino):
                raise OutputConflict(
                    f"stdout is {_the_input(option, self._inputs[option])}; writing to it would destroy that input: "
                    "redirect stdout elsewhere"
                )

    def commit(self) -> None:
        """Put every output in place: flush and sync each temporary file, then rename it over its target."""
        try:
            for output in self._outputs:
                stream = self.open(output).stream
                stream.flush()
                if not output.direct:
                    os.fsync(stream.fileno())
                stream.close()
        except OSError as error:
            self.abort()
            raise _unwritten(output, error) from None
        for output in self._outputs:
            if output.direct:
                continue
            try:
                _copy_mode(output.real, output.temporary)
                os.replace(output.temporary, output.real)
            except OSError as error:
                self.abort()
                raise _unwritten(output, error) from None
            output.temporary = None
        self._committed = True

    def abort(self) -> None:
        """Remove every temporary file; no target is touched."""
        for output in self._outputs:
            if output.stream is not None and not output.stream.stream.closed:
                try:
                    output.stream.stream.close()
                except OSError:
                    pass
            if output.temporary is not None:
                try:
                    os.unlink(output.temporary)
                except OSError:
                    pass
                output.temporary = None
        self._committed = True


def check_appends_to(output: Output, header: str, expected: str, recorded: str | None, recorder: str) -> None:
    """An output that appends (`append`) goes only after what it would write itself: its file
    must be empty, or the very file that the run it continues left, which starts with `header`
    (the first line the output writes, line end included) and whose sha256 is `recorded`, as
    `recorder` (the --resume model's path) records it (None: it records no such file).
    Anything else is someone else's file, errors.ForeignFile; `expected` says in words what
    the file would have to be ("a history of this network")."""
    if not output.append or output.direct:
        return
    try:
        with open(output.real, encoding="utf-8", newline="") as present:
            first = present.readline(len(header) + 1)
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError):
        first = None
    if first == "":
        return
    if first != header:
        line = header.rstrip("\n")
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise ForeignFile(output.path, output.option, f"neither empty nor {expected} (its first line is not {shown})")
    if recorded is None:
        raise ForeignFile(output.path, output.option, f"not a file {recorder} records ({recorder} was saved without "
                                                      f"{output.option}): appending to it would mix two runs")
    if _sha256_of(output.real) != recorded:
        raise ForeignFile(output.path, output.option, f"not the file {recorder}'s training left (its sha256 differs from "
                                                      f"the one {recorder} records): appending to it would mix two runs")


def _sha256_of(path: str) -> str | None:
    """The sha256 of a file's bytes, in hex; None where it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


class OutputStream:
    """An output's text stream, whose failures are OutputErrors that name the output.

    `empty` says whether nothing is in it yet (an appended file may start with its old content).
    """

    def __init__(self, stream: TextIO, output: Output):
        self.stream, self.output = stream, output
        self.empty = stream.tell() == 0 if stream.seekable() else True

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except OSError as error:
            raise _unwritten(self.output, error) from None
        self.empty = self.empty and not text

    def write_bytes(self, data: bytes) -> None:
        """Bytes (a PDF), after any text written before."""
        try:
            self.stream.flush()
            self.stream.buffer.write(data)
        except OSError as error:
            raise _unwritten(self.output, error) from None
        self.empty = self.empty and not data


def _unwritten(output: Output, error: OSError) -> OutputError:
    space = "free some space or " if _out_of_space(error) else ""
    return OutputError(
        f"{display_name(output.path)}: could not be written ({describe(error)}); nothing was saved: any existing "
        f"file is unchanged; {space}give {output.option} another path"
    )


def _out_of_space(error: OSError) -> bool:
    return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def check_not_stdout(path: str, option: str, example: str | None = None) -> None:
    """Every output option names a file (or, for --output-dir, a directory): one that names
    stdout ("-", /dev/stdout, the file stdout is redirected to) is an OutputConflict, since
    stdout takes the command's own output. (--model - is stdout by design: its caller sends
    the model there and declares no file.)"""
    if writes_to_stdout(path):
        shown = path if path == "-" else display_name(path)
        raise OutputConflict(f"{option} {shown} is stdout, which takes the command's own output; give {option} a path "
                             f"of its own{_for_example(example)}")


@contextlib.contextmanager
def output_directory(path: str):
    """`path` as a directory: made where missing, with every missing directory above it, and
    each of them removed again (the deepest first, where still empty) if the block fails."""
    check_not_stdout(path, "--output-dir", "predictions/")
    made, missing = [], os.path.normpath(path)
    while missing not in ("", ".", os.sep) and not os.path.lexists(missing):
        made.append(missing)
        missing = os.path.dirname(missing)
    try:
        for directory in reversed(made):
            os.mkdir(directory)
    except OSError as error:
        _remove_empty(made)
        raise OutputError(f"{path}: cannot be made a directory ({describe(error)}); give --output-dir another path") from None
    try:
        yield
    except BaseException:
        _remove_empty(made)
        raise


def _remove_empty(directories: list[str]) -> None:
    """Remove the directories, deepest first, those that exist and are empty."""
    for directory in directories:
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _for_example(example: str | None) -> str:
    return "" if example is None else f", e.g. {example}"


def writes_to_stdout(path: str) -> bool:
    """Whether writing to `path` writes where stdout goes (`/dev/stdout`, `/dev/fd/1`, the file
    stdout is redirected to, its terminal or pipe): then it is stdout, as "-" is. /dev/null is
    never stdout, even where stdout is /dev/null too: it discards what it is given either way."""
    if path == "-":
        return True
    same = _same_file(path, 1)
    return same is not None and not _is_devnull(same[0])


def reads_stdin(path: str) -> bool:
    """Whether reading `path` reads stdin's stream: "-", or a path of stdin (/dev/stdin,
    /dev/fd/0) where stdin is a pipe, a terminal or a socket, whose bytes can be read once (a
    regular file opened by its path is read from its start again)."""
    if path == "-":
        return True
    same = _same_file(path, 0)
    return same is not None and not stat.S_ISREG(same[1].st_mode) and not _is_devnull(same[0])


def _same_file(path: str, descriptor: int) -> tuple[os.stat_result, os.stat_result] | None:
    """The status of `path` and of the open `descriptor` where they are one file; else None."""
    try:
        status, opened = os.stat(path), os.fstat(descriptor)
    except (OSError, ValueError):
        return None
    return (status, opened) if (status.st_dev, status.st_ino) == (opened.st_dev, opened.st_ino) else None


def _is_devnull(status: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (null.st_dev, null.st_ino)


def _check_not_a_standard_stream(identity: tuple[int, int] | None, option: str, path: str) -> None:
    """An OutputConflict for a file that stdout or stderr is redirected to (`> out.txt` with
    `--model out.txt`): renaming a new file over it would lose what they write."""
    if identity is None:
        return
    for fd, stream in ((1, "stdout"), (2, "stderr")):
        try:
            status = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISREG(status.st_mode) and (status.st_dev, status.st_ino) == identity:
            raise OutputConflict(
                f"{option} {display_name(path)} is the file {stream} is written to; writing it would lose what "
                f"{stream} says: give {option} another path"
            )


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path` (links followed), or of stdin's file for "-"; None if none."""
    try:
        status = os.fstat(0) if path == "-" else os.stat(path)
    except (OSError, ValueError):
        return None
    if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
        return None
    return status.st_dev, status.st_ino


def _the_input(option: str, path: str) -> str:
    if option.split()[0] == "DATA":
        return f"the data file {display_name(path)}" if path != "-" else "stdin"
    return f"the {option} file {display_name(path)}"


def _resolve(path: str, option: str) -> str:
    """The path a write lands on: a symlink's final target (which may not exist yet). A link to a
    pipe, a socket or a device (`/dev/stdout`, `/dev/fd/63` of `>(...)`) is kept as it is: its
    target's name (`pipe:[...]`) is not a path."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except (OSError, ValueError) as error:
        raise OutputError(f"{display_name(path)}: {_unusable(error)}; give {option} another path") from None
    if mode is not None and not stat.S_ISREG(mode):
        return path
    return os.path.realpath(path) if os.path.islink(path) else path


def _unusable(error: OSError | ValueError) -> str:
    if isinstance(error, ValueError):
        return "is not a valid path (it holds a NUL character)"
    if error.errno == errno.ELOOP:
        return "is a symbolic link that loops"
    if error.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    if error.errno == errno.ENOTDIR:
        return "a part of the path is not a directory"
    return f"cannot be used ({describe(error)})"


def _kind(real: str, option: str, path: str, example: str) -> str:
    """"file", "new", "device" or "fifo"; an OutputError for a directory, socket or block device."""
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return "new"
    except OSError as error:
        raise OutputError(f"{display_name(path)}: {_unusable(error)}; give {option} another path") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{display_name(path)}: is a directory; give {option} a file name in it{_for_example(example)}")
    if stat.S_ISSOCK(mode):
        raise OutputError(f"{display_name(path)}: is a socket, not a file; give {option} the path of a file")
    if stat.S_ISBLK(mode):
        raise OutputError(f"{display_name(path)}: is a block device, not a file; give {option} the path of a file")
    if stat.S_ISCHR(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "fifo"
    return "file"


def _temporary_beside(real: str, option: str, path: str) -> str:
    """An empty temporary file in the target's directory: creating it proves the directory takes files."""
    directory = os.path.dirname(os.path.abspath(real))
    if not os.path.isdir(directory):
        raise OutputError(f"{display_name(path)}: its directory does not exist; create it or give {option} another path")
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f"{_TEMPORARY_PREFIX}{os.path.basename(real)[:40]}-", suffix=".tmp", dir=directory
        )
    except OSError as error:
        raise OutputError(f"{display_name(path)}: cannot write in its directory ({describe(error)}); give {option} another path") from None
    os.close(descriptor)
    return temporary


def _copy_mode(real: str, temporary: str) -> None:
    """The new file gets the mode of the file it replaces, or the umask's default for a new one."""
    try:
        mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    os.chmod(temporary, mode)


def csv_line(fields, sep: str = ",") -> str:
    """One CSV record, with its line end: every field as the csv module writes it, quoted where
    it holds the separator, a quote or a line end. Every header fwdback writes is one."""
    line = io.StringIO()
    csv.writer(line, delimiter=sep, lineterminator="\n").writerow(fields)
    return line.getvalue()


def json_text(document, compact: bool = False) -> str:
    """A document as strict JSON, the one writer of every JSON output. A float that is not
    finite (an MSE whose squares overflow float64) is written as null: JSON has no Infinity
    or NaN. Indented, with a line end; `compact`: on one line, without spaces."""
    layout = {"separators": (",", ":")} if compact else {"indent": 2}
    try:
        text = json.dumps(document, allow_nan=False, **layout)
    except ValueError:  # a float that is not finite, somewhere: the walk is only paid for then
        text = json.dumps(_finite_or_null(document), allow_nan=False, **layout)
    return text if compact else text + "\n"


def _finite_or_null(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def terminal_text(text: str) -> str:
    """`text` with every character that is not printable (C0 and C1 controls, DEL, line and
    paragraph separators, format characters such as bidi overrides, surrogates, unassigned
    code points) written as its backslash escape; for a terminal, and for any view that
    quotes names (an SVG figure's labels, before XML escaping)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


# A run of characters that are not printable ASCII, a tab or a line end (\n, or the \r of \r\n).
_SUSPECT = re.compile(r"(?:(?!\r\n)[^\t\n\x20-\x7e])+")


def terminal_lines(text: str) -> str:
    """Text of many lines (a CSV, a drawing, a Markdown page) for a terminal: its line ends
    (\\n, \\r\\n) and tabs kept, every other character that is not printable escaped as
    terminal_text escapes it."""
    return _SUSPECT.sub(lambda run: terminal_text(run.group()), text)


class Stdout:
    """stdout for a command's data: a reader that goes away (`| head`) is noted, not an error;
    any other failure (a full disk, a closed descriptor) is an OutputError, which says that
    nothing was saved where the command saves files (`saving`).

    Text and bytes may be mixed (predict passes records through as bytes). Writes are buffered
    by the stream beneath; `flush()` pushes them out. Once stdout has failed or its reader has
    gone, descriptor 1 is pointed at /dev/null, so that Python's own flush at exit is quiet.

    On a terminal, what is written is made safe for it (terminal_lines): a control
    character in a name or a cell is shown, not obeyed. Only `write_styled` writes escape codes,
    rich's own. A lone surrogate, which UTF-8 cannot encode, is written as its escape (\\ud800)
    everywhere.
    """

    def __init__(self, stream=None, saving: bool = False):
        self._stream = stream if stream is not None else sys.stdout
        self.saving = saving
        self.gone = False
        self._terminal = self.isatty()

    def write(self, text: str) -> None:
        if self._terminal:
            text = terminal_lines(text)
        self._write(text.encode("utf-8", "backslashreplace"))

    def write_bytes(self, data: bytes) -> None:
        if self._terminal:
            self.write(data.decode("utf-8", "backslashreplace"))
        else:
            self._write(data)

    def write_styled(self, text: str) -> None:
        """Text with escape codes of fwdback's own (rich's colours and boxes) around names already
        made safe (render.terminal.rich_text)."""
        self._write(text.encode("utf-8", "backslashreplace"))

    def _write(self, data: bytes) -> None:
        if self.gone:
            return
        try:
            buffer = getattr(self._stream, "buffer", None)
            if buffer is not None:
                buffer.write(data)
            else:
                self._stream.write(data.decode("utf-8"))
        except BrokenPipeError:
            self._reader_gone()
        except OSError as error:
            self._failed(error)

    def flush(self) -> None:
        if self.gone:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()
        except OSError as error:
            self._failed(error)

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError, AttributeError):
            return False

    @property
    def encoding(self) -> str:
        return "utf-8"

    def _reader_gone(self) -> None:
        self.gone = True
        _silence(self._stream)

    def _failed(self, error: OSError) -> None:
        self.gone = True
        _silence(self._stream)
        saved = "; nothing was saved" if self.saving else ""
        if error.errno == errno.EBADF:
            fix = "run the command with stdout open, or redirect it to a file"
        else:
            fix = ("free some space or " if _out_of_space(error) else "") + "redirect stdout elsewhere"
        raise OutputError(f"could not write to stdout: {describe(error)}{saved}; {fix}") from None


def _silence(stream) -> None:
    """Point the stream's descriptor at /dev/null and drop what is buffered for it."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    try:
        stream.flush()
    except OSError:
        pass
