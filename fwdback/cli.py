"""The fwdback command line; the only module that knows click.

numpy, pandas, rich and the notation are imported inside the commands, and the options of the
declared settings are made when a command first needs them (_Command), so that `fwdback --help`
and `--version` start within 1.3x of importing click (tests/test_startup.py, benchmarks/startup.py).
Errors from the library arrive as FwdbackError and leave as one `Error: ...` line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from .playground import SHAPE_NAMES
from .process import (EpochWriter, Terminated, exit_at_once_on_signals, hold_closed_streams, ignore_signals, progress_bar,
                      silence_stdout, stop_on_signals, unwind_on_sigterm)

if TYPE_CHECKING:
    from .data import Dataset
    from .network import Parameters
    from .engines.rows import TrainingRows
    from .plan import TrainingPlan
    from .settings import Setting
    from .run import StartingPoint


class UserError(click.ClickException):
    """A FwdbackError on its way out: `Error: message`, with the error's exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


def _positive_finite(ctx, param, value):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value} is not a positive finite number, e.g. 0.01")
    return value


def _finite(ctx, param, value):
    """Every float option: NaN and the infinities are refused (click's ranges let NaN through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number")
    return value


def _separator(ctx, param, value):
    """One character; `\\t` typed literally (as many tools take it) is a tab."""
    if value is None:
        return None
    value = "\t" if value == "\\t" else value
    if len(value) != 1 or not value.isascii() or value in "\"\r\n":
        raise click.BadParameter(
            f"{value!r} is not a separator: give one ASCII character other than a quote or a line end, e.g. ';' or '\\t'"
        )
    return value


SEED = click.IntRange(min=0)
# explain refuses an --epoch whose epochs before it would take longer than this, at their first ones' pace.
EXPLAIN_MINUTES = 10


def _path(ctx, param, value):
    """Every path option and argument: an empty one (`--init ''`) names no file and is a usage error."""
    if value == "":
        raise click.BadParameter("the path is empty; give the path of a file")
    return value


def _column_name(ctx, param, value):
    """--target: one column name (or several, separated by commas, for several outputs), compared
    without the spaces around it as header names are."""
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise click.BadParameter(f"{value!r} is not a column name; give the target column's name, e.g. y (or y1,y2)")
    return names[0] if len(names) == 1 else tuple(names)


def _names(ctx, param, value):
    """--freeze: parameter names separated by commas, each once (checked against the network once it is known)."""
    from .settings import Names

    if value is None:
        return ()
    names = tuple(name.strip() for name in value.split(","))
    if not all(names):
        raise click.BadParameter(f"{value!r} has an empty name; give parameter names separated by commas, e.g. b1,b2")
    if not Names().admits(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise click.BadParameter(f"{value!r} names {repeated} twice; give each parameter once, e.g. b1,b2")
    return names


def _fraction_below_one(ctx, param, value):
    value = _finite(ctx, param, value)
    if value is not None and not 0 <= value < 1:
        raise click.BadParameter(f"{value!r} is not from 0 to below 1")
    return value


def _column_list(ctx, param, value):
    if value is None:
        return None
    columns = [column.strip() for column in value.split(",")]
    if not all(columns):
        raise click.BadParameter(f"{value!r} has an empty column name; give names separated by commas, e.g. x1,x2,x3")
    return tuple(columns)


def _data_paths(ctx, param, value):
    """DATA given as several paths, a directory or a glob (sources.parts_of); none is stdin."""
    for path in value:
        _path(ctx, param, path)
    return value or ("-",)


def _data_parts(metavar: str):
    """DATA as one or more paths (train, predict, evaluate)."""
    return click.argument("data", nargs=-1, metavar=metavar, callback=_data_paths)


def _scheduler_address(ctx, param, value):
    """--dask's ADDRESS: empty (the flag alone) or a scheduler's address (engines.dask.scheduler_address).
    A path taken for one (`--dask data.csv`) is a usage error that says where --dask goes."""
    if not value:
        return value
    from .engines.dask import scheduler_address
    from .errors import ClusterError, SchedulerAddressError

    try:
        return scheduler_address(value, "--dask")
    except ClusterError as error:  # an address it cannot use, or (tls://) no Dask to ask for its TLS settings
        malformed = isinstance(error, SchedulerAddressError) and error.malformed
        fix = "give --dask after DATA, or its address as --dask=ADDRESS" if malformed else error.fix
        raise UserError(f"{error.what}; {fix}", error.exit_code) from None


_DASK = click.option(
    "--dask", metavar="[ADDRESS]", is_flag=False, flag_value="", default=None, callback=_scheduler_address,
    help="Run on a Dask cluster: the scheduler at ADDRESS, else at $DASK_SCHEDULER_ADDRESS, else a local cluster of "
         "worker processes, one a core (pip install 'fwdback[dask]'). Give it after DATA.",
)


def _data_and_parts(data: tuple[str, ...], as_parts: bool):
    """(DATA as one string, its sources.Parts): a single CSV source stays the string the
    single-file reader reads (parts None); many files, a directory, a glob or Parquet are parts,
    and so is a single file `as_parts` (for a Dask cluster's workers to read, or predict
    --output-dir). The string is then the parts' label."""
    from .sources import Part, Parts, parts_of

    parts = parts_of(data)
    if parts is None and as_parts:
        if data[0] == "-":
            raise click.UsageError("--dask reads DATA on the cluster's workers, which cannot read stdin; save it to a file "
                                   "and give its path")
        parts = Parts(data[0], (Part.of(data[0]),))
    return (data[0] if parts is None else parts.label), parts


def _data_inputs(data: str, parts) -> dict[str, str]:
    """DATA as outputs.Outputs' inputs: the file, or every part, so that no output lands on one."""
    if parts is None:
        return {"DATA": data}
    return {f"DATA {index}": part.path for index, part in enumerate(parts.parts, 1)}


def _cluster(address: str | None):
    """The Dask cluster a command runs on with --dask (engines.dask.Cluster), or none."""
    if address is None:
        return contextlib.nullcontext()
    from .engines.dask import Cluster

    return Cluster(address or None)


def _column_options(command):
    """The columns a network reads and predicts: of DATA, or of a file of bare weights (show)."""
    for decorator in reversed(
        [
            click.option("--features", default="x1,x2,x3", show_default=True, callback=_column_list, help="The input columns, in the order x1,x2,x3 (any number of them)."),
            click.option("--target", default="y", show_default=True, callback=_column_name, help="The column to predict; several, separated by commas, train one output each (y1,y2)."),
        ]
    ):
        command = decorator(command)
    return command


def _data_options(command, many: bool = False):
    """DATA and the options that choose its columns: shared by every command that trains; `many`:
    DATA may be several files, a directory or a glob (train)."""
    for decorator in reversed(
        [
            _data_parts("DATA...") if many else click.argument("data", default="-", metavar="DATA", callback=_path),
            _column_options,
            _SEP,
        ]
    ):
        command = decorator(command)
    return command


def _setting_option(setting: Setting) -> click.Option:
    """The option of a declared setting: its flag, click's type and check for its constraint, its default and help."""
    from .settings import Choice, Flag, Integer, Names

    constraint, flag = setting.constraint, setting.flag
    if isinstance(constraint, Flag):
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=setting.default, help=setting.help)
    if isinstance(constraint, Names):
        return click.Option([flag], callback=_names, metavar=setting.metavar, help=setting.help)
    checks = {"callback": _finite}
    if isinstance(constraint, Choice):
        checks = {"type": click.Choice(list(constraint.names))}
    elif isinstance(constraint, Integer):
        checks = {"type": click.IntRange(min=constraint.low)}
    elif constraint.high is None and constraint.low_open:
        checks = {"type": float, "callback": _positive_finite}
    elif constraint.high is not None and not constraint.low_open and constraint.high_open:
        checks = {"type": float, "callback": _fraction_below_one}
    else:
        checks["type"] = click.FloatRange(min=constraint.low, max=constraint.high, min_open=constraint.low_open,
                                          max_open=constraint.high_open)
    shown = {} if setting.default is None else {"default": setting.default, "show_default": True}
    return click.Option([flag], **checks, **shown, metavar=setting.metavar, help=setting.help)


class _SettingOptions:
    """The options of the declared settings (settings.SETTINGS) of these groups that a command
    takes, in the declaration's order: made by _Command when it first needs its options, so that
    `fwdback --help` does not import settings.py and the registries its choices name."""

    def __init__(self, command_name: str, groups: tuple[str, ...]):
        self.command_name, self.groups = command_name, groups

    def options(self) -> list[click.Option]:
        from .settings import SETTINGS

        return [_setting_option(setting) for setting in SETTINGS
                if setting.group in self.groups and self.command_name in setting.commands]


class _Command(click.Command):
    """click's command, whose _SettingOptions become options when its parameters are first asked for."""

    @property
    def params(self) -> list[click.Parameter]:
        if any(isinstance(param, _SettingOptions) for param in self._params):
            self._params = [option for param in self._params
                            for option in (param.options() if isinstance(param, _SettingOptions) else [param])]
        return self._params

    @params.setter
    def params(self, params: list) -> None:
        self._params = params


def _setting_options(command_name: str, *groups: str):
    """The options of the declared settings of these groups that the command takes, where click's
    decorators put an option (made when the command first needs them: _SettingOptions)."""

    def decorate(command):
        command.__click_params__ = [*getattr(command, "__click_params__", []), _SettingOptions(command_name, groups)]
        return command

    return decorate


_INIT = click.option("--init", "init_path", callback=_path, help="Start from the weights in this JSON file (a saved model works; one trained on z-scores scales the rows as it did).")


def _start_options(command_name: str):
    """Where training starts and how fast it moves: shared by every command that trains."""

    def decorate(command):
        return _setting_options(command_name, "start")(_INIT(command))

    return decorate


def _network_options(command_name: str):
    """The network's shape and the scale it trains on: shared by every command that builds one."""
    return _setting_options(command_name, "shape", "scale")


def _model_option(help: str):
    """--model: the model file a command writes or reads."""
    return click.option("--model", "model_path", default="model.json", show_default=True, callback=_path, help=help)


_SEP = click.option("--sep", callback=_separator, help="Field separator of the CSV, one character; \\t is a tab (default: comma, or the one the header uses).")


def _load_dataset(data, features, target, sep, notes, chunk_rows=None, stream_when_large=False, model_columns=False,
                  parts=None, labels=False):
    """The data set (with `chunk_rows`, its header only: the rows are streamed); `notes` receives
    what to say of a detected separator, trimmed header names and streaming.

    With `stream_when_large`, a file whose text turns out larger than STREAM_ABOVE_BYTES
    (measured by what is read, after decompression) is streamed instead, with a note.
    `model_columns`: the columns are a model's, not chosen with --features/--target. `parts`
    (sources.Parts): DATA is those files, read part by part. `labels`: the target column holds
    a classifier's class labels (data.load_dataset's).
    """
    from .data import STREAM_ABOVE_BYTES, TRAIN_CHUNK_ROWS, TextLargerThan, load_dataset, stream_dataset
    from .reader import separator_name
    from .sources import load_parts, stream_parts

    if parts is not None:
        dataset = (stream_parts(parts, features, target, sep, chunk_rows, labels) if chunk_rows
                   else load_parts(parts, features, target, sep, model_columns, labels))
    elif chunk_rows:
        dataset = stream_dataset(data, features, target, sep, chunk_rows, labels)
    else:
        try:
            dataset = load_dataset(data, features, target, sep, STREAM_ABOVE_BYTES if stream_when_large else None, model_columns,
                                   labels=labels)
        except TextLargerThan as large:
            notes.append(
                f"Streaming {large.source} in chunks of {TRAIN_CHUNK_ROWS:,} rows, as its text is larger than "
                f"{STREAM_ABOVE_BYTES / 2**30:g} GiB; --chunksize sets the chunk size."
            )
            dataset = stream_dataset(data, features, target, sep, TRAIN_CHUNK_ROWS, labels)
    if sep is None and dataset.sep_detected and dataset.sep != ",":
        notes.append(f"Reading {dataset.source} as {separator_name(dataset.sep)}-separated (the header uses it; --sep sets it).")
    if dataset.trimmed:
        names = ", ".join(repr(name) for name in dataset.trimmed[:5])
        notes.append(f"Note: {dataset.source}: header names are read without the spaces around them ({names}).")
    return dataset


def _given(*names: str) -> frozenset[str]:
    """The settings among `names` that the command line gave (not left at their defaults), as run.py's `given`."""
    context = click.get_current_context()
    return frozenset(name for name in names
                     if context.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT))


def _network(options: dict):
    """The network and columns the options ask for (run.NetworkSettings)."""
    from .run import NetworkSettings

    return NetworkSettings(*(options[name] for name in _NETWORK_OPTIONS))


def _init_scaling_note(init_path, start, source) -> list[str]:
    """What to say, before training, of rows scaled as an --init model says."""
    if not init_path or start.scaling is None:
        return []
    return [f"Note: {init_path} was trained on z-scores: its weights are in those units, so {source} is scaled "
            "with its means and standard deviations, as --resume would."]


def _require_data(data):
    """A DATA left out on a terminal would wait for typing that never comes: say what to give instead."""
    context = click.get_current_context()
    if data == "-" and context.get_parameter_source("data") is click.core.ParameterSource.DEFAULT:
        stdin = sys.stdin
        if stdin is not None and stdin.isatty():
            raise click.UsageError(
                f"no DATA given and stdin is a terminal: give a CSV file (fwdback {context.info_name} data.csv), "
                "or pipe one in"
            )


def _print_version(ctx, param, value):
    if value and not ctx.resilient_parsing:
        click.echo(f"fwdback {_installed_version()}")
        ctx.exit()


def _installed_version() -> str:
    """The version pyproject.toml gave the installed package, read from its METADATA file.

    importlib.metadata finds the same file, but importing it takes 20 ms, longer than the rest
    of `fwdback --version` (53 ms against 74 ms); it is the fallback for installs laid out otherwise.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("fwdback-") and name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as stream:
                        for line in stream:
                            if line.startswith("Version:"):
                                return line.split(":", 1)[1].strip()
                except OSError:
                    break
    from importlib.metadata import version

    return version("fwdback")


class _Commands(click.Group):
    """click's group, whose errors are each one line: `Error: ...`, with their exit code.

    click prints a usage error as three lines (usage, a hint, the error); here the hint joins
    the error on its line, so that every failure is one `Error:` line whatever caused it.
    """

    command_class = _Command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            command = error.ctx.command_path if error.ctx is not None else "fwdback"
            _say(f"Error: {error.format_message().rstrip('.')}; see '{command} --help'")
            code = error.exit_code
        except click.ClickException as error:
            _say(f"Error: {error.format_message()}")
            code = error.exit_code
        except click.Abort:
            _say("Interrupted; no file was written.")
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""\b
Examples:
  fwdback train data.csv                          train, print tables, save model.json
  fwdback train data.csv --format csv | tail -1   the last epoch's loss
  fwdback predict new.csv > predictions.csv
  cat new.csv | fwdback predict | sort -t, -k5 -g""",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version, help="Show the version and exit.")
def cli():
    """Forward and backward propagation for the lecture's 3-2-1 network, every number visible.

    N1 = w1*x1 + w2*x2 + w3*x3 + b1, N2 = w4*x1 + w5*x2 + w6*x3 + b2,
    yhat = w7*N1 + w8*N2 + b3, trained by full-batch gradient descent on the MSE loss.
    """


@cli.command(
    epilog="""\b
Examples:
  fwdback train sample_data/linear.csv
  fwdback train data.csv --epochs 500 --lr 0.01 --seed 3 --model my-model.json
  fwdback train data.csv --features a,b,c --target price
  fwdback train data.csv --activation tanh --hidden 4 --standardize
  fwdback train data.csv --batch-size 32 --val-split 0.2 --patience 50
  fwdback train data.csv --resume model.json --epochs 500
  fwdback train big.csv --chunksize 100000
  fwdback train 'parts/*.parquet' --dask --activation tanh --standardize
  fwdback train data.csv --report run.html --plot loss.svg
  fwdback train data.csv --no-save --format csv | tail -n +2 | sort -t, -k2 -g | head -1
  fwdback train data.csv -q --model - | fwdback predict new.csv --model -
  cat data.csv | fwdback train - --no-save --format json | python -m json.tool"""
)
@functools.partial(_data_options, many=True)
@_setting_options("train", "run")
@_start_options("train")
@_network_options("train")
@_setting_options("train", "plan")
@click.option("--resume", "resume_path", callback=_path, help="Continue training this saved model: its network, scaling, training plan and epoch count.")
@_model_option("Where to save the trained model; - writes it to stdout.")
@click.option("--no-save", is_flag=True, help="Do not save the model.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True, help="table: loss, weights and summary tables; csv: epoch,loss per epoch; json: everything.")
@click.option("--every", type=click.IntRange(min=1), help="Show every K-th epoch in the loss table (default: about 20 rows, more of them early).")
@click.option("--no-chart", is_flag=True, help="Leave out the loss chart under the loss table.")
@click.option("--history", "history_path", callback=_path, help="Write every epoch's loss, parameters and gradients to this CSV (appended to with --resume).")
@click.option("--report", "report_path", metavar="PAGE", callback=_path, help="Write the run as a page (HTML, self-contained): the network epoch by epoch, the chain rule of every parameter, the loss curve, the worked first epoch.")
@click.option("--plot", "plot_path", metavar="SVG", callback=_path, help="Draw the loss curve to this SVG file.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--save-on-interrupt", is_flag=True, help="On Ctrl-C or SIGTERM, save the weights reached so far.")
@click.option("--chunksize", type=click.IntRange(min=1000), metavar="N", help="Stream DATA (a file) in chunks of N rows, twice, in bounded memory: the linear network on full batches only. Files over 2 GiB stream by default.")
@_DASK
def train(**options):
    """Train the network on DATA, a CSV with columns x1,x2,x3,y ("-" for stdin).

    Each epoch is a forward pass, the MSE loss, a backward pass (chain rule) and a
    gradient-descent update of all 11 parameters. The loss shown for epoch k is that of
    epoch k's forward pass, before its update. Without --lr, the learning rate is chosen
    from the data (and the columns are standardised when their scales differ badly). The
    model is saved to --model (model.json).

    DATA may be many files: several paths, a directory or a quoted glob ('parts/*.csv'), of
    CSV (plain or gzip) and Parquet parts. --dask trains on a Dask cluster.
    """
    with _boundary():
        _train(options)


@dataclass(frozen=True)
class _Train:
    """`fwdback train`'s options, other than the plan's: where the data, the start and the outputs are."""

    data: str
    sep: str | None
    init_path: str | None
    resume_path: str | None
    model_path: str
    no_save: bool
    output_format: str
    every: int | None
    no_chart: bool
    history_path: str | None
    report_path: str | None
    plot_path: str | None
    quiet: bool
    save_on_interrupt: bool
    chunksize: int | None
    dask: str | None
    parts: object | None = None

    @property
    def saving(self) -> bool:
        return not self.no_save and self.model_path != "-"

    @property
    def quiet_stdout(self) -> bool:
        """Nothing but the model (--model -) or nothing at all (--quiet) goes to stdout."""
        return self.quiet or self.model_path == "-"


# The options of run.NetworkSettings, in its order.
_NETWORK_OPTIONS = ("features", "target", "hidden", "activation", "output_activation", "bias")


def _train(options: dict):
    from .modelfile import replaced_model
    from .outputs import Outputs, Stdout, check_appends_to
    from .reports.train import history_header
    from .losses import LOSSES
    from .plan import TrainingPlan
    from .run import classifier_network, found_classes, prepare_rows, starting_point

    plan = TrainingPlan(**{name: options.pop(name) for name in TrainingPlan.__dataclass_fields__})
    network = _network(options)
    data, parts = _data_and_parts(options.pop("data"), options["dask"] is not None)
    run = _model_to_stdout(_Train(data=data, parts=parts,
                                  **{name: value for name, value in options.items() if name not in _NETWORK_OPTIONS}))
    _check_train_options(run)
    _require_data(run.data)
    with Outputs({**_data_inputs(run.data, run.parts), "--init": run.init_path, "--resume": run.resume_path}) as outputs, \
            contextlib.ExitStack() as cluster_started:
        model_output = (outputs.file(run.model_path, "--model", replaces=("--init", "--resume"), example="model.json")
                        if run.saving else None)
        existing = replaced_model(model_output) if model_output is not None else None
        history_output = (outputs.file(run.history_path, "--history", append=run.resume_path is not None, example="history.csv")
                          if run.history_path else None)
        figures = {option: outputs.file(path, option, example=example) for option, path, example in
                   (("--report", run.report_path, "run.html"), ("--plot", run.plot_path, "loss.svg")) if path}
        outputs.check_stdout()
        notes, dataset = [], None
        if run.resume_path is None and LOSSES[plan.loss].classifies:  # its classes, and so its outputs, are the data's
            network = classifier_network(network, plan.loss, given=_given("output_activation"))
            dataset = _training_data(run, network, plan, notes)
            cluster = cluster_started.enter_context(_cluster(run.dask))
            network = classifier_network(network, plan.loss, found_classes(dataset, plan.loss, cluster))
        start = starting_point(plan, network, init=run.init_path, resume=run.resume_path,
                               given=_given(*TrainingPlan.__dataclass_fields__, *_NETWORK_OPTIONS))
        plan, resumed = start.plan, start.resumed
        if history_output is not None:
            header = history_header(start.weights.params.names, _state_names(plan))
            check_appends_to(history_output, header, "a history of this network",
                             None if resumed is None else resumed.training.history_sha256, run.resume_path)
        if dataset is None:
            notes = _resumed_notes(resumed, run.resume_path)
            dataset = _training_data(run, start.network, plan, notes, resumed is not None)
            cluster = cluster_started.enter_context(_cluster(run.dask))  # once every option is known to go with --dask
        rows = prepare_rows(dataset, plan, start.weights.scaling, cluster, start.network.classes)
        notes += _init_scaling_note(run.init_path, start.weights, dataset.source) + _scaling_notes(rows, plan, dataset.source)
        stdout = Stdout(saving=not run.no_save or run.history_path is not None)
        csv_out = stdout if run.output_format == "csv" and not run.quiet_stdout else None
        history = outputs.open(history_output) if history_output else None
        samples = _samples(start.weights.params) if run.report_path else None
        fitted, received = _fit(start, rows, history, csv_out, dataset.source, [] if run.quiet else notes, samples)
        model = _trained_model(fitted, dataset)
        model.training.history_sha256 = None if history_output is None else outputs.sha256(history_output)
        if fitted.result.interrupted:
            return _end_interrupted(fitted, model, run, received, model_output, outputs, stdout)
        _save(model, model_output, stdout if run.model_path == "-" else None, outputs)
        _draw(fitted, model, dataset, samples, figures, outputs)
        notes = [] if run.quiet else _report(fitted, model, run, None if run.quiet_stdout else stdout)
        stdout.flush()
        outputs.commit()
    if stdout.gone:
        return
    for note in notes:
        _say(note)
    if run.saving and not run.quiet:
        if existing is not None and not existing.same_training(dataset.source, dataset.features, dataset.target):
            _say(f"Note: {run.model_path} held {existing}; it is replaced (--model PATH saves elsewhere, "
                 "--no-save does not save).")
        _say(f"Saved the model to {run.model_path}.")


def _model_to_stdout(run: _Train) -> _Train:
    """A --model path that writes where stdout goes (/dev/stdout; the file, pipe or terminal stdout
    is redirected to) is --model -: the model goes to stdout, and no file is renamed over it."""
    from .outputs import writes_to_stdout

    if run.no_save or run.model_path == "-" or not writes_to_stdout(run.model_path):
        return run
    return dataclasses.replace(run, model_path="-")


def _check_train_options(run: _Train):
    """Options of train that contradict each other: a usage error before any work."""
    context = click.get_current_context()
    given = lambda name: context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT  # noqa: E731
    model_path = context.params["model_path"]
    if run.resume_path and run.init_path:
        raise click.UsageError("--resume and --init both give starting weights; use one")
    if run.no_save and given("model_path"):
        raise click.UsageError(f"--no-save and --model {model_path} contradict each other; use one")
    if run.no_save and run.save_on_interrupt:
        raise click.UsageError("--no-save and --save-on-interrupt contradict each other; use one")
    if run.model_path == "-" and given("output_format"):
        where = "" if model_path == "-" or model_path.startswith("/dev/") else f" ({model_path} is where stdout goes)"
        raise click.UsageError(f"--model {model_path} writes the model to stdout{where}, where the report would go; "
                               "leave out --format, or save the model to a file")


def _resume_conflict(name: str, stored: str, given: str) -> click.UsageError:
    return click.UsageError(
        f"--resume goes on with the model's {name.replace('_', ' ')}, {stored}; leave out {given}, "
        "or start afresh from its weights with --init"
    )


def _resumed_notes(resumed, resume_path) -> list[str]:
    """What to say, before training, of a resumed model whose training early stopping ended."""
    from .notation import count
    from .plan import StopReason

    if resumed is None or resumed.training.stop is not StopReason.EARLY_STOPPING:
        return []
    return [f"Note: early stopping ended {resume_path}'s training, which kept the weights of epoch "
            f"{count(resumed.training.best_epoch)}: resumed with the same --patience, it repeats the epochs after that one "
            f"and stops in the same place; to train on, start afresh from its weights with --init {resume_path} and a "
            "larger --patience."]


def _training_data(run: _Train, network, plan, notes, of_resume: bool = False):
    """The training data of `network` (run.NetworkSettings; `of_resume`: a resumed model's) by
    `plan`: loaded, or streamed where --chunksize asks or a large file allows it; a classifier's
    target column as class labels."""
    from .data import TRAIN_CHUNK_ROWS, rereadable
    from .losses import LOSSES
    from .run import check_dask, streaming_conflict

    conflict = streaming_conflict(network, plan, run.history_path is not None, of_resume)
    labels = LOSSES[plan.loss].classifies
    if run.dask is not None:
        check_dask(plan, network, run.chunksize)
        return _load_dataset(run.data, network.features, network.target, run.sep, notes, TRAIN_CHUNK_ROWS, parts=run.parts,
                             labels=labels)
    chunk_rows = _chunk_rows(run.data, run.chunksize, conflict)
    return _load_dataset(run.data, network.features, network.target, run.sep, notes, chunk_rows,
                         conflict is None and rereadable(run.data), parts=run.parts, labels=labels)


def _scaling_notes(rows, plan, source, shown_raw: bool = False) -> list[str]:
    """What to say, before training, of how the columns' scales were dealt with where it matters;
    `shown_raw`: explain shows the rows as they are, where train would choose z-scores."""
    import numpy as np

    from .stepsize import SCALING_CONDITION

    scales = rows.scales
    if not scales.bad:
        return []
    if scales.condition > SCALING_CONDITION:
        z_scores = f", {scales.standardized:.2g} on z-scores" if np.isfinite(scales.standardized) else ""
        why = ("the columns' scales differ badly: they lie far from zero or differ in size (the condition number "
               f"of [x, 1]'s Gram matrix is {scales.condition:.2g}{z_scores})")
        harm = "gradient descent crawls along the flattest direction"
    else:
        why = f"the target's values are too large for the loss's squares (|y| up to {scales.target_size:.2g})"
        harm = "the loss overflows float64"
    if rows.scaling is not None and plan.standardize is None:
        return [f"Note: {source}: {why}: training on z-scores, as --standardize does (--no-standardize trains on the "
                "raw values)."]
    if shown_raw:
        return [f"Note: {source}: {why}; explain shows the rows as they are, where train would take z-scores "
                "(--standardize shows this epoch in z-scores)."]
    if rows.scaling is None:
        return [f"Note: {source}: {why}, so {harm}; --standardize trains on z-scores."]
    return []


def _echo_notes(notes, quiet):
    """Notes on stderr once every input has been read and checked, so that a failure is one line."""
    if not quiet:
        for note in notes:
            _say(note)


def _state_names(plan: TrainingPlan) -> tuple[str, ...]:
    """The per-parameter state the plan's update rule keeps ("v"; "m", "s"), as --history names its columns."""
    from .optimizers import RULES

    return RULES[plan.optimizer].state_names


def _fit(start, rows, history, csv_out, source, notes, samples=None):
    """The library's run (run.fit) with the progress bar, --history, --format csv and the page's
    samples written as the epochs run, and Ctrl-C, SIGTERM or a vanished reader of stdout stopping
    it after the epoch. The notes go to stderr once the first epoch has run: a failure before
    then is one line."""
    from .run import fit

    stop = threading.Event()
    writer = EpochWriter(stop, csv_out, history, progress_bar(start.plan.epochs), rows.validation is not None, notes, _say,
                         samples)
    try:
        with stop_on_signals(stop) as received:
            fitted = fit(start, rows, source=source, on_epoch=writer, stop=stop,
                         on_step=None if samples is None else samples.steps)
    finally:
        writer.close()
    return fitted, received


def _samples(initial):
    from .playback import EpochSamples

    return EpochSamples(initial.vector.size)


def _draw(fitted, model, dataset, samples, figures, outputs):
    """The run's page (--report) and its loss curve (--plot), through the outputs' transaction."""
    from .render.svg import loss_svg
    from .reports.train import TrainingReport, early_descent
    from .settings import option_words

    if not figures:
        return
    report = TrainingReport.of(fitted, model, option_words)
    result = report.result
    best = None if report.comparison is None else report.comparison.best.loss
    curve = loss_svg(result.loss_epochs, result.losses, result.val_losses, best, early_descent(result), final=result.final_loss)
    if "--plot" in figures:
        outputs.open(figures["--plot"]).write(curve + "\n")
    if "--report" in figures:
        outputs.open(figures["--report"]).write(_run_page(report, samples, dataset.source, fitted.kept, curve))


def _run_page(report, samples, source, trained_rows, curve) -> str:
    """The --report page; `trained_rows`: the 0-based numbers of the data's rows the run trained on (run.Run.kept)."""
    import numpy as np

    from .explain import work_epoch
    from .reports.explain import explanation
    from .network import Gradients
    from .playback import rows_document
    from .render.html import run_page
    from .render.svg import GradientScale, network_svg
    from .reports.train import run_page_document

    rows, plan, model = report.rows, report.plan, report.model
    first, steps = samples.document(), samples.steps.document()
    start = report.result.initial.like(first["weights"][0])
    gradients = Gradients.of(first["gradients"][0], start.architecture)
    kept = [first] if steps is None else [first, steps]  # what the page shows: every kept epoch and update
    scale = GradientScale.of(start, np.array([row for part in kept for row in part["gradients"]]))
    shown = np.array([row for part in kept for row in part["weights"]])
    inside, surface = _run_surface(start, model, rows.arrays)
    figure = network_svg(start, model.features, model.predicted, gradients, plan.freeze, scale, shown, inside)
    worked, first_rows = None, None
    if rows.arrays is not None:
        numbers = trained_rows + 1
        first_rows = rows_document(*rows.arrays, numbers)
        if report.result.first_epoch == 1:
            with np.errstate(all="ignore"):
                worked = explanation(work_epoch(rows, report.result.initial, plan, 1, numbers), model.features, 3,
                                     model.target, source, classes=None if model.classes is None else model.classes.labels)
    page = run_page_document(report, first, first_rows, steps)
    return run_page(page, figure, curve, worked, surface)


def _run_surface(start, model, arrays):
    """The run page's decision surface at the first kept epoch (its units' fields, its figure), over
    the rows training saw (`arrays`, in its units; None: streamed, the square z-scores fill); (None, None)
    where the model is not a classifier (its classes) of two inputs."""
    from .surface import Plane, row_classes, surfaced

    if model.classes is None or not surfaced(start):
        return None, None
    from .render.surface import classifier_figures

    X, y = (None, None) if arrays is None else arrays
    plane = Plane.of_scaling(None) if X is None else Plane.of_rows(X)
    labels = None if model.classes is None else model.classes.labels
    return classifier_figures(start, model.features, labels, plane, X, None if y is None else row_classes(y))


def _trained_model(fitted, dataset):
    from .modelfile import Model

    return Model(fitted.params, dataset.features, dataset.target, fitted.training_record(dataset.source),
                 fitted.rows.scaling, fitted.start.network.classes)


def _end_interrupted(fitted, model, run: _Train, received, model_output, outputs, stdout):
    """Training stopped by a signal or a vanished reader: save the weights so far only if asked."""
    from .notation import count

    result, plan = fitted.result, fitted.plan
    if run.save_on_interrupt:
        model.training.interrupted = True
        _save(model, model_output, stdout if run.model_path == "-" else None, outputs)
        stdout.flush()
        outputs.commit()
    if stdout.gone and not received:
        return
    reached = f"Interrupted at epoch {count(result.last_epoch)} of {count(fitted.epochs_before + plan.epochs)} (loss {result.last_loss:.10g} at that epoch)"
    where = "stdout" if run.model_path == "-" else run.model_path
    if run.save_on_interrupt:
        _say(f"{reached}; saved the weights so far to {where}.")
    elif run.no_save:
        _say(f"{reached}.")
    else:
        _say(f"{reached}; {where} was not written (--save-on-interrupt keeps the weights so far).")
    sys.exit(128 + received[0])


def _save(model, model_output, stdout, outputs):
    """The model into its output file, or onto stdout for --model -."""
    from .modelfile import model_json

    if model_output is not None:
        outputs.open(model_output).write(model_json(model, model_output.path))
    elif stdout is not None:
        stdout.write(model_json(model, "the model for stdout"))


def _report(fitted, model, run: _Train, stdout):
    """The report on stdout (none where stdout takes the model), and the notes for stderr."""
    from .outputs import json_text
    from .reports.train import TrainingReport, training_document, training_notes
    from .settings import option_words

    report = TrainingReport.of(fitted, model, option_words)
    if stdout is not None and run.output_format == "json":
        stdout.write(json_text(training_document(report, None if run.no_save else run.model_path)))
    elif stdout is not None and run.output_format == "table":
        from .render.terminal import console_for, print_training

        print_training(console_for(stdout), report, run.every, not run.no_chart)
    return training_notes(report)




def _chunk_rows(data, chunksize, conflict):
    """Rows per chunk when `train` streams DATA because --chunksize asks; None to read it all."""
    if chunksize is None:
        return None
    if data == "-":
        raise click.UsageError("--chunksize reads DATA twice, and stdin can be read only once; save it to a file and give its path")
    if conflict is not None:
        raise conflict
    return chunksize


@cli.command(
    epilog="""\b
Examples:
  fwdback predict new.csv > predictions.csv
  fwdback predict 'parts/*.parquet' --dask > predictions.csv
  fwdback predict parts/ --dask --output-dir predictions/
  fwdback predict --model my-model.json < new.csv | sort -t, -k5 -g
  cat new.csv | fwdback predict | head -1"""
)
@_data_parts("[DATA]...")
@_model_option("The model file saved by fwdback train; - reads it from stdin.")
@_SEP
@click.option("--output-dir", "output_dir", metavar="DIR", callback=_path, help="Write one CSV for each part of DATA into DIR, named after the part (with .csv), instead of one stream on stdout.")
@_DASK
def predict(data, model_path, sep, output_dir, dask):
    """Write DATA's rows with a column of predictions added, named after the model's target (price_hat for price; y1_hat, y2_hat, ... for several), as CSV on stdout.

    DATA is a CSV with the model's feature columns ("-" or nothing for stdin); its lines
    are passed through unchanged (same separator, same quoting) with the predictions appended,
    written with enough digits to read back as the same float64. Input is streamed in
    chunks, so any length fits in memory. DATA in parts (files, a directory, a glob; CSV or
    Parquet) is written as one CSV, under the first part's header; --dask computes the parts
    on a Dask cluster.
    """
    with _boundary():
        _predict(data, model_path, sep, output_dir, dask)


def _predict(data, model_path, sep, output_dir, dask):
    from .modelfile import load_model
    from .outputs import Outputs, Stdout

    if output_dir is not None and data == ("-",):
        raise click.UsageError("--output-dir writes a file for each part of DATA, and stdin has no parts; give DATA's files")
    data, parts = _data_and_parts(data, dask is not None or output_dir is not None)
    _require_data(data)
    inputs = {**_data_inputs(data, parts), "--model": model_path}
    if output_dir is not None:
        return _predict_each_part(output_dir, parts, inputs, model_path, sep, dask)
    Outputs(inputs).check_stdout()
    model = load_model(model_path)
    stdout = Stdout()
    with _cluster(dask) as cluster:
        for text in _predicted_texts(data, parts, model, sep, cluster):
            stdout.write_bytes(text)
            if stdout.gone:
                return
    stdout.flush()


def _predict_each_part(output_dir, parts, inputs, model_path, sep, dask):
    """predict --output-dir: one CSV for each part, all written or none, on the cluster with --dask.
    The directory is made where it is missing (and removed again if the command fails)."""
    from .modelfile import load_model
    from .outputs import Outputs, output_directory
    from .sources import output_name, predicted_blocks

    written_by = {}
    for part in parts.parts:
        other = written_by.setdefault(output_name(part), part)
        if other is not part:
            raise click.UsageError(f"--output-dir: {other.name} and {part.name} would both be written to "
                                   f"{os.path.join(output_dir, output_name(part))}; rename one, or predict them apart")
    with output_directory(output_dir), Outputs(inputs) as outputs:
        files = [outputs.file(os.path.join(output_dir, output_name(part)), "--output-dir", example="part.csv")
                 for part in parts.parts]
        model = load_model(model_path)
        with _cluster(dask) as cluster:
            if cluster is not None:
                from .engines.dask import predicted_parts

                for file, text in zip(files, predicted_parts(cluster.client, parts.parts, model, sep, every_header=True)):
                    outputs.open(file).write(text.decode("utf-8"))
            else:
                for file, part in zip(files, parts.parts):
                    for block in predicted_blocks(part, model, sep, True):
                        outputs.open(file).write(block.text.decode("utf-8"))
        outputs.commit()
    _say(f"Wrote {len(files)} file{'s' if len(files) != 1 else ''} to {output_dir}.")


def _predicted_texts(data, parts, model, sep, cluster):
    """predict's output, block by block: of one CSV source, of the parts one after another, or of
    the parts computed on the cluster's workers; one header, the first part's."""
    from .sources import own_header, predicted_blocks, same_header

    if parts is not None:  # every part's header agrees, before a line is written
        first = None
        for part in parts.parts:
            first = same_header(part, own_header(part, sep), first)
    if cluster is not None:
        from .engines.dask import predicted_parts

        yield from predicted_parts(cluster.client, parts.parts, model, sep)
        return
    if parts is None:
        for block in predicted_blocks(data, model, sep, True):
            yield block.text
        return
    for index, part in enumerate(parts.parts):
        for block in predicted_blocks(part, model, sep, index == 0):
            yield block.text


@cli.command(
    epilog="""\b
Examples:
  fwdback evaluate test.csv
  fwdback evaluate test.csv --model my-model.json --format json | jq .scores.model.r2
  fwdback evaluate test.csv --format csv | column -s, -t
  fwdback evaluate circle-test.csv --model circle.json --format json | jq .scores.model.accuracy"""
)
@_data_parts("[DATA]...")
@_model_option("The model file saved by fwdback train; - reads it from stdin.")
@_SEP
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True, help="table: the scores beside the baselines; csv: one row per predictor (a classifier's: one per score); json: everything.")
def evaluate(data, model_path, sep, output_format):
    """Score a saved model on DATA: MSE, RMSE, MAE and R^2, beside two baselines.

    DATA is a CSV with the model's feature columns and its target (or many files, CSV or
    Parquet, read into memory). The baselines are scored on
    the same rows: least squares fitted to them (the best any linear map can do there) and the
    mean of y (a model that learned nothing; R^2 = 0).

    A classifier (trained with --loss bce or cross-entropy) gets accuracy and log loss beside
    the majority class's (every row predicted as the most frequent class of DATA, the class
    frequencies as its probabilities), and by class the precision, recall, F1, support and
    confusion matrix, as scikit-learn's sklearn.metrics defines them.
    """
    with _boundary():
        _evaluate(data, model_path, sep, output_format)


def _evaluate(data, model_path, sep, output_format):
    import numpy as np

    from .errors import DataError
    from .modelfile import load_model
    from .outputs import Outputs, Stdout

    data, parts = _data_and_parts(data, False)
    _require_data(data)
    Outputs({**_data_inputs(data, parts), "--model": model_path}).check_stdout()
    model = load_model(model_path)
    notes = []
    dataset = _load_dataset(data, model.features, model.target, sep, notes, model_columns=True, parts=parts,
                            labels=model.classes is not None)
    with np.errstate(all="ignore"):
        fwd = None if model.classes is None else model.forward_pass(dataset.X)
        predictions = model.predict(dataset.X) if fwd is None else fwd.A.T  # a classifier's logits, finite or not
    finite = np.isfinite(predictions.reshape(len(predictions), -1)).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite)) + 1
        raise DataError(f"{dataset.source}, row {row}: the prediction overflows float64: the model's weights or this row's "
                        "inputs are too large; check that the row is in the units the model was trained on, and the model's weights")
    name = "<stdin>" if model_path == "-" else model_path
    if model.classes is None:
        shown = _regression_evaluation(model, dataset, predictions, name, output_format)
    else:
        shown = _classification_evaluation(model, dataset, fwd, name, output_format)
    _echo_notes(notes, False)
    out = Stdout()
    shown(out)
    out.flush()


def _regression_evaluation(model, dataset, predictions, name, output_format):
    """What evaluate shows of a regressor: its errors beside the baselines', by target."""
    from .evaluation import evaluate as score
    from .outputs import json_text
    from .reports.evaluate import evaluation_document, evaluation_table, write_evaluation_csv

    targets, y, predictions = model.targets, dataset.y.reshape(len(dataset.y), -1), predictions.reshape(len(dataset.y), -1)
    evaluations = {target: score(predictions[:, j], dataset.X, y[:, j]) for j, target in enumerate(targets)}
    if output_format == "json":
        return lambda out: out.write(json_text(evaluation_document(evaluations, name, dataset)))
    if output_format == "csv":
        return lambda out: write_evaluation_csv(out, evaluations)

    def tables(out):
        from .render.terminal import console_for, print_table

        console = console_for(out)
        for target, evaluation in evaluations.items():
            print_table(console, evaluation_table(evaluation, name, dataset.source, None if len(targets) == 1 else target))

    return tables


def _classification_evaluation(model, dataset, fwd, name, output_format):
    """What evaluate shows of a classifier: its scores beside the majority class's."""
    from .evaluation import evaluate_classifier
    from .losses import LOSSES
    from .outputs import json_text
    from .reports.evaluate import classification_document, classification_tables, write_classification_csv
    from .run import dataset_targets

    loss = LOSSES[model.training.plan["loss"]]
    evaluation = evaluate_classifier(fwd, dataset_targets(dataset, loss.name, model.classes), loss)
    labels = model.classes.labels
    if output_format == "json":
        return lambda out: out.write(json_text(classification_document(evaluation, labels, name, dataset)))
    if output_format == "csv":
        return lambda out: write_classification_csv(out, evaluation, labels)

    def tables(out):
        from .render.terminal import console_for, print_table

        console = console_for(out)
        for table in classification_tables(evaluation, labels, name, dataset.source):
            print_table(console, table)

    return tables


@cli.command(
    epilog="""\b
Examples:
  fwdback explain sample_data/linear.csv
  fwdback explain data.csv --format markdown > epoch1.md
  fwdback explain data.csv --format html > epoch1.html
  fwdback explain data.csv --format beamer > epoch1.tex && latexmk -pdf epoch1.tex
  fwdback explain data.csv --format pdf > epoch1.pdf          (pip install 'fwdback[pdf]')
  fwdback explain data.csv --epoch 10 --rows 3 --lr 0.01 --seed 3
  fwdback explain data.csv --init model.json        the next epoch from saved weights
  fwdback explain data.csv --format json | jq .gradients.w1
  fwdback explain data.csv --activation tanh --hidden 3 --format markdown
  fwdback explain data.csv --standardize --batch-size 8 --epoch 5
  fwdback explain data.csv --batch-size 1 --no-shuffle --epoch 2 --step 3
  fwdback explain two.csv --features x1,x2 --target y1,y2 --activation sigmoid --output-activation sigmoid --loss half-sse
  fwdback explain data.csv --optimizer adam --epoch 3 --format json | jq .optimizer
  fwdback explain pets.csv --target animal --loss cross-entropy    the softmax and its cancellation
  fwdback generate --rows 4 | fwdback explain - --format markdown"""
)
@_data_options
@_start_options("explain")
@_network_options("explain")
@_setting_options("explain", "plan")
@click.option("--epoch", type=click.IntRange(min=1), default=1, show_default=True, metavar="K", help=f"Explain epoch K, after K-1 epochs of training (refused when those would take over {EXPLAIN_MINUTES} minutes, timed on the first of them).")
@click.option("--step", type=click.IntRange(min=1), default=1, show_default=True, metavar="S", help="Explain update S of epoch K (with --batch-size), after its S-1 updates before it.")
@click.option("--rows", type=click.IntRange(min=1), default=5, show_default=True, metavar="R", help="Rows shown in the forward pass (the sums always use all rows).")
@click.option("--format", "output_format", type=click.Choice(["table", "markdown", "html", "latex", "beamer", "typst", "pdf", "json"]), default="table", show_default=True, help="table: equations and tables; markdown: lecture notes with LaTeX equations; html: a page with MathML equations; latex: an article for pdflatex; beamer: slides, the chain rule a factor a step; typst: a Typst document; pdf: that document as PDF (pip install 'fwdback[pdf]'); json: every value.")
def explain(**options):
    """Work one epoch by hand on DATA, in the lecture's notation, with DATA's numbers.

    The forward pass (the hidden units, yhat and y - yhat, numbers plugged in, for the
    first --rows rows), the loss, every gradient by the chain rule (output layer first;
    each hidden-layer gradient as its factors, dL/dw1 = dL/dyhat * dyhat/dN1 * dN1/dw1,
    named and valued; with --activation its slope is one more link, dN1/dz1), the update
    of every parameter (with --optimizer, its velocity or moments too), and the loss
    before and after it. Numbers have 6 significant digits, so each step can be checked
    by hand; json carries full precision.

    The options mean what they mean for train. --standardize and --val-split prepare the
    rows as train does: the epoch is worked on the (standardised) training rows. Without
    --standardize the rows are shown as they are, even where train would choose z-scores
    (a note says so): a worked example keeps the numbers its reader typed. The K-1
    epochs before epoch K run as train runs them, in mini-batches of --batch-size rows
    in train's order (shuffled, or the file's with --no-shuffle); with --patience, an
    epoch K that early stopping would not reach is an error. The explained step is
    full-batch over the training rows, or with --batch-size update S of epoch K (its
    rows, in the order visited, are listed), after the S-1 updates before it with the
    same optimizer. --target y1,y2 gives the network an output for each column.
    """
    with _boundary():
        _explain(options)


def _explain(options: dict):
    import numpy as np

    from .explain import training_row_numbers, work_epoch
    from .reports.explain import explanation
    from .reports.explain_json import explain_document
    from .outputs import Stdout, json_text
    from .run import data_named
    from .training import resolve

    epoch, step, rows, output_format = (options.pop(name) for name in ("epoch", "step", "rows", "output_format"))
    out = Stdout()
    if output_format == "pdf" and out.isatty():
        raise click.UsageError("--format pdf writes a PDF file, not text for a terminal: redirect it, "
                               "fwdback explain DATA --format pdf > epoch1.pdf")
    setup = _set_up(options, shown_raw=True)
    plan = resolve(setup.plan, setup.rows, setup.initial)
    before = _EpochsBefore(epoch)
    try:
        with data_named(setup.dataset.source):
            row_numbers = training_row_numbers(len(setup.dataset.y), setup.plan)
            worked = work_epoch(setup.rows, setup.initial, plan, epoch, row_numbers, step, on_epoch=before)
    finally:
        before.close()
    _echo_notes(setup.notes, False)
    init_path, seed, dataset = options["init_path"], options["seed"], setup.dataset
    classes = None if setup.start.network.classes is None else setup.start.network.classes.labels
    if output_format == "json":
        document = {"data": dataset.source, "seed": seed, "init": init_path, "lr_chosen": options["lr"] is None,
                    "patience": options["patience"], "min_delta": options["min_delta"]}
        out.write(json_text(document | explain_document(worked, dataset.features, dataset.target, classes)))
    else:
        from .sections import Code

        start = ("from ", Code(init_path)) if init_path else (f"random, seed {seed}",)
        with np.errstate(all="ignore"):
            blocks = explanation(worked, dataset.features, rows, dataset.target, dataset.source, start, classes)
        if output_format == "markdown":
            from .render.markdown import markdown

            out.write(markdown(blocks))
        elif output_format == "html":
            from .render.html import explanation_page

            out.write(explanation_page(blocks))
        elif output_format == "latex":
            from .render.latex import latex_article

            out.write(latex_article(blocks))
        elif output_format == "beamer":
            from .render.latex import beamer

            out.write(beamer(blocks))
        elif output_format == "typst":
            from .render.typst import typst_document

            out.write(typst_document(blocks))
        elif output_format == "pdf":
            from .render.typst import pdf, typst_document

            out.write_bytes(pdf(typst_document(blocks)))
        else:
            from .render.terminal import console_for, print_sections

            print_sections(console_for(out), blocks)
    out.flush()


class _EpochsBefore:
    """What explain does after each of the epochs before the one it explains: the progress bar
    (on a terminal), and, once they have run for PACE_SECONDS, a usage error when all of them
    would take longer than EXPLAIN_MINUTES at that pace. Ctrl-C stops them as it stops any command."""

    PACE_SECONDS = 0.5

    def __init__(self, epoch: int):
        import time

        self.epoch, self.epochs = epoch, epoch - 1
        self.start = time.perf_counter()
        self.progress = None
        self.paced = False

    def __call__(self, record) -> None:
        if record.number == 1:
            self.progress = progress_bar(self.epochs)
        self._pace(record)
        if self.progress is not None:
            self.progress(record)

    def _pace(self, record) -> None:
        """Refuse the epochs before once their pace is known, before the bar (which appears no
        sooner, PROGRESS_AFTER_SECONDS after the first epoch) shows them under way."""
        import time

        from .notation import count

        elapsed = time.perf_counter() - self.start
        if self.paced or elapsed < self.PACE_SECONDS:
            return
        self.paced = True
        rate = record.number / elapsed
        if self.epochs / rate > EXPLAIN_MINUTES * 60:
            raise click.UsageError(
                f"--epoch {self.epoch} first trains the {count(self.epochs)} epochs before it, which would take "
                f"{_about(self.epochs / rate)} here ({rate:,.0f} epochs a second), longer than the {EXPLAIN_MINUTES} "
                f"minutes explain allows: give --epoch {int(EXPLAIN_MINUTES * 60 * rate)} or less, or train once with "
                "fwdback train (it shows its progress and saves the model) and explain the epoch after it with --init "
                "model.json"
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress = None


def _about(seconds: float) -> str:
    """A long time in words: about 40 minutes, about 3 hours, about 24 days, about 31,710 years."""
    from .notation import count

    for unit, length in (("year", 365.25 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * length:
            return f"about {count(round(seconds / length))} {unit}s"
    return f"about {round(seconds)} seconds"


@dataclass
class _Setup:
    """What explain and gradcheck start from: the data, the rows training sees, the starting point
    (run.StartingPoint: the plan and the initial weights), and the notes for stderr."""

    dataset: Dataset
    rows: TrainingRows
    start: StartingPoint
    notes: list[str]

    @property
    def plan(self) -> TrainingPlan:
        return self.start.plan

    @property
    def initial(self) -> Parameters:
        return self.start.weights.params


def _set_up(options: dict, shown_raw: bool = False, **plan_settings) -> _Setup:
    """Read DATA and the starting weights, and prepare the rows as train would, or, `shown_raw`,
    as they are unless --standardize is given; the plan's options are taken out of `options`
    (plan_settings override them)."""
    from .losses import LOSSES
    from .outputs import Outputs
    from .plan import TrainingPlan
    from .run import classifier_network, found_classes, prepare_rows, starting_point

    plan = TrainingPlan(**({name: options[name] for name in TrainingPlan.__dataclass_fields__ if name in options} | plan_settings))
    data, init_path = options["data"], options["init_path"]
    _require_data(data)
    Outputs({"DATA": data, "--init": init_path}).check_stdout()
    network, notes, labels = _network(options), [], LOSSES[plan.loss].classifies
    if labels:  # its classes, and so its outputs, are the data's
        network = classifier_network(network, plan.loss, given=_given("output_activation"))
        dataset = _load_dataset(data, network.features, network.target, options["sep"], notes, labels=True)
        network = classifier_network(network, plan.loss, found_classes(dataset, plan.loss))
    start = starting_point(plan, network, init=init_path, given=_given(*TrainingPlan.__dataclass_fields__))
    if shown_raw and plan.standardize is None and start.weights.scaling is None:
        start = dataclasses.replace(start, plan=plan.replace(standardize=False))
    else:
        shown_raw = False
    if not labels:
        dataset = _load_dataset(data, start.network.features, start.network.target, options["sep"], notes)
    rows = prepare_rows(dataset, start.plan, start.weights.scaling, classes=start.network.classes)
    notes += _init_scaling_note(init_path, start.weights, dataset.source) + _scaling_notes(rows, start.plan, dataset.source,
                                                                                          shown_raw)
    return _Setup(dataset, rows, start, notes)


# generate refuses settings whose cells (y, or --shape's x1 and x2) could come near float64's largest number (1.8e308).
Y_LIMIT = 1e308


def _coefficients(ctx, param, value):
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of numbers, e.g. 2,-3,0.5,1") from None
    if len(numbers) != 4 or not all(math.isfinite(number) for number in numbers):
        raise click.BadParameter(f"give 4 finite numbers (x1, x2, x3 coefficients, then the intercept), not {value!r}")
    return tuple(numbers)


@cli.command(
    epilog="""\b
Examples:
  fwdback generate --rows 200 --seed 42 > data.csv
  fwdback generate --coef 1,0,0,5 --noise 0 | fwdback train - --format csv | tail -1
  fwdback generate --rows 1000 | fwdback train -
  fwdback generate --shape circle --rows 200 | fwdback train - --features x1,x2 --loss bce
  fwdback generate --rows 4 --digits 2 > short.csv   (0.27, not 0.2739233746429086)"""
)
@click.option("--rows", type=click.IntRange(min=1), default=200, show_default=True, help="Number of data rows.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the random numbers (any whole number from 0).")
@click.option("--noise", type=click.FloatRange(min=0), default=0.1, show_default=True, callback=_finite, help="Standard deviation of the normal noise added to y; with --shape, the Playground's noise (its slider's percent / 100).")
@click.option("--coef", default="2,-3,0.5,1", show_default=True, callback=_coefficients, help="The true coefficients of x1, x2, x3, then the intercept.")
@click.option("--shape", type=click.Choice(SHAPE_NAMES), default=None, help="Write the TensorFlow Playground's classification set instead: x1,x2,y with y the class, 0 or 1.")
@click.option("--digits", type=click.IntRange(min=0), default=None, metavar="D", help="Write each number rounded to D decimal places (0.27), not in full (0.2739233746429086, the shortest decimal that reads back as the float). The numbers are drawn in full and only written short: y is worked from the full x.")
@click.pass_context
def generate(context, rows, seed, noise, coef, shape, digits):
    """Write a synthetic CSV x1,x2,x3,y to stdout: y = c1*x1 + c2*x2 + c3*x3 + c0 + noise.

    The x are uniform on [-1, 1] and the noise is normal with mean 0, so least squares
    on enough rows recovers --coef: data whose answer you know in advance.

    With --shape, the TensorFlow Playground's two-input classification sets: circle (class 1
    inside radius 2.5), xor (class 1 where x1 x2 >= 0), gauss (two normal clouds about (2, 2)
    and (-2, -2)) or spiral (two interleaved arms), half the rows of each class (xor: by
    quadrant), shuffled; the noise flips labels near the boundary (circle, xor), widens the
    clouds (gauss) or moves the points (spiral).
    """
    written = repr if digits is None else functools.partial(_decimals, digits=digits)
    with _boundary():
        if shape is not None:
            _generate_shape(context, rows, seed, noise, shape, written)
            return
        from .outputs import Outputs, Stdout
        from .synthetic import generate_blocks, y_bound

        if not y_bound(coef, noise) < Y_LIMIT:
            raise click.UsageError(
                f"--coef {','.join(map(repr, coef))} with --noise {noise!r} would make y overflow float64 (|c1| + |c2| + "
                f"|c3| + |c0| + 64 * noise is {y_bound(coef, noise):.3g}, over {Y_LIMIT:g}), and train refuses such cells; "
                "give smaller coefficients or noise"
            )
        Outputs({}).check_stdout()
        out = Stdout()
        out.write("x1,x2,x3,y\n")
        for X, y in generate_blocks(rows, seed, noise, coef):
            out.write("".join(f"{written(a)},{written(b)},{written(c)},{written(t)}\n" for (a, b, c), t in zip(X.tolist(), y.tolist())))
            if out.gone:
                return
        out.flush()


def _decimals(value: float, digits: int) -> str:
    """value rounded to `digits` decimal places (the float's exact value rounded, half to even), never -0."""
    text = f"{value:.{digits}f}"
    return text.removeprefix("-") if float(text) == 0 else text


def _generate_shape(context, rows, seed, noise, shape, written):
    """generate --shape: the Playground's set (playground.py) as x1,x2,y, y the class 0 or 1; `written`
    writes a number."""
    from .outputs import Outputs, Stdout
    from .playground import generate_shape, reach
    from .synthetic import BLOCK_ROWS

    if context.get_parameter_source("coef") is not click.core.ParameterSource.DEFAULT:
        raise click.UsageError("--coef is the linear data's; --shape draws a classification set of its own: give one or the other")
    if not reach(shape, noise) < Y_LIMIT:
        raise click.UsageError(f"--shape {shape} with --noise {noise!r} would make x1, x2 overflow float64 (they could reach "
                               f"{reach(shape, noise):.3g}, and train refuses cells from {Y_LIMIT:g}); give a smaller noise")
    Outputs({}).check_stdout()
    try:
        X, y = generate_shape(shape, rows, seed, noise)
    except MemoryError:  # the set is drawn whole, to be shuffled as the Playground shuffles it
        raise UserError(f"out of memory drawing {rows:,} rows of --shape {shape}, which are held in memory to be shuffled; "
                        "give fewer --rows") from None
    out = Stdout()
    out.write("x1,x2,y\n")
    for first in range(0, rows, BLOCK_ROWS):
        block = slice(first, first + BLOCK_ROWS)
        out.write("".join(f"{written(a)},{written(b)},{t:.0f}\n" for (a, b), t in zip(X[block].tolist(), y[block].tolist())))
        if out.gone:
            return
    out.flush()


@cli.command(
    epilog="""\b
Examples:
  fwdback gradcheck sample_data/linear.csv
  fwdback gradcheck data.csv --epochs 2000            at a converged point
  fwdback gradcheck data.csv --activation tanh --hidden 4 --seed 3
  fwdback gradcheck data.csv --init model.json --max-error 1e-8
  fwdback gradcheck pets.csv --target animal --loss cross-entropy
  fwdback gradcheck data.csv --format json | jq -r '.[] | select(.ok | not) | .parameter'
  fwdback gradcheck data.csv > /dev/null && echo backward pass ok"""
)
@_data_options
@click.option("--epochs", type=click.IntRange(min=0), default=0, show_default=True, help="Train this many epochs first (as train --tol 0 would: every one of them); 0 checks the initial weights.")
@_start_options("gradcheck")
@_network_options("gradcheck")
@_setting_options("gradcheck", "plan")
@click.option("--max-error", type=float, default=1e-6, show_default=True, callback=_positive_finite, help="The largest relative error that passes (a gradient of about 0 passes within rounding; see the README).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True, help="table: one row per parameter; json: a list of one object per parameter, full precision.")
def gradcheck(**options):
    """Check the backward pass against central finite differences of the loss.

    For every parameter p: dL/dp from the backward pass beside (L(p + h) - L(p - h)) / 2h,
    at the initial weights or after --epochs of training, and their relative error. Exit
    code 0 when every relative error is below --max-error, 1 when one is not (the table is
    printed either way, and a summary on stderr). The check is of the full-batch loss on
    the training rows: --standardize and --val-split prepare them as train does, and
    --batch-size, --patience and --min-delta shape the --epochs before it, as in train.
    """
    with _boundary():
        _gradcheck(options)


def _gradcheck(options: dict):
    from dataclasses import asdict

    import numpy as np

    from .gradcheck import check_gradients
    from .losses import LOSSES
    from .network import forward, loss
    from .notation import count
    from .outputs import Stdout, json_text
    from .run import fit

    epochs, max_error, output_format = options.pop("epochs"), options.pop("max_error"), options.pop("output_format")
    setup = _set_up(options, epochs=max(epochs, 1), tol=0.0)
    rows, params, source = setup.rows, setup.initial, setup.dataset.source
    _echo_notes(setup.notes, False)
    start = f"--init {options['init_path']}" if options["init_path"] else f"seed {setup.plan.seed}"
    where = ["at the initial weights", f"({start})"]
    if epochs:
        progress = progress_bar(epochs)
        try:
            fitted = fit(setup.start, rows, source=source, on_epoch=progress)
        finally:
            if progress is not None:
                progress.close()
        params, ran = fitted.result.final, fitted.result.epochs_run
        where = [f"after {count(ran)} epoch{'s' if ran != 1 else ''}", f"(eta {fitted.plan.lr:g}, {start})"]
    with np.errstate(all="ignore"):
        at_start = loss(rows.y, forward(params, rows.X), setup.plan.loss)
    if not math.isfinite(at_start):
        raise UserError(
            f"{source}: the loss {' '.join(where)} is {at_start}, so there are no gradients to check: the data or the weights are too large "
            "for float64; standardize the data (--standardize) or start from smaller weights"
        )
    checks = check_gradients(params, rows.X, rows.y, max_error, setup.plan.loss)
    out = Stdout()
    if output_format == "json":
        out.write(json_text([asdict(check) for check in checks]))
    else:
        from .render.terminal import console_for, print_table, table_width
        from .reports.gradcheck import gradcheck_table

        scaled = ", on z-scores" if rows.scaling is not None else ""
        convention = "" if LOSSES[setup.plan.loss].lecture else f" ({setup.plan.loss})"
        phrases = ["Gradient check", where[0], where[1] + ",", f"loss{convention} {at_start:.6g}{scaled}"]
        console = console_for(out)
        table = gradcheck_table(checks)
        title = _phrase_lines(phrases, min(console.width, table_width(console, table)))
        print_table(console, dataclasses.replace(table, title=title))
    out.flush()
    _gradcheck_summary(checks, max_error)


def _phrase_lines(phrases: list[str], width: int) -> str:
    """The phrases joined by spaces, in lines of at most `width` characters broken between phrases
    (a title that a narrow terminal would otherwise wrap in the middle of one)."""
    lines = [phrases[0]]
    for phrase in phrases[1:]:
        if len(lines[-1]) + 1 + len(phrase) <= width:
            lines[-1] += " " + phrase
        else:
            lines.append(phrase)
    return "\n".join(lines)


def _gradcheck_summary(checks, max_error):
    """The notes on the marked rows and one summary line on stderr; exit 1 when a check failed."""
    worst = max(checks, key=lambda check: check.relative_error)
    largest = f"largest relative error {worst.relative_error:.1e} at {worst.parameter}; max error {max_error:g}"
    failed = [check for check in checks if not check.ok]
    for note in _gradcheck_notes(checks):
        _say(note)
    if not failed:
        _say(f"gradcheck: all {len(checks)} gradients ok ({largest})")
        return
    _say(f"gradcheck: {len(failed)} of {len(checks)} gradients FAIL ({largest})")
    sys.exit(1)


def _gradcheck_notes(rows):
    """What the marks in the check column mean, for the rows that have them."""
    def named(kind):
        return ", ".join(row.parameter for row in rows if getattr(row, kind))

    notes = []
    if named("by_rounding"):
        notes.append(f"Note: {named('by_rounding')}: analytic and numeric agree within the finite difference's rounding "
                     "and truncation, which is more than --max-error of these gradients (about 0 at a converged point, or a --max-error "
                     "finer than any difference quotient resolves): they pass by rounding, not to --max-error.")
    if named("pattern_held"):
        notes.append(f"Note: {named('pattern_held')}: a row's hidden input is within two steps of relu's kink, so the "
                     "differences held every row's side of it: the derivative of the piece the point lies on.")
    if named("kink"):
        notes.append(f"Note: {named('kink')}: a row's hidden input is exactly at relu's kink, where the loss has no "
                     "derivative; checked is the side the backward pass takes (relu'(0) = 0).")
    return notes


@cli.command(
    epilog="""\b
Examples:
  fwdback show
  fwdback show my-model.json | less
  fwdback show | grep -A 7 'collapsed linear map'
  fwdback train data.csv -q --model m.json && fwdback show m.json
  fwdback show --format svg > network.svg           a figure for a slide
  fwdback show model.json --format dot | dot -Tsvg > network.svg
  fwdback show weights.json --features a,b --hidden 3   bare weights, as --init takes them
  fwdback show circle.json --format svg --data circle.csv > surface.svg   a classifier's decision surface
  fwdback show --format svg --symbols --hidden 3 > exercise.svg    w1, b1, ... without values, no file read
  fwdback show model.json --format tikz > network.tex && latexmk -pdf network.tex"""
)
@click.argument("model_path", default="model.json", metavar="[MODEL]", callback=_path)
@click.option("--format", "output_format", type=click.Choice(["text", "svg", "dot", "tikz"]), default="text", show_default=True, help="text: the drawing, the equations and every parameter in plain text; svg: the network as a figure; dot: Graphviz source of the network; tikz: the figure as a LaTeX (TikZ) document for pdflatex.")
@click.option("--data", "data_path", callback=_path, metavar="DATA", help="With --format svg, a classifier of two inputs: its decision surface over DATA's rows, drawn on it (its columns the model's).")
@click.option("--symbols", is_flag=True, help="With --format svg or tikz, the parameters' names alone (w1..w8, b1..b3), no values: MODEL is read only when given, else the options describe the network.")
@_SEP
@_column_options
@_setting_options("show", "shape")
def show(model_path, output_format, data_path, symbols, sep, **network):
    """Draw the network in MODEL (default: model.json), every weight on its edge.

    MODEL is a model file, or any file --init takes: weights by name (w1..w8, b1..b3) in a
    JSON object, whose network the options describe as they do for train (--features,
    --target, --hidden, --activation, ...; the lecture's 3-2-1 network without them).

    Inputs on the left, hidden units in the middle, yhat on the right, each edge labelled
    with its weight and each node with its bias; in text, then the equations, every
    parameter at full precision, and, with no activation, the collapsed linear map
    yhat = c . x + c0.

    --format svg draws the network as a figure, each edge's colour its weight's sign (blue
    positive, orange negative) and its width the weight's size; --format dot writes it as
    Graphviz source, coloured alike, for `dot -Tsvg` or `dot -Tpng`; --format tikz, as a
    LaTeX document that pdflatex compiles (a page of the figure's size, for
    \\includegraphics).

    --symbols draws the figure with the parameters' names alone (w1 on its edge, b1 at its
    unit), every edge alike: a figure for a lecture or an exercise sheet. It needs no
    weights: without MODEL the options describe the network (no file is read).

    A classifier of two inputs has its decision surface beside the figure: the plane of the
    inputs coloured by the likelier class (the stronger, the surer), each hidden unit's own
    output drawn in its node; with --data, over the range of DATA's rows, drawn on it in their
    classes' colours, else over three standard deviations about the training rows' means.
    """
    with _boundary():
        import numpy as np

        from .modelfile import Model, load_weights
        from .network import Parameters
        from .outputs import Outputs, Stdout

        if data_path is not None and output_format != "svg":
            raise click.UsageError("--data draws a decision surface, which only --format svg draws: give --format svg, "
                                   "or leave out --data")
        if symbols and output_format not in ("svg", "tikz"):
            raise click.UsageError("--symbols draws a figure, which --format svg and tikz draw: give --format svg or tikz, "
                                   "or leave out --symbols")
        if symbols and data_path is not None:
            raise click.UsageError("--symbols draws no values, and --data a classifier's decision surface of them: "
                                   "leave out one of them")
        context = click.get_current_context()
        read = not symbols or context.get_parameter_source("model_path") is not click.core.ParameterSource.DEFAULT
        Outputs({"MODEL": model_path if read else None, "--data": data_path}).check_stdout()
        architecture = _network(network).architecture
        loaded = load_weights(model_path, architecture, "model") if read else Parameters.of(np.zeros(architecture.size), architecture)
        given = [name for name in network if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
        if isinstance(loaded, Model) and given:
            raise click.UsageError(f"{model_path} is a model file, which names its own columns and network; "
                                   f"--{given[0].replace('_', '-')} describes bare weights: leave it out")
        model = loaded if isinstance(loaded, Model) else Model(loaded, network["features"], network["target"])
        rows = None if data_path is None else _surface_rows(model, data_path, sep)
        out = Stdout()
        out.write(_model_view(model, output_format, rows, symbols))
        out.flush()


def _surface_rows(model, data_path: str, sep):
    """(X : shape (n, 2) in the data's units, each row's class index, shape (n,)) of DATA's rows
    under the model's columns, for its decision surface (errors.NoSurface for a model without one)."""
    from .classes import Classes
    from .errors import ClassCount, UnknownClass
    from .surface import check_surface

    check_surface(model.params)
    notes = []
    dataset = _load_dataset(data_path, model.features, model.target, sep, notes, model_columns=True, labels=True)
    _echo_notes(notes, False)
    q = max(2, model.params.n_outputs)
    classes = model.classes or Classes.of(dataset.y)
    try:
        if len(classes) != q:
            raise ClassCount("bce" if q == 2 else "cross-entropy", classes.labels, q == 2)
        return dataset.X, classes.indices(dataset.y), classes.labels
    except (ClassCount, UnknownClass) as error:
        error.source, error.column = dataset.source, model.target
        raise


def _model_view(model, output_format: str, rows=None, symbols: bool = False) -> str:
    """The text of `show --format`: the plain drawing, the network's SVG figure, its TikZ document
    or its DOT source (the figures mark the parameters the model was trained with frozen); beside
    the SVG figure, the decision surface of a classifier of two inputs (a model with classes), or,
    over `rows` (_surface_rows), of any network that has one (bare weights too); with `symbols`,
    the SVG or TikZ figure of the parameters' names alone, without a surface."""
    frozen = tuple(model.training.plan.get("freeze", ()))
    if output_format == "tikz":
        from .render.tikz import network_tikz

        return network_tikz(model.params, model.features, model.target, frozen, symbols)
    if output_format == "dot":
        from .render.dot import network_dot

        return network_dot(model.params, model.features, model.target, model.scaling, frozen)
    if output_format == "svg":
        from .render.svg import network_svg
        from .surface import surfaced

        if symbols or (rows is None and (model.classes is None or not surfaced(model.params))):
            target = model.target if symbols else model.predicted
            return network_svg(model.params, model.features, target, frozen=frozen, symbols=symbols) + "\n"
        from .render.surface import beside, classifier_figures
        from .surface import Plane

        X, classes, labels = rows or (None, None, None if model.classes is None else model.classes.labels)
        plane = Plane.of_scaling(model.scaling) if X is None else Plane.of_rows(X)
        inside, surface = classifier_figures(model.params, model.features, labels, plane, X, classes, model.scaling)
        return beside(network_svg(model.params, model.features, model.predicted, frozen=frozen, inside=inside), surface) + "\n"
    from .diagram import model_text

    return model_text(model, _terminal_columns(click.get_text_stream("stdout")) or 80)


def _asked(ctx, param, value):
    asked = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not asked:
        raise click.BadParameter("give kinds of quantity (forward,loss,...) or quantities (N1[1],dL/dw1), separated by commas")
    return asked


_EXERCISE_FORMATS = {"md": "md", "markdown": "md", "html": "html", "json": "json", "latex": "tex", "typst": "typ", "pdf": "pdf", "moodle": "xml"}
# The formats whose variants are also written together, sheets.<ext> and keys.<ext>, one file to print.
_PRINTED_TOGETHER = ("html", "tex", "typ", "pdf")


@cli.command(
    epilog="""\b
Examples:
  fwdback exercise sample_data/linear.csv --variants 30 --seed 100 --output-dir sheets   (4 rows of 200 each)
  fwdback exercise data.csv --rows 2 --digits 2 --round 4 --format html --output-dir sheets
  fwdback exercise data.csv --rows 2 --variants 30 --format pdf --output-dir sheets   (sheets/sheets.pdf: all 30)
  fwdback exercise data.csv --format latex --figure values --output-dir sheets && cd sheets && latexmk -pdf sheet-0.tex
  fwdback exercise data.csv --ask forward,loss --activation tanh --output-dir sheets
  fwdback exercise data.csv --rows 2 --ask "yhat[1],L,dL/dw1,w1'" --output-dir sheets
  fwdback exercise labels.csv --loss bce --target label --format json --output-dir keys
  fwdback exercise data.csv --rows 2 --round 4 --variants 30 --format moodle --output-dir quiz   (quiz/sheets.xml: all 30)
  fwdback exercise mazur.csv --features x1,x2 --target y1,y2 --activation sigmoid --output-activation sigmoid --init mazur.json --output-dir sheets
  jq -r '.[] | select(.asked) | .quantity' sheets/key-100.json"""
)
@_data_options
@_network_options("exercise")
@_setting_options("exercise", "plan")
@_INIT
@click.option("--variants", type=click.IntRange(min=1), default=1, show_default=True, metavar="N", help="Write N variants, each drawn by its own seed.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, metavar="S", help="The first variant's seed; the next ones take the next seeds that give a lively exercise.")
@click.option("--rows", type=click.IntRange(min=1), metavar="R", help="Each variant works on R of DATA's rows, drawn by its seed; at most DATA's rows. Default: all of DATA's rows where it has at most 4, else 4.")
@click.option("--digits", type=click.IntRange(min=0, max=6), default=2, show_default=True, metavar="D", help="Round the starting weights and the rows' numbers to D decimal places: short numbers to work with.")
@click.option("--round", "round_digits", type=click.IntRange(min=1, max=15), metavar="R", help="Students round every intermediate to R significant digits: the key gives the value worked that way too, and a tolerance that accepts both.")
@click.option("--ask", default="forward,loss,output-gradients,hidden-gradients,updates", show_default=True, callback=_asked, metavar="WHAT", help="What the sheet asks for: kinds of quantity (some of forward,loss,output-gradients,hidden-gradients,updates) or quantities by name (N1[1],L,dL/dw1,w1'), separated by commas.")
@click.option("--lr", type=float, default=0.1, show_default=True, callback=_positive_finite, help="Learning rate eta of the step the sheet asks for.")
@click.option("--format", "output_format", type=click.Choice(list(_EXERCISE_FORMATS)), default="md", show_default=True, help="md (Markdown), html (print style), latex (an article for pdflatex), typst, pdf (through Typst: pip install 'fwdback[pdf]'), moodle (a Moodle XML quiz) or json (the key fwdback grade reads). With --variants over 1, html, latex, typst and pdf also write sheets.<ext> and keys.<ext>: every variant, each from a new page, one file to print; moodle writes sheets.xml and keys.xml: every variant in its own category, one file to import.")
@click.option("--figure", type=click.Choice(["symbols", "values", "none"]), default="symbols", show_default=True, help="The network drawn on the sheet and the key: symbols, its parameters' names (w1 on its edge; their values in the table of starting weights); values, the starting weights; none. Markdown links it as figure-<seed>.svg, written beside the sheet.")
@click.option("--output-dir", required=True, callback=_path, metavar="DIR", help="Where sheet-<seed>.<ext> and key-<seed>.<ext> are written (made where missing).")
def exercise(**options):
    """Write exercise sheets on DATA and their answer keys: one full-batch epoch by hand.

    Each variant draws its starting weights (and with --rows its rows) by its seed, or
    with --init starts from that file's weights (a textbook's) and draws its rows alone, and
    asks for the quantities of one step of gradient descent: the forward values of every
    row (N1[1], yhat[1]), the loss L, the output gradients (dL/dyhat[1], dL/dw7), the
    hidden gradients by the chain rule (dL/dN1[1], dL/dw1) and the updated weights (w1').
    The key gives each one's formula in the quantities before it, so that `fwdback grade`
    can credit a step done right after an earlier slip. A draw that teaches little is
    passed over for the next seed, and the message says why: a layer whose weights are all
    0, a dead relu unit, a zero gradient the sheet asks, a number of more than 4 digits
    before the point, an asked update smaller than the precision the key accepts, or (a
    classifier) rows all of one class. Each sheet names its seed; each key, the command
    that writes it again.
    Every format's key is written as key-<seed>.json too, the key that `fwdback grade` reads.
    """
    with _boundary():
        _exercise(options)


def _exercise(options: dict):
    import shlex

    from .notation import count
    from .outputs import Outputs, json_text, output_directory
    from .render.moodle import quiz
    from .render.svg import figure_svg
    from .reports.exercise import key, sheet, statement
    from .sections import Figure
    from .worksheet import DEFAULT_ROWS, exercises

    variants, seed, rows, decimals, round_digits, asked, lr, output_format, figure, output_dir = (options.pop(name) for name in (
        "variants", "seed", "rows", "digits", "round_digits", "ask", "lr", "output_format", "figure", "output_dir"))
    extension = _EXERCISE_FORMATS[output_format]
    setup = _set_up(options, shown_raw=True)
    if rows is None and len(setup.rows.X) > DEFAULT_ROWS:
        rows = DEFAULT_ROWS
        setup.notes.append(f"Each sheet works on {DEFAULT_ROWS} of DATA's {len(setup.rows.X)} rows, drawn by its seed; "
                           "--rows R for another number.")
    drawn = exercises(setup.rows.X, setup.rows.y, setup.start.network.architecture, setup.start.plan.loss, lr, variants, seed,
                      rows, decimals, round_digits, asked, setup.initial if options["init_path"] else None)
    context = click.get_current_context()
    given = [word for param in context.command.params if param.name not in ("data", "variants", "seed", "output_dir")
             and context.get_parameter_source(param.name) not in (None, click.core.ParameterSource.DEFAULT)
             for word in _option_words(param, context.params[param.name])]
    _echo_notes(setup.notes, False)
    target = setup.dataset.target
    classes = () if setup.start.network.classes is None else setup.start.network.classes.labels
    columns = (tuple(setup.dataset.features), (target,) if isinstance(target, str) else tuple(target), classes)
    printed = []  # each variant's (sheet, key) sections; moodle's, (variant, the sheet's statement, the key's)
    with output_directory(output_dir), Outputs({"DATA": options["data"]}) as outputs:
        for variant in drawn:
            command = shlex.join(["fwdback", "exercise", options["data"], *given, "--seed", str(variant.seed),
                                  "--output-dir", output_dir])
            if extension != "json":  # beside every format's key, the key fwdback grade reads
                outputs.open(outputs.file(os.path.join(output_dir, f"key-{variant.seed}.json"), "--output-dir",
                                          example="key-0.json")).write(json_text(variant.key()))
            if extension == "json":
                texts = (json_text({"seed": variant.seed, "rows": variant.row_numbers.tolist(),
                                    "ask": [q.name for q in variant.questions]}), json_text(variant.key()))
            elif extension == "xml":
                printed.append((variant, statement(variant, None, *columns, figure), statement(variant, command, *columns, figure)))
                texts = (quiz([printed[-1][:2]], worked=False), quiz([printed[-1][::2]], worked=True))
            else:
                documents = (sheet(variant, *columns, figure), key(variant, command, *columns, figure))
                texts = tuple(_exercise_document(extension, [blocks], f"figure-{variant.seed}.svg") for blocks in documents)
                printed.append(documents)
                if extension == "md" and figure != "none":
                    drawing = next(block for block in documents[0] if isinstance(block, Figure))
                    _write_exercise_file(outputs, output_dir, f"figure-{variant.seed}.svg", figure_svg(drawing))
            for name, text in zip(("sheet", "key"), texts):
                _write_exercise_file(outputs, output_dir, f"{name}-{variant.seed}.{extension}", text)
        if len(drawn) > 1 and extension in _PRINTED_TOGETHER:
            for index, name in enumerate(("sheets", "keys")):
                _write_exercise_file(outputs, output_dir, f"{name}.{extension}",
                                     _exercise_document(extension, [documents[index] for documents in printed], None))
        if len(drawn) > 1 and extension == "xml":  # one import takes the class: each variant in its own category
            for name, worked in (("sheets", False), ("keys", True)):
                pairs = [(variant, key_statement if worked else sheet_statement) for variant, sheet_statement, key_statement in printed]
                _write_exercise_file(outputs, output_dir, f"{name}.xml", quiz(pairs, worked))
        outputs.commit()
    first, last = drawn[0].seed, drawn[-1].seed
    passed = _passed_over([pair for variant in drawn for pair in variant.passed_over])
    if len(drawn) == 1:
        _say(f"Wrote a sheet and its key to {output_dir}: seed {first}{passed}.")
        return
    _say(f"Wrote {count(len(drawn))} sheets and keys to {output_dir}: seeds {first} to {last}{passed}.")


def _passed_over(seeds: list) -> str:
    """", passing over 0 to 3, 5 (dull: a dead relu unit); 7 (dull: a zero gradient)": the seeds (seed, Dullness)
    that drew a dull exercise, in runs, grouped by why, in the order each why first came; "" for none."""
    groups: dict[str, list[int]] = {}
    for seed, dullness in seeds:
        groups.setdefault(dullness.why, []).append(seed)
    parts = []
    for why, numbers in groups.items():
        runs: list[list[int]] = []
        for number in numbers:
            if runs and number == runs[-1][-1] + 1:
                runs[-1].append(number)
            else:
                runs.append([number])
        listed = ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs)
        parts.append(f"{listed} (dull: {why})")
    return f", passing over {'; '.join(parts)}" if parts else ""


def _exercise_document(extension: str, documents: list, figure_file: str | None) -> str | bytes:
    """Sheets or keys (sections, one variant's or, in sheets.<ext> and keys.<ext>, every
    variant's, each from a new page) in the format of `extension`; Markdown links its figure to
    `figure_file`."""
    if extension == "md":
        from .render.markdown import markdown

        return markdown(documents[0], figure_file)
    if extension == "html":
        from .render.html import sheet_page

        return sheet_page(documents)
    if extension == "tex":
        from .render.latex import latex_article

        return latex_article(*documents)
    from .render.typst import pdf, typst_document

    source = typst_document(*documents)
    return source if extension == "typ" else pdf(source)


def _write_exercise_file(outputs, output_dir: str, name: str, content: str | bytes) -> None:
    stream = outputs.open(outputs.file(os.path.join(output_dir, name), "--output-dir", example=name))
    if isinstance(content, bytes):
        stream.write_bytes(content)
    else:
        stream.write(content)


def _option_words(param, value) -> list[str]:
    """An option as typed on a command line: ["--rows", "2"], ["--no-bias"]."""
    flag = max(param.opts, key=len)
    if param.is_flag:
        return [flag] if value else [max(param.secondary_opts, key=len)]
    return [flag, ",".join(value) if isinstance(value, tuple) else str(value)]


def _paths(ctx, param, value):
    return tuple(_path(ctx, param, path) for path in value)


@cli.command(
    epilog="""\b
Examples:
  fwdback grade sheets/key-100.json answers.csv
  fwdback grade sheets/key-*.json answers.csv --totals --format csv > classlist.csv
  fwdback grade key.json answers.csv --format csv > gradebook.csv
  fwdback grade key.json answers.csv --format json | jq '.totals'
  printf 'student,quantity,value\nann,L,10.89\n' | fwdback grade key.json -"""
)
@click.argument("key_paths", metavar="KEY...", nargs=-1, callback=_paths)
@click.argument("answers_path", metavar="ANSWERS", required=False, callback=_path)
@click.option("--totals", is_flag=True, help="The class list alone: one row per student, points, of and seed, as a gradebook imports a grade.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True, help="table: the marks and totals; csv: student,quantity,value,mark,reason per answer (with --totals: student,points,of per student); a seed column last where ANSWERS has one; json: answers and totals.")
def grade(key_paths, answers_path, totals, output_format):
    """Mark a class's ANSWERS (a CSV of student,quantity,value; - for stdin) against KEY (an exercise's key-<seed>.json).

    An answer is correct within the key's tolerance; consistent when it follows, within
    tolerance, from the student's own earlier answers (an earlier slip carried forward
    right); else wrong, with the first factor of its formula that differs. Each student's
    total counts correct and consistent answers of the quantities the sheet asks.

    A class of variants: give every variant's key (sheets/key-*.json, each named
    key-<seed>.json as exercise writes it, or the directory that holds them) and a column
    seed in ANSWERS, the variant each student had; each answer is marked against its
    seed's key.
    """
    if not key_paths or answers_path is None:  # click fills ANSWERS first: a single path is the key, ANSWERS missing
        context = click.get_current_context()
        missing = "key_paths" if answers_path is None else "answers_path"
        raise click.MissingParameter(ctx=context, param=next(param for param in context.command.params if param.name == missing))
    with _boundary():
        _grade(key_paths, answers_path, totals, output_format)


def _grade(key_paths, answers_path, totals, output_format):
    import json

    from .errors import AnswersError, KeyFileError, path_problem
    from .grading import class_keys, grade_class, key_entries, read_answers
    from .outputs import Stdout, json_text
    from .reports.exercise import class_list, class_list_csv, class_list_document, grades, grades_csv, grades_document

    if answers_path == "-" and "-" in key_paths:
        raise click.UsageError("KEY and ANSWERS cannot both be stdin; give the key's path")

    def read(path, error):
        try:
            if path == "-":
                return sys.stdin.buffer.read().decode("utf-8-sig")
            with open(path, encoding="utf-8-sig") as file:  # a spreadsheet's CSV may start with a byte-order mark
                return file.read()
        except OSError as problem:
            raise error(path, path_problem(problem)) from None
        except ValueError:
            raise error(path, "is not UTF-8 text; save it as UTF-8") from None

    key_texts = [(key_path, read(key_path, KeyFileError)) for key_path in _key_files(key_paths)]
    answers_text = read(answers_path, lambda path, problem: AnswersError(path, None, problem))
    keys = []
    for key_path, text in key_texts:
        try:
            document = json.loads(text)
        except ValueError as problem:
            raise KeyFileError(key_path, f"is not JSON ({problem}); give the key-<seed>.json that fwdback exercise --format json wrote") from None
        keys.append((key_path, key_entries(document, key_path)))
    by_seed = class_keys(keys)
    answers = read_answers(answers_text, answers_path, by_seed)
    marks, student_totals = grade_class(by_seed, answers)
    out = Stdout()
    if output_format == "csv":
        out.write(class_list_csv(marks, student_totals) if totals else grades_csv(marks))
    elif output_format == "json":
        out.write(json_text(class_list_document(marks, student_totals) if totals else grades_document(marks, student_totals)))
    else:
        from .render.terminal import console_for, print_sections

        print_sections(console_for(out), (class_list if totals else grades)(marks, student_totals))
    out.flush()


def _key_files(paths) -> list[str]:
    """grade's KEY...: each file as given, and for a directory (exercise's --output-dir) its key-<seed>.json files by seed."""
    from .errors import KeyFileError, path_problem
    from .grading import key_seed

    files = []
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            files.append(path)
            continue
        try:
            names = sorted((name for name in os.listdir(path) if key_seed(name) is not None), key=key_seed)
        except OSError as problem:
            raise KeyFileError(path, path_problem(problem)) from None
        if not names:
            raise KeyFileError(path, "holds no key-<seed>.json; give the directory fwdback exercise wrote the keys to, or the keys' paths")
        files += [os.path.join(path, name) for name in names]
    return files


class _boundary:
    """Where library errors leave: each FwdbackError as one `Error: ...` line with its exit code,
    Ctrl-C and SIGTERM with 130 and 143, a reader that closed stdout quietly with 0. Anything
    else is a bug: one line asking for a report, exit 70.

    Inside, Python's warnings and NumPy's floating-point warnings are off: every overflow that
    matters is checked for where it happens (divergence, a prediction, the loss), and a
    warning printed before an `Error:` line would only confuse it.
    """

    def __enter__(self):
        import warnings

        import numpy as np

        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")
        self._errstate = np.errstate(all="ignore")
        self._errstate.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._errstate.__exit__(None, None, None)
        self._warnings.__exit__(None, None, None)
        from .errors import FwdbackError, ResumeConflict, RunConflict, SettingNotUsed
        from .settings import option_words

        if exc_type is None or issubclass(exc_type, (SystemExit, click.ClickException, click.exceptions.Exit)):
            return False
        if issubclass(exc_type, ResumeConflict):
            raise _resume_conflict(exc.words, exc.stored, option_words(exc.setting, exc.value)) from None
        if issubclass(exc_type, (RunConflict, SettingNotUsed)):
            raise click.UsageError(exc.message(option_words)) from None
        if issubclass(exc_type, FwdbackError):
            raise UserError(exc.message(option_words), exc.exit_code) from None
        if issubclass(exc_type, KeyboardInterrupt):
            _say("Interrupted; no file was written.")
            sys.exit(130)
        if issubclass(exc_type, Terminated):
            _say("Stopped by SIGTERM; no file was written.")
            sys.exit(143)
        if issubclass(exc_type, BrokenPipeError):
            from .outputs import Stdout

            Stdout()._reader_gone()
            sys.exit(0)
        if issubclass(exc_type, MemoryError):
            raise UserError("out of memory; give fewer rows, fewer hidden units (--hidden) or stream the data (--chunksize)") from None
        if issubclass(exc_type, Exception):
            raise UserError(
                f"internal error ({exc_type.__name__}: {_first_line(exc)}); this is a bug in fwdback, please report it "
                "with the command you ran",
                70,
            ) from None
        return False


def _say(message: str) -> None:
    """A message for the person at stderr (an error, a note), made safe for a terminal: a name in it
    cannot act as a control sequence (outputs.terminal_text). On a terminal it is broken between
    words to the terminal's width ($COLUMNS where set, as rich takes it); elsewhere it is one line."""
    import textwrap

    from .outputs import terminal_text

    text = terminal_text(message)
    width = _terminal_columns(click.get_text_stream("stderr"))
    if width > 0:
        text = "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))
    click.echo(text, err=True)


def _terminal_columns(stream) -> int:
    """The width of the terminal `stream` writes to ($COLUMNS where set, as rich takes it); 0 where it is not a terminal."""
    if not stream.isatty():
        return 0
    columns = os.environ.get("COLUMNS", "")
    try:
        return int(columns) if columns.isdigit() else os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 0


def _first_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no message"


def main() -> None:
    """The `fwdback` command: click's main, with what a shell tool owes its caller.

    A standard stream that was closed when fwdback started (`<&-`, `>&-`, `2>&-`) is held on
    /dev/null, so that no file fwdback opens can take its descriptor: reading a closed stdin
    and writing a closed stdout are then errors that say so, and a closed stderr silences
    the messages. SIGTERM unwinds as Ctrl-C does. stdout is flushed before exit, where a full
    disk or a closed descriptor is one `Error:` line and exit code 1. A signal that comes once
    the command has ended exits at once with its code (130, 143): no handler is left to catch
    it; once stdout is flushed, the exit code stands.
    """
    hold_closed_streams()
    unwind_on_sigterm()
    try:
        try:
            cli.main(prog_name="fwdback")
        finally:
            exit_at_once_on_signals()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except OSError as error:
        code = _stdout_failed(error, 1)
    except (KeyboardInterrupt, Terminated) as stopped:
        code = 143 if isinstance(stopped, Terminated) else 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except OSError as error:
        code = _stdout_failed(error, code)
    ignore_signals()
    sys.exit(code)


def _stdout_failed(error, code):
    from .errors import describe

    silence_stdout()
    try:
        _say(f"Error: could not write to stdout: {describe(error)}")
    except OSError:
        pass
    return code if code else 1
