"""The exceptions fwdback raises for what the user can fix; the CLI turns them into `Error: ...`.

Each message names the file, row or column and says how to fix the problem; each class has the
exit code the CLI leaves with. Errors about data, model files and files fwdback will not
replace are ValueErrors too, so that Python callers can catch them as the standard library's kind.
"""

import errno
import functools


def quiet_floats(function):
    """`function` with NumPy's floating-point warnings off, for the library's public entry
    points (the estimator, run.fit). The library checks every overflow that matters where
    it happens and raises its own error (a loss or squares that overflow, a divergence) or
    returns inf or NaN as its documented result (a prediction beyond float64, the R^2 of one),
    so a RuntimeWarning from NumPy would only repeat it to the user, or come before the error
    that says what to do. The command line's boundary does the same for every command."""

    @functools.wraps(function)
    def quiet(*args, **kwargs):
        import numpy as np

        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return quiet

from .notation import count


# A path longer than this is shown with its middle left out.
SHOWN_PATH_CHARACTERS = 120


def display_name(source: str) -> str:
    """A path as messages show it: "<stdin>" for "-", a very long path shortened in the middle."""
    if source == "-":
        return "<stdin>"
    if len(source) > SHOWN_PATH_CHARACTERS:
        half = SHOWN_PATH_CHARACTERS // 2 - 2
        return f"{source[:half]}...{source[-half:]}"
    return source


def describe(error: BaseException) -> str:
    """An error in words, as messages quote it: 'no space left on device', 'it is closed'."""
    if isinstance(error, OSError) and error.errno == errno.EBADF:
        return "it is closed"
    text = (error.strerror if isinstance(error, OSError) and error.strerror else str(error)) or type(error).__name__
    return text[0].lower() + text[1:] if text[1:2].islower() else text


# A decoder's words are quoted up to this many characters.
QUOTED_DETAIL_CHARACTERS = 120


def _printable(text: str) -> str:
    """A library's message as ours quote it: its first line, without control characters, cut short."""
    lines = text.strip().splitlines()
    line = "".join(character for character in (lines[0] if lines else "") if character.isprintable()).strip()
    return line if len(line) <= QUOTED_DETAIL_CHARACTERS else line[:QUOTED_DETAIL_CHARACTERS] + "..."


def path_problem(error: OSError | ValueError) -> str:
    """What went wrong opening a path, and what to do, in words (a ValueError: a NUL in the path)."""
    if isinstance(error, ValueError):
        return "is not a valid path (it holds a NUL character); check the path"
    problems = {
        errno.ENOENT: "no such file; check the path",
        errno.EISDIR: "is a directory, not a file; give the path of a file",
        errno.EACCES: "permission denied; make the file readable",
        errno.EPERM: "permission denied; make the file readable",
        errno.ELOOP: "is a symbolic link that loops; point it at a file",
        errno.ENAMETOOLONG: "the path is too long; use a shorter one",
        errno.ENXIO: "is a socket or a device without a reader, not a file; give the path of a file",
        errno.ENOTDIR: "a part of the path is not a directory; check the path",
    }
    return problems.get(error.errno, f"cannot be opened ({describe(error)}); check the path")


def python_name(setting: str, value=None) -> str:
    """A setting as the Python API spells it, by the estimator's parameter (settings.Setting.
    estimator_name): `lr=0.002`, `standardize=True`, `random_state=5` for the seed."""
    from .settings import BY_NAME  # settings imports this module

    name = BY_NAME[setting].estimator_name if setting in BY_NAME else setting
    return name if value is None else f"{name}={value!r}"


class FwdbackError(Exception):
    """A problem the user can fix. `exit_code` is what the CLI exits with.

    `message(name)` words it with the caller's names for settings: `name("lr", 0.002)` is
    "--lr 0.002" on the command line and "lr=0.002" in Python (python_name, also str()'s).
    """

    exit_code = 1

    def message(self, name=python_name) -> str:
        return super().__str__()

    def __str__(self) -> str:
        return self.message()


class UnknownArgument(FwdbackError, TypeError, ValueError):
    """A Python call given a keyword it does not take: a TypeError, as Python's own, and a
    ValueError, as the library's other refusals of an argument. `taken`: the keywords it takes;
    `meant`: the one of them `name` stands for where `name` is another door's name for it
    (n_hidden or random_state, say), else None."""

    def __init__(self, call: str, name: str, taken: tuple[str, ...], meant: str | None = None):
        self.call, self.name, self.taken, self.meant = call, name, taken, meant
        super().__init__(call, name, taken, meant)

    def message(self, name=python_name) -> str:
        hint = f"; give {self.meant}=" if self.meant else ""
        return f"{self.call}() takes no argument {self.name!r}{hint} (it takes {', '.join(self.taken)})"


class DataError(FwdbackError, ValueError):
    """The data CSV cannot be used as it is."""


class TextTarget(DataError):
    """A regressor's target cell holding text, not a number: perhaps a class label, which a
    classifier's loss reads. `place` names the file, row and column; `cell` is the text as a
    message shows it (quoted)."""

    def __init__(self, place: str, cell: str):
        self.place, self.cell = place, cell
        super().__init__(place, cell)

    def message(self, name=python_name) -> str:
        return (f"{self.place}: {self.cell} is not a number; fix the cell or delete the row, or, for class labels, "
                f"give {name('loss', 'cross-entropy')} (or {name('loss', 'bce')} for two classes)")


class UnreadableData(DataError):
    """Bytes of the data that cannot be decoded: a damaged gzip stream, a Parquet page that does
    not decompress. Every reader of DATA (CSV and Parquet, here or on a Dask worker) raises it.

    source : the file or part;  detail : the decoder's words;  place : where in the file, in
    words ("row group 3 of 4 (rows 1001 to 1500)"), or None
    """

    def __init__(self, source: str, detail: str, place: str | None = None):
        self.source, self.detail, self.place = source, detail, place
        super().__init__(source, detail, place)

    def message(self, name=python_name) -> str:
        where = self.source if self.place is None else f"{self.source}, {self.place}"
        return f"{where}: cannot be read ({_printable(self.detail)}); the file is damaged or cut short: check that it is intact, or write it again"


class UnknownClass(DataError):
    """A label that is not one of a model's classes (at `row`, counted from 1), in the column
    `column` of the data `source`, where the caller knows them (data_named)."""

    def __init__(self, label, row: int, classes: tuple, source: str | None = None, column: str | None = None):
        self.label, self.row, self.classes, self.source, self.column = label, row, classes, source, column
        super().__init__(label, row, classes, source, column)

    def message(self, name=python_name) -> str:
        shown = ", ".join(map(str, self.classes))
        place = ", ".join([*([self.source] if self.source else []), f"row {self.row}", *(
            [f"column {self.column}"] if self.column else [])])
        return (f"{place}: {self.label!r} is not one of the model's classes ({shown}); give rows of those classes, "
                "or train a model on these labels afresh")


class ClassCount(DataError):
    """A target column with fewer classes than a classifier needs, or more than bce takes, in the
    column `column` of the data `source`, where the caller knows them."""

    def __init__(self, loss: str, classes: tuple, binary: bool, source: str | None = None, column: str | None = None):
        self.loss, self.classes, self.binary, self.source, self.column = loss, classes, binary, source, column
        super().__init__(loss, classes, binary, source, column)

    def message(self, name=python_name) -> str:
        found = ", ".join(map(str, self.classes[:12])) + (", ..." if len(self.classes) > 12 else "") or "none"
        place = ", ".join([*([self.source] if self.source else []), f"column {self.column or 'of the target'}"])
        need = "exactly 2 classes" if self.binary else "at least 2 classes"
        fix = ("; for more than two classes use " + name("loss", "cross-entropy") if self.binary and len(self.classes) > 2
               else f"; give rows of {'exactly' if self.binary else 'at least'} two classes")
        has = f"{len(self.classes)} class{'' if len(self.classes) == 1 else 'es'}"
        return f"{place}: {name('loss', self.loss)} needs {need}, and it has {has} ({found}){fix}"


class NoSurface(FwdbackError, ValueError):
    """A decision surface asked of a network that is not a classifier of two inputs: the field
    covers the plane of two inputs and colours it by the classes' probabilities."""

    exit_code = 2

    def __init__(self, n_inputs: int):
        self.n_inputs = n_inputs
        super().__init__(n_inputs)

    def message(self, name=python_name) -> str:
        if self.n_inputs != 2:
            return (f"a decision surface covers the plane of two inputs, and this network has {self.n_inputs}: "
                    f"leave out {name('data')}")
        return (f"a decision surface is a classifier's (one sigmoid output, or a softmax over several), and this network's "
                f"outputs are not: leave out {name('data')}, or train with {name('loss', 'bce')} or {name('loss', 'cross-entropy')}")


class DataTooLarge(DataError):
    """The data is more than fits in memory, or more than the caller wants loaded (then it streams).

    text_bytes : the bytes of text read so far (decompressed); rows : the rows read, where known.
    """

    def __init__(self, source: str, text_bytes: int | None, rows: int | None = None):
        self.source, self.text_bytes, self.rows = source, text_bytes, rows
        super().__init__(source, text_bytes, rows)

    def message(self, name=python_name) -> str:
        size = f" ({self.text_bytes / 2**30:.1f} GiB of text read)" if self.text_bytes else ""
        held = f" its {self.rows:,} rows" if self.rows else " its rows"
        return (
            f"{self.source}: there is not enough memory to hold{held}{size}; stream it with {name('chunksize', 100000)} "
            "(the linear network on full batches), or train on fewer rows"
        )


class MissingColumn(DataError):
    """The header lacks a column the caller asked for (`trained_on` None) or a model reads.

    quoted : the column's name as messages quote it (long names cut);  suggestion : the header's
    closest names, in words;  trained_on : the model's feature columns, and `target` its target
    where the data must hold it too;  other_separator : the name of a separator ("semicolon")
    that the header, read as one column, holds: the file likely uses it
    """

    def __init__(self, source: str, column: str, quoted: str, suggestion: str, trained_on: tuple[str, ...] | None = None,
                 target: str | None = None, other_separator: str | None = None):
        self.source, self.column, self.quoted, self.suggestion = source, column, quoted, suggestion
        self.trained_on, self.target, self.other_separator = trained_on, target, other_separator
        super().__init__(source, column, quoted, suggestion, trained_on, target, other_separator)  # all: it pickles

    def message(self, name=python_name) -> str:
        if self.other_separator is not None:
            fix = (f"the header is one column holding {self.other_separator}s: if they separate the fields, choose "
                   f"that separator with {name('sep')}")
        elif self.trained_on is None:
            fix = f"rename it in the header or choose columns with {name('features')}/{name('target')}"
        else:
            targets = self.target if isinstance(self.target, tuple) else (self.target,)
            target = f" and its target {','.join(targets)}" if self.target is not None else ""
            fix = f"the model reads the columns {','.join(self.trained_on)}{target}; rename the data's columns to match"
        return f"{self.source}: no column {self.quoted} ({self.suggestion}); {fix}"


class ColumnChoice(DataError):
    """The columns asked for cannot be used: none are features, or one is named twice. The
    options contradict each other whatever the data: a usage error."""

    exit_code = 2

    def __init__(self, repeated: str | None = None):
        self.repeated = repeated
        super().__init__(repeated)

    def message(self, name=python_name) -> str:
        if self.repeated is None:
            return f"no feature columns given; name them with {name('features')}, e.g. {name('features', 'x1,x2,x3')}"
        return f"column {self.repeated!r} is named twice in {name('features')}/{name('target')}; name each column once"


class ModelFileError(FwdbackError, ValueError):
    """A model or init JSON file cannot be used as it is."""


class OutputError(FwdbackError):
    """An output (a file, a device, stdout) cannot be written; nothing was changed."""


class MissingExtra(FwdbackError):
    """An output that needs a package of an optional extra not installed: PDF needs typst."""

    def __init__(self, output: str, package: str, extra: str):
        self.output, self.package, self.extra = output, package, extra
        super().__init__(f"{output} needs the {package} package, which is not installed: "
                         f"pip install 'fwdback[{extra}]'")


class OutputConflict(FwdbackError):
    """An output path is also an input of the command, or another of its outputs."""

    exit_code = 2


class StdinTwice(FwdbackError):
    """Two inputs of one command would both be read from stdin, which can be read once.

    first, second : how the command names them ("DATA", "--resume")
    """

    exit_code = 2

    def __init__(self, first: str, second: str):
        self.first, self.second = first, second
        super().__init__(first, second)

    def message(self, name=python_name) -> str:
        return (f"{self.first} and {self.second} cannot both come from stdin, which can be read only once; give one of "
                "them as a file")


class SettingNotUsed(FwdbackError, ValueError):
    """A setting given (other than its default) where the run would not use it: a hyper-parameter
    of another update rule, an order of mini-batches without mini-batches (run.check_used).
    `values`: the values of `on` that use it, `named` how to call `on` ("the update rule"); None:
    `on` given at all, which `does` and `otherwise` explain."""

    exit_code = 2

    def __init__(self, setting: str, value, on: str, actual, values, named: str, does: str, otherwise: str):
        super().__init__(setting)
        self.setting, self.value, self.on, self.actual = setting, value, on, actual
        self.values, self.named, self.does, self.otherwise = values, named, does, otherwise

    def message(self, name=python_name) -> str:
        if self.values is None:
            return f"{name(self.setting, self.value)} {self.does}; give {name(self.on)}, or leave it out ({self.otherwise})"
        return (f"{name(self.setting)} is a setting of {name(self.on)} {' and '.join(self.values)}, and {self.named} is "
                f"{self.actual}: give {name(self.on, self.values[0])}, or leave out {name(self.setting)}")


class ResumeConflict(FwdbackError, ValueError):
    """A setting given to a resumed run that is not what the model was trained with (run.resumed_settings)."""

    exit_code = 2

    def __init__(self, setting: str, words: str, stored: str, value):
        super().__init__(setting)
        self.setting, self.words, self.stored, self.value = setting, words, stored, value

    def message(self, name=python_name) -> str:
        return (f"a resumed run goes on with the model's {self.words}, {self.stored}; leave out "
                f"{name(self.setting, self.value)}, or start afresh from its weights")


class ForeignFile(FwdbackError, ValueError):
    """An output path holds a file that fwdback does not replace or append to: not a model
    file, or not a history of this network. Nothing is written.

    path : as the caller gave it;  option : how the caller names that output ("--model",
    "save(path)");  unlike : what the file is not, in words ("not a fwdback model")
    """

    exit_code = 2

    def __init__(self, path: str, option: str, unlike: str):
        self.path, self.option, self.unlike = path, option, unlike
        super().__init__(path, option, unlike)

    def message(self, name=python_name) -> str:
        return (f"{display_name(self.path)} exists and is {self.unlike}; give {self.option} another path, "
                "or move that file away")


class SplitTooSmall(DataError):
    """The validation split leaves no row on one side."""

    def __init__(self, val_split: float, rows: int, held: int):
        self.val_split, self.rows, self.held = val_split, rows, held
        super().__init__(val_split, rows, held)

    def message(self, name=python_name) -> str:
        return (
            f"{name('val_split', self.val_split)} of {self.rows} rows leaves {self.held} for validation and "
            f"{self.rows - self.held} for training; both need at least one row"
        )


class NotEnoughMemory(FwdbackError, MemoryError):
    """A network needs more memory than the machine has; refused before the work."""

    def __init__(self, n_hidden: int, n_parameters: int, needed: int, available: int, batches: bool):
        self.n_hidden, self.n_parameters, self.needed, self.available, self.batches = (
            n_hidden, n_parameters, needed, available, batches)
        super().__init__(n_hidden, needed, available)

    def message(self, name=python_name) -> str:
        smaller = f" or smaller batches ({name('batch_size')})" if self.batches else ""
        return (
            f"a network of {self.n_hidden:,} hidden units ({self.n_parameters:,} parameters) needs about "
            f"{self.needed / 2**30:.1f} GiB to train, more than the {self.available / 2**30:.1f} GiB available; "
            f"use fewer hidden units ({name('hidden')}){smaller}"
        )


class EpochNotReached(FwdbackError):
    """Early stopping ends training before the epoch asked for (explain's epoch)."""

    def __init__(self, epoch: int, last_epoch: int, watched: str, min_delta: float, patience: int):
        self.epoch, self.last_epoch, self.watched, self.min_delta, self.patience = epoch, last_epoch, watched, min_delta, patience
        super().__init__(epoch, last_epoch)

    def message(self, name=python_name) -> str:
        return (
            f"early stopping ends training after epoch {count(self.last_epoch)}, so there is no epoch {count(self.epoch)} to explain "
            f"(the {self.watched} loss did not improve by more than {self.min_delta:g} for {count(self.patience)} epochs); "
            f"use {name('epoch', self.last_epoch)} or less, or a larger {name('patience')}"
        )


class StepNotInEpoch(FwdbackError):
    """explain's step is beyond the updates its epoch makes."""

    exit_code = 2

    def __init__(self, step: int, steps: int, epoch: int, rows: int, batch_size: int | None):
        self.step, self.steps, self.epoch, self.rows, self.batch_size = step, steps, epoch, rows, batch_size
        super().__init__(step, steps)

    def message(self, name=python_name) -> str:
        if self.batch_size is None:
            how = f"one full-batch update over its {self.rows} training rows; give {name('batch_size')} for mini-batch steps"
        else:
            how = f"{self.rows} training rows in batches of {self.batch_size}; use {name('step', self.steps)} or less"
        updates = f"{self.steps} update{'s' if self.steps != 1 else ''}"
        return f"epoch {count(self.epoch)} makes {updates}, so there is no step {self.step} to explain ({how})"


class SquaresOverflow(DataError):
    """Rows whose values' squares overflow float64 cannot be summed into the Gram engine's statistics.

    `source`, the data's name, is filled in by whoever knows it.
    """

    def __init__(self, source: str | None = None):
        self.source = source
        super().__init__(source)

    def message(self, name=python_name) -> str:
        data = f"{self.source}: " if self.source else ""
        return (
            f"{data}values this large (about 1e154 or more) have squares beyond float64's range, and streamed "
            f"training keeps sums of squares; standardize them ({name('standardize', True)}) or rescale the columns"
        )


class LossOverflow(FwdbackError, ArithmeticError):
    """The loss is inf or NaN at the initial weights: the data or the weights are too large for float64.

    `source`, the data's name, is filled in by whoever knows it.
    """

    def __init__(self, loss: float, where: str = "at the initial weights", source: str | None = None):
        self.loss, self.where, self.source = loss, where, source
        super().__init__(loss, where)

    def message(self, name=python_name) -> str:
        data = f"{self.source}: " if self.source else ""
        return (
            f"{data}the loss is {self.loss} {self.where}, before any update: the data or the weights are too large "
            f"for float64 arithmetic; standardize the data ({name('standardize', True)}) or start from smaller weights"
        )


class TrainingDiverged(FwdbackError, ArithmeticError):
    """The loss became inf/NaN or grew without bound: the learning rate is too large.

    suggested_lr : a learning rate to try;  standardized : whether the rows were z-scores already
    """

    exit_code = 3

    def __init__(self, epoch: int, loss: float, suggested_lr: float, standardized: bool = False):
        self.epoch, self.loss, self.suggested_lr, self.standardized = epoch, loss, suggested_lr, standardized
        super().__init__(epoch, loss, suggested_lr)

    def message(self, name=python_name) -> str:
        rescale = "" if self.standardized else f", or {name('standardize', True)} to put the columns on one scale"
        return (
            f"training diverged at epoch {count(self.epoch)} (loss {self.loss:.6g}); the learning rate is too large for "
            f"this data: try {name('lr', float(f'{self.suggested_lr:.2g}'))}{rescale}"
        )


class ClusterError(FwdbackError):
    """The work cannot run on the Dask cluster: dask is not installed, the scheduler cannot be
    reached, or the cluster failed. `what` went wrong and `fix` says what to do, in words."""

    def __init__(self, what: str, fix: str):
        self.what, self.fix = what, fix
        super().__init__(what, fix)

    def message(self, name=python_name) -> str:
        return f"{self.what}; {self.fix}"


class SchedulerAddressError(ClusterError):
    """A Dask scheduler address fwdback cannot connect to, found before trying: not of the form
    [SCHEME://]HOST:PORT (`malformed`), a scheme fwdback cannot reach a scheduler by, or tls://
    without Dask's TLS settings. A usage error, as a bad option is."""

    exit_code = 2

    def __init__(self, what: str, fix: str, malformed: bool = False):
        super().__init__(what, fix)
        self.malformed = malformed


class RunConflict(FwdbackError, ValueError):
    """Settings of a run that contradict each other, the network or the starting point, found
    before any work. The command line words it as a usage error (exit 2, with its pointer to
    --help); Python callers can catch it as a ValueError."""

    exit_code = 2


class FrozenParameters(RunConflict):
    """The frozen names are not the network's (`unknown`, the first such name), or are all of them.

    names : the network's parameters, in order;  n_weights, n_biases : how many of each
    """

    def __init__(self, names: tuple[str, ...], n_weights: int, n_biases: int, unknown: str | None = None):
        self.names, self.n_weights, self.n_biases, self.unknown = names, n_weights, n_biases, unknown
        super().__init__(names, n_weights, n_biases, unknown)

    def message(self, name=python_name) -> str:
        if self.unknown is None:
            return f"{name('freeze')} lists every parameter, so nothing would train; leave at least one out"
        names = self.names
        listed = ", ".join(names) if len(names) <= 12 else f"{names[0]}..{names[-1]} (w1..w{self.n_weights}" + (
            f", b1..b{self.n_biases})" if self.n_biases else ")")
        folded = {known.casefold(): known for known in names}
        hint = f" (did you mean {folded[self.unknown.casefold()]}?)" if self.unknown.casefold() in folded else ""
        return (f"{name('freeze', self.unknown)}: the network has no parameter {self.unknown}{hint}; "
                f"its parameters are {listed}")


class InitOnRawValues(RunConflict):
    """Weights of a model trained on z-scores, to start a run on raw values (standardize False)."""

    def __init__(self, init: str):
        self.init = init
        super().__init__(init)

    def message(self, name=python_name) -> str:
        return (
            f"{name('init', self.init)} is a model trained on z-scores, so its weights are in z-score units, and "
            f"{name('standardize', False)} trains on the raw values, where they mean something else; leave out "
            f"{name('standardize', False)} (the rows are then scaled as that model says), or start from random weights"
        )


class NoEpochsLeft(RunConflict):
    """A resumed run would number epochs past what a model file counts (`most`): the model has
    run `epochs`, so at most `most - epochs` are left."""

    def __init__(self, resume: str, epochs: int, most: int):
        self.resume, self.epochs, self.most = resume, epochs, most
        super().__init__(resume, epochs, most)

    def message(self, name=python_name) -> str:
        left = self.most - self.epochs
        fix = f": give {name('epochs', left)} or fewer, or" if left else ", so no epoch is left to run:"
        return (f"{name('resume', self.resume)} has run {self.epochs:,} epochs, and a model file counts at most 2^62 "
                f"({self.most:,}){fix} start afresh from its weights with {name('init', self.resume)}")


class DaskConflict(RunConflict):
    """A setting a run on a Dask cluster cannot go with: "chunksize" (the workers hold the rows),
    "val_split" (split on one machine only), "batch_size" without an lr (the step is chosen from
    rows in memory), "target" (several targets)."""

    def __init__(self, setting: str):
        self.setting = setting
        super().__init__(setting)

    def message(self, name=python_name) -> str:
        dask = name("dask")
        return {
            "chunksize": f"{dask} and {name('chunksize')} contradict each other: on a cluster the workers hold the rows; use one",
            "val_split": f"{dask} cannot be used with {name('val_split')}: the rows are split on one machine only",
            "batch_size": f"{dask} with {name('batch_size')} needs {name('lr')}: the step for mini-batches is chosen from "
                          "rows in memory",
            "target": f"{dask} trains one target at a time: give one {name('target')} column, or leave out {dask}",
        }[self.setting]


class StreamingConflict(RunConflict):
    """A setting that rules out streamed training (the linear network, one output, or a
    `classifier`, on full batches, without a history): `setting` and the `value` given, or,
    `of_resume`, the resumed model's network that has it."""

    def __init__(self, setting: str, value=None, of_resume: bool = False, classifier: bool = False):
        self.setting, self.value, self.of_resume, self.classifier = setting, value, of_resume, classifier
        super().__init__(setting, value, of_resume, classifier)

    def message(self, name=python_name) -> str:
        if self.of_resume:
            what = {"activation": f"the {self.value} activation", "output_activation": f"the {self.value} output activation",
                    "target": "the several targets", "bias": "the network without biases"}[self.setting]
            conflict = f"{what} of {name('resume')}"
        elif self.setting == "target":
            conflict = f"several {name('target')} columns"
        else:
            conflict = name(self.setting, self.value)
        what = "of a classifier is" if self.classifier else "is the linear network (identity activation)"
        return f"{name('chunksize')} cannot be used with {conflict}: streamed training {what} on full batches of every row"


class ClassifierConflict(RunConflict):
    """A classification loss with a network it cannot train: an output activation other than
    its `link` (`value`, setting "output_activation"), or several target columns (setting "target")."""

    def __init__(self, loss: str, link: str, setting: str, value=None):
        self.loss, self.link, self.setting, self.value = loss, link, setting, value
        super().__init__(loss, link, setting, value)

    def message(self, name=python_name) -> str:
        if self.setting == "target":
            return (f"{name('loss', self.loss)} classifies one target column of labels, not several: give one "
                    f"{name('target')} column")
        return (f"{name('loss', self.loss)} computes its probabilities with a {self.link} output, and "
                f"{name('output_activation', self.value)} contradicts it: leave out {name('output_activation')} "
                f"(the {self.link} is then the output's activation)")


class KeyFileError(FwdbackError, ValueError):
    """An exercise key (fwdback grade's KEY) that is not what `fwdback exercise --format json` writes.
    source : the key's path;  problem : what is wrong with it, in words."""

    def __init__(self, source: str, problem: str):
        self.source, self.problem = source, problem
        super().__init__(source, problem)

    def message(self, name=python_name) -> str:
        return f"{display_name(self.source)}: {self.problem}."


class AnswersError(DataError):
    """A class's answers CSV (fwdback grade's ANSWERS) that cannot be marked: `row` counted from 1
    with the header as row 1, or None for the whole file."""

    def __init__(self, source: str, row: int | None, problem: str):
        self.source, self.row, self.problem = source, row, problem
        super().__init__(source, row, problem)

    def message(self, name=python_name) -> str:
        where = display_name(self.source) if self.row is None else f"{display_name(self.source)}, row {self.row}"
        return f"{where}: {self.problem}."


class NoLivelyVariant(FwdbackError, ValueError):
    """Every seed tried gave a dull exercise: `whys`, why (worksheet.Dullness.why: a dead relu unit, a zero
    gradient, ...) -> how many seeds, and `reason`, the last seed's detail."""

    def __init__(self, first_seed: int, tried: int, whys: dict[str, int], reason: str):
        self.first_seed, self.tried, self.whys, self.reason = first_seed, tried, whys, reason
        super().__init__(first_seed, tried, whys, reason)

    def message(self, name=python_name) -> str:
        counted = ", ".join(f"{why}: {count}" for why, count in self.whys.items())
        return (f"seeds {self.first_seed} to {self.first_seed + self.tried - 1} all give dull exercises ({counted}; the last: "
                f"{self.reason}); try other data or --rows, another --activation, more --digits, a larger --lr or a --round of more digits")


class TooManyRows(RunConflict):
    """An exercise asked to work on more rows (exercise's rows) than the data has."""

    def __init__(self, rows: int, available: int):
        self.rows, self.available = rows, available
        super().__init__(rows, available)

    def message(self, name=python_name) -> str:
        return f"{name('rows', self.rows)} is more than the data's {self.available} rows; give at most {self.available}"


class UnknownQuantity(RunConflict):
    """A quantity asked for (exercise's ask) that the network's epoch does not have: `name`, with
    `example`, one it has, to show how they are spelled, and the `kinds` of quantity there are."""

    def __init__(self, name: str, example: str, kinds: tuple[str, ...]):
        self.name, self.example, self.kinds = name, example, kinds
        super().__init__(name, example, kinds)

    def message(self, name=python_name) -> str:
        return (f"{name('ask')}: {self.name!r} is neither a kind of quantity ({', '.join(self.kinds)}) nor a quantity of "
                f"this network's epoch, such as {self.example}")
