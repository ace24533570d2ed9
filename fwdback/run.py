"""The library's run: a plan, a starting point and rows -> the fitted weights and the run's record.

Both doors call it: cli.py's train, explain and gradcheck parse their options into these
arguments, and the estimator maps its parameters onto them. Every check of a run is here and
raises a library error in library terms (errors.RunConflict for settings that contradict
each other, the network or the starting point); each caller words it with its own names for
the settings. `given` is the names of the settings the caller gave explicitly (the command
line's options not left at their defaults): a resumed run refuses those that differ from the
model's, and goes on with the model's own for the rest.

    start = starting_point(plan, NetworkSettings(features, target), init="model.json")
    record = fit(start, prepare_rows(dataset, start.plan, start.weights.scaling))
    record.params, record.result.losses, record.kept, record.training_record("data.csv")
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS
from .classes import Classes, class_targets
from .engines.rows import TrainingRows, streamed_classifier
from .errors import ClassCount, ClassifierConflict, DaskConflict, FrozenParameters, InitOnRawValues, LossOverflow, \
    NoEpochsLeft, ResumeConflict, SettingNotUsed, SquaresOverflow, StreamingConflict, UnknownClass
from .modelfile import MAX_EPOCHS, InitialWeights, Model, TrainingRecord, load_init, load_model, optimizer_state_of, \
    optimizer_state_record
from .losses import LOSSES
from .network import Architecture, Parameters, init_parameters
from .plan import TrainingPlan
from .settings import BY_NAME, PLAN_SETTINGS, SETTINGS, Names
from .training import TrainingResult, check_memory, fit_rows, prepare, prepare_streamed, validation_split


@dataclass(frozen=True)
class NetworkSettings:
    """The network a run trains and the columns it reads: `features`, the names of X's columns;
    `target`, a name, or several (one output each); the hidden units, the hidden layer's and the
    outputs' activations, and whether it has biases. A classifier's `classes` (classes.Classes,
    of its one target column; None for a regressor) decide its outputs with its output
    activation, its loss's link (classifier_network): one sigmoid output for two classes, or a
    softmax over one output per class."""

    features: tuple[str, ...] = ("x1", "x2", "x3")
    target: str | tuple[str, ...] = "y"
    hidden: int = 2
    activation: str = "identity"
    output_activation: str = "identity"
    bias: bool = True
    classes: Classes | None = None

    @property
    def architecture(self) -> Architecture:
        if self.classes is not None:
            outputs = len(self.classes) if ACTIVATIONS[self.output_activation].across_outputs else 1
        else:
            outputs = 1 if isinstance(self.target, str) else len(self.target)
        return Architecture(len(self.features), self.hidden, outputs, self.activation, self.output_activation, self.bias)


def classifier_network(network: NetworkSettings, loss: str, classes: Classes | None = None,
                       given: frozenset[str] = frozenset()) -> NetworkSettings:
    """The network a run of `loss` (losses.LOSSES's) trains. A regressor's is `network`. A
    classifier's output activation is the loss's link: an output activation left out (not in
    `given`, the settings the caller gave explicitly, and at its default) becomes it, the link
    itself is kept, any other is ClassifierConflict (the default too, where it was given), as
    are several target columns; `classes` (the target's, given where they are known: from the
    training rows, or a resumed model's) are checked to suit the loss (ClassCount) and kept."""
    record = LOSSES[loss]
    if not record.classifies:
        return network
    left_out = "output_activation" not in given and network.output_activation == BY_NAME["output_activation"].default
    if not left_out and network.output_activation != record.link:
        raise ClassifierConflict(loss, record.link, "output_activation", network.output_activation)
    if not isinstance(network.target, str):
        raise ClassifierConflict(loss, record.link, "target")
    classes = network.classes if classes is None else classes
    return dataclasses.replace(network, output_activation=record.link,
                               classes=None if classes is None else classes.check(record))


@dataclass(frozen=True)
class StartingPoint:
    """Where a run starts, and the settings it goes on with.

    network    the network and columns (a resumed model's own)
    plan       the training plan (a resumed model's, but for its epochs)
    weights    modelfile.InitialWeights: the starting weights, and the z-scores they are for
    init       the file of starting weights, as the caller gave it; None: random by plan.seed
    resume     the model file a resumed run goes on from, as the caller gave it, and `resumed` its Model
    """

    network: NetworkSettings
    plan: TrainingPlan
    weights: InitialWeights
    init: str | None = None
    resume: str | None = None
    resumed: Model | None = None

    @property
    def epochs_before(self) -> int:
        """The epochs a resumed model has run; its run numbers its epochs on from them."""
        return 0 if self.resumed is None else self.resumed.training.epochs


def starting_point(plan: TrainingPlan, network: NetworkSettings, *, init: str | None = None,
                   resume: str | None = None, given: frozenset[str] = frozenset()) -> StartingPoint:
    """Where a run starts: the weights of `resume`'s model (with its network, columns, plan and
    scaling), or `init`'s (with a model's scaling), or random ones by plan.seed; checked.

    Raises ResumeConflict for a given setting that differs from the resumed model's, NoEpochsLeft,
    SettingNotUsed (check_used), InitOnRawValues, FrozenParameters, NotEnoughMemory, and
    the model file's errors.
    """
    if resume is None:
        check_used(vars(plan))
        network = classifier_network(network, plan.loss)
        if LOSSES[plan.loss].classifies and network.classes is None:
            raise ValueError("a classifier's network needs its classes: NetworkSettings(classes=...) of its rows "
                             "(found_classes, or classes.class_targets)")
        weights = initial_weights(plan, network.architecture, init, network.classes)
        check_frozen(plan.freeze, weights.params)
        return StartingPoint(network, plan, weights, init=init)
    return resumed_start(load_model(resume), plan, network, given, resume)


def resumed_start(resumed: Model, plan: TrainingPlan, network: NetworkSettings, given: frozenset[str] = frozenset(),
                  resume: str | None = None) -> StartingPoint:
    """Where a run that goes on with the model `resumed` starts: its weights, network, columns,
    plan (but for the epochs) and scaling; checked as starting_point checks. `resume` names its
    file; None: a fitted estimator's own model (its warm start)."""
    network, plan = resumed_run(resumed, network, plan, given)
    check_epochs_left(resumed, plan, resume)
    check_used(vars(plan))
    check_frozen(plan.freeze, resumed.params)
    return StartingPoint(network, plan, InitialWeights(resumed.params, resumed.scaling), resume=resume, resumed=resumed)


def initial_weights(plan: TrainingPlan, architecture: Architecture, init: str | None = None,
                    classes: Classes | None = None) -> InitialWeights:
    """The weights of the `init` file, with the scaling of a model trained on z-scores, or random
    ones by plan.seed. An init model's weights are for its z-scores, so the rows are scaled as it
    says; a plan that says standardize=False contradicts that (InitOnRawValues). A classifier's
    (of `classes`) init model of other classes is refused (modelfile.load_init)."""
    a = architecture
    check_memory(a.size, a.n_hidden, None, None)
    if init is None:
        return InitialWeights(init_parameters(np.random.default_rng(plan.seed), a.n_inputs, a.n_hidden, a.activation,
                                              n_outputs=a.n_outputs, output_activation=a.output_activation, bias=a.bias))
    start = load_init(init, architecture, classes)
    if start.scaling is not None and plan.standardize is False:
        raise InitOnRawValues(init)
    return start


def check_used(settings: dict) -> None:
    """SettingNotUsed for the first setting whose value is not its default where the run would not
    use it (momentum with optimizer "gd", shuffle=False without a batch_size): both doors refuse
    it, rather than ignore what was asked for. `settings`: name -> value, of the plan's settings."""
    for setting in SETTINGS:
        rule = setting.used_with
        if rule is not None and settings[setting.name] != setting.default and not rule.holds(settings):
            raise SettingNotUsed(setting.name, settings[setting.name], rule.on, settings[rule.on], rule.values,
                                 rule.named, rule.does, rule.otherwise)


def stored_settings(model) -> dict:
    """The settings a model file (modelfile.Model) was trained with: its network's shape, and its
    plan's, each a setting's default where the file leaves it out (the lecture's files leave out the
    settings beyond it; version 1 files most of them); standardize is whether it has a scaling."""
    architecture = model.params.architecture
    network = {setting.name: getattr(architecture, setting.recorded_as or setting.name)
               for setting in SETTINGS if setting.recorded == "network"}
    recorded = model.training.plan
    plan = {setting.name: recorded.get(setting.name, setting.default) for setting in PLAN_SETTINGS}
    return network | plan | {"standardize": model.scaling is not None}


def resumed_settings(model, given: dict) -> dict:
    """The settings a resumed run goes on with: the model's (stored_settings), but for the number
    of epochs. `given`: the settings the caller asked for (name -> value); each of them that
    --resume goes on with must say what the model says, else ResumeConflict. A setting a version 1
    file does not record (its run knew no such setting) is the given one."""
    stored = stored_settings(model)
    unknown = {setting.name for setting in PLAN_SETTINGS
               if setting.recorded == "plan" and setting.name != "standardize" and setting.name not in model.training.plan}
    for name, value in given.items():
        setting = BY_NAME[name]
        same = set(value) == set(stored[name]) if isinstance(setting.constraint, Names) else value == stored[name]
        if setting.resumed and name not in unknown and not same:
            raise ResumeConflict(name, setting.words or name.replace("_", " "), setting.stored_words(stored[name]), value)
    return {name: given.get(name, value) if name in unknown else value
            for name, value in stored.items() if BY_NAME[name].resumed}


def check_frozen(freeze: tuple[str, ...], params: Parameters) -> None:
    """The frozen names are the network's parameters, and not all of them (FrozenParameters)."""
    a = params.architecture
    unknown = [name for name in freeze if name not in params.names]
    if unknown:
        raise FrozenParameters(params.names, a.n_weights, a.n_biases, unknown[0])
    if freeze and set(freeze) >= set(params.names):
        raise FrozenParameters(params.names, a.n_weights, a.n_biases)


def check_epochs_left(resumed: Model, plan: TrainingPlan, resume: str) -> None:
    """A resumed run numbers its epochs on from the model's, and a model file counts at most
    modelfile.MAX_EPOCHS: plan.epochs that could pass it are refused (NoEpochsLeft)."""
    if plan.epochs > MAX_EPOCHS - resumed.training.epochs:
        raise NoEpochsLeft(resume, resumed.training.epochs, MAX_EPOCHS)


def resumed_run(resumed: Model, network: NetworkSettings, plan: TrainingPlan,
                given: frozenset[str]) -> tuple[NetworkSettings, TrainingPlan]:
    """The network, columns and plan a resumed model goes on with: its own, but for the number of
    epochs (resumed_settings). A setting given must say what the model says (ResumeConflict)."""
    for name in ("features", "target"):
        value, kept = getattr(network, name), getattr(resumed, name)
        if name in given and value != kept:
            raise ResumeConflict(name, name, ",".join(kept) if isinstance(kept, tuple) else kept, value)
    chosen = {setting.name: getattr(network if setting.recorded == "network" else plan, setting.name)
              for setting in SETTINGS if setting.name in given}
    settings = resumed_settings(resumed, chosen)
    shape = {setting.name: settings.pop(setting.name) for setting in SETTINGS if setting.recorded == "network"}
    return NetworkSettings(resumed.features, resumed.target, **shape, classes=resumed.classes), plan.replace(**settings)


def check_dask(plan: TrainingPlan, network: NetworkSettings, chunksize: int | None = None) -> None:
    """Settings a run on a Dask cluster cannot go with (DaskConflict), before any work."""
    if chunksize is not None:
        raise DaskConflict("chunksize")
    if plan.val_split is not None:
        raise DaskConflict("val_split")
    if plan.batch_size is not None and plan.lr is None:
        raise DaskConflict("batch_size")
    if not isinstance(network.target, str):
        raise DaskConflict("target")


def streaming_conflict(network: NetworkSettings, plan: TrainingPlan, history: bool = False,
                       of_resume: bool = False) -> StreamingConflict | None:
    """What rules out streamed training of `network` by `plan` (the lecture's linear network, one
    output, or a classifier of any network, on full batches, without a `history` of every epoch's
    parameters), as the error to raise (`of_resume`: the network is a resumed model's); or None."""
    classifier = LOSSES[plan.loss].classifies  # its streamed epochs are network.py's, of any network (ChunkedRows)
    network_conflicts = [] if classifier else [
        (not ACTIVATIONS[network.activation].identity, StreamingConflict("activation", network.activation, of_resume)),
        (not ACTIVATIONS[network.output_activation].identity,
         StreamingConflict("output_activation", network.output_activation, of_resume)),
        (not isinstance(network.target, str), StreamingConflict("target", None, of_resume)),
        (not network.bias, StreamingConflict("bias", False, of_resume)),
    ]
    conflicts = network_conflicts + [
        (plan.batch_size is not None, StreamingConflict("batch_size", classifier=classifier)),
        (plan.val_split is not None, StreamingConflict("val_split", classifier=classifier)),
        (history, StreamingConflict("history", classifier=classifier)),
    ]
    return next((conflict for applies, conflict in conflicts if applies), None)


@contextlib.contextmanager
def data_named(source: str | None):
    """An overflow raised inside names the data it came from."""
    try:
        yield
    except (LossOverflow, SquaresOverflow) as overflow:
        overflow.source = source
        raise


def found_classes(dataset, loss: str, cluster=None) -> Classes:
    """The classes of a classifier's training data (a data.Dataset read with `labels`; streamed,
    a data.StreamedDataset: one pass over its chunks; with a cluster, engines.dask.Cluster, its
    parts read on the workers), checked for `loss` (ClassCount)."""
    from .data import StreamedDataset, distinct_labels, labels_of

    if cluster is not None:
        from .engines.dask import Partitions

        with data_named(dataset.source):
            labels = Partitions.read(cluster.client, dataset.parts, dataset.features, dataset.target, dataset.sep_option,
                                     labels=True).labels()
    elif isinstance(dataset, StreamedDataset):
        with data_named(dataset.source):
            labels = labels_of([distinct_labels(read) for _, read in dataset.chunks()])
    else:
        labels = dataset.y
    try:
        return Classes.of(labels).check(LOSSES[loss])
    except ClassCount as count:
        count.source, count.column = dataset.source, dataset.target
        raise


def _class_chunks(dataset, loss: str, classes: Classes) -> Callable:
    """The chunks of a streamed classifier's data (data.StreamedDataset), (X, labels as read), as
    (X, the network's targets), by `classes`: UnknownClass at a label not among them, naming its
    file (or part), row and column."""
    from .data import labels_of

    text = isinstance(classes.labels[0], str)

    def chunks():
        for name, file_chunks in dataset.files():
            rows = 0
            for X, read in file_chunks():
                yield X, class_targets(labels_of([read], text), LOSSES[loss], classes, name, dataset.target, rows)[0]
                rows += len(read)

    return chunks


def prepare_rows(dataset, plan: TrainingPlan, scaling=None, cluster=None, classes: Classes | None = None) -> TrainingRows:
    """The rows training sees, of a data.Dataset: in memory, streamed (data.StreamedDataset), or,
    with a cluster (engines.dask.Cluster), on its workers; `scaling` is the starting weights'.
    A classifier's labels become its targets by its `classes` (its network's: UnknownClass for a
    label not among a resumed model's)."""
    from .data import StreamedDataset

    if cluster is not None:
        from .engines.dask import Partitions, partitioned_classifier, prepare_partitioned

        with data_named(dataset.source):
            partitions = Partitions.read(cluster.client, dataset.parts, dataset.features, dataset.target, dataset.sep_option,
                                         labels=classes is not None)
            if classes is not None:
                partitions = partitions.with_targets(dataset.parts, classes, LOSSES[plan.loss], dataset.target)
                return partitioned_classifier(partitions, plan, scaling)
            return prepare_partitioned(partitions, plan, scaling)
    if isinstance(dataset, StreamedDataset):
        with data_named(dataset.source):
            if classes is not None:
                return streamed_classifier(_class_chunks(dataset, plan.loss, classes), plan, scaling)
            return prepare_streamed(dataset.chunks, plan, scaling)
    y = dataset.y if classes is None else dataset_targets(dataset, plan.loss, classes)
    return prepare(dataset.X, y, plan, scaling)


def dataset_targets(dataset, loss: str, classes: Classes) -> np.ndarray:
    """A classifier's targets (classes.Classes.targets') of data read into memory with its labels
    (a data.Dataset), by `classes` of `loss`: UnknownClass names the file (or part), row and column
    of a label not among them (a model's classes, for training on, explaining or evaluating it)."""
    try:
        return class_targets(dataset.y, LOSSES[loss], classes, dataset.source, dataset.target)[0]
    except UnknownClass as unknown:
        unknown.source, unknown.row = dataset.place(unknown.row)
        raise


@dataclass
class Run:
    """A finished run and its record.

    start      the StartingPoint it ran from (its plan as given, before the choices)
    rows       the rows it trained on (training.TrainingRows: split, and in z-scores when scaled)
    plan       the plan with its choices made (training.resolve: the learning rate, standardize)
    result     training.TrainingResult: the losses epoch by epoch, the final weights (the best
               epoch's with early stopping) and the last update's, why it stopped, the optimizer's state
    kept       the 0-based numbers of the data's rows it trained on, in training's order, shape
               (n_train,); `held_out` those held out for validation, shape (n_val,), or None
               without a validation split. Both None for rows not held in memory (streamed, on a cluster).
    """

    start: StartingPoint
    rows: TrainingRows
    plan: TrainingPlan
    result: TrainingResult
    kept: np.ndarray | None
    held_out: np.ndarray | None

    @property
    def params(self) -> Parameters:
        return self.result.final

    @property
    def epochs_before(self) -> int:
        return self.start.epochs_before

    def training_record(self, data: str | None = None) -> TrainingRecord:
        """How the model was trained, as its file records it (modelfile.TrainingRecord); `data` names the rows."""
        result, rows = self.result, self.rows
        return TrainingRecord(
            plan=self.plan.record(result.first_epoch),
            lr_chosen=self.start.plan.lr is None and self.start.resumed is None,
            data=data,
            rows=rows.count,
            validation_rows=0 if rows.validation is None else len(rows.validation[1]),
            init=self.start.init,
            resumed_from=self.start.resume,
            epochs=result.epochs_in_weights,
            epochs_run=result.epochs_run,
            best_epoch=result.best_epoch,
            stop=result.stop,
            initial_weights=result.initial.as_dict(),
            initial_loss=float(result.losses[0]),
            final_loss=result.final_loss,
            final_val_loss=result.final_val_loss,
            optimizer_state=optimizer_state_record(result.optimizer_state, result.final.names),
        )


def fit(start: StartingPoint, rows: TrainingRows, *, source: str | None = None,
        on_epoch: Callable | None = None, stop=None, on_step: Callable | None = None) -> Run:
    """Train from `start` on `rows` (prepare_rows) by its plan: the library's run. A resumed run
    goes on with its model's optimizer state and numbers its epochs on from the model's.

    `source` names the data in an overflow's message; on_epoch, stop and on_step are
    training.fit_rows'. Raises LossOverflow, TrainingDiverged, NotEnoughMemory.
    """
    plan = start.plan
    state = None if start.resumed is None else optimizer_state_of(start.resumed, plan.optimizer, start.resume)
    with data_named(source):
        fitted = fit_rows(rows, start.weights.params, plan, first_epoch=start.epochs_before + 1, on_epoch=on_epoch,
                          stop=stop, optimizer_state=state, on_step=on_step)
    kept = held_out = None
    if rows.arrays is not None:
        n = rows.count + (0 if rows.validation is None else len(rows.validation[1]))
        split = validation_split(n, plan)
        held_out, kept = split if split is not None else (None, np.arange(n))
    return Run(start, fitted.rows, fitted.plan, fitted.result, kept, held_out)
