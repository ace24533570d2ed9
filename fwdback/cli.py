"""The fwdback command line; the only module that knows click.

numpy, pandas and rich are imported inside the commands, so `fwdback --help` starts fast.
Errors from the library arrive as FwdbackError and leave as one `Error: ...` line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import threading

import click

DEFAULT_EPOCHS = 1000
DEFAULT_LR = 0.05


class UserError(click.ClickException):
    """A FwdbackError on its way out: `Error: message`, with the error's exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


def _positive_finite(ctx, param, value):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value} is not a positive finite number, e.g. 0.01")
    return value


def _column_list(ctx, param, value):
    if value is None:
        return None
    columns = [column.strip() for column in value.split(",")]
    if not all(columns):
        raise click.BadParameter(f"{value!r} has an empty column name; give names separated by commas, e.g. x1,x2,x3")
    return tuple(columns)


def _data_options(command):
    """DATA and the options that choose its columns: shared by every command that trains."""
    for decorator in reversed(
        [
            click.argument("data", default="-", metavar="DATA"),
            click.option("--features", default="x1,x2,x3", show_default=True, callback=_column_list, help="The input columns, in the order x1,x2,x3 (any number of them)."),
            click.option("--target", default="y", show_default=True, help="The column to predict."),
            click.option("--sep", help="Field separator of the CSV (default: comma, or the one the header uses)."),
        ]
    ):
        command = decorator(command)
    return command


def _start_options(command):
    """Where training starts and how fast it moves: shared by every command that trains."""
    for decorator in reversed(
        [
            click.option("--lr", type=float, default=DEFAULT_LR, show_default=True, callback=_positive_finite, help="Learning rate eta."),
            click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random initial weights."),
            click.option("--init", "init_path", type=click.Path(dir_okay=False), help="Start from the weights in this JSON file (a saved model works)."),
        ]
    ):
        command = decorator(command)
    return command


def _network_options(command):
    """The network's shape: shared by every command that builds one."""
    for decorator in reversed(
        [
            click.option("--activation", type=click.Choice(["identity", "tanh", "relu", "sigmoid"]), default="identity", show_default=True, help="The hidden layer's activation (identity: the lecture's linear network)."),
            click.option("--hidden", type=click.IntRange(min=1), default=2, show_default=True, help="Hidden units (the lecture's N1, N2: 2)."),
            click.option("--standardize", is_flag=True, help="Train on z-scores of the features and target (stored in the model; predict undoes it)."),
        ]
    ):
        command = decorator(command)
    return command


def _schedule_options(command):
    """Mini-batches, a validation split and early stopping: shared by the commands that train for epochs."""
    for decorator in reversed(
        [
            click.option("--batch-size", type=click.IntRange(min=1), help="Rows per update: mini-batch descent, shuffled each epoch (default: all rows)."),
            click.option("--val-split", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), help="Hold out this fraction of rows (seeded) and report their loss each epoch."),
            click.option("--patience", type=click.IntRange(min=1), help="Stop when the (validation) loss has not improved for this many epochs; keep the best weights."),
            click.option("--min-delta", type=click.FloatRange(min=0), default=0.0, show_default=True, help="How much the loss must fall to count as an improvement (with --patience)."),
        ]
    ):
        command = decorator(command)
    return command


def _load_dataset(data, features, target, sep, quiet=False, chunk_rows=None):
    """The data set (with `chunk_rows`, its header only: the rows are streamed), with a note on
    stderr when the separator was detected."""
    from .data import load_dataset, separator_name, stream_dataset

    dataset = stream_dataset(data, features, target, sep, chunk_rows) if chunk_rows else load_dataset(data, features, target, sep)
    if sep is None and dataset.sep != "," and not quiet:
        click.echo(f"Reading {dataset.source} as {separator_name(dataset.sep)}-separated (the header uses it; --sep sets it).", err=True)
    return dataset


def _initial_parameters(init_path, seed, n_inputs=3, n_hidden=2, activation="identity"):
    import numpy as np

    from .modelfile import load_init
    from .network import init_parameters

    if init_path:
        return load_init(init_path, n_inputs, n_hidden, activation)
    return init_parameters(np.random.default_rng(seed), n_inputs, n_hidden, activation)


def _print_version(ctx, param, value):
    if value and not ctx.resilient_parsing:
        click.echo(f"fwdback {_installed_version()}")
        ctx.exit()


def _installed_version() -> str:
    """The version pyproject.toml gave the installed package, read from its METADATA file.

    importlib.metadata finds the same file, but importing it takes longer than the rest of
    `fwdback --version`; it is the fallback for installs laid out otherwise.
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


@click.group(
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
  fwdback train data.csv --format csv | tail -n +2 | sort -t, -k2 -g | head -1
  cat data.csv | fwdback train - --format json | python -m json.tool"""
)
@_data_options
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULT_EPOCHS, show_default=True, help="Epochs of gradient descent.")
@_start_options
@_network_options
@_schedule_options
@click.option("--resume", "resume_path", type=click.Path(dir_okay=False), help="Continue training this saved model (its network, scaling and epoch count).")
@click.option("--model", "model_path", default="model.json", show_default=True, type=click.Path(dir_okay=False), help="Where to save the trained model.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True, help="table: loss, weights and summary tables; csv: epoch,loss per epoch; json: everything.")
@click.option("--every", type=click.IntRange(min=1), help="Show every K-th epoch in the loss table (default: about 20 rows).")
@click.option("--no-chart", is_flag=True, help="Leave out the loss chart under the loss table.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False), help="Write every epoch's loss, parameters and gradients to this CSV (appended to with --resume).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success.")
@click.option("--save-on-interrupt", is_flag=True, help="On Ctrl-C or SIGTERM, save the weights reached so far.")
@click.option("--chunksize", type=click.IntRange(min=1000), metavar="N", help="Stream DATA (a file) in chunks of N rows, twice, in bounded memory: the linear network on full batches only. Files over 2 GiB stream by default.")
def train(**options):
    """Train the network on DATA, a CSV with columns x1,x2,x3,y ("-" for stdin).

    Each epoch is a forward pass, the MSE loss, a backward pass (chain rule) and a
    gradient-descent update of all 11 parameters. The loss shown for epoch k is that of
    epoch k's forward pass, before its update. The model is saved to --model.
    """
    with _boundary():
        _train(**options)


def _train(data, features, target, sep, epochs, lr, seed, init_path, activation, hidden, batch_size, standardize,
           val_split, patience, min_delta, resume_path, model_path, output_format, every, no_chart, history_path,
           quiet, save_on_interrupt, chunksize):
    from .modelfile import Model, append_history, check_writable, load_model, save_model
    from .training import train as run_training

    if resume_path and init_path:
        raise click.UsageError("--resume and --init both give starting weights; use one")
    check_writable(model_path)
    if history_path:
        check_writable(history_path)
    resumed = load_model(resume_path) if resume_path else None
    if resumed is not None:
        features, target, activation, hidden = resumed.features, resumed.target, resumed.params.activation, resumed.params.n_hidden
        standardize = resumed.scaling is not None
        seed = _resumed_seed(resumed, seed)
    chunk_rows = _chunk_rows(data, chunksize, activation, batch_size, val_split, standardize, history_path, resumed, quiet)
    dataset = _load_dataset(data, features, target, sep, quiet, chunk_rows)
    prepared = _prepare(dataset, seed, val_split, standardize, resumed.scaling if resumed else None)
    if resumed is not None:
        initial = resumed.params
    else:
        initial = _initial_parameters(init_path, seed, len(dataset.features), hidden, activation)
    epochs_before = int(resumed.training.get("epochs", 0)) if resumed is not None else 0
    progress = _progress(epochs)
    stop = threading.Event()
    try:
        with _signals_set(stop) as received:
            result = run_training(
                prepared.X,
                prepared.y,
                initial,
                lr,
                epochs,
                on_epoch=progress,
                stop=stop,
                record=history_path is not None,
                first_epoch=epochs_before + 1,
                statistics=prepared.statistics,
                **_schedule(seed, batch_size, patience, min_delta, prepared),
            )
    finally:
        if progress is not None:
            progress.close()
    training = {
        "data": dataset.source,
        "rows": prepared.rows,
        "validation_rows": 0 if prepared.validation is None else len(prepared.validation[1]),
        "seed": seed,
        "init": init_path,
        "resumed_from": resume_path,
        "epochs": result.epochs_in_weights,
        "lr": lr,
        "batch_size": batch_size,
        "best_epoch": result.best_epoch,
        "stop_reason": result.stop_reason,
        "initial_weights": result.initial.as_dict(),
        "initial_loss": float(result.losses[0]),
        "final_loss": result.final_loss,
        "final_val_loss": result.final_val_loss,
    }
    model = Model(result.final, dataset.features, dataset.target, training, prepared.scaling)
    if result.interrupted:
        reached = f"Interrupted at epoch {result.last_epoch} of {epochs_before + epochs} (loss {result.losses[-1]:.10g} at that epoch)"
        if save_on_interrupt:
            training["interrupted"] = True
            save_model(model, model_path)
            click.echo(f"{reached}; saved the weights so far to {model_path}.", err=True)
        else:
            click.echo(f"{reached}; {model_path} was not written (--save-on-interrupt keeps the weights so far).", err=True)
        sys.exit(128 + received[0])
    save_model(model, model_path)
    if history_path:
        from .report import write_full_history

        append_history(history_path, lambda stream, header: write_full_history(stream, result, header), append=resumed is not None)
    if quiet:
        return
    from .report import TrainingReport, console_for, print_training, training_document, write_history_csv, yardstick_notes

    report = TrainingReport.of(result, model, prepared)
    out = sys.stdout
    if output_format == "csv":
        write_history_csv(out, result)
    elif output_format == "json":
        out.write(json.dumps(training_document(report, model_path), indent=2) + "\n")
    else:
        print_training(console_for(out), report, every, not no_chart)
    out.flush()
    for note in yardstick_notes(report):
        click.echo(note, err=True)
    click.echo(f"Saved the model to {model_path}.", err=True)


def _progress(epochs):
    """A progress bar on stderr where stderr is a terminal; elsewhere nothing (and no rich import)."""
    if not sys.stderr.isatty():
        return None
    from .report import EpochProgress, console_for

    return EpochProgress(epochs, console_for(sys.stderr))


def _resumed_seed(resumed, seed):
    """A resumed run goes on with the model's seed: its validation split and shuffles."""
    stored = resumed.training.get("seed")
    if not isinstance(stored, int) or isinstance(stored, bool):
        return seed
    given = click.get_current_context().get_parameter_source("seed")
    if given is not click.core.ParameterSource.DEFAULT and seed != stored:
        raise click.UsageError(f"--resume goes on with the model's seed, {stored}; leave out --seed {seed}")
    return stored


def _prepare(dataset, seed, val_split, standardize, scaling):
    from .data import StreamedDataset
    from .training import prepare, prepare_streamed

    if isinstance(dataset, StreamedDataset):
        return prepare_streamed(dataset.chunks)
    return prepare(dataset.X, dataset.y, seed, val_split, standardize, scaling)


def _chunk_rows(data, chunksize, activation, batch_size, val_split, standardize, history_path, resumed, quiet):
    """Rows per chunk when `train` streams DATA: --chunksize, or TRAIN_CHUNK_ROWS for a file
    larger than STREAM_ABOVE_BYTES where the options allow it; None to read it all."""
    from .data import STREAM_ABOVE_BYTES, TRAIN_CHUNK_ROWS

    conflicts = [
        (activation != "identity", f"the {activation} activation of --resume" if resumed else f"--activation {activation}"),
        (batch_size is not None, "--batch-size"),
        (val_split is not None, "--val-split"),
        (standardize, "the scaling of a --resume model trained with --standardize" if resumed else "--standardize"),
        (history_path is not None, "--history"),
    ]
    conflict = next((option for applies, option in conflicts if applies), None)
    if chunksize is not None:
        if data == "-":
            raise click.UsageError("--chunksize reads DATA twice, and stdin can be read only once; save it to a file and give its path")
        if conflict:
            raise click.UsageError(
                f"--chunksize cannot be used with {conflict}: streamed training is the linear network "
                "(identity activation) on full batches of the raw rows"
            )
        return chunksize
    if data == "-" or conflict or not os.path.isfile(data) or os.path.getsize(data) <= STREAM_ABOVE_BYTES:
        return None
    if not quiet:
        click.echo(
            f"Streaming {data} ({os.path.getsize(data) / 2**30:.1f} GiB) in chunks of {TRAIN_CHUNK_ROWS} rows, "
            f"as it is larger than {STREAM_ABOVE_BYTES / 2**30:g} GiB; --chunksize sets the chunk size.",
            err=True,
        )
    return TRAIN_CHUNK_ROWS


def _schedule(seed, batch_size, patience, min_delta, prepared):
    from .training import schedule

    return schedule(seed, batch_size, patience, min_delta, prepared.validation)


@cli.command(
    epilog="""\b
Examples:
  fwdback predict new.csv > predictions.csv
  fwdback predict --model my-model.json < new.csv | sort -t, -k5 -g
  cat new.csv | fwdback predict | head -1"""
)
@click.argument("data", default="-", metavar="[DATA]")
@click.option("--model", "model_path", default="model.json", show_default=True, type=click.Path(dir_okay=False), help="The model file saved by fwdback train.")
@click.option("--sep", help="Field separator of the CSV (default: comma, or the one the header uses).")
def predict(data, model_path, sep):
    """Write DATA's rows with a y_hat column added, as CSV on stdout.

    DATA is a CSV with the model's feature columns ("-" or nothing for stdin); its lines
    are passed through unchanged (same separator, same quoting) with y_hat appended,
    written with enough digits to read back as the same float64. Input is streamed in
    chunks, so any length fits in memory.
    """
    with _boundary():
        _predict(data, model_path, sep)


def _predict(data, model_path, sep):
    from .data import display_name, iter_prediction_chunks
    from .errors import DataError
    from .modelfile import load_model

    model = load_model(model_path)
    out = sys.stdout
    first = True
    for chunk in iter_prediction_chunks(data, model.features, sep):
        if first:
            if "y_hat" in chunk.columns:
                raise DataError(f"{display_name(data)}: already has a y_hat column; drop or rename it first")
            out.write(f"{chunk.header}{chunk.sep}y_hat\n")
            first = False
        tails = [f"{chunk.sep}{value!r}\n" for value in model.predict(chunk.X).tolist()]
        out.write("".join(map(str.__add__, chunk.lines, tails)))
    out.flush()


@cli.command(
    epilog="""\b
Examples:
  fwdback explain sample_data/linear.csv
  fwdback explain data.csv --format markdown > epoch1.md
  fwdback explain data.csv --epoch 10 --rows 3 --lr 0.01 --seed 3
  fwdback explain data.csv --init model.json        the next epoch from saved weights
  fwdback explain data.csv --format json | jq .gradients.w1
  fwdback explain data.csv --activation tanh --hidden 3 --format markdown
  fwdback explain data.csv --standardize --batch-size 8 --epoch 5
  fwdback generate --rows 4 | fwdback explain - --format markdown"""
)
@_data_options
@_start_options
@_network_options
@_schedule_options
@click.option("--epoch", type=click.IntRange(min=1), default=1, show_default=True, metavar="K", help="Explain epoch K, after K-1 epochs of training.")
@click.option("--rows", type=click.IntRange(min=1), default=5, show_default=True, metavar="R", help="Rows shown in the forward pass (the sums always use all rows).")
@click.option("--format", "output_format", type=click.Choice(["table", "markdown", "json"]), default="table", show_default=True, help="table: equations and tables; markdown: lecture notes with LaTeX equations; json: every value.")
def explain(data, lr, seed, init_path, features, target, sep, activation, hidden, standardize, batch_size, val_split,
            patience, min_delta, epoch, rows, output_format):
    """Work one epoch by hand on DATA, in the lecture's notation, with DATA's numbers.

    The forward pass (the hidden units, yhat and y - yhat, numbers plugged in, for the
    first --rows rows), the MSE loss, every gradient by the chain rule (output layer
    first; with --activation its slope is one more link, dL/dw1 = dL/dN1 * dN1/dz1 *
    dz1/dw1), the update of every parameter, and the loss before and after it. Numbers
    have 6 significant digits, so each step can be checked by hand; json carries full
    precision.

    The options mean what they mean for train. --standardize and --val-split prepare the
    rows as train does: the epoch is worked on the (standardised) training rows. The K-1
    epochs before epoch K run as train runs them, in mini-batches of --batch-size rows
    shuffled as train shuffles them; with --patience, an epoch K that early stopping
    would not reach is an error. The explained step is full-batch over the training rows,
    or with --batch-size the first mini-batch of epoch K (its rows, from that epoch's
    shuffle, are listed) and its one update.
    """
    with _boundary():
        _explain(data, lr, seed, init_path, features, target, sep, activation, hidden, standardize, batch_size,
                 val_split, patience, min_delta, epoch, rows, output_format)


def _explain(data, lr, seed, init_path, features, target, sep, activation, hidden, standardize, batch_size, val_split,
             patience, min_delta, epoch, rows, output_format):
    from .explain import explain_document, explain_markdown, training_row_numbers, work_epoch
    from .report import console_for, print_explanation

    initial = _initial_parameters(init_path, seed, len(features), hidden, activation)
    dataset = _load_dataset(data, features, target, sep)
    prepared = _prepare(dataset, seed, val_split, standardize, None)
    worked = work_epoch(
        prepared.X,
        prepared.y,
        initial,
        lr,
        epoch,
        row_numbers=training_row_numbers(len(dataset.y), seed, val_split),
        scaling=prepared.scaling,
        **_schedule(seed, batch_size, patience, min_delta, prepared),
    )
    start = f"from {init_path}" if init_path else f"random, seed {seed}"
    out = sys.stdout
    if output_format == "json":
        document = {"data": dataset.source, "seed": None if init_path else seed, "init": init_path,
                    "patience": patience, "min_delta": min_delta}
        out.write(json.dumps(document | explain_document(worked, dataset.features, dataset.target), indent=2) + "\n")
    elif output_format == "markdown":
        out.write(explain_markdown(worked, dataset.features, rows, dataset.target, dataset.source, start))
    else:
        print_explanation(console_for(out), worked, dataset.features, rows, dataset.target, dataset.source, start)
    out.flush()


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
  fwdback generate --rows 1000 | fwdback train -"""
)
@click.option("--rows", type=click.IntRange(min=1), default=200, show_default=True, help="Number of data rows.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random numbers.")
@click.option("--noise", type=click.FloatRange(min=0), default=0.1, show_default=True, help="Standard deviation of the normal noise added to y.")
@click.option("--coef", default="2,-3,0.5,1", show_default=True, callback=_coefficients, help="The true coefficients of x1, x2, x3, then the intercept.")
def generate(rows, seed, noise, coef):
    """Write a synthetic CSV x1,x2,x3,y to stdout: y = c1*x1 + c2*x2 + c3*x3 + c0 + noise.

    The x are uniform on [-1, 1] and the noise is normal with mean 0, so least squares
    on enough rows recovers --coef: data whose answer you know in advance.
    """
    with _boundary():
        from .synthetic import generate as generate_data

        X, y = generate_data(rows, seed, noise, coef)
        out = sys.stdout
        out.write("x1,x2,x3,y\n")
        for start in range(0, rows, 100_000):
            block = zip(X[start : start + 100_000].tolist(), y[start : start + 100_000].tolist())
            out.writelines(f"{a!r},{b!r},{c!r},{t!r}\n" for (a, b, c), t in block)
        out.flush()


@cli.command(
    epilog="""\b
Examples:
  fwdback gradcheck sample_data/linear.csv
  fwdback gradcheck data.csv --epochs 2000            at a converged point
  fwdback gradcheck data.csv --activation tanh --hidden 4 --seed 3
  fwdback gradcheck data.csv --init model.json --tol 1e-8
  fwdback gradcheck data.csv --format json | jq -r '.[] | select(.ok | not) | .parameter'
  fwdback gradcheck data.csv > /dev/null && echo backward pass ok"""
)
@_data_options
@click.option("--epochs", type=click.IntRange(min=0), default=0, show_default=True, help="Train this many epochs first (as train would, --lr); 0 checks the initial weights.")
@_start_options
@_network_options
@_schedule_options
@click.option("--tol", type=float, default=1e-6, show_default=True, callback=_positive_finite, help="The largest relative error that passes.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True, help="table: one row per parameter; json: a list of one object per parameter, full precision.")
def gradcheck(**options):
    """Check the backward pass against central finite differences of the loss.

    For every parameter p: dL/dp from the backward pass beside (L(p + h) - L(p - h)) / 2h,
    at the initial weights or after --epochs of training, and their relative error. Exit
    code 0 when every relative error is below --tol, 1 when one is not (the table is
    printed either way, and a summary on stderr). The check is of the full-batch loss on
    the training rows: --standardize and --val-split prepare them as train does, and
    --batch-size, --patience and --min-delta shape the --epochs before it, as in train.
    """
    with _boundary():
        _gradcheck(**options)


def _gradcheck(data, features, target, sep, epochs, lr, seed, init_path, activation, hidden, standardize,
               batch_size, val_split, patience, min_delta, tol, output_format):
    from dataclasses import asdict

    from .gradcheck import check_gradients
    from .network import forward, mse_loss
    from .report import console_for, gradcheck_table
    from .training import train as run_training

    dataset = _load_dataset(data, features, target, sep)
    prepared = _prepare(dataset, seed, val_split, standardize, None)
    params = _initial_parameters(init_path, seed, len(dataset.features), hidden, activation)
    start = f"--init {init_path}" if init_path else f"seed {seed}"
    where = f"at the initial weights ({start})"
    if epochs:
        progress = _progress(epochs)
        try:
            schedule = _schedule(seed, batch_size, patience, min_delta, prepared)
            params = run_training(prepared.X, prepared.y, params, lr, epochs, on_epoch=progress, **schedule).final
        finally:
            if progress is not None:
                progress.close()
        where = f"after {epochs} epoch{'s' if epochs != 1 else ''} (eta {lr:g}, {start})"
    loss = mse_loss(prepared.y, forward(params, prepared.X).yhat)
    if not math.isfinite(loss):
        raise UserError(f"the loss {where} is {loss}, so there are no gradients to check; start from smaller weights")
    rows = check_gradients(params, prepared.X, prepared.y, tol)
    out = sys.stdout
    if output_format == "json":
        out.write(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    else:
        console = console_for(out)
        scaled = ", on z-scores" if prepared.scaling is not None else ""
        console.print(gradcheck_table(console, rows, f"Gradient check {where}, loss {loss:.6g}{scaled}"))
    out.flush()
    worst = max(rows, key=lambda row: row.relative_error)
    largest = f"largest relative error {worst.relative_error:.1e} at {worst.parameter}; tol {tol:g}"
    failed = [row for row in rows if not row.ok]
    if not failed:
        click.echo(f"gradcheck: all {len(rows)} gradients ok ({largest})", err=True)
        return
    kinks = [row.parameter for row in failed if row.kink]
    note = f"; {', '.join(kinks)} at a relu kink, where the derivative may not exist" if kinks else ""
    click.echo(f"gradcheck: {len(failed)} of {len(rows)} gradients FAIL ({largest}){note}", err=True)
    sys.exit(1)


@cli.command(
    epilog="""\b
Examples:
  fwdback show
  fwdback show my-model.json | less
  fwdback show | grep -A 7 'collapsed linear map'
  fwdback train data.csv -q --model m.json && fwdback show m.json"""
)
@click.argument("model_path", default="model.json", metavar="[MODEL]")
def show(model_path):
    """Draw the network in MODEL (default: model.json) in plain text, every weight on its edge.

    Inputs on the left, hidden units in the middle, yhat on the right, each edge labelled
    with its weight and each node with its bias; then the equations, every parameter at
    full precision, and, with no activation, the collapsed linear map yhat = c . x + c0.
    """
    with _boundary():
        from .diagram import model_text
        from .modelfile import load_model

        click.echo(model_text(load_model(model_path)), nl=False)


@contextlib.contextmanager
def _signals_set(stop: threading.Event):
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


class _boundary:
    """Where library errors leave: FwdbackError as one `Error: ...` line, a closed stdout quietly."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from .errors import FwdbackError

        if exc_type is not None and issubclass(exc_type, FwdbackError):
            raise UserError(str(exc), exc.exit_code) from None
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            click.echo("Interrupted; no file was written.", err=True)
            sys.exit(130)
        if exc_type is not None and issubclass(exc_type, BrokenPipeError):
            # The reader has gone (`| head`): not an error. Python flushes stdout at exit,
            # so point it at /dev/null first, or that flush would fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        return False
