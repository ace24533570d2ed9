"""Training and prediction on a Dask cluster: the rows stay on the workers, one partition a part.

Each part of DATA (sources.Part) is read on a worker with the single-file reader's checks and
kept there (a future). Everything else is a map-reduce over the partitions, whose results the
client adds up in the parts' order, so that a run is the same computation however the
partitions are spread over the workers, or recomputed:

- the statistics: each partition's sums of the Gram engine (A^T A, A^T y, y.y, the columns'
  ranges; then the residual's at the least-squares point), added up into a GramEngine, as
  GramEngine.from_chunks adds a streamed file's chunks. The linear network on full batches
  then trains on them in O(k^2) an epoch, on the client;
- any other network (one output, or a classifier's, whose partitions' labels become its
  targets on the workers) on full batches: each epoch's loss and gradients are the
  partitions' engines.full_batch_engine results weighted by their rows, summed and divided by
  n: one map-reduce an epoch (DataParallel);
- mini-batches: each step's batch is drawn from all n rows by engines.epoch_order, as in
  memory, and its loss and gradients are the partitions' network.backward on the batch's rows
  each holds, weighted by their number: one map-reduce a step (DataParallelMiniBatches).

A worker that dies loses its partitions; the scheduler reads them again from their files on
another worker (a future keeps its recipe), so a lost worker costs a recomputation, never a
wrong or lost result. Parts must therefore be files every worker can read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from ..classes import Classes, class_targets
from ..data import distinct_labels, labels_of
from ..errors import ClusterError, FwdbackError, SchedulerAddressError
from ..losses import LOSSES, Loss
from ..network import Parameters, backward, forward, loss, loss_divisor
from ..optimizers import Optimizer
from ..rounding import LossRounding, QuadraticRounding
from ..scaling import Scaling
from ..sources import Part, predicted_part, read_part, same_header
from ..stepsize import Scales, scales_of, suggest_lr
from . import FullBatch, epoch_order, full_batch_engine, gram_applies, step_scale
from .gram import GramEngine, first_pass_sums, second_pass_sums
from .rows import ClassifierRows, RowSummary, StreamedRows, scaling_chosen

# The environment variable Dask users set for their scheduler's address.
SCHEDULER_ADDRESS = "DASK_SCHEDULER_ADDRESS"
# How long fwdback waits for a scheduler to answer before it says it cannot be reached.
CONNECT_SECONDS = 5
# The only address a local cluster's servers listen on.
LOOPBACK = "127.0.0.1"
# The schemes fwdback reaches a scheduler by: those of distributed's comms that another process
# can reach with what fwdback installs (inproc:// lives in one process; ucx:// needs UCX).
SCHEMES = ("tcp", "tls")
_ADDRESS = re.compile(r"(?:[^\s:/]+://)?(?P<location>(?:\[[0-9A-Fa-f:.]+\]|[\w.\-]+):(?P<port>\d{1,5}))/?")
# Held back while a cluster starts or stops, and never delivered to its worker processes.
_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def cores() -> int:
    """The cores this process may run on: a LocalCluster starts one single-threaded worker process on each."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def scheduler_address(address: str, source: str) -> str:
    """`address`, which `source` (an option, an environment variable) gave, checked before any
    connection: [SCHEME://]HOST:PORT, HOST an IPv4 address, a name or [an IPv6 address], PORT
    1 to 65535, SCHEME one of SCHEMES (tcp where none is given), tls only with Dask's TLS
    settings. SchedulerAddressError where it is not: distributed would take 20 s or more to
    fail, with a TypeError for tls:// without settings."""
    scheme = address.partition("://")[0].lower() if "://" in address else "tcp"
    if scheme not in SCHEMES:
        raise SchedulerAddressError(f"{source} {address!r}: fwdback reaches a Dask scheduler by tcp:// or tls://, not "
                                    f"{scheme}://", "give the scheduler's address as tcp://HOST:PORT")
    form = _ADDRESS.fullmatch(address)
    if form is None or not 1 <= int(form["port"]) <= 65535:
        raise SchedulerAddressError(f"{source} {address!r} is not a scheduler address such as tcp://10.0.0.5:8786",
                                    "give the scheduler's HOST:PORT or tcp://HOST:PORT", malformed=True)
    if scheme == "tls" and _dask_config("distributed.comm.tls.ca-file") is None:
        raise SchedulerAddressError(
            f"{source} {address!r} is a TLS address, and Dask's configuration has no TLS settings",
            "set distributed.comm.tls.ca-file, client.cert and client.key in it (or DASK_DISTRIBUTED__COMM__TLS__CA_FILE, "
            "..._CLIENT__CERT and ..._CLIENT__KEY), or give a tcp:// address",
        )
    return f"{scheme}://{form['location']}"


def _dask_config(key: str):
    """A setting of Dask's configuration (its YAML files and DASK_* environment variables), or None."""
    try:
        import dask.config
    except ImportError:
        raise _not_installed() from None
    return dask.config.get(key, None)


def _not_installed() -> ClusterError:
    return ClusterError("--dask needs Dask, which is not installed", "install it with pip install 'fwdback[dask]'")


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM held back while a cluster starts or stops, then delivered (the first) as
    they would have been: stopped halfway, distributed can neither finish nor undo it (a half-built
    client or cluster prints errors at exit and can hang). They stay blocked in every thread
    started meanwhile, and so in the worker processes those threads start: Ctrl-C on a terminal
    signals every process of its group, and the workers are fwdback's to stop, after the epoch
    it is computing. Off the main thread (no handlers there) this holds nothing."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    previous = {signum: signal.signal(signum, lambda signum, frame: held.append(signum)) for signum in _HELD_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a signal that came meanwhile is delivered (held) here
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])


def local_cluster():
    """A LocalCluster of one single-threaded worker process a core, every server it starts listening
    on LOOPBACK only: the scheduler, the nannies and the workers (host), and their HTTP servers
    (health and metrics: on the host's address, the scheduler's at a free port, as a port alone
    would listen on every address; no dashboard, which fwdback never shows). Nothing fwdback
    starts can be reached from another machine."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=cores(), threads_per_worker=1, processes=True, host=LOOPBACK, dashboard_address=None,
                        scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"}, silence_logs=logging.CRITICAL)


class _AbandonedWaits(logging.Filter):
    """Drops asyncio's "Task exception was never retrieved" of the waits a Dask client's gather
    leaves behind when it is interrupted (Ctrl-C) and the client then closes: distributed's, and
    harmless, but printed on stderr after the run's last line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and type(record.exc_info[1]).__name__ == "AllExit")


class Cluster:
    """A Dask client for the duration of a `with` block: to the scheduler at `address` (checked
    by scheduler_address), else at $DASK_SCHEDULER_ADDRESS (checked here), else to
    local_cluster(). It starts and stops with signals held (_signals_held); leaving the block
    (Ctrl-C too) cancels the work, closes the client and stops a local cluster."""

    def __init__(self, address: str | None = None):
        if address is None and os.environ.get(SCHEDULER_ADDRESS):
            address = scheduler_address(os.environ[SCHEDULER_ADDRESS], f"${SCHEDULER_ADDRESS}")
        self.address, self.client, self.local = address, None, None
        self.quiet = _AbandonedWaits()

    def __enter__(self) -> Cluster:
        try:
            import distributed
        except ImportError:
            raise _not_installed() from None
        if self.address is None and hasattr(signal, "pthread_sigmask"):
            from multiprocessing import resource_tracker

            # Its first start unblocks SIGINT and SIGTERM in the thread that starts it (bpo-33613): started
            # before they are held, it leaves them blocked for the threads that start the workers.
            resource_tracker.ensure_running()
        logging.getLogger("asyncio").addFilter(self.quiet)
        try:
            with _signals_held():
                if self.address is None:
                    self.local = local_cluster()
                    self.client = distributed.Client(self.local, set_as_default=False)
                else:
                    self.client = distributed.Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as error:
            self.__exit__(None, None, None)
            if self.address is None:
                raise ClusterError(f"could not start a local Dask cluster ({error})",
                                   "check that this machine can run Dask's worker processes") from None
            raise ClusterError(f"could not connect to the Dask scheduler at {self.address} within {CONNECT_SECONDS} s",
                               "check the address, and that the scheduler runs (dask scheduler)") from None
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            with _signals_held():
                if self.client is not None:
                    self.client.close()
                if self.local is not None:
                    self.local.close()
                self.client, self.local = None, None
        finally:
            logging.getLogger("asyncio").removeFilter(self.quiet)


def gathered(client, futures: Sequence, parts: Sequence[Part] | None = None) -> list:
    """The futures' results, in their order. A FwdbackError raised on a worker (bad data in a part),
    or a ValueError (bad values in a block of a Dask array), is raised here, the first in the
    futures' order; any other error there (a cluster that gave up as a task's workers kept dying,
    a part a worker could not read) is a ClusterError, naming the part where `parts`, one a
    future, are the parts the futures read."""
    try:
        return client.gather(list(futures))
    except Exception:  # which one failed first in order: the message must not depend on timing
        for index, future in enumerate(futures):
            try:
                future.result()
            except (FwdbackError, ValueError):
                raise
            except Exception as error:
                words = "".join(character for character in str(error) if character.isprintable() or character == "\n")
                cause = f"{type(error).__name__}: {' '.join(words.split())}"
                if parts is None:
                    raise ClusterError(f"the Dask cluster failed ({cause})", "check the workers' logs and run again") from None
                raise ClusterError(f"the Dask cluster failed reading {parts[index].name} ({cause})",
                                   "check that every worker can read that path and that the file is intact") from None
        raise


class Partitions:
    """Rows in the workers' memory: a future of (X, y) for each partition, X : shape (m, k),
    y : shape (m,), in order, and each partition's number of rows."""

    def __init__(self, client, futures: Sequence, rows: Sequence[int]):
        self.client, self.futures, self.rows = client, list(futures), list(rows)
        self.count = int(sum(self.rows))

    @classmethod
    def read(cls, client, parts: Sequence[Part], features: Sequence[str], target: str, sep: str | None,
             labels: bool = False) -> Partitions:
        """The parts of DATA, each read on a worker with the single-file reader's checks (`labels`:
        the target column as class labels, sources.read_part's)."""
        futures = client.map(read_part, list(parts), features=tuple(features), target=target, sep=sep, labels=labels,
                             pure=False)
        return cls(client, futures, gathered(client, client.map(_row_count, futures, pure=False), parts))

    def labels(self) -> np.ndarray:
        """The distinct class labels of partitions read with `labels`, of every partition together
        (data.labels_of: numbers, or text where any is not a number), shape (d,), with repeats."""
        return labels_of(self.map(_distinct_labels))

    def with_targets(self, parts: Sequence[Part], classes: Classes, loss: Loss, column: str) -> Partitions:
        """Partitions read with `labels` as (X, the network's targets by `classes`), made on the
        workers; UnknownClass names the part, row and `column` of a label not among them."""
        text = isinstance(classes.labels[0], str)
        futures = [self.client.submit(_with_targets, future, classes, loss, text, part.name, column, pure=False)
                   for future, part in zip(self.futures, parts)]
        gathered(self.client, self.client.map(_row_count, futures, pure=False), parts)
        return Partitions(self.client, futures, self.rows)

    def map(self, function, *args, **kwargs) -> list:
        """function(partition, *args, **kwargs) on every partition, the results in the parts' order."""
        return gathered(self.client, self.client.map(function, self.futures, *args, **kwargs, pure=False))


def dask_arrays(X, y):
    """X, a Dask array or data frame, as a Dask array, shape (n, k), and y, a Dask array or
    series (or an array in memory), as one, shape (n,), each knowing its blocks' rows (counted
    where they are not known, as after a filter), so that their shapes can be checked before
    the rows are read."""
    import dask.array

    if str(getattr(y, "dtype", "")) == "string":  # a classifier's text labels, which an array holds as objects
        y = y.astype(object)
    X, y = (data.to_dask_array(lengths=True) if hasattr(data, "to_dask_array") else dask.array.asarray(data)
            for data in (X, y))
    return tuple(data.compute_chunk_sizes() if np.isnan(data.shape[0]) else data for data in (X, y))


def partitions_of(client, X, y, labels: bool = False) -> Partitions:
    """The Partitions of Dask arrays (dask_arrays) X, shape (n, k), and y, shape (n,), one a
    block of X's rows. Each block is checked on its worker as FwdbackRegressor.fit checks
    arrays (float64, finite); with `labels`, y is a classifier's labels, kept as they are."""
    import dask

    X = X.rechunk({1: -1})
    y = y.rechunk((X.chunks[0],))
    firsts = np.cumsum([0, *X.chunks[0][:-1]])
    blocks = [dask.delayed(_checked_block)(x, target, int(first), labels)
              for x, target, first in zip(X.to_delayed()[:, 0], y.to_delayed(), firsts)]
    futures = client.compute(blocks)
    return Partitions(client, futures, gathered(client, client.map(_row_count, futures, pure=False)))


def _checked_block(X, y, first: int, labels: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A block of rows as float64, X : shape (m, k), y : shape (m,) (`labels`: as they are);
    ValueError at a value that is not finite, naming its row in the whole of X or y."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=None if labels else np.float64)
    if not np.isfinite(X).all():
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X contains NaN or inf (X[{first + row}, {column}] is {X[row, column]}); drop or fill those values")
    if not labels and not np.isfinite(y).all():
        row = int(np.argwhere(~np.isfinite(y))[0, 0])
        raise ValueError(f"y contains NaN or inf (y[{first + row}] is {y[row]}); drop those rows or fill the values")
    return X, y


def predicted_lazily(predict, X, dtype=np.float64, columns: int | None = None):
    """An estimator's `predict` (of values of `dtype`, shape (n,), or with `columns`, shape (n,
    columns): a classifier's predict_proba) of a Dask array X, shape (n, k) (a Dask array), or data
    frame (a Dask series on its index; with `columns`, a Dask array), block by block."""
    if columns is not None:
        X = X.to_dask_array(lengths=True) if hasattr(X, "to_dask_array") else X
        return X.rechunk({1: -1}).map_blocks(predict, chunks=(X.chunks[0], (columns,)), dtype=dtype)
    if hasattr(X, "map_partitions"):
        import pandas

        return X.map_partitions(lambda frame: pandas.Series(predict(frame), index=frame.index), meta=(None, dtype))
    return X.rechunk({1: -1}).map_blocks(predict, drop_axis=1, dtype=dtype)


def _row_count(partition) -> int:
    return len(partition[1])


def _distinct_labels(partition) -> np.ndarray:
    """A partition's distinct class labels as read, shape (d,)."""
    return distinct_labels(partition[1])


def _with_targets(partition, classes: Classes, loss: Loss, text: bool, name: str, column: str):
    """A partition's (X, labels as read) as (X, the network's targets): classes.class_targets'."""
    X, read = partition
    return X, class_targets(labels_of([read], text), loss, classes, name, column)[0]


def _scaled(partition, scaling: Scaling | None) -> tuple[np.ndarray, np.ndarray]:
    X, y = partition
    return (X, y) if scaling is None else (scaling.features(X), scaling.target(y))


def _summary(partition, scaling: Scaling | None = None) -> RowSummary:
    """A partition's RowSummary (in z-scores with `scaling`)."""
    summary = RowSummary()
    summary.add(*_scaled(partition, scaling))
    return summary


def summary(partitions: Partitions, scaling: Scaling | None = None) -> RowSummary:
    """The rows' RowSummary (in z-scores with `scaling`): the partitions' merged in the parts' order."""
    whole = RowSummary()
    for part in partitions.map(_summary, scaling=scaling):
        whole.merge(part)
    return whole


def _first_pass(partition, scaling: Scaling | None) -> tuple:
    """A partition's gram.first_pass_sums (in z-scores with `scaling`)."""
    with np.errstate(all="ignore"):
        return first_pass_sums(*_scaled(partition, scaling))


def _second_pass(partition, scaling: Scaling | None, theta0: np.ndarray, mean_y: float) -> tuple:
    """A partition's gram.second_pass_sums (in z-scores with `scaling`)."""
    return second_pass_sums(*_scaled(partition, scaling), theta0, mean_y)


def gram_engine(partitions: Partitions, scaling: Scaling | None) -> GramEngine:
    """The GramEngine of the partitions' rows (in z-scores with `scaling`): GramEngine.from_chunks'
    two passes, each a map-reduce whose partition sums are added in the parts' order, as
    from_chunks adds its chunks'. SquaresOverflow where the sums of squares overflow float64."""
    return GramEngine.from_sums(
        partitions.map(_first_pass, scaling=scaling),
        lambda theta0, mean_y: partitions.map(_second_pass, scaling=scaling, theta0=theta0, mean_y=mean_y),
    )


def _partition_engine(partition, scaling: Scaling | None, initial: Parameters, convention: str):
    """The partition's full-batch engine (engines.full_batch_engine: LiteralEngine for the lecture's
    kind of network), of its loss in `convention`."""
    return full_batch_engine(*_scaled(partition, scaling), initial, convention)


def _weighted_loss_and_gradients(engine, params: Parameters):
    """A partition's (rows m, m times its mean loss, its gradients times m), from its engine."""
    loss, gradients = engine.loss_and_gradients(params)
    m = len(engine.y)
    gradients.vector *= m
    return m, loss * m, gradients


def _batch_sums(partition, rows: np.ndarray, scaling: Scaling | None, params: Parameters, convention: str):
    """network.backward on the partition's `rows` of a batch: (their number m, m times their loss
    in `convention`, a mean's, their gradients times m)."""
    X, y = _scaled(partition, scaling)
    X, y = X[rows], y[rows]
    fwd = forward(params, X)
    gradients = backward(params, X, y, fwd, convention).gradients
    m = len(rows)
    gradients.vector *= m
    return m, loss(y, fwd, convention) * m, gradients


def _in_convention(loss: float, gradients, n: int, convention: str):
    """The MSE loss and gradients of n rows in another loss convention: times n / d(n)."""
    if LOSSES[convention].lecture:
        return loss, gradients
    factor = n / loss_divisor(convention, n)
    gradients.vector *= factor
    return loss * factor, gradients


def _mean(results) -> tuple[float, object]:
    """Partitions' (m, m * loss, m * gradients) added in order, divided by the rows: the loss and gradients of them all."""
    rows = sum(m for m, _, _ in results)
    gradients = results[0][2]
    for _, _, more in results[1:]:
        gradients.vector += more.vector
    gradients.vector /= rows
    return sum(loss for _, loss, _ in results) / rows, gradients


class DataParallel:
    """The full-batch loss and gradients of any network with one output (or a classifier's), one
    map-reduce over the partitions an epoch: each partition's engine (built once on its worker, in
    z-scores with `scaling`) weighted by its rows, summed and divided by n: the MSE's, then in the
    plan's loss convention (times n / d(n)); a classifier's own loss, a mean (d(n) = n)
    (objective interface, engines/). `statistics` (the rows' GramEngine or RowSummary) give a
    learning rate to suggest; `rounding` is rounding.LossRounding of the rows."""

    name = "dask"

    def __init__(self, partitions: Partitions, scaling: Scaling | None, initial: Parameters, statistics,
                 rounding: LossRounding, convention: str, step_scale: float):
        """`step_scale` as engines.FullBatch's."""
        self.partitions, self.scaling, self.statistics, self.rounding = partitions, scaling, statistics, rounding
        self.initial, self.convention, self.engines = initial, convention, None
        self.partition_loss = convention if LOSSES[convention].classifies else "mse"
        self.standardized, self.step_scale = scaling is not None, step_scale

    def loss_and_gradients(self, params: Parameters):
        client = self.partitions.client
        if self.engines is None:
            self.engines = client.map(_partition_engine, self.partitions.futures, scaling=self.scaling,
                                      initial=self.initial, convention=self.partition_loss, pure=False)
        loss, gradients = _mean(gathered(client, client.map(_weighted_loss_and_gradients, self.engines, params=params,
                                                             pure=False)))
        return _in_convention(loss, gradients, self.partitions.count, self.convention)

    def epoch(self, params: Parameters, optimizer: Optimizer, number: int):
        loss, gradients = self.loss_and_gradients(params)
        return optimizer.step(params, gradients), loss, gradients

    def suggest_lr(self, initial: Parameters, lr: float) -> float:
        return suggest_lr(self.statistics, initial, lr, scale=self.step_scale)


class DataParallelMiniBatches(DataParallel):
    """engines.MiniBatches over the partitions: epoch e visits all n rows in
    epoch_order(seed, e, n, shuffle), one update per batch_size rows; each batch's loss and
    gradients are one map-reduce over the partitions that hold its rows. Epoch loss and
    gradients as MiniBatches': for MSE the batches' means, weighted by their size."""

    name = "dask mini-batch"

    def __init__(self, partitions: Partitions, scaling: Scaling | None, initial: Parameters, statistics,
                 rounding: LossRounding, convention: str, step_scale: float, plan):
        super().__init__(partitions, scaling, initial, statistics, rounding, convention, step_scale)
        self.batch_size, self.seed, self.shuffle = plan.batch_size, plan.seed, plan.shuffle
        self.offsets = np.cumsum([0, *partitions.rows])

    def epoch(self, params: Parameters, optimizer: Optimizer, number: int):
        client, n = self.partitions.client, self.partitions.count
        order = epoch_order(self.seed, number, n, self.shuffle)
        loss_sum, gradient_sum = 0.0, np.zeros_like(params.vector)
        for first in range(0, n, self.batch_size):
            rows = order[first : first + self.batch_size]
            holder = np.searchsorted(self.offsets, rows, side="right") - 1
            futures = [
                client.submit(_batch_sums, self.partitions.futures[p], rows[holder == p] - self.offsets[p], self.scaling,
                              params, self.partition_loss, pure=False)
                for p in np.unique(holder)
            ]
            loss, gradients = _mean(gathered(client, futures))
            loss_sum += loss * len(rows)
            gradient_sum += gradients.vector * len(rows)
            params = optimizer.step(params, *_in_convention(loss, gradients, len(rows), self.convention)[1:])
        gradients.vector[:] = gradient_sum / loss_divisor(self.convention, n)
        return params, loss_sum / loss_divisor(self.convention, n), gradients


class PartitionedRows(StreamedRows):
    """Rows held by the workers of a Dask cluster: their GramEngine's statistics on the client (as
    StreamedRows'), in z-scores where `scaling` is given, and the Partitions, which compute the
    epochs that the statistics do not. No validation rows."""

    def __init__(self, gram: GramEngine, scaling: Scaling | None, scales: Scales | None, partitions: Partitions):
        super().__init__(gram, scaling, scales)
        self.partitions = partitions

    def objective(self, initial: Parameters, plan, on_step=None):
        """The Gram engine for the lecture's linear network on full batches where it is exact (its
        statistics are on the client already), else DataParallel, or DataParallelMiniBatches with a
        batch size. `plan` is the run's (resolved) TrainingPlan; `on_step` is not called (a
        cluster's steps are not watched one by one)."""
        gram, convention, scale = self.gram, plan.loss, step_scale(plan, self.count)
        if plan.batch_size is None and gram_applies(initial) and gram.exact:
            scaled = gram.with_loss(convention)
            return FullBatch(scaled, scaled, "gram", QuadraticRounding(gram, convention), gram, self.scaling is not None, scale)
        rounding = LossRounding.of_gram(gram, convention)
        if plan.batch_size is None:
            return DataParallel(self.partitions, self.scaling, initial, gram, rounding, convention, scale)
        return DataParallelMiniBatches(self.partitions, self.scaling, initial, gram, rounding, convention, scale, plan)


def prepare_partitioned(partitions: Partitions, plan, scaling: Scaling | None = None) -> PartitionedRows:
    """training.prepare_streamed for rows on the workers: z-scores where engines.rows.scaling_chosen
    chooses them (`scaling`: a resumed model's), the Gram engine's statistics by map-reduce, and the
    partitions kept for the epochs. `plan` is a TrainingPlan."""
    scaling, scales = scaling_chosen(plan, scaling, lambda: summary(partitions).moments_and_scales())
    return PartitionedRows(gram_engine(partitions, scaling), scaling, scales, partitions)


def partitioned_classifier(partitions: Partitions, plan, scaling: Scaling | None = None) -> ClassifierRows:
    """prepare_partitioned for a classifier's rows (partitions of (X, targets): Partitions.with_targets):
    z-scores of the features where scaling_chosen chooses them (`scaling`: a resumed model's), the
    RowSummary of the rows as they train, and DataParallel (or DataParallelMiniBatches) for the epochs."""
    scaling, scales = scaling_chosen(plan, scaling, lambda: summary(partitions).classifier_moments_and_scales())
    rows = summary(partitions, scaling)
    if scales is None:
        scales = scales_of(rows.AtA / rows.rows, rows.rows, rows.target_size)

    def epochs(initial: Parameters, plan):
        convention, scale = plan.loss, step_scale(plan, rows.rows)
        if plan.batch_size is None:
            return DataParallel(partitions, scaling, initial, rows, rows.loss_rounding(convention), convention, scale)
        return DataParallelMiniBatches(partitions, scaling, initial, rows, rows.loss_rounding(convention), convention,
                                       scale, plan)

    return ClassifierRows(rows, scaling, scales, epochs)


def predicted_parts(client, parts: Sequence[Part], model, sep: str | None, every_header: bool = False) -> Iterator[bytes]:
    """predict's output of every part, computed on the workers, in the parts' order: one CSV of
    them all, the first part's header then every part's rows (DataError where a part's header
    differs from the first's), or, `every_header`, each part's own CSV. DataError at a part's
    bad row."""
    futures = [client.submit(predicted_part, part, model, sep, every_header or index == 0, pure=False)
               for index, part in enumerate(parts)]
    header = None
    for part, future in zip(parts, futures):
        part_header, text = gathered(client, [future], [part])[0]
        if not every_header:
            header = same_header(part, part_header, header)
        future.release()
        yield text
