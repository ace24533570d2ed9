"""The model file: JSON with the weights by name, the columns, and how they were trained.

{"format": "fwdback-model", "version": 2, "features": [...], "target": "y",
 "activation": "identity", "hidden": 2, "weights": {"w1": ..., "b3": ...},
 "scaling": null or {"mean": {...}, "std": {...}},
 "training": {"plan": {"lr": ..., "batch_size": ..., ..., "seed": ...}, "epochs": ...,
              "stop": "converged", "initial_weights": {...}, "final_loss": ..., ...}}

"activation", "hidden" and "scaling" may be left out: the lecture's network is the default.
Beyond the lecture: "target" lists several names for several outputs, "output_activation"
(identity when left out) and "bias": false (no biases) are written only where they differ
from the lecture's; a classifier (its plan's loss bce or cross-entropy) has "classes", its
class labels in sorted order (numbers or strings), its loss's link as "output_activation"
(sigmoid: one output, the second class's probability; softmax: one per class), and its
target, if scaled, left as it is (mean 0, std 1), and "training.optimizer_state" holds the update rule's state
({"t": ..., "v": {name: ...}} or "m" and "s") for --resume, where the rule keeps one.
"training.plan" is plan.TrainingPlan: --resume goes on with all of it but the epochs, which
are the last epoch the run could reach (what an unbroken run's --epochs would be).
Version 1 files, without a plan, still load: their "lr", "batch_size" and "seed" are its parts.

Floats are written with Python's shortest round-trip repr, so they read back bit for bit.
The file is written through outputs.py: whole, and only when the command succeeds.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .errors import ClassCount, ForeignFile, ModelFileError, display_name, path_problem
from .activations import ACTIVATION_NAMES, ACTIVATIONS, NETWORK_OUTPUT_ACTIVATIONS
from .classes import Classes, probabilities
from .losses import LOSSES, Loss
from .network import Architecture, ForwardPass, Parameters, forward
from .optimizers import RULES
from .plan import StopReason
from .settings import PLAN_SETTINGS
from .scaling import Scaling

if TYPE_CHECKING:
    from .outputs import Output

FORMAT = "fwdback-model"
VERSION = 2
# What a message about a damaged model file asks for.
_AGAIN = "train the model again"


@dataclass
class TrainingRecord:
    """How a model was trained, as its file's "training" records it.

    data, rows, validation_rows   the data's name and its training and held-out rows
    plan           the parts of plan.TrainingPlan the file has, which --resume goes on with
                   (all but the epochs);  lr_chosen: the learning rate was chosen from the data
    init, resumed_from            where the starting weights came from (None: random, by the seed)
    epochs         the epochs whose updates the weights hold (with early stopping, those before
                   the best epoch);  epochs_run, best_epoch, stop (why training ended)
    initial_weights, initial_loss, final_loss, final_val_loss, interrupted
    optimizer_state  the update rule's state, for --resume
    history_sha256   the sha256 of the --history file the run left, to which --resume appends
                     only where that file is still the same
    """

    data: str | None = None
    rows: int | None = None
    validation_rows: int = 0
    plan: dict = field(default_factory=dict)
    lr_chosen: bool = False
    init: str | None = None
    resumed_from: str | None = None
    epochs: int = 0
    epochs_run: int | None = None
    best_epoch: int | None = None
    stop: StopReason | None = None
    initial_weights: dict | None = None
    initial_loss: float | None = None
    final_loss: float | None = None
    final_val_loss: float | None = None
    interrupted: bool = False
    optimizer_state: dict | None = None
    history_sha256: str | None = None

    def as_dict(self) -> dict:
        """As the model file holds it: the stop reason by its value ("converged")."""
        record = asdict(self) | {"stop": None if self.stop is None else self.stop.value}
        for name in ("interrupted", "optimizer_state", "history_sha256"):
            if not record[name]:
                del record[name]
        return record


@dataclass
class Model:
    """A trained network, the columns it reads, and how it was trained; a classifier's `classes`
    (classes.Classes of its target column; None for a regressor)."""

    params: Parameters
    features: tuple[str, ...]
    target: str | tuple[str, ...]
    training: TrainingRecord = field(default_factory=TrainingRecord)
    scaling: Scaling | None = None
    classes: Classes | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,) if isinstance(self.target, str) else self.target

    def forward_pass(self, X: np.ndarray) -> ForwardPass:
        """The network's forward pass of X : shape (n, k), in the features' own units (the
        network's z-scores of them where it trained on those)."""
        return forward(self.params, X if self.scaling is None else self.scaling.features(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """yhat in the target's own units, shape (n,), or (n, m) for several targets.
        X : shape (n, k), in the features' own units."""
        yhat = self.forward_pass(X).yhat
        return yhat if self.scaling is None else self.scaling.original_target(yhat)

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """A classifier's probability of each of its classes, shape (n, c) (classes.probabilities).
        X : shape (n, k), in the features' own units."""
        return probabilities(self.predict(X))


def model_document(model: Model) -> dict:
    architecture = model.params.architecture
    beyond = {"output_activation": architecture.output_activation} if architecture.out_activated else {}
    if not architecture.bias:
        beyond["bias"] = False
    return {
        "format": FORMAT,
        "version": VERSION,
        "features": list(model.features),
        "target": model.target if isinstance(model.target, str) else list(model.target),
        "activation": model.params.activation,
        "hidden": model.params.n_hidden,
        **beyond,
        **({} if model.classes is None else {"classes": model.classes.listed}),
        "weights": model.params.as_dict(),
        "scaling": None if model.scaling is None else model.scaling.as_dict(model.features, model.target),
        "training": model.training.as_dict(),
    }


def model_json(model: Model, name: str = "the model file") -> str:
    """The model file's text: every float in Python's shortest round-trip form.

    The text is read back by the loader (load_model's every check) before it is returned, so
    that no file fwdback writes is one it then refuses, and a model that loaded is never
    replaced by one that does not: ModelFileError saying why, naming the file as `name`.
    """
    from .outputs import json_text

    text = json_text(model_document(model))
    try:
        _parse_model(_json_document(text), name)
    except ModelFileError as refused:
        problem = str(refused).removeprefix(f"{name}: ").removesuffix(f"; {_AGAIN}")
        raise ModelFileError(f"{name}: not saved, as fwdback would refuse the model file: {problem}; "
                             "any file there is unchanged") from None
    return text


def load_model(path: str) -> Model:
    """Read and validate a model file written by `fwdback train`."""
    document = _read_json(path, "model")
    return _parse_model(document, display_name(path))


def _parse_model(document, path: str) -> Model:
    """The model a parsed model file describes; `path` is the file's name in messages."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: is not a fwdback model file (no \"format\": \"{FORMAT}\"); train one with fwdback train")
    _check_version(document, path)
    features = document.get("features")
    target = document.get("target")
    targets = [target] if isinstance(target, str) else target
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(name, str) and name for name in features)
        or len(set(features)) != len(features)
        or not isinstance(targets, list)
        or not targets
        or not all(isinstance(name, str) and name for name in targets)
        or len(set(targets)) != len(targets)
        or set(features) & set(targets)
    ):
        raise ModelFileError(
            f"{path}: \"features\" must list distinct, non-empty column names and \"target\" name another (or list "
            f"several); {_AGAIN}"
        )
    target = target if isinstance(target, str) else tuple(target)
    hidden = document.get("hidden", 2)
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ModelFileError(f"{path}: \"hidden\" is {_shown(hidden)}, not a whole number of at least 1; train the model again")
    activation = document.get("activation", "identity")
    if not isinstance(activation, str) or activation not in ACTIVATION_NAMES:
        raise ModelFileError(
            f"{path}: \"activation\" is {_shown(activation)}, not one of {', '.join(ACTIVATION_NAMES)}; train the model again"
        )
    output_activation = document.get("output_activation", "identity")
    if not isinstance(output_activation, str) or output_activation not in NETWORK_OUTPUT_ACTIVATIONS:
        raise ModelFileError(f"{path}: \"output_activation\" is {_shown(output_activation)}, not one of "
                             f"{', '.join(NETWORK_OUTPUT_ACTIVATIONS)}; train the model again")
    bias = document.get("bias", True)
    if not isinstance(bias, bool):
        raise ModelFileError(f"{path}: \"bias\" is {_shown(bias)}, not true or false; train the model again")
    training = _parse_training(document.get("training"), path, document["version"])
    loss = LOSSES[training.plan.get("loss", "mse")]
    classes = _parse_classes(document, path, loss, output_activation)
    outputs = len(targets) if classes is None else classes.outputs(loss)
    architecture = Architecture(len(features), hidden, outputs, activation, output_activation, bias)
    params = parse_weights(document.get("weights"), path, architecture)
    scaling = _parse_scaling(document.get("scaling"), path, tuple(features), target)
    if classes is not None and scaling is not None and (scaling.y_mean, scaling.y_std) != (0.0, 1.0):
        raise ModelFileError(f"{path}: \"scaling\" scales the target {target} of a classifier, whose probabilities are "
                             f"never scaled (its mean must be 0 and its std 1); {_AGAIN}")
    recorded = (document.get("training") or {}).get("optimizer_state")
    _check_optimizer_state(recorded, training.plan.get("optimizer", "gd"), params.names, path)
    return Model(params, tuple(features), target, training, scaling, classes)


def _parse_classes(document: dict, path: str, loss: Loss, output_activation: str) -> Classes | None:
    """A classifier's "classes" (its loss, the plan's, classifies): distinct labels, all numbers or
    all strings, in sorted order (classes.Classes.of's), as many as the loss takes, with the
    loss's link as the output activation and one target; None for a regressor, which has none."""
    labels = document.get("classes")
    if not loss.classifies:
        if labels is not None or ACTIVATIONS[output_activation].across_outputs:
            what = "\"classes\"" if labels is not None else f"a {output_activation} output"
            raise ModelFileError(f"{path}: has {what}, which only a classifier's loss has, and its loss is {loss.name}; "
                                 f"{_AGAIN}")
        return None
    if output_activation != loss.link:
        raise ModelFileError(f"{path}: \"output_activation\" is {_shown(output_activation)}, and its loss {loss.name} "
                             f"needs {loss.link}; {_AGAIN}")
    if not isinstance(document["target"], str):
        raise ModelFileError(f"{path}: \"target\" lists several columns, and its loss {loss.name} classifies one; {_AGAIN}")
    need = f"not a list of distinct class labels (all numbers or all strings) in sorted order; {_AGAIN}"
    if not isinstance(labels, list) or not labels:
        raise ModelFileError(f"{path}: \"classes\" is {_shown(labels)}, {need}")
    numbers, texts = all(_is_finite_number(label) for label in labels), all(isinstance(label, str) for label in labels)
    if not (numbers or texts) or Classes.of(labels).labels != tuple(labels) or len(set(labels)) != len(labels):
        raise ModelFileError(f"{path}: \"classes\" is {_shown(labels)}, {need}")
    classes = Classes(tuple(labels))
    try:
        return classes.check(loss)
    except ClassCount as count:
        raise ModelFileError(f"{path}: \"classes\" holds {len(labels)}, and {loss.name} needs "
                             f"{'exactly 2' if count.binary else 'at least 2'}; {_AGAIN}") from None


# The most epochs a model may have run: the epochs numbered on from them are kept as int64.
MAX_EPOCHS = 2**62
# What --resume reads back from "training" and its "plan", and what each must be.
_TRAINING_FIELDS = {
    "epochs": ("a whole number from 0 to 2^62", lambda v: _is_int(v) and 0 <= v <= MAX_EPOCHS),
}
_PLAN_FIELDS = {"epochs": ("a whole number from 1 to 2^62", lambda v: _is_int(v) and 1 <= v <= MAX_EPOCHS)} | {
    setting.name: (setting.recorded_need(), setting.recorded_admits) for setting in PLAN_SETTINGS if setting.name != "epochs"
}
# A version 1 file's "training" held these parts of the plan at its top level.
_VERSION_1_PLAN = ("lr", "batch_size", "seed")


def _parse_training(values, path: str, version: int) -> TrainingRecord:
    """The "training" record, with its "plan" (made from a version 1 file's fields); the
    fields a resumed run reads must be what they claim to be, the others are kept where they
    are of the kind the record says and left out where not."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ModelFileError(f"{path}: \"training\" is {_shown(values)}, not a JSON object; train the model again")
    plan = values.get("plan", {}) if version > 1 else {name: values[name] for name in _VERSION_1_PLAN if values.get(name) is not None}
    if not isinstance(plan, dict):
        raise ModelFileError(f"{path}: \"training\".\"plan\" is {_shown(plan)}, not a JSON object; train the model again")
    for where, fields, record in (("", _TRAINING_FIELDS, values), ('"plan".', _PLAN_FIELDS, plan)):
        for name, (need, valid) in fields.items():
            if name in record and not valid(record[name]):
                raise ModelFileError(
                    f"{path}: \"training\".{where}\"{name}\" is {_shown(record[name])}, not {need}; train the model again"
                )
    known = {name: values[name] for name in TrainingRecord.__dataclass_fields__ if name in values and name not in ("plan", "stop")}
    kept = {name: value for name, value in known.items() if _of_its_kind(name, value)}
    kept["stop"] = next((reason for reason in StopReason if reason.value == values.get("stop")), None)
    plan = {name: tuple(plan[name]) if name == "freeze" else plan[name] for name in _PLAN_FIELDS if name in plan}
    return TrainingRecord(plan=plan, **kept)


def optimizer_state_record(state: dict, names: tuple[str, ...]) -> dict | None:
    """An update rule's state (optimizers.Optimizer.record()) as the model file keeps it: each
    per-parameter array by the parameters' names; None for a rule without state (gd)."""
    if len(state) <= 1:
        return None
    return {"t": state["t"]} | {key: dict(zip(names, values)) for key, values in state.items() if key != "t"}


def optimizer_state_of(model: Model, optimizer: str, path: str) -> dict | None:
    """The state a resumed run's update rule goes on with (Optimizer's `state` and `t`), from
    the model file's record (checked by the loader, _check_optimizer_state); None where it
    keeps none. A rule that keeps a state the file does not hold is refused."""
    keys = RULES[optimizer].state_names
    if not keys:
        return None
    record = model.training.optimizer_state
    if record is None:
        raise ModelFileError(f"{path}: \"training\".\"optimizer_state\" is missing, and {optimizer} goes on from its "
                             f"state (t and {', '.join(keys)} for every parameter); {_AGAIN}")
    names = model.params.names
    return {"t": record["t"]} | {key: np.array([float(record[key][name]) for name in names]) for key in keys}


def _check_optimizer_state(record: dict | None, optimizer: str, names: tuple[str, ...], path: str) -> None:
    """The update rule's state a model file holds is the state of its plan's rule: t, a whole
    number, and each of the rule's per-parameter states (v; m and s) a finite number for every
    parameter, adam's second moments s (means of squares) at least 0. A ModelFileError where not:
    training on from it would go wrong (a negative s is the square root of a negative number)."""
    if record is None:
        return
    keys = RULES[optimizer].state_names
    where = f"{path}: \"training\".\"optimizer_state\""
    if not keys or not isinstance(record, dict):
        held = f"is there, and {optimizer} keeps no state" if not keys else f"is {_shown(record)}, not a JSON object"
        raise ModelFileError(f"{where} {held}; {_AGAIN}")
    need = f"{optimizer}'s state (t and {', '.join(keys)} for every parameter)"
    t = record.get("t")
    parts = [record.get(key) for key in keys]
    if not (set(record) == {"t", *keys} and _is_int(t) and t >= 0
            and all(isinstance(part, dict) and set(part) == set(names) for part in parts)
            and all(_is_finite_number(part[name]) for part in parts for name in names)):
        raise ModelFileError(f"{where} does not hold {need}; {_AGAIN}")
    negative = next((name for name in names if "s" in keys and record["s"][name] < 0), None)
    if negative is not None:
        raise ModelFileError(f"{where} holds a negative second moment for {negative} "
                             f"({_shown(record['s'][negative])}), which a mean of squares cannot be; {_AGAIN}")


def _of_its_kind(name: str, value) -> bool:
    """Whether a recorded value is of the kind TrainingRecord says (so reports can trust it)."""
    kind = TrainingRecord.__dataclass_fields__[name].type
    if value is None:
        return "None" in kind
    if "bool" in kind:
        return isinstance(value, bool)
    if "int" in kind:
        return _is_int(value)
    if "float" in kind:
        return _is_finite_number(value)
    if "dict" in kind:
        return isinstance(value, dict)
    return isinstance(value, str)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value) -> str:
    """A JSON value as a message quotes it: at most 40 characters."""
    text = json.dumps(value) if not isinstance(value, int) or abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
    return text if len(text) <= 40 else text[:40] + "..."


@dataclass
class ModelFileSummary:
    """What a model file says it is a model of: its columns and the data it was trained on."""

    features: tuple
    target: object
    data: object

    def same_training(self, data: str, features, target: str) -> bool:
        return self.data == data and self.features == tuple(features) and self.target == target

    def __str__(self) -> str:
        columns = ",".join(map(str, self.features))
        return f"a model of {self.target} on {columns} trained on {self.data or 'data it does not name'}"


def replaced_model(output: Output) -> ModelFileSummary | None:
    """The model file that saving to `output` (outputs.Outputs.file) would replace, None where
    there is none (no file, an empty one, a device or a FIFO). A file there that is not a
    fwdback model is never replaced: errors.ForeignFile, worded with `output.option`."""
    real = output.real
    if output.direct or not os.path.exists(real) or os.path.getsize(real) == 0:
        return None
    summary = summarize(real)
    if summary is None:
        raise ForeignFile(output.path, output.option, "not a fwdback model")
    return summary


def summarize(path: str) -> ModelFileSummary | None:
    """The summary of the fwdback model file at `path` (any version), None if it is no model file."""
    try:
        document = _read_json(path, "model")
    except ModelFileError:
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    features = document.get("features")
    training = document.get("training")
    return ModelFileSummary(
        tuple(features) if isinstance(features, list) else (),
        document.get("target"),
        training.get("data") if isinstance(training, dict) else None,
    )


def _check_version(document: dict, path: str) -> None:
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: has no valid format version; train the model again with fwdback train")
    if version > VERSION:
        raise ModelFileError(
            f"{path}: is model format version {_shown(version)}, newer than this fwdback reads ({VERSION}); upgrade fwdback"
        )


def _parse_scaling(values, path: str, features: tuple[str, ...], target: str | tuple[str, ...]) -> Scaling | None:
    if values is None:
        return None
    columns = [*features, *((target,) if isinstance(target, str) else target)]
    for part in ("mean", "std"):
        table = values.get(part) if isinstance(values, dict) else None
        if not isinstance(table, dict) or any(not _is_finite_number(table.get(name)) for name in columns):
            raise ModelFileError(
                f"{path}: \"scaling\" needs a finite \"{part}\" for each of {', '.join(columns)}; train the model again"
            )
        if part == "std" and any(table[name] <= 0 for name in columns):
            raise ModelFileError(f"{path}: a \"scaling\" std is not positive; train the model again")
        if part == "std" and any(table[name] < sys.float_info.min for name in columns):
            raise ModelFileError(f"{path}: a \"scaling\" std is below {sys.float_info.min:.4g}, too small to divide "
                                 "the values by (their z-scores would be inf); train the model again")
    return Scaling.from_dict(values, features, target)


def _is_finite_number(value) -> bool:
    """A JSON number that float64 holds: not a bool, not inf or NaN, not an integer beyond 1.8e308."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclass
class InitialWeights:
    """Where training starts: the weights, and the z-scores they are for where they come from a
    model trained on z-scores (its scaling; None for raw values)."""

    params: Parameters
    scaling: Scaling | None = None


def load_weights(path: str, architecture: Architecture = Architecture(), what: str = "init") -> Model | Parameters:
    """The network in a file of weights, as --init and show read one: a model file's Model, with
    its own network and scaling (one of a newer format is refused), or a JSON object of the
    weights by name, at its top level or under "weights", as the Parameters of `architecture`'s
    network. `what` names the file in messages ("init", "model")."""
    document = _read_json(path, what)
    if isinstance(document, dict) and document.get("format") == FORMAT:
        return _parse_model(document, display_name(path))
    if isinstance(document, dict) and isinstance(document.get("weights"), dict):
        document = document["weights"]
    return parse_weights(document, display_name(path), architecture)


def load_init(path: str, architecture: Architecture = Architecture(), classes: Classes | None = None) -> InitialWeights:
    """Initial weights for `architecture`'s network (load_weights); a model file's must be of its
    shape (its values start this network, activations and all), and bring the model's scaling; a
    classifier's, of the run's `classes`, where the run classifies: each output is its class's."""
    loaded = load_weights(path, architecture)
    if isinstance(loaded, Parameters):
        return InitialWeights(loaded)
    _check_same_shape(loaded, architecture, display_name(path), classes)
    if classes is not None and loaded.classes not in (None, classes):
        raise ModelFileError(f"{display_name(path)}: is a classifier of the classes ({', '.join(map(str, loaded.classes.labels))}), "
                             f"and the data's are ({', '.join(map(str, classes.labels))}): its outputs are other classes'; "
                             "start from random weights, or give data of its classes")
    return InitialWeights(Parameters.of(loaded.params.vector.copy(), architecture), loaded.scaling)


def _check_same_shape(model: Model, architecture: Architecture, path: str, classes: Classes | None = None) -> None:
    """A model's weights start only a network of its shape: a ModelFileError saying what to give,
    or, where a classifier (the model, or the run: its `classes`) needs other outputs than the
    model has, which no option mends, what each is."""
    theirs, ours = model.params.architecture, architecture
    outputs = _outputs(theirs.n_outputs)
    if theirs.n_outputs != ours.n_outputs and (model.classes is not None or classes is not None):
        same_classes = f", or train with its loss (--loss {_loss_of(theirs)})" if model.classes == classes else ""
        raise ModelFileError(f"{path}: is {_model_kind(model)}, with {outputs}; this run's {_run_kind(ours, classes)} "
                             f"needs {_outputs(ours.n_outputs)}: start from random weights (leave out --init) or "
                             f"from a model of {_outputs(ours.n_outputs)}{same_classes}")
    fixes = []
    if theirs.n_inputs != ours.n_inputs:
        fixes.append(f"{theirs.n_inputs} --features ({','.join(model.features)})")
    if theirs.n_hidden != ours.n_hidden:
        fixes.append(f"--hidden {theirs.n_hidden}")
    if theirs.n_outputs != ours.n_outputs:
        fixes.append(f"--target {','.join(model.targets)}")
    if theirs.bias != ours.bias:
        fixes.append("--no-bias" if not theirs.bias else "biases (leave out --no-bias)")
    if fixes:
        raise ModelFileError(f"{path}: is a model of {theirs.n_inputs} features, {theirs.n_hidden} hidden units and {outputs}"
                             f"{'' if theirs.bias else ' without biases'}; to start from its weights give "
                             f"{', '.join(fixes)}")


def _outputs(n: int) -> str:
    return f"{n} output{'s' if n != 1 else ''}"


def _loss_of(classifier: Architecture) -> str:
    """A classifier's loss by its outputs: one sigmoid output is bce's, several are a softmax's."""
    return "bce" if classifier.n_outputs == 1 else "cross-entropy"


def _model_kind(model: Model) -> str:
    """What a model predicts, in words: a bce or cross-entropy classifier of its classes, or a
    regressor of its targets."""
    if model.classes is None:
        return f"a regressor of {', '.join(model.targets)}"
    return f"a {_loss_of(model.params.architecture)} classifier of the {_classes_named(model.classes)}"


def _run_kind(architecture: Architecture, classes: Classes | None) -> str:
    """What a run's network predicts, in words, as _model_kind: `classes` are a classifier's."""
    if classes is None:
        return f"regression of {architecture.n_outputs} target{'s' if architecture.n_outputs != 1 else ''}"
    return f"--loss {_loss_of(architecture)} of the {_classes_named(classes)}"


def _classes_named(classes: Classes) -> str:
    return f"{len(classes)} classes {', '.join(map(str, classes.labels))}"


def parse_weights(values, path: str, architecture: Architecture = Architecture()) -> Parameters:
    """Exactly the network's names (w1..w8, b1..b3 for the lecture's), each a finite number."""
    a = architecture
    outputs = "" if a.n_outputs == 1 else f" and {a.n_outputs} outputs"
    network = f"the network of {a.n_inputs} features and {a.n_hidden:,} hidden units{outputs}"
    count = a.size
    biases = f", b1..b{a.n_biases}" if a.n_biases else ""
    listed = ", ".join(a.names) if count <= 12 else f"w1..w{a.n_weights}{biases}"
    if isinstance(values, dict) and count > 2 * len(values) + 64:  # naming each missing weight would take long
        raise ModelFileError(f"{path}: has {len(values):,} weights where {network} has {count:,} ({listed}); give exactly those")
    names = a.names
    if not isinstance(values, dict):
        raise ModelFileError(f"{path}: weights must be a JSON object with the names {listed}")
    missing = [name for name in names if name not in values]
    if missing:
        raise ModelFileError(f"{path}: weight {missing[0]} is missing for {network}; give all of {listed}")
    extra = sorted(name for name in values if name not in names)
    if extra:
        raise ModelFileError(f"{path}: {extra[0]!r} is not a weight of {network}; use only {listed}")
    for name in names:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelFileError(f"{path}: weight {name} is {_shown(value)}, not a number; give a number")
        if not _is_finite_number(value):
            raise ModelFileError(f"{path}: weight {name} is {_shown(value)}, not a finite float64 number; give a finite number")
    return Parameters.of([float(values[name]) for name in names], architecture)


# A model file is small; anything much larger is not one.
MAX_JSON_BYTES = 256 << 20


def _read_json(source: str, what: str):
    """The JSON document in the file `source` ("-" for stdin), or a ModelFileError saying why not."""
    path = display_name(source)
    data = _read_bytes(source, path, what)
    if len(data) > MAX_JSON_BYTES:
        raise ModelFileError(f"{path}: is larger than {MAX_JSON_BYTES >> 20} MiB, too large for {_a(what)} JSON file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: is not a JSON text file; give {_a(what)} JSON file") from None
    if not text.strip():
        raise ModelFileError(f"{path}: is empty; give {_a(what)} JSON file")
    try:
        return _json_document(text)
    except RecursionError:
        raise ModelFileError(f"{path}: is nested too deeply to be {_a(what)} JSON file") from None
    except _NumberTooLong as long:
        raise ModelFileError(f"{path}: holds a number of {long.digits:,} digits, too long for any weight or count; "
                             f"give {_a(what)} JSON file") from None
    except (json.JSONDecodeError, ValueError) as error:
        detail = f"line {error.lineno}, column {error.colno}: {error.msg}" if isinstance(error, json.JSONDecodeError) else str(error)
        raise ModelFileError(f"{path}: is not valid JSON ({detail}){_csv_hint(text, what)}") from None


def _json_document(text: str):
    """The JSON document of a model or init file's text: no NaN or Infinity, no integer of
    more than MAX_INTEGER_DIGITS digits."""
    return json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)


def _read_bytes(source: str, path: str, what: str) -> bytes:
    """The file's first MAX_JSON_BYTES + 1 bytes ("-": stdin's), or a ModelFileError saying why not."""
    stdin = getattr(sys.stdin, "buffer", None) if source == "-" else None
    if source == "-" and stdin is None:
        raise ModelFileError(f"{path}: is closed; give the {what} file's path, or pipe it in")
    try:
        if stdin is not None:
            return stdin.read(MAX_JSON_BYTES + 1)
        with open(source, "rb") as stream:
            return stream.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        hint = "; check the path, or train a model with fwdback train" if what == "model" else "; check the path"
        raise ModelFileError(f"{path}: no such file{hint}") from None
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path}: {path_problem(error)}") from None


def _a(what: str) -> str:
    """'a model', 'an init'."""
    return f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"


def _csv_hint(text: str, what: str) -> str:
    """The end of the message for a text that is not JSON: what to give, and, where the text looks
    like a CSV file, that the data and the model file were likely given the other way round."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    fix = f"; give {_a(what)} JSON file"
    if first[:1] not in ("{", "[") and any(separator in first for separator in ",;\t|"):
        return f" but looks like CSV data{fix} (did you swap the data and the {what} file?)"
    return fix


# A JSON integer with more digits than this is no weight or count (float64 holds 309 digits).
MAX_INTEGER_DIGITS = 4000


class _NumberTooLong(ValueError):
    """A JSON integer of more than MAX_INTEGER_DIGITS digits."""

    def __init__(self, digits: int):
        super().__init__(digits)
        self.digits = digits


def _parse_int(text: str) -> int:
    """A JSON integer; one too long to be a number of a model file is refused before Python's
    own limit on converting long integers speaks of sys.set_int_max_str_digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _NumberTooLong(digits)
    return int(text)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a finite number")
